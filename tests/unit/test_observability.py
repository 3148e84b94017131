"""Which counts carry DryRun=true: only the policy's decisions. Problems stay visible to the alarms."""

from __future__ import annotations

import json
from typing import Any

import pytest

from acceptor import observability
from acceptor.observability import DECISION_METRICS, METRICS, emit_summary_metrics, emit_sweep_completed, metrics
from acceptor.outcomes import Outcome, Result, Summary, Tally
from policy import Action, Decision, Invitation, Reason

PROBLEMS = {"InvitationsAlreadySettled", "InvitationsDeferred", "InvitationsNotFound", "DecisionFailures"}


def summary(*, dry_run: bool) -> Summary:
    """A run that decided, failed, deferred, settled late, and could not look some account up."""
    run = Summary(dry_run=dry_run)
    inv = Invitation(None, None, None, None, None, None, None)
    accept, reject = Decision(Action.ACCEPT, Reason.ALLOWED_ACCOUNT), Decision(Action.REJECT, Reason.DENIED_ACCOUNT)
    ignore = Decision(Action.IGNORE, Reason.SOURCE_NOT_ALLOWED)
    outcomes = [
        *[Outcome(inv, accept, Result.DRY_RUN if dry_run else Result.ACCEPTED)] * 2,
        Outcome(inv, reject, Result.DRY_RUN if dry_run else Result.REJECTED),
        *[Outcome(inv, ignore, Result.LEFT_PENDING)] * 3,
        Outcome(inv, None, Result.ALREADY_SETTLED),
        *[Outcome(inv, None, Result.FAILED, "E", "m")] * 2,
        *[Outcome(inv, None, Result.DEFERRED)] * 4,
        *[Outcome(inv, None, Result.FOR_PRINCIPAL)] * 7,
    ]
    for outcome in outcomes:
        run.add(outcome)
    for tally, n in ((Tally.NOT_FOUND, 5), (Tally.ORG_LOOKUP_FAILURES, 6), (Tally.ANSWER_LOST, 8)):
        run.tally(tally, n)
    run.tally(Tally.MALFORMED_ITEMS, 9)
    return run


def emitted(capsys: pytest.CaptureFixture[str]) -> dict[str, tuple[float, frozenset[tuple[str, str]]]]:
    """metric name -> (value, its dimensions), from the EMF records printed so far."""
    metrics.flush_metrics()
    found: dict[str, tuple[float, frozenset[tuple[str, str]]]] = {}
    for line in capsys.readouterr().out.splitlines():
        if not line.startswith("{"):
            continue
        blob: dict[str, Any] = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            dims = frozenset((d, blob[d]) for group in directive["Dimensions"] for d in group)
            for metric in directive["Metrics"]:
                assert metric["Name"] not in found, f"{metric['Name']} emitted twice"
                value = blob[metric["Name"]]
                found[metric["Name"]] = (sum(value) if isinstance(value, list) else value, dims)
    return found


@pytest.fixture(autouse=True)
def _clean_metrics() -> Any:
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


def test_dry_run_marks_only_the_decisions(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a dry run that decided, failed, deferred and could not look an account up
    emit_summary_metrics(summary(dry_run=True))
    found = emitted(capsys)
    # Then the decisions carry DryRun=true and count what the policy decided
    for name in DECISION_METRICS:
        assert ("DryRun", "true") in found[name][1], name
        assert ("service", "wa-share-acceptor") in found[name][1], name
    assert (found["InvitationsAccepted"][0], found["InvitationsRejected"][0]) == (2, 1)
    assert found["InvitationsIgnored"][0] == 3
    # And every problem count is on the plain [service] dimension the alarms read
    for name in PROBLEMS | {"OrgLookupFailures"}:
        assert found[name][1] == {("service", "wa-share-acceptor")}, name
    assert found["DecisionFailures"][0] == 2 and found["OrgLookupFailures"][0] == 6
    assert found["InvitationsNotFound"][0] == 5 and found["InvitationsDeferred"][0] == 4


def test_live_run_has_no_dry_run_dimension(capsys: pytest.CaptureFixture[str]) -> None:
    emit_summary_metrics(summary(dry_run=False))
    found = emitted(capsys)
    assert set(DECISION_METRICS) | PROBLEMS <= set(found)
    assert all(dims == {("service", "wa-share-acceptor")} for _, dims in found.values())
    assert (found["InvitationsAccepted"][0], found["InvitationsRejected"][0]) == (2, 1)
    assert found["InvitationsForPrincipals"][0] == 7
    assert (found["UpdatesAnswerLost"][0], found["ListItemsMalformed"][0]) == (8, 9)


def test_heartbeat_never_carries_dry_run(capsys: pytest.CaptureFixture[str]) -> None:
    emit_summary_metrics(summary(dry_run=True))
    emit_sweep_completed()
    found = emitted(capsys)
    assert found["SweepsCompleted"] == (1, frozenset({("service", "wa-share-acceptor")}))


def test_every_emitted_metric_is_documented() -> None:
    assert set(DECISION_METRICS) <= set(METRICS)
    assert "SweepsCompleted" in METRICS
    assert metrics.namespace == observability.NAMESPACE
