"""The decision-event publisher: batching by count and documented size, retries only inside the
deadline, per-entry failures, and nothing ever raised into the run."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from moto import mock_aws

from acceptor.deadline import Deadline
from acceptor.decision_events import (
    DECIDED,
    MAX_ENTRIES,
    MAX_REQUEST_BYTES,
    RUN_FINISHED,
    SOURCE,
    DecisionEvents,
    batches,
    entry_size,
)

RECORD = {
    "share_invitation_id": "0" * 32,
    "shared_by": "222222222222",
    "shared_with": "111111111111",
    "resource_type": "WORKLOAD",
    "resource_name": "payments",
    "resource_id": "1" * 32,
    "permission_type": "READONLY",
    "action": "ACCEPT",
    "reason": "allowed_account",
    "reason_field": "SharedBy",
    "reason_detail": "222222222222 is allowed",
    "rule": None,
    "rule_id": None,
    "result": "accepted",
    "dry_run": False,
}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class FakeEvents:
    """Answers put_events from a script: a callable per call taking the entries."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.calls: list[list[dict[str, Any]]] = []
        self.lock = threading.Lock()

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        with self.lock:
            self.calls.append(list(Entries))
            answer = self.answers.pop(0) if self.answers else ok
        return answer(Entries)


def ok(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"FailedEntryCount": 0, "Entries": [{"EventId": f"id-{i}"} for i in range(len(entries))]}


def raising(exc: Exception) -> Any:
    def answer(_entries: list[dict[str, Any]]) -> dict[str, Any]:
        raise exc

    return answer


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "PutEvents")


def record(i: int) -> dict[str, Any]:
    return {**RECORD, "share_invitation_id": f"{i:032x}"}


def publisher(client: Any, clock: Clock | None = None, **kw: Any) -> DecisionEvents:
    return DecisionEvents(
        "default", account="111111111111", region="us-east-1", client=client, sleep=(clock or Clock()).sleep, **kw
    )


# -- sizes and batches ----------------------------------------------------------------------------


def test_entry_size_counts_what_eventbridge_documents() -> None:
    # Given an entry with every sized member (Time 14 bytes; the rest their UTF-8 bytes)
    entry = {"Source": "s", "DetailType": "dt", "Detail": '{"a":"é"}', "Resources": ["r1", "r22"], "Time": 1}
    # Then EventBusName is not counted, a two-byte character counts two
    assert entry_size(entry) == 14 + 1 + 2 + len('{"a":"é"}'.encode()) + 2 + 3
    assert entry_size({"Source": "s", "DetailType": "dt"}) == 3


def test_batches_hold_ten_entries_at_most() -> None:
    entries = [{"Source": "s", "DetailType": "d", "Detail": "{}"} for _ in range(23)]
    assert [len(b) for b in batches(entries)] == [10, 10, 3]


def test_batches_stay_under_256_kb_by_documented_size() -> None:
    # Given entries of 100 KB each: two fit under 256 KB, three do not
    big = {"Source": SOURCE, "DetailType": DECIDED, "Detail": json.dumps({"x": "a" * 100_000})}
    groups = batches([big] * 5)
    assert [len(g) for g in groups] == [2, 2, 1]
    assert all(sum(entry_size(e) for e in g) < MAX_REQUEST_BYTES for g in groups)


# -- events ---------------------------------------------------------------------------------------


def test_decision_detail_is_the_record_plus_origin() -> None:
    fake = FakeEvents()
    events = publisher(fake)
    events.decision(RECORD)
    events.flush()
    (entry,) = fake.calls[0]
    assert entry["Source"] == SOURCE and entry["DetailType"] == DECIDED and entry["EventBusName"] == "default"
    detail = json.loads(entry["Detail"])
    assert detail == {**RECORD, "account": "111111111111", "region": "us-east-1", "schema_version": "1"}


def test_run_event_carries_the_summary_and_how_many_decision_events_the_run_made() -> None:
    fake = FakeEvents()
    events = publisher(fake)
    for i in range(3):
        events.decision(record(i))
    summary = {"dry_run": False, "complete": True, "invitations": 3, "accept": 3, "reject": 0, "ignore": 0,
               "results": {"accepted": 3}, "failed": 0, "failures": [{"x": "y"}]}  # fmt: skip
    events.run_finished("sweep", "ok", summary)
    result = events.flush()
    assert result.published == 4 and result.failed == 0
    run = json.loads(fake.calls[0][-1]["Detail"])
    assert fake.calls[0][-1]["DetailType"] == RUN_FINISHED
    assert run["status"] == "ok" and run["function"] == "sweep" and run["decision_events"] == 3
    assert "failures" not in run  # the list stays in the log record
    # the next run counts afresh
    events.run_finished("sweep", "ok", summary)
    events.flush()
    assert json.loads(fake.calls[-1][-1]["Detail"])["decision_events"] == 0


def test_twenty_five_records_make_three_requests() -> None:
    fake = FakeEvents()
    events = publisher(fake, senders=1)
    for i in range(25):
        events.decision(record(i))
    result = events.flush()
    assert [len(c) for c in fake.calls] == [10, 10, 5]
    assert result.published == 25 and events.published == 25


def test_nothing_buffered_sends_nothing() -> None:
    fake = FakeEvents()
    assert publisher(fake).flush().published == 0
    assert fake.calls == []


# -- failures -------------------------------------------------------------------------------------


def test_failed_entries_are_retried_only_when_throttled_or_internal() -> None:
    # Given a first answer where entry 0 is throttled, entry 1 is refused for good, entry 2 arrives
    def partial(entries: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "FailedEntryCount": 2,
            "Entries": [
                {"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"},
                {"ErrorCode": "MalformedDetail", "ErrorMessage": "bad"},
                {"EventId": "e2"},
            ],
        }

    fake = FakeEvents(partial, ok)
    events = publisher(fake, senders=1)
    for i in range(3):
        events.decision(record(i))
    result = events.flush(Deadline.within(60))
    # Then only the throttled entry is sent again, and the refused one is counted
    assert [len(c) for c in fake.calls] == [3, 1]
    assert json.loads(fake.calls[1][0]["Detail"])["share_invitation_id"] == f"{0:032x}"
    assert result.published == 2 and result.failed == 1 and result.errors == {"MalformedDetail": 1}


def test_throttling_is_retried_while_the_budget_lasts_then_counted() -> None:
    clock = Clock()
    fake = FakeEvents(*[raising(client_error("ThrottlingException"))] * 10)
    events = publisher(fake, clock, senders=1)
    events.decision(RECORD)
    result = events.flush(Deadline.within(60, clock=clock))
    assert len(fake.calls) == 3  # MAX_ATTEMPTS
    assert result.failed == 1 and result.errors == {"ThrottlingException": 1}


def test_access_denied_is_not_retried() -> None:
    fake = FakeEvents(raising(client_error("AccessDeniedException")))
    events = publisher(fake)
    events.decision(RECORD)
    result = events.flush(Deadline.within(60))
    assert len(fake.calls) == 1 and result.errors == {"AccessDeniedException": 1}


def test_timeouts_are_retried_but_no_attempt_starts_that_cannot_finish() -> None:
    # Given a clock that moves by each timeout and 5 s of budget: the first attempt's 3 s fit, no second
    clock = Clock()

    def hung(_entries: list[dict[str, Any]]) -> dict[str, Any]:
        clock.now += 3.0
        raise ReadTimeoutError(endpoint_url="http://x")

    fake = FakeEvents(hung, hung, hung)
    events = publisher(fake, clock, senders=1)
    events.decision(RECORD)
    deadline = Deadline(work=clock() + 5, hard=clock() + 5, clock=clock)
    result = events.flush(deadline)
    assert len(fake.calls) == 1
    assert result.failed == 1 and result.errors == {"ReadTimeoutError": 1}
    assert clock() <= deadline.hard


def test_no_time_left_sends_nothing_and_counts_it() -> None:
    clock = Clock()
    fake = FakeEvents()
    events = publisher(fake, clock)
    events.decision(RECORD)
    result = events.flush(Deadline(work=clock() + 1, hard=clock() + 1, clock=clock))
    assert fake.calls == [] and result.errors == {"OutOfTime": 1}


def test_a_malformed_answer_counts_the_batch_lost_without_resending() -> None:
    fake = FakeEvents(lambda _e: {"Entries": "nope"})
    events = publisher(fake)
    events.decision(RECORD)
    assert events.flush(Deadline.within(60)).errors == {"MalformedAnswer": 1}
    assert len(fake.calls) == 1


def test_an_unexpected_client_failure_never_raises() -> None:
    fake = FakeEvents(raising(RuntimeError("boom")))
    events = publisher(fake)
    events.decision(RECORD)
    assert events.flush(Deadline.within(60)).errors == {"RuntimeError": 1}


def test_an_oversized_record_is_counted_not_sent() -> None:
    fake = FakeEvents()
    events = publisher(fake)
    events.decision({**RECORD, "reason_detail": "x" * MAX_REQUEST_BYTES})
    events.decision(RECORD)
    result = events.flush()
    assert result.published == 1 and result.errors == {"EntryTooLarge": 1}
    assert events.failed == 1


def test_a_record_that_cannot_serialize_is_counted_and_never_raises() -> None:
    class Loop:
        def __str__(self) -> str:
            raise ValueError("no")

    events = publisher(FakeEvents())
    events.decision({**RECORD, "reason_detail": Loop()})
    assert events.failed == 1


def test_records_from_many_threads_are_all_sent_once() -> None:
    fake = FakeEvents()
    events = publisher(fake)
    threads = [threading.Thread(target=lambda k=k: [events.decision(record(k * 100 + i)) for i in range(50)])
               for k in range(4)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert events.flush().published == 200
    ids = [json.loads(e["Detail"])["share_invitation_id"] for call in fake.calls for e in call]
    assert len(ids) == len(set(ids)) == 200
    assert all(len(c) <= MAX_ENTRIES for c in fake.calls)


# -- against moto's EventBridge -------------------------------------------------------------------


@mock_aws
def test_moto_delivers_the_events_to_a_rule_target() -> None:
    region = "us-east-1"
    sqs = boto3.client("sqs", region_name=region)
    events_client = boto3.client("events", region_name=region)
    queue = sqs.create_queue(QueueName="hub")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events_client.put_rule(Name="decisions", EventPattern=json.dumps({"source": [SOURCE]}))
    events_client.put_targets(Rule="decisions", Targets=[{"Id": "q", "Arn": arn}])
    events = DecisionEvents("default", account="123456789012", region=region, client=events_client)
    for i in range(12):
        events.decision(record(i))
    assert events.flush(Deadline.within(30)).published == 12
    got = []
    while True:
        msgs = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if not msgs:
            break
        got += [json.loads(m["Body"]) for m in msgs]
        for m in msgs:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    assert sorted(e["detail"]["share_invitation_id"] for e in got) == sorted(f"{i:032x}" for i in range(12))
    assert {e["detail-type"] for e in got} == {DECIDED}


@pytest.mark.parametrize("bus", ["", "  "])
def test_settings_turn_events_off_with_an_empty_bus(bus: str) -> None:
    from acceptor.settings import load_settings

    assert load_settings({"DECISION_EVENT_BUS": bus}).decision_event_bus is None
    assert load_settings({}).decision_event_bus == "default"
    assert load_settings({"DECISION_EVENT_BUS": "hub-bus"}).decision_event_bus == "hub-bus"
    arn = "arn:aws:events:eu-west-1:123456789012:event-bus/acceptor"
    assert load_settings({"DECISION_EVENT_BUS": arn}).decision_event_bus == arn


@pytest.mark.parametrize("bad", ["bus with space", "arn:aws:events:eu-west-1:12345:event-bus/x", "\uff42us"])
def test_settings_name_a_bad_bus(bad: str) -> None:
    from acceptor.settings import ConfigurationError, load_settings

    with pytest.raises(ConfigurationError, match="DECISION_EVENT_BUS"):
        load_settings({"DECISION_EVENT_BUS": bad})
