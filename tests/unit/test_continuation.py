"""The continuation chain: markers parsed as hostile input, one sweep at a time, a bounded chain, and
AWS failures that never fail the run. Fakes for the lease and the invoker; a scripted wall clock."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws

from acceptor.continuation import (
    LEASE_GRACE_SECONDS,
    MAX_CHAIN_RUNS,
    Chain,
    DynamoLease,
    InvalidMarker,
    LambdaInvoker,
    RunResult,
    Step,
    first_step,
    is_continuation,
    parse_marker,
    stop_reason,
)
from tests.support.continuation import FakeInvoker, FakeLease

ARN = "arn:aws:lambda:us-east-1:111111111111:function:sweep"
WORK_LEFT = RunResult(failed=False, work_left=True, progressed=True)
DONE = RunResult(failed=False, work_left=False, progressed=True)


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- markers --------------------------------------------------------------------------------------


def test_a_marker_round_trips() -> None:
    step = Step("abc-123", 1).next()
    assert is_continuation(step.marker())
    assert parse_marker(step.marker()) == Step("abc-123", 2)


@pytest.mark.parametrize(
    ("event", "named"),
    [
        ({"continuation": {"chain": "a", "run": 2}, "extra": 1}, "holds only"),
        ({"continuation": ["a", 2]}, "must be an object"),
        ({"continuation": {"chain": "a", "run": 2, "x": 1}}, "must be an object"),
        ({"continuation": {"chain": "a b", "run": 2}}, "'a b'"),
        ({"continuation": {"chain": "\uff41", "run": 2}}, "'\uff41'"),
        ({"continuation": {"chain": "a" * 65, "run": 2}}, "1-64"),
        ({"continuation": {"chain": "a", "run": 1}}, "run 1 "),
        ({"continuation": {"chain": "a", "run": MAX_CHAIN_RUNS + 1}}, f"run {MAX_CHAIN_RUNS + 1} "),
        ({"continuation": {"chain": "a", "run": True}}, "run True"),
        ({"continuation": {"chain": "a", "run": "3"}}, "run '3'"),
        ({"continuation": {"chain": "a", "run": 3.0}}, "run 3.0"),
    ],
)
def test_bad_markers_are_refused_naming_the_value(event: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidMarker) as err:
        parse_marker(event)
    assert named in str(err.value)


def test_a_new_chain_is_named_after_its_request_or_the_clock() -> None:
    assert first_step("0d2f-11aa") == Step("0d2f-11aa", 1)
    assert first_step("bad id!", clock=lambda: 12.5) == Step("chain-12500", 1)
    assert first_step(None, clock=lambda: 1.0) == Step("chain-1000", 1)


# -- when a chain continues -----------------------------------------------------------------------


def test_stop_reasons() -> None:
    step = Step("c", 3)
    assert stop_reason(step, WORK_LEFT, 12) is None
    assert stop_reason(step, DONE, 12) == "nothing left"
    assert stop_reason(step, RunResult(True, True, True), 12) == "a listing failed"
    assert stop_reason(step, RunResult(False, True, False), 12) == "no progress in this run"
    assert stop_reason(Step("c", 12), WORK_LEFT, 12) == "the chain reached its bound of 12 runs"


def test_the_bound_stays_below_lambdas_recursion_stop() -> None:
    assert Chain(FakeLease(), FakeInvoker(), max_runs=99).max_runs == MAX_CHAIN_RUNS < 16


# -- one sweep at a time ----------------------------------------------------------------------------


def test_a_run_with_work_left_hands_its_lease_to_its_continuation() -> None:
    clock, lease, invoker = Clock(), FakeLease(), FakeInvoker()
    chain = Chain(lease, invoker, clock=clock)
    step = first_step("req-1")
    assert chain.begin(step, 300)
    assert lease.until == clock.now + 300 + LEASE_GRACE_SECONDS
    decision = chain.end(step, WORK_LEFT, ARN, 300)
    assert decision.continued and decision.next_run == 2
    assert invoker.sent == [(ARN, {"continuation": {"chain": "req-1", "run": 2}})]
    # The lease is still the chain's, covering this run's end and the whole next run
    assert lease.holder == "req-1" and lease.until == clock.now + 600 + LEASE_GRACE_SECONDS


def test_a_scheduled_sweep_does_nothing_while_a_chain_runs() -> None:
    clock, lease = Clock(), FakeLease()
    chain = Chain(lease, FakeInvoker(), clock=clock)
    assert chain.begin(Step("chain-a", 1), 300)
    # Given another scheduled sweep while chain-a holds the lease
    assert chain.begin(Step("chain-b", 1), 300) is False
    # And chain-a's own continuation may run
    assert chain.begin(Step("chain-a", 2), 300)


def test_an_expired_lease_is_taken_over() -> None:
    clock, lease = Clock(), FakeLease()
    chain = Chain(lease, FakeInvoker(), clock=clock)
    assert chain.begin(Step("crashed", 1), 300)
    clock.now += 300 + LEASE_GRACE_SECONDS + 1
    assert chain.begin(Step("next", 1), 300)
    assert lease.holder == "next"


def test_a_chain_that_ends_gives_its_lease_back() -> None:
    lease, invoker = FakeLease(), FakeInvoker()
    chain = Chain(lease, invoker, clock=Clock())
    step = Step("c", 1)
    chain.begin(step, 300)
    decision = chain.end(step, DONE, ARN, 300)
    assert decision == (False, "nothing left", None)
    assert lease.holder is None and invoker.sent == []


def test_a_failed_invoke_releases_the_lease_and_never_raises() -> None:
    lease = FakeLease()
    chain = Chain(lease, FakeInvoker(fail=RuntimeError("TooManyRequestsException")), clock=Clock())
    step = Step("c", 1)
    chain.begin(step, 300)
    decision = chain.end(step, WORK_LEFT, ARN, 300)
    assert not decision.continued
    assert decision.reason == "continuation not started: RuntimeError: TooManyRequestsException"
    assert lease.holder is None


def test_a_lease_lost_meanwhile_starts_no_continuation() -> None:
    clock, lease, invoker = Clock(), FakeLease(), FakeInvoker()
    chain = Chain(lease, invoker, clock=clock)
    chain.begin(Step("slow", 1), 10)
    clock.now += 10 + LEASE_GRACE_SECONDS + 1  # expired: another sweep takes it
    assert chain.begin(Step("other", 1), 300)
    decision = chain.end(Step("slow", 1), WORK_LEFT, ARN, 10)
    assert decision == (False, "the lease was taken by another sweep", None)
    assert invoker.sent == [] and lease.holder == "other"


def test_without_a_table_every_run_may_start_and_none_continues() -> None:
    chain = Chain(None, None)
    assert chain.begin(Step("a", 1), 300) and chain.begin(Step("b", 1), 300)
    assert chain.end(Step("a", 1), WORK_LEFT, ARN, 300) == (False, "continuation is not configured", None)


def test_a_chain_of_runs_stops_at_its_bound() -> None:
    # Given a service so slow every run leaves work (but progresses)
    clock, lease, invoker = Clock(), FakeLease(), FakeInvoker()
    chain = Chain(lease, invoker, max_runs=5, clock=clock)
    step = first_step("req")
    runs = 0
    while True:
        assert chain.begin(step, 300)
        runs += 1
        clock.now += 300
        decision = chain.end(step, WORK_LEFT, ARN, 300)
        if not decision.continued:
            break
        step = parse_marker(invoker.sent[-1][1])
    # Then the chain ran five times and gave the lease back
    assert runs == 5 and decision.reason == "the chain reached its bound of 5 runs"
    assert lease.holder is None


# -- the adapters, against moto -----------------------------------------------------------------------


@mock_aws
def test_the_dynamodb_lease_follows_the_same_rule() -> None:
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(
        TableName="locks",
        KeySchema=[{"AttributeName": "lock", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "lock", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    lease = DynamoLease("locks", ddb)
    assert lease.acquire("a", until=100.0, now=10.0)
    assert lease.acquire("b", until=200.0, now=20.0) is False  # held
    assert lease.acquire("a", until=300.0, now=30.0)  # renewed by its holder
    lease.release("b")  # not b's: kept
    assert lease.acquire("b", until=400.0, now=40.0) is False
    assert lease.acquire("b", until=400.0, now=301.0)  # expired: taken over
    lease.release("b")
    assert "Item" not in ddb.get_item(TableName="locks", Key={"lock": {"S": "sweep"}})


def test_the_invoker_sends_an_asynchronous_invoke() -> None:
    calls: list[dict[str, Any]] = []

    class FakeLambda:
        def invoke(self, **kwargs: Any) -> dict[str, Any]:
            calls.append(kwargs)
            return {"StatusCode": 202}

    LambdaInvoker(FakeLambda()).invoke_async(ARN, {"continuation": {"chain": "c", "run": 2}})
    assert calls == [
        {"FunctionName": ARN, "InvocationType": "Event", "Payload": b'{"continuation": {"chain": "c", "run": 2}}'}
    ]

    class Refusing:
        def invoke(self, **kwargs: Any) -> dict[str, Any]:
            return {"StatusCode": 200}

    with pytest.raises(RuntimeError, match="status 200, not 202"):
        LambdaInvoker(Refusing()).invoke_async(ARN, {})
