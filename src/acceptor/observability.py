"""The one Logger and Metrics of the functions, and the metrics each invocation emits.

Metric names are the documented interface (README, "Metrics"). No account id is ever a dimension.
Tracing is imported only when enabled, so it costs nothing at cold start otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "wa-share-acceptor"
DEFAULT_NAMESPACE = "WellArchitectedShareAcceptor"

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE)

# metric name -> what it counts (README lists the same table)
METRICS = {
    "InvitationsAccepted": "invitations the policy accepted (and the update applied, unless dry run)",
    "InvitationsRejected": "invitations the policy rejected (and the update applied, unless dry run)",
    "InvitationsIgnored": "invitations left pending: no rule matched (NonMatchingAction=IGNORE) or an input missing",
    "InvitationsAlreadySettled": "updates answered Conflict/ResourceNotFound: settled, revoked or expired meanwhile",
    "InvitationsDeferred": "invitations left for the next sweep because the function ran out of time",
    "InvitationsNotFound": "share events whose invitation was not (yet) listed; left for the sweep",
    "DecisionFailures": "updates that failed after retries, plus listings that failed",
    "OrgLookupFailures": "sharers whose OUs could not be looked up (their OU rules were left undecided)",
    "InvalidEvents": "events that were malformed or not for this function; nothing was changed",
    "ShareEventsIgnored": "share events naming no invitation of this account (failed calls, other recipients)",
    "InvitationsForPrincipals": "invitations addressed to an IAM user or role: theirs to answer, left pending",
    "UpdatesAnswerLost": "updates whose answer was lost and whose retry found them settled (counted as applied)",
    "ListItemsMalformed": "listed items that were not objects; skipped",
}

F = TypeVar("F", bound=Callable[..., Any])


def tracing_enabled() -> bool:
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "true").strip().lower() in ("false", "0")


def traced(handler: F) -> F:
    """Wrap the handler with the Powertools Tracer only when tracing is enabled."""
    if not tracing_enabled():
        return handler
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE).capture_lambda_handler(handler)  # type: ignore[return-value]


def emit_summary_metrics(summary: Any) -> None:
    """Count one run's results. Dry-run counts carry the extra dimension DryRun=true."""
    if summary.dry_run:
        metrics.add_dimension(name="DryRun", value="true")
    results, actions = summary.results, summary.actions
    counts = {
        # In dry run nothing is applied: count what the policy decided.
        "InvitationsAccepted": actions["ACCEPT"] if summary.dry_run else results["accepted"],
        "InvitationsRejected": actions["REJECT"] if summary.dry_run else results["rejected"],
        "InvitationsIgnored": results["left_pending"],
        "InvitationsAlreadySettled": results["already_settled"],
        "InvitationsDeferred": results["deferred"],
        "InvitationsNotFound": summary.not_found,
        "DecisionFailures": summary.failed,
        "OrgLookupFailures": summary.org_lookup_failures,
        "InvitationsForPrincipals": results["for_principal"],
        "UpdatesAnswerLost": summary.answer_lost,
        "ListItemsMalformed": summary.malformed_items,
    }
    for name, value in counts.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def emit_invalid_event() -> None:
    metrics.add_metric(name="InvalidEvents", unit=MetricUnit.Count, value=1)


def emit_ignored_event() -> None:
    metrics.add_metric(name="ShareEventsIgnored", unit=MetricUnit.Count, value=1)
