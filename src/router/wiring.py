"""Per-container wiring of the router: settings parsed once, clients built on first use and reused.
Nothing runs at import time; tests pass their own components to the handler."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from router.delivery import DeadLetters, EventBuses
from router.settings import RouterSettings, load_router_settings


class RouterComponents(NamedTuple):
    settings: RouterSettings
    buses: EventBuses
    dead_letters: DeadLetters


_cached: RouterComponents | None = None


def build(
    settings: RouterSettings,
    *,
    events_client: Any = None,
    sqs_client: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RouterComponents:
    buses = EventBuses(settings.partition, settings.region, events_client, sleep=sleep)
    dead_letters = DeadLetters(settings.dead_letter_queue_url, settings.region, sqs_client)
    return RouterComponents(settings, buses, dead_letters)


def components(env: Mapping[str, str] | None = None) -> RouterComponents:
    """This container's components, built on first use. Invalid settings raise every time."""
    global _cached
    if _cached is None:
        _cached = build(load_router_settings(os.environ if env is None else env))
    return _cached


def reset() -> None:
    global _cached
    _cached = None
