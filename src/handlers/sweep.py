"""SweepFunction: on a schedule or on demand, decide every pending share invitation."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from acceptor import runtime
from acceptor.events import InvalidEvent, parse_sweep_event
from acceptor.observability import emit_summary_metrics, emit_sweep_completed, logger, metrics, traced
from acceptor.outcomes import Summary
from handlers.common import invalid_event, load_components, run_policy, run_status


@traced
@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
def lambda_handler(event: Any, context: Any, components: runtime.Components | None = None) -> dict[str, Any]:
    comps = load_components(components)
    policy = run_policy(comps)
    try:
        parse_sweep_event(event)
    except InvalidEvent as err:
        return invalid_event(err)
    summary = Summary(dry_run=policy.dry_run)
    try:
        comps.acceptor.sweep(policy, runtime.deadline(context, comps.settings), summary)
    finally:
        emit_summary_metrics(summary)  # what was done is counted even if the run broke off
    if summary.complete and summary.list_error is None:
        emit_sweep_completed()
    result = {"status": run_status(summary), **summary.to_dict()}
    logger.info("sweep finished", extra={"summary": result})
    return result
