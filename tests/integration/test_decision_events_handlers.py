"""Decision events from the handlers: one `Share Invitation Decided` per decision record, with the
record's fields, and one `Share Acceptor Run Finished` per run, on moto's EventBridge; a failing or hung
EventBridge costs no decision, no record and no time beyond the budget."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from moto import mock_aws

from acceptor.decision_events import DECIDED, RUN_FINISHED, SDK_CONFIG, SOURCE
from handlers import share_event, sweep
from simulator import Simulator
from simulator.harness import LambdaContext as Context
from simulator.sharers import RECIPIENT, World
from tests.support.handlers import DENIED, SCHEDULED, TRUSTED, UNKNOWN, components, invoke, sqs_batch

ROOT = Path(__file__).resolve().parents[2]
DECIDED_SCHEMA = json.loads((ROOT / "docs" / "schemas" / "share-invitation-decided.schema.json").read_text())
RUN_SCHEMA = json.loads((ROOT / "docs" / "schemas" / "share-acceptor-run-finished.schema.json").read_text())
EVENTS_ON = {"DECISION_EVENT_BUS": "default", "DRY_RUN": "false"}


class Bridge:
    """moto's EventBridge with a rule that keeps every acceptor event in a queue."""

    def __init__(self) -> None:
        self.events = boto3.client("events", region_name="us-east-1")
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        self.url = self.sqs.create_queue(QueueName="seen")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.events.put_rule(Name="keep", EventPattern=json.dumps({"source": [SOURCE]}))
        self.events.put_targets(Rule="keep", Targets=[{"Id": "q", "Arn": arn}])

    def received(self) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        while msgs := self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", []):
            got += [json.loads(m["Body"]) for m in msgs]
            for m in msgs:
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"])
        return got


@pytest.fixture
def bridge(monkeypatch: pytest.MonkeyPatch) -> Iterator[Bridge]:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with mock_aws():
        yield Bridge()


def record_fields(record: dict[str, Any]) -> dict[str, Any]:
    """A logged decision record without what the logger adds around it."""
    logger_keys = {"level", "location", "message", "timestamp", "service", "cold_start", "function_name",
                   "function_memory_size", "function_arn", "function_request_id", "correlation_id", "xray_trace_id",
                   "sampling_rate", "share_invitation_id_hint"}  # fmt: skip
    return {k: v for k, v in record.items() if k not in logger_keys}


def assert_events_mirror_records(records: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    decided = [e for e in events if e["detail-type"] == DECIDED]
    assert len(decided) == len(records)
    by_id = {e["detail"]["share_invitation_id"]: e["detail"] for e in decided}
    assert len(by_id) == len(records)
    for record in records:
        detail = by_id[record["share_invitation_id"]]
        jsonschema.validate(detail, DECIDED_SCHEMA)
        # The logger leaves out null fields; the event keeps every key of the record, nulls included
        present = {k: v for k, v in detail.items() if v is not None}
        assert present == {**record_fields(record), "account": RECIPIENT, "region": "us-east-1", "schema_version": "1"}
        assert {k for k, v in detail.items() if v is None} <= {"reason_field", "reason_detail", "rule", "rule_id",
                                                                "resource_name", "resource_id", "permission_type",
                                                                "action", "reason", "shared_with"}  # fmt: skip


def seed(world: World) -> None:
    world.workload(TRUSTED, "payments", "READONLY")
    world.workload(TRUSTED, "ledger", "CONTRIBUTOR")
    world.workload(DENIED, "vendor", "READONLY")
    world.workload(UNKNOWN, "shadow", "READONLY")
    world.lens(TRUSTED, "platform-lens")


def test_a_sweep_puts_one_event_per_decision_record_and_one_run_event(sim: Simulator, bridge: Bridge) -> None:
    world = World(sim)
    seed(world)
    comps = components(sim, EVENTS_ON, events_client=bridge.events)
    run = invoke(sweep.lambda_handler, SCHEDULED, comps)
    events = bridge.received()
    assert len(run.decisions) == 5
    assert_events_mirror_records(run.decisions, events)
    [finished] = [e for e in events if e["detail-type"] == RUN_FINISHED]
    jsonschema.validate(finished["detail"], RUN_SCHEMA)
    detail = finished["detail"]
    assert detail["function"] == "sweep" and detail["status"] == run.result["status"] == "ok"
    assert detail["decision_events"] == 5 and detail["invitations"] == run.result["invitations"]
    assert detail["results"] == run.result["results"]
    assert run.result["decision_events"] == {"published": 6, "failed": 0, "errors": {}}
    assert run.metrics["DecisionEventsPublished"] == 6 and run.metrics["DecisionEventsFailed"] == 0
    assert len(events) == 6


def test_a_share_event_batch_puts_one_event_per_decision_and_one_run_event(sim: Simulator, bridge: Bridge) -> None:
    world = World(sim)
    for n in range(3):
        world.workload(TRUSTED, f"w-{n}", "READONLY")
    world.workload(UNKNOWN, "shadow", "READONLY")
    comps = components(sim, EVENTS_ON, events_client=bridge.events)
    run = invoke(share_event.lambda_handler, sqs_batch(list(sim.events)), comps)
    events = bridge.received()
    assert run.result == {"batchItemFailures": []}
    assert len(run.decisions) == 4
    assert_events_mirror_records(run.decisions, events)
    [finished] = [e for e in events if e["detail-type"] == RUN_FINISHED]
    jsonschema.validate(finished["detail"], RUN_SCHEMA)
    assert finished["detail"]["function"] == "share_event" and finished["detail"]["decision_events"] == 4
    [batch_log] = run.logs("share event batch handled")
    assert batch_log["decision_events"]["published"] == 5


def test_events_off_sends_nothing(sim: Simulator, bridge: Bridge) -> None:
    seed(World(sim))
    comps = components(sim, {"DECISION_EVENT_BUS": "", "DRY_RUN": "false"}, events_client=bridge.events)
    assert comps.decision_events is None
    run = invoke(sweep.lambda_handler, SCHEDULED, comps)
    assert len(run.decisions) == 5 and "decision_events" not in run.result
    assert bridge.received() == []


class Refusing:
    """An EventBridge client that refuses every call (a bus that does not exist, a policy that denies)."""

    calls = 0

    def put_events(self, **_kwargs: Any) -> Any:
        from botocore.exceptions import ClientError

        Refusing.calls += 1
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "PutEvents")


def test_a_failing_eventbridge_costs_no_decision_and_no_record(sim: Simulator) -> None:
    # Given the same invitations decided with events off, and with every PutEvents refused
    seed(World(sim))
    baseline = invoke(sweep.lambda_handler, SCHEDULED, components(sim, {"DRY_RUN": "true"}))
    comps = components(sim, {"DECISION_EVENT_BUS": "default", "DRY_RUN": "true"}, events_client=Refusing())
    run = invoke(sweep.lambda_handler, SCHEDULED, comps)

    # Then the decisions and their records are the same, and the loss is counted and logged
    def by_id(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted((record_fields(r) for r in records), key=lambda r: r["share_invitation_id"])

    assert by_id(run.decisions) == by_id(baseline.decisions)
    assert run.result["status"] == "ok"
    assert run.result["decision_events"] == {"published": 0, "failed": 6, "errors": {"AccessDeniedException": 6}}
    assert run.metrics["DecisionEventsFailed"] == 6
    [warning] = run.logs("decision events not sent")
    assert warning["errors"] == {"AccessDeniedException": 6}


class Hung:
    """An HTTP endpoint that accepts connections and never answers."""

    def __init__(self) -> None:
        self.release = threading.Event()
        release = self.release

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                release.wait(30)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hung() -> Iterator[Hung]:
    endpoint = Hung()
    yield endpoint
    endpoint.close()


def test_a_hung_eventbridge_never_stalls_a_run(sim: Simulator, hung: Hung) -> None:
    # Given an EventBridge endpoint that never answers, with the publisher's short timeouts
    world = World(sim)
    seed(world)
    client = boto3.client(
        "events", region_name="us-east-1", endpoint_url=hung.url, config=SDK_CONFIG,
        aws_access_key_id="x", aws_secret_access_key="x",
    )  # fmt: skip
    comps = components(sim, {**EVENTS_ON, "SAFETY_MARGIN_SECONDS": "1"}, events_client=client)
    # When a 6 s function sweeps
    started = time.monotonic()
    run = invoke(sweep.lambda_handler, SCHEDULED, comps, Context(remaining_ms=6_000))
    elapsed = time.monotonic() - started
    # Then it returns within its budget with every decision carried out and recorded
    assert elapsed < 6.0 - 1.0, elapsed  # the hard deadline keeps a second to return
    assert run.result["status"] == "ok" and run.result["accept"] == 2
    assert len(run.decisions) == 5
    assert world.status(world.shares[0]) == "ACCEPTED"
    assert run.result["decision_events"]["published"] == 0
    assert run.result["decision_events"]["failed"] == 6
    assert set(run.result["decision_events"]["errors"]) <= {"ReadTimeoutError", "OutOfTime"}


def test_a_hung_eventbridge_on_a_share_event_batch_stays_within_budget(sim: Simulator, hung: Hung) -> None:
    world = World(sim)
    world.workload(TRUSTED, "payments", "READONLY")
    client = boto3.client(
        "events", region_name="us-east-1", endpoint_url=hung.url, config=SDK_CONFIG,
        aws_access_key_id="x", aws_secret_access_key="x",
    )  # fmt: skip
    comps = components(sim, {**EVENTS_ON, "SAFETY_MARGIN_SECONDS": "1"}, events_client=client)
    started = time.monotonic()
    run = invoke(share_event.lambda_handler, sqs_batch(list(sim.events)), comps, Context(remaining_ms=4_500))
    assert time.monotonic() - started < 4.5 - 1.0
    assert run.result == {"batchItemFailures": []}
    assert [r["result"] for r in run.decisions] == ["accepted"]
