"""RouterFunction, in a sharer account: each successful Create*Share of this account and region goes to
the default event bus of the account it was shared with (docs/forwarding.md).

EventBridge invokes it once per CloudTrail event, so one recipient never waits for another. Every
invocation logs one record with ``recipient_account`` and ``outcome`` (delivered, not_routed, refused,
deferred, invalid_event), which the stack's saved query counts per recipient. A refused share and an
invalid event are parked in the dead-letter queue at once (its alarm tells someone); a throttled or
failing delivery raises, and Lambda retries the event later, then parks it there too.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from acceptor.deadline import Deadline
from acceptor.events import InvalidEvent
from acceptor.observability import logger, metrics
from acceptor.settings import ConfigurationError
from router import wiring
from router.delivery import DeliveryStatus
from router.routing import NotRouted, route

MAX_PARKED_EVENT_BYTES = 64 * 1024  # an invalid event larger than this is parked by its id only


class DeliveryDeferred(Exception):
    """The share could not be delivered now (throttled or failing); Lambda retries the event."""


class ParkingFailed(Exception):
    """An undeliverable share could not be written to the dead-letter queue; Lambda retries the event."""


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
def lambda_handler(event: Any, context: Any, components: wiring.RouterComponents | None = None) -> dict[str, Any]:
    comps = _components(components)
    settings = comps.settings
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    deadline = (
        Deadline.within(remaining() / 1000.0, settings.safety_margin_seconds) if remaining else Deadline.unlimited()
    )
    try:
        found = route(
            event,
            own_account=settings.own_account,
            region=settings.region,
            allowed_recipients=settings.recipient_accounts,
        )
    except InvalidEvent as err:
        return _invalid(comps, event, err)
    if isinstance(found, NotRouted):
        skipped = {"outcome": "not_routed", "reason": found.reason.value, "recipient_account": found.recipient}
        logger.info("share not routed", extra={**skipped, "detail": found.detail})
        metrics.add_metric(name="RouterSharesNotRouted", unit=MetricUnit.Count, value=1)
        return skipped

    share = found
    delivery = comps.buses.deliver(share, deadline)
    record: dict[str, Any] = {
        "outcome": delivery.status.value,
        "recipient_account": share.recipient,
        "event_name": share.event_name,
        "share_id": share.share_id,
        "cloudtrail_event_id": share.event_id,
        "attempts": delivery.attempts,
    }
    if delivery.status is DeliveryStatus.DELIVERED:
        logger.info("share routed to the recipient's bus", extra={**record, "recipient_event_id": delivery.event_id})
        metrics.add_metric(name="RouterSharesDelivered", unit=MetricUnit.Count, value=1)
        return record
    record.update(error_code=delivery.error_code, error=delivery.error)
    if delivery.status is DeliveryStatus.DEFERRED:
        extra = {**record, "throttled": delivery.throttled}
        logger.warning("share not delivered yet; Lambda retries the event", extra=extra)
        metrics.add_metric(name="RouterSharesDeferred", unit=MetricUnit.Count, value=1)
        raise DeliveryDeferred(f"{share.recipient}: {delivery.error_code}: {delivery.error}")
    parked = {
        **record,
        "reason": "refused",
        "entry": share.entry(comps.buses.bus_arn(share.recipient)),
    }
    _park(comps, parked, share.recipient)
    logger.error("share undeliverable; parked in the dead-letter queue", extra=record)
    metrics.add_metric(name="RouterSharesUndeliverable", unit=MetricUnit.Count, value=1)
    return record


def _components(given: wiring.RouterComponents | None) -> wiring.RouterComponents:
    if given is not None:
        return given
    try:
        return wiring.components()
    except ConfigurationError as err:
        logger.error("invalid configuration; no share was routed", extra={"problems": err.problems})
        raise


def _invalid(comps: wiring.RouterComponents, event: Any, err: InvalidEvent) -> dict[str, Any]:
    record = {"outcome": "invalid_event", "invalid_reason": err.reason, "error": str(err), "recipient_account": None}
    parked: dict[str, Any] = {**record, "reason": "invalid_event"}
    try:
        body = json.dumps(event, default=str)
    except (TypeError, ValueError, RecursionError):
        body = None
    if body is not None and len(body) <= MAX_PARKED_EVENT_BYTES:
        parked["event"] = event
    elif isinstance(event, dict) and isinstance(event.get("id"), str):
        parked["event_id"] = event["id"][:128]
    _park(comps, parked, None)
    logger.error("invalid share event; parked in the dead-letter queue", extra=record)
    metrics.add_metric(name="RouterInvalidEvents", unit=MetricUnit.Count, value=1)
    return record


def _park(comps: wiring.RouterComponents, parked: dict[str, Any], recipient: str | None) -> None:
    problem = comps.dead_letters.park(parked, recipient)
    if problem is not None:
        logger.error("dead-letter queue unreachable; Lambda retries the event", extra={"error": problem})
        metrics.add_metric(name="RouterParkingFailures", unit=MetricUnit.Count, value=1)
        raise ParkingFailed(problem)
