"""Per-container wiring: settings parsed once, clients and caches built on first use and reused.

Nothing here runs at import time. Tests and tools pass their own ``Components`` to the handlers.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from acceptor.engine import Acceptor
from acceptor.observability import logger
from acceptor.settings import Settings, load_settings
from acceptor.wellarchitected import ShareInvitations, default_client


class Components(NamedTuple):
    settings: Settings
    acceptor: Acceptor


_cached: Components | None = None


def build(
    settings: Settings,
    *,
    wellarchitected_client: Any = None,
    ancestry: Any = None,
    notifier: Any = None,
    sts_client: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Components:
    """Wire the acceptor for these settings; real AWS clients unless some are given."""
    if ancestry is None and settings.organizations_role_arn:
        from acceptor.organizations import OrgAncestryResolver

        ancestry = OrgAncestryResolver(
            settings.organizations_role_arn, sts_client=sts_client, ttl_seconds=settings.org_cache_ttl_seconds
        )
    if notifier is None and settings.notification_topic_arn:
        from acceptor.notifications import SnsNotifier

        notifier = SnsNotifier(settings.notification_topic_arn, log=logger)
    acceptor = Acceptor(
        settings.policy,
        ShareInvitations(wellarchitected_client or default_client(), sleep=sleep),
        ancestry=ancestry,
        log=logger,
        notifier=notifier,
        max_workers=settings.max_workers,
        sleep=sleep,
    )
    return Components(settings, acceptor)


def components(env: Mapping[str, str] | None = None) -> Components:
    """This container's components, built on first use. Invalid settings raise every time."""
    global _cached
    if _cached is None:
        # What the imports and the clients allocate lives as long as the container. Frozen, the cyclic
        # collector stops rescanning it on every collection: cold start drops by about a tenth (see
        # docs/benchmarks.md) and warm invocations scan less.
        gc.freeze()
        _cached = build(load_settings(os.environ if env is None else env))
        gc.freeze()
    return _cached


def reset() -> None:
    global _cached
    _cached = None


def deadline(context: Any, settings: Settings) -> float | None:
    """The ``time.monotonic()`` value a run must stop by to finish before the Lambda timeout."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return time.monotonic() + remaining() / 1000.0 - settings.safety_margin_seconds
