"""The sweep handler's chain: one sweep at a time, a run with work left continues itself, a broken run
gives its lease back. The engine is replaced by a scripted one; the lease and the invoker are fakes."""

from __future__ import annotations

from typing import Any

import pytest

from acceptor.continuation import Chain, Step
from acceptor.deadline import Deadline
from acceptor.outcomes import Outcome, Result, Summary
from acceptor.wellarchitected import OUT_OF_TIME, ListError
from handlers import sweep
from policy import Action, Decision, Invitation, Policy, Reason
from simulator import Simulator
from simulator.harness import LambdaContext
from tests.support.continuation import FakeInvoker, FakeLease
from tests.support.handlers import SCHEDULED, Run, components
from tests.support.handlers import invoke as run_handler

ACCEPT = Decision(Action.ACCEPT, Reason.ALLOWED_ACCOUNT)


def invoke(handler: Any, event: Any, comps: Any, context: LambdaContext | None = None) -> Run:
    """A run whose request id (a new chain's id) is "test-request"."""
    return run_handler(handler, event, comps, context or LambdaContext(request_id="test-request"))


def _inv(n: int) -> Invitation:
    return Invitation(f"{n:032x}", "222222222222", "111111111111", "WORKLOAD", "w", "w", "READONLY")


class ScriptedAcceptor:
    """Records into the run's summary what the script says: (result, count) pairs, and listings stopped."""

    def __init__(self, script: list[tuple[Result, int]], not_listed: tuple[str, ...] = (), error: str | None = None):
        self.script = script
        self.not_listed = not_listed
        self.error = error
        self.runs = 0

    def sweep(self, policy: Policy, deadline: Deadline | None = None, summary: Summary | None = None) -> Summary:
        assert summary is not None
        self.runs += 1
        if self.error:
            raise RuntimeError(self.error)
        n = 0
        for result, count in self.script:
            for _ in range(count):
                n += 1
                summary.add(Outcome(_inv(n), ACCEPT, result))
        for rtype in self.not_listed:
            summary.listing_failed(rtype, ListError(OUT_OF_TIME, "late"))
        return summary


def _components(acceptor: Any, lease: FakeLease, invoker: FakeInvoker, max_runs: int = 12) -> Any:
    comps = components(Simulator())
    return comps._replace(acceptor=acceptor, chain=Chain(lease, invoker, max_runs=max_runs))


def test_a_scheduled_run_with_work_left_starts_its_continuation() -> None:
    lease, invoker = FakeLease(), FakeInvoker()
    acceptor = ScriptedAcceptor([(Result.ACCEPTED, 5), (Result.DEFERRED, 3)])
    run = invoke(sweep.lambda_handler, SCHEDULED, _components(acceptor, lease, invoker))
    assert run.result["status"] == "incomplete"
    assert run.result["accept"] == 5 and run.result["deferred"] == 3
    assert run.result["chain"] == {"id": "test-request", "run": 1, "continued": True, "stop_reason": None}
    assert invoker.sent == [
        (LambdaContext().invoked_function_arn, {"continuation": {"chain": "test-request", "run": 2}})
    ]
    assert lease.holder == "test-request"  # handed over to the continuation
    assert run.metrics["InvitationsDeferred"] == 3 and run.metrics["DecisionFailures"] == 0


def test_the_continuation_runs_in_its_chain_and_the_last_run_gives_the_lease_back() -> None:
    lease, invoker = FakeLease(), FakeInvoker()
    comps = _components(ScriptedAcceptor([(Result.ACCEPTED, 5), (Result.DEFERRED, 3)]), lease, invoker)
    invoke(sweep.lambda_handler, SCHEDULED, comps)
    # When the continuation's event arrives and that run finishes the work
    comps = comps._replace(acceptor=ScriptedAcceptor([(Result.ACCEPTED, 3)]))
    run = invoke(sweep.lambda_handler, invoker.sent[-1][1], comps)
    assert run.result["status"] == "ok"
    assert run.result["chain"] == {"id": "test-request", "run": 2, "continued": False, "stop_reason": "nothing left"}
    assert len(invoker.sent) == 1 and lease.holder is None
    assert run.metrics["SweepsCompleted"] == 1


def test_a_scheduled_run_does_nothing_while_a_chain_holds_the_lease() -> None:
    lease, invoker = FakeLease(), FakeInvoker()
    assert lease.acquire("another-chain", until=1e12, now=0.0)
    acceptor = ScriptedAcceptor([(Result.ACCEPTED, 1)])
    run = invoke(sweep.lambda_handler, SCHEDULED, _components(acceptor, lease, invoker))
    assert run.result == {"status": "skipped", "reason": "another sweep of this account and region is running"}
    assert acceptor.runs == 0 and invoker.sent == [] and lease.holder == "another-chain"
    assert run.logs("another sweep is running; this one does nothing")[0]["chain"] == "test-request"
    assert "SweepsCompleted" not in run.metrics


@pytest.mark.parametrize(
    ("script", "not_listed", "reason"),
    [
        ([(Result.DEFERRED, 4)], (), "no progress in this run"),
        ([(Result.ACCEPTED, 2)], ("WORKLOAD",), "the chain reached its bound of 2 runs"),
    ],
)
def test_a_chain_stops_without_progress_or_at_its_bound(
    script: list[tuple[Result, int]], not_listed: tuple[str, ...], reason: str
) -> None:
    lease, invoker = FakeLease(), FakeInvoker()
    comps = _components(ScriptedAcceptor(script, not_listed), lease, invoker, max_runs=2)
    event = Step("chain-x", 2).marker() if "bound" in reason else SCHEDULED
    run = invoke(sweep.lambda_handler, event, comps)
    assert run.result["chain"]["continued"] is False and run.result["chain"]["stop_reason"] == reason
    assert invoker.sent == [] and lease.holder is None


def test_a_run_that_breaks_off_gives_its_lease_back() -> None:
    lease, invoker = FakeLease(), FakeInvoker()
    comps = _components(ScriptedAcceptor([], error="engine bug"), lease, invoker)
    with pytest.raises(RuntimeError, match="engine bug"):
        invoke(sweep.lambda_handler, SCHEDULED, comps)
    assert lease.holder is None and invoker.sent == []
    assert ("release", "test-request") in lease.log


@pytest.mark.parametrize(
    "event",
    [
        {"continuation": {"chain": "x", "run": 99}},
        {"continuation": {"chain": "x y", "run": 2}},
        {"continuation": "next"},
        {"continuation": {"chain": "x", "run": 2}, "source": "aws.events"},
    ],
)
def test_a_malformed_continuation_is_an_invalid_event(event: dict[str, Any]) -> None:
    lease, invoker = FakeLease(), FakeInvoker()
    acceptor = ScriptedAcceptor([(Result.ACCEPTED, 1)])
    run = invoke(sweep.lambda_handler, event, _components(acceptor, lease, invoker))
    assert run.result["status"] == "invalid_event" and run.result["reason"] == "invalid_continuation"
    assert acceptor.runs == 0 and lease.holder is None
    assert run.metrics["InvalidEvents"] == 1


def test_without_a_lease_table_a_run_never_continues() -> None:
    comps = components(Simulator())._replace(acceptor=ScriptedAcceptor([(Result.ACCEPTED, 1), (Result.DEFERRED, 1)]))
    run = invoke(sweep.lambda_handler, SCHEDULED, comps)
    assert run.result["chain"]["continued"] is False
    assert run.result["chain"]["stop_reason"] == "continuation is not configured"


def test_the_chain_is_wired_from_the_lease_table_except_under_sam_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_SAM_LOCAL", raising=False)
    comps = components(Simulator(), env={"SWEEP_LOCK_TABLE": "stack-SweepLockTable-1", "MAX_CHAIN_RUNS": "4"})
    assert comps.chain.enabled and comps.chain.max_runs == 4
    assert not components(Simulator()).chain.enabled
    monkeypatch.setenv("AWS_SAM_LOCAL", "true")
    assert not components(Simulator(), env={"SWEEP_LOCK_TABLE": "stack-SweepLockTable-1"}).chain.enabled
