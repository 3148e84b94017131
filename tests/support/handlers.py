"""Running the handlers against the simulator: sharer accounts, components built from a policy, one call
with its logs and metrics captured, and a seeded world of workload shares."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from typing import Any

from acceptor import runtime
from acceptor.settings import load_settings
from acceptor.wellarchitected import SDK_CONFIG
from simulator import Simulator
from simulator.harness import Capture, LambdaContext
from simulator.sharers import RECIPIENT

TRUSTED, SECURITY, UNKNOWN, DENIED = "222222222222", "333333333333", "444444444444", "555555555555"
# Decision events off unless a test gives an EventBridge client (tests/integration/test_decision_events_handlers.py)
BASE_ENV = {
    "ALLOWED_SOURCE_ACCOUNTS": f"{TRUSTED},{SECURITY}",
    "DENIED_SOURCE_ACCOUNTS": DENIED,
    "DECISION_EVENT_BUS": "",
}
SCHEDULED = {"source": "aws.events", "detail-type": "Scheduled Event", "id": "sweep-event-id", "detail": {}}
EXPECTED = {TRUSTED: "ACCEPTED", DENIED: "REJECTED", UNKNOWN: "PENDING"}  # under BASE_ENV


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
        return self.capture.metric_dimensions()


def invoke(handler: Any, event: Any, comps: runtime.Components | None, context: LambdaContext | None = None) -> Run:
    capture = Capture()
    with capture.running():
        result = handler(event, context or LambdaContext(), components=comps)
    return Run(result, capture)


@contextlib.contextmanager
def captured() -> Iterator[Capture]:
    capture = Capture()
    with capture.running():
        yield capture


def seed(sim: Simulator, per_sharer: int) -> dict[str, str]:
    """Workload shares from a trusted, a denied and an unknown sharer; returns share id -> sharer."""
    sim.load_world(
        {
            "accounts": {
                sharer: {
                    "workloads": [
                        {"name": f"w-{sharer[:3]}-{n:03d}", "shares": [{"with": RECIPIENT}]} for n in range(per_sharer)
                    ]
                }
                for sharer in EXPECTED
            }
        }
    )
    owners = {}
    for event in sim.events:
        owners[event["detail"]["responseElements"]["ShareId"]] = event["account"]
    return owners


def sqs_batch(events: list[Any]) -> dict[str, Any]:
    """The event Lambda's SQS event source passes: one record per message, the body as sent."""
    records = []
    for n, event in enumerate(events):
        body = event if isinstance(event, str) else json.dumps(event)
        records.append(
            {
                "messageId": f"m-{n:04d}",
                "receiptHandle": f"handle-{n}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:{RECIPIENT}:share-events",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}
