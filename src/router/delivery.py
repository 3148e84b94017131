"""Put a forwarded share on its recipient's default bus; park what cannot be delivered in the dead-letter
queue. Clients are injected; AWS failures come back as outcomes, never as exceptions.

A recipient's refusal (its bus policy does not admit this account, the role's ``aws:ResourceOrgID``
condition denies a bus outside the organization, the bus does not exist) is final: retrying cannot change
it, so the share is parked at once and nothing waits. Throttling and server errors are retried a few times
within the invocation's budget, then deferred: the handler raises and Lambda retries the event later.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from acceptor import aws_errors
from acceptor.deadline import Deadline
from acceptor.wellarchitected import SDK_CONFIG
from policy.model import shown
from router.forwarded import ForwardedShare, default_bus_arn

# PutEvents entry error codes worth another attempt (EventBridge API reference, PutEventsResultEntry).
_RETRYABLE_ENTRY_CODES = frozenset({"ThrottlingException", "InternalFailure"})
_THROTTLES = frozenset({"ThrottlingException", "TooManyRequestsException", "Throttling"})
MALFORMED_ANSWER = "MalformedAnswer"
OUT_OF_TIME = "OutOfTime"


class DeliveryStatus(StrEnum):
    DELIVERED = "delivered"
    REFUSED = "refused"  # final: parked in the dead-letter queue
    DEFERRED = "deferred"  # throttled or failing after retries: Lambda retries the event later


class Delivery(NamedTuple):
    status: DeliveryStatus
    attempts: int
    error_code: str | None = None
    error: str | None = None
    event_id: str | None = None  # the id EventBridge gave the event on the recipient's bus
    throttled: bool = False


class EventBuses:
    """PutEvents to recipients' default buses, one entry per call (one share, one recipient)."""

    def __init__(
        self,
        partition: str,
        region: str,
        client: Any = None,
        *,
        attempts: int = 3,
        backoff_seconds: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if client is None:
            import boto3

            client = boto3.client("events", region_name=region, config=SDK_CONFIG)
        self._client = client
        self._partition, self._region = partition, region
        self._attempts, self._backoff, self._sleep = attempts, backoff_seconds, sleep

    def bus_arn(self, account: str) -> str:
        return default_bus_arn(self._partition, self._region, account)

    def deliver(self, share: ForwardedShare, deadline: Deadline) -> Delivery:
        entry = share.entry(self.bus_arn(share.recipient))
        code: str = OUT_OF_TIME
        message, throttled = "no time left for a first attempt", False
        for attempt in range(1, self._attempts + 1):
            if deadline.expired():
                return Delivery(DeliveryStatus.DEFERRED, attempt - 1, code, message, throttled=throttled)
            failure, message, retryable, event_id = self._put(entry)
            if failure is None:
                return Delivery(DeliveryStatus.DELIVERED, attempt, event_id=event_id)
            code = failure
            throttled = throttled or code in _THROTTLES
            if not retryable:
                return Delivery(DeliveryStatus.REFUSED, attempt, code, message)
            if attempt < self._attempts:
                pause = self._backoff * 2 ** (attempt - 1)
                if deadline.left() <= pause:
                    return Delivery(DeliveryStatus.DEFERRED, attempt, code, message, throttled=throttled)
                self._sleep(pause)
        return Delivery(DeliveryStatus.DEFERRED, self._attempts, code, message, throttled=throttled)

    def _put(self, entry: dict[str, Any]) -> tuple[str | None, str, bool, str | None]:
        """(error code or None, message, retryable, event id) for one PutEvents call of one entry."""
        try:
            answer = self._client.put_events(Entries=[entry])
        except (ClientError, BotoCoreError) as err:
            code = aws_errors.code(err)
            return code, aws_errors.message(err), aws_errors.is_retryable(err) or code in _THROTTLES, None
        entries = answer.get("Entries") if isinstance(answer, dict) else None
        result = entries[0] if isinstance(entries, list) and len(entries) == 1 else None
        if not isinstance(result, dict):
            return MALFORMED_ANSWER, f"PutEvents answered {shown(answer)}", True, None
        raw_code = result.get("ErrorCode")
        if raw_code is not None:
            entry_code = raw_code if isinstance(raw_code, str) and raw_code else MALFORMED_ANSWER
            raw_message = result.get("ErrorMessage")
            text = raw_message if isinstance(raw_message, str) else ""
            return entry_code, text, entry_code in _RETRYABLE_ENTRY_CODES or entry_code == MALFORMED_ANSWER, None
        event_id = result.get("EventId")
        if not isinstance(event_id, str) or not event_id:
            return MALFORMED_ANSWER, f"PutEvents answered the entry with {shown(result)}", True, None
        return None, "", False, event_id


class DeadLetters:
    """The stack's dead-letter queue: one message per share that could not be delivered, with the
    recipient as a message attribute and the PutEvents entry to send again."""

    def __init__(self, queue_url: str, region: str, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("sqs", region_name=region, config=SDK_CONFIG)
        self._client, self._queue_url = client, queue_url

    def park(self, record: dict[str, Any], recipient: str | None) -> str | None:
        """Send ``record``; None when sent, else why not (the handler then raises, and Lambda retries)."""
        attributes = {"reason": {"DataType": "String", "StringValue": str(record.get("reason", "unknown"))}}
        if recipient is not None:
            attributes["recipient_account"] = {"DataType": "String", "StringValue": recipient}
        try:
            self._client.send_message(
                QueueUrl=self._queue_url,
                MessageBody=json.dumps(record, separators=(",", ":"), sort_keys=True, default=str),
                MessageAttributes=attributes,
            )
        except (ClientError, BotoCoreError) as err:
            return aws_errors.describe(err)
        return None
