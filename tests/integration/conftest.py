"""Fixtures for running the handlers against the simulator: a world, components, captured output."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from acceptor import runtime
from acceptor.settings import load_settings
from acceptor.wellarchitected import SDK_CONFIG
from simulator import Simulator
from tools.demo import RECIPIENT, Capture, World

TRUSTED, SECURITY, UNKNOWN, DENIED = "222222222222", "333333333333", "444444444444", "555555555555"
# Decision events off unless a test gives an EventBridge client (tests/integration/test_decision_events_handlers.py)
BASE_ENV = {
    "ALLOWED_SOURCE_ACCOUNTS": f"{TRUSTED},{SECURITY}",
    "DENIED_SOURCE_ACCOUNTS": DENIED,
    "DECISION_EVENT_BUS": "",
}
SCHEDULED = {"source": "aws.events", "detail-type": "Scheduled Event", "id": "sweep-event-id", "detail": {}}


class Context:
    function_name = "test"
    memory_limit_in_mb = 256
    invoked_function_arn = f"arn:aws:lambda:us-east-1:{RECIPIENT}:function:test"
    aws_request_id = "test-request"

    def __init__(self, remaining_ms: int = 300_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture(params=[False, True], ids=["default", "strict"])
def sim(request: pytest.FixtureRequest) -> Simulator:
    """Every handler, fault and tool test runs twice: on the default simulator, and on the strict one,
    which gives each unverified behaviour of the real service its most pessimistic form."""
    return Simulator(strict=request.param)


@pytest.fixture
def world(sim: Simulator) -> World:
    return World(sim)


def components(
    sim: Simulator, env: dict[str, str] | None = None, client: Any = None, **kwargs: Any
) -> runtime.Components:
    settings = load_settings({**BASE_ENV, **(env or {})})
    kwargs.setdefault("sleep", lambda _s: None)  # no real backoff unless a test asks for it
    if "wellarchitected_factory" not in kwargs:
        kwargs["wellarchitected_client"] = client or sim.client(account=RECIPIENT, config=SDK_CONFIG)
    return runtime.build(settings, **kwargs)


class Run:
    """What one handler call returned, logged and emitted."""

    def __init__(self, result: Any, capture: Capture) -> None:
        self.result = result
        self.capture = capture

    @property
    def decisions(self) -> list[dict[str, Any]]:
        return self.capture.records("invitation decided") + self.capture.records("invitation update failed")

    def logs(self, message: str) -> list[dict[str, Any]]:
        return self.capture.records(message)

    @property
    def metrics(self) -> dict[str, float]:
        return self.capture.metrics()

    def metric_dimensions(self) -> list[list[str]]:
        from tools.demo import _json_lines

        dims = []
        for blob in _json_lines(self.capture.stdout.getvalue()):
            for directive in blob.get("_aws", {}).get("CloudWatchMetrics", []):
                dims.extend(directive.get("Dimensions", []))
        return dims


def invoke(handler: Any, event: Any, comps: runtime.Components | None, context: Context | None = None) -> Run:
    capture = Capture()
    with capture.running():
        result = handler(event, context or Context(), components=comps)
    return Run(result, capture)


@contextlib.contextmanager
def captured() -> Iterator[Capture]:
    capture = Capture()
    with capture.running():
        yield capture
