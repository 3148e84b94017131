"""SweepFunction: on a schedule or on demand, decide every pending share invitation.

One sweep at a time per account and region, and a sweep that ends with work left starts its own
continuation at once (``acceptor.continuation``); the continuation's event is a marker naming its chain.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from acceptor import runtime
from acceptor.continuation import InvalidMarker, Step, first_step, is_continuation, parse_marker
from acceptor.events import InvalidEvent, parse_sweep_event
from acceptor.observability import emit_summary_metrics, emit_sweep_completed, logger, metrics, traced
from acceptor.outcomes import Summary
from handlers.common import (
    invalid_event,
    load_components,
    publish_run,
    run_policy,
    run_result,
    run_status,
    start_events,
)


@traced
@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
def lambda_handler(event: Any, context: Any, components: runtime.Components | None = None) -> dict[str, Any]:
    comps = load_components(components)
    policy = run_policy(comps)
    try:
        step = _step(event, context)
    except InvalidEvent as err:
        return invalid_event(err)
    seconds = runtime.run_seconds(context)
    if not comps.chain.begin(step, seconds):
        logger.info("another sweep is running; this one does nothing", extra={"chain": step.chain, "run": step.run})
        return {"status": "skipped", "reason": "another sweep of this account and region is running"}
    summary = Summary(dry_run=policy.dry_run)
    deadline = runtime.deadline(context, comps.settings)
    start_events(comps, context)
    ended = False
    try:
        comps.acceptor.sweep(policy, deadline, summary)
        emit_summary_metrics(summary)
        ended = True
    finally:
        if not ended:
            emit_summary_metrics(summary)  # what was done is counted even if the run broke off
            comps.chain.release(step)
    if summary.complete and summary.list_error is None:
        emit_sweep_completed()
    # Records first, events after: the events are sent once every decision is recorded.
    events = publish_run(comps, "sweep", summary, deadline)
    decision = comps.chain.end(step, run_result(summary), getattr(context, "invoked_function_arn", None), seconds)
    chain = {"id": step.chain, "run": step.run, "continued": decision.continued, "stop_reason": decision.reason}
    result = {"status": run_status(summary), "chain": chain, **summary.to_dict()}
    if events is not None:
        result["decision_events"] = events
    logger.info("sweep finished", extra={"summary": result})
    return result


def _step(event: Any, context: Any) -> Step:
    """The chain this run belongs to: a continuation's marker, or a new chain for a scheduled or manual run."""
    if is_continuation(event):
        try:
            return parse_marker(event)
        except InvalidMarker as err:
            raise InvalidEvent("invalid_continuation", str(err)) from err
    parse_sweep_event(event)
    return first_step(getattr(context, "aws_request_id", None))
