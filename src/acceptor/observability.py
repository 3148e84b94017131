"""The one Logger and Metrics of the functions, and the metrics each invocation emits.

Metric names are the documented interface (README, "Metrics"). No account id is ever a dimension.
Tracing is imported only when enabled, so it costs nothing at cold start otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from acceptor import logjson
from acceptor.outcomes import Result, Summary, Tally
from policy import Action

SERVICE = "wa-share-acceptor"
DEFAULT_NAMESPACE = "WellArchitectedShareAcceptor"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE

# One line per decision: the cheaper JSON functions write the same lines (docs/performance.md).
logger = Logger(
    service=os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE,
    json_serializer=logjson.serialize,
    json_deserializer=logjson.deserialize,
)
metrics = Metrics(namespace=NAMESPACE)

# metric name -> what it counts (README lists the same table)
METRICS = {
    "InvitationsAccepted": "invitations the policy accepted (and the update applied, unless dry run)",
    "InvitationsRejected": "invitations the policy rejected (and the update applied, unless dry run)",
    "InvitationsIgnored": "invitations left pending: no rule matched (NonMatchingAction=IGNORE) or an input missing",
    "InvitationsAlreadySettled": "updates answered Conflict/ResourceNotFound: settled, revoked or expired meanwhile",
    "InvitationsDeferred": "invitations left for the next run: time ran out, or throttled past their retries",
    "InvitationsNotFound": "share events whose invitation was not (yet) listed; left for the sweep",
    "DecisionFailures": "updates that failed after retries, plus listings that failed",
    "OrgLookupFailures": "sharers whose OUs could not be looked up (their OU rules were left undecided)",
    "InvalidEvents": "events that were malformed or not for this function; nothing was changed",
    "ShareEventsIgnored": "share events naming no invitation of this account (failed calls, other recipients)",
    "ShareEventsBySharer": "share events without a share id: that type's invitations from that sharer were decided",
    "InvitationsForPrincipals": "invitations addressed to an IAM user or role: theirs to answer, left pending",
    "UpdatesAnswerLost": "updates whose answer was lost and whose retry found them settled (counted as applied)",
    "ListItemsMalformed": "listed items that were not objects; skipped",
    "PolicyLoadFailures": "runs stopped because the policy document was missing, unreadable or invalid",
    "SweepsCompleted": "sweeps that listed every invitation and finished in time (the heartbeat)",
    "DecisionEventsPublished": "decision and run events put on DECISION_EVENT_BUS",
    "DecisionEventsFailed": "decision and run events that could not be put on DECISION_EVENT_BUS in time (alarmed)",
}

# Only what the policy decided differs between dry run and live; these carry DryRun=true in dry run.
# Every other count (failures, lookups, invalid events, deferrals) never does, so the alarms on
# [service] see problems in dry run too.
DECISION_METRICS = ("InvitationsAccepted", "InvitationsRejected", "InvitationsIgnored")

F = TypeVar("F", bound=Callable[..., Any])


def tracing_enabled() -> bool:
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "true").strip().lower() in ("false", "0")


def traced(handler: F) -> F:
    """Wrap the handler with the Powertools Tracer only when tracing is enabled."""
    if not tracing_enabled():
        return handler
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE).capture_lambda_handler(handler)  # type: ignore[return-value]


def emit_summary_metrics(summary: Summary) -> None:
    """Count one run's results. In dry run only the decision counts carry the dimension DryRun=true."""
    count = summary.count_of
    decisions = {
        # In dry run nothing is applied: count what the policy decided.
        "InvitationsAccepted": count(Action.ACCEPT) if summary.dry_run else count(Result.ACCEPTED),
        "InvitationsRejected": count(Action.REJECT) if summary.dry_run else count(Result.REJECTED),
        "InvitationsIgnored": count(Result.LEFT_PENDING),
    }
    problems = {
        "InvitationsAlreadySettled": count(Result.ALREADY_SETTLED),
        "InvitationsDeferred": count(Result.DEFERRED),
        "InvitationsNotFound": count(Tally.NOT_FOUND),
        "DecisionFailures": summary.failed,
        "OrgLookupFailures": count(Tally.ORG_LOOKUP_FAILURES),
        "InvitationsForPrincipals": count(Result.FOR_PRINCIPAL),
        "UpdatesAnswerLost": count(Tally.ANSWER_LOST),
        "ListItemsMalformed": count(Tally.MALFORMED_ITEMS),
        "ShareEventsBySharer": count(Tally.SHARE_EVENTS_BY_SHARER),
    }
    for name, value in decisions.items():
        if summary.dry_run:
            _emit_dry_run(name, value)
        else:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    for name, value in problems.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def _emit_dry_run(name: str, value: float) -> None:
    """One EMF record with the dimensions service and DryRun=true, printed at once."""
    dimensions = {"service": metrics.service or SERVICE, "DryRun": "true"}
    with single_metric(
        name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE, default_dimensions=dimensions
    ):
        pass


def emit_sweep_completed() -> None:
    """The heartbeat: one completed sweep (never with DryRun, so dry-run stacks are watched too)."""
    metrics.add_metric(name="SweepsCompleted", unit=MetricUnit.Count, value=1)


def emit_decision_events(published: int, failed: int) -> None:
    """What one run's flush of decision events achieved (never with DryRun: delivery is not a decision)."""
    metrics.add_metric(name="DecisionEventsPublished", unit=MetricUnit.Count, value=published)
    metrics.add_metric(name="DecisionEventsFailed", unit=MetricUnit.Count, value=failed)


def emit_invalid_event() -> None:
    metrics.add_metric(name="InvalidEvents", unit=MetricUnit.Count, value=1)


def emit_ignored_event() -> None:
    metrics.add_metric(name="ShareEventsIgnored", unit=MetricUnit.Count, value=1)


def emit_policy_load_failure() -> None:
    metrics.add_metric(name="PolicyLoadFailures", unit=MetricUnit.Count, value=1)
