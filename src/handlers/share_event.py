"""ShareEventFunction: forwarded Create*Share events say "look now" for the invitations they name.

Deployed behind an SQS queue, it gets batches: one listing per resource type the batch needs, one update
per decided invitation, and per-message failures reported with Powertools' batch utility
(``ReportBatchItemFailures``) so that only those messages come back. Invoked by hand (``sam local
invoke``, ``make invoke``) it takes one plain EventBridge event and returns the run's summary.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from acceptor import runtime
from acceptor.deadline import Deadline
from acceptor.engine import HintStatus
from acceptor.events import IgnoredEvent, InvalidEvent, ShareHint, is_sqs_batch, parse_share_event, parse_sqs_batch
from acceptor.observability import emit_ignored_event, emit_invalid_event, emit_summary_metrics, logger, metrics, traced
from acceptor.outcomes import Summary, Tally
from handlers.common import invalid_event, load_components, run_policy, run_status
from policy import Policy


class RetryLater(Exception):
    """This message's invitation could not be decided now (a failed listing or update, or no time left)."""


@traced
@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
def lambda_handler(event: Any, context: Any, components: runtime.Components | None = None) -> dict[str, Any]:
    comps = load_components(components)
    policy = run_policy(comps)
    own_account = runtime.own_account(context)
    deadline = runtime.deadline(context, comps.settings)
    if is_sqs_batch(event):
        return _batch(event, context, comps, policy, own_account, deadline)
    try:
        hint = parse_share_event(event, own_account)
    except IgnoredEvent as err:
        _ignored(err)
        return {"status": "ignored", "reason": err.reason, "detail": str(err)}
    except InvalidEvent as err:
        return invalid_event(err)
    logger.append_keys(share_invitation_id=hint.invitation_id)
    summary = Summary(dry_run=policy.dry_run)
    try:
        comps.acceptor.handle_hints(policy, [hint], deadline, summary, attempts=comps.settings.hint_lookup_attempts)
    finally:
        emit_summary_metrics(summary)
    result = {"status": run_status(summary), "share_invitation_id": hint.invitation_id, **summary.to_dict()}
    logger.info("share event handled", extra={"summary": result})
    return result


def _batch(
    event: dict[str, Any],
    context: Any,
    comps: runtime.Components,
    policy: Policy,
    own_account: str | None,
    deadline: Deadline,
) -> dict[str, Any]:
    try:
        messages = parse_sqs_batch(event)
    except InvalidEvent as err:  # a record without a message id: SQS cannot be told which one to retry
        return invalid_event(err)
    summary = Summary(dry_run=policy.dry_run)
    hints: dict[str, ShareHint] = {}  # message id -> hint
    for message in messages:
        try:
            if message.error is not None:
                raise message.error
            hints[message.message_id] = parse_share_event(message.event, own_account)
        except IgnoredEvent as err:
            summary.tally(Tally.IGNORED_EVENTS)
            _ignored(err, message_id=message.message_id)
        except InvalidEvent as err:
            summary.tally(Tally.INVALID_EVENTS)
            logger.error(
                "invalid event; nothing changed",
                extra={"invalid_reason": err.reason, "error": str(err), "message_id": message.message_id},
            )
            emit_invalid_event()
    statuses: dict[str, HintStatus] = {}
    try:
        if hints:
            results = comps.acceptor.handle_hints(
                policy,
                list(hints.values()),
                deadline,
                summary,
                attempts=comps.settings.hint_lookup_attempts,
            )
            statuses = results.status
    finally:
        emit_summary_metrics(summary)
    retry = {mid for mid, hint in hints.items() if statuses.get(hint.invitation_id) is HintStatus.RETRY}
    response = _partial_response(event, retry, context)
    logger.info(
        "share event batch handled",
        extra={
            "status": run_status(summary),
            "messages": len(messages),
            "retried_messages": sorted(retry),
            "summary": summary.to_dict(),
        },
    )
    return response


def _partial_response(event: dict[str, Any], retry: set[str], context: Any) -> dict[str, Any]:
    """The batch-item-failures answer SQS expects, built by Powertools' batch utility."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    def record_handler(record: Any) -> None:
        if record.message_id in retry:
            raise RetryLater(record.message_id)

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(process_partial_response(event, record_handler, processor, context))


def _ignored(err: IgnoredEvent, **fields: Any) -> None:
    logger.info("share event names no invitation of this account; ignored", extra={"reason": err.reason, **fields})
    emit_ignored_event()
