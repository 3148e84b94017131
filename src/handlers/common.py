"""What both handlers share: configuration errors, the invalid-event answer, the run's status."""

from __future__ import annotations

from typing import Any

from acceptor import runtime
from acceptor.continuation import RunResult
from acceptor.deadline import Deadline
from acceptor.events import InvalidEvent
from acceptor.observability import emit_decision_events, emit_invalid_event, emit_policy_load_failure, logger
from acceptor.outcomes import Result, Summary
from acceptor.policy_source import PolicyUnavailable
from acceptor.settings import ConfigurationError
from policy import Policy


def load_components(components: runtime.Components | None) -> runtime.Components:
    """The given components, or this container's; a configuration error is logged and raised.

    Called before the event is even parsed, so a bad configuration fails every run (and alarms)."""
    if components is not None:
        return components
    try:
        return runtime.components()
    except ConfigurationError as err:
        logger.error("invalid configuration; no invitation was touched", extra={"problems": err.problems})
        raise


def run_policy(components: runtime.Components) -> Policy:
    """This run's policy; a document that is missing, unreadable or invalid is logged, counted and raised
    before any invitation is touched."""
    try:
        return components.policy_source.current()
    except PolicyUnavailable as err:
        logger.error(
            "policy unavailable; no invitation was touched",
            extra={"policy_source": components.policy_source.where, "error": str(err)},
        )
        emit_policy_load_failure()
        raise


def invalid_event(err: InvalidEvent) -> dict[str, Any]:
    """Log and count an event this function does not handle; nothing changes, nothing retries."""
    logger.error("invalid event; nothing changed", extra={"invalid_reason": err.reason, "error": str(err)})
    emit_invalid_event()
    return {"status": "invalid_event", "reason": err.reason, "error": str(err)}


def run_status(summary: Summary) -> str:
    """``ok`` when everything was listed and every decision carried out; else ``incomplete`` (work left
    for the next run) or ``failed`` (a listing or an update failed)."""
    if summary.failed:
        return "failed"
    return "ok" if summary.complete else "incomplete"


def start_events(components: runtime.Components, context: Any) -> None:
    """Name this run's account on its decision events (from the invoked function's ARN)."""
    if components.decision_events is not None:
        components.decision_events.account = runtime.own_account(context)


def publish_run(
    components: runtime.Components, function: str, summary: Summary, deadline: Deadline
) -> dict[str, Any] | None:
    """After the run: its summary event, then every buffered event sent within the deadline, counted.

    Never raises and never changes the summary's decisions; None when decision events are off."""
    events = components.decision_events
    if events is None:
        return None
    events.run_finished(function, run_status(summary), summary.to_dict())
    sent = events.flush(deadline)
    emit_decision_events(sent.published, sent.failed)
    return {"published": sent.published, "failed": sent.failed, "errors": sent.errors}


def run_result(summary: Summary) -> RunResult:
    """What decides whether a sweep continues: work left (deferred, or types not listed to the end for want
    of time), progress (something decided), and whether a listing failed outright. Failed updates do not
    stop a chain: they are counted and alarmed on, and the rest of the backlog still deserves its turn."""
    deferred = summary.count_of(Result.DEFERRED)
    return RunResult(
        failed=bool(summary.list_errors),
        work_left=deferred > 0 or bool(summary.not_listed),
        progressed=summary.invitations > deferred,
    )
