"""Parse the functions' events. An event is a hint, never an input to the policy.

From a forwarded ``Create*Share`` CloudTrail event we keep the share id (the recipient's invitation
id) and the resource type named by the event, to know where to look (``ShareHint``); the event's claims
about the sharer are kept only to be logged next to what the API says. Whether real CloudTrail records
carry ``responseElements.ShareId`` is unconfirmed, so an event without one, that names its recipient
and its sharer, is a ``SharerHint``: look at that type's pending invitations the API says that sharer
sent. A share id that is present but not 32 lowercase hex characters is an invalid event (broken or
forged), not a hint. A failed call, or a share for another account or for an organization or OU, raises
``IgnoredEvent``: no invitation of ours exists, so there is nothing to look for, and it is not an
invalid event either.

Two kinds of event carry a share (``SHARE_EVENT_KINDS``): the CloudTrail event itself, forwarded by a
rule in the sharer account, and the event a sharer's router puts on this account's bus
(``src/router/forwarded.py``). EventBridge refuses ``PutEvents`` sources that start with ``aws.``, so the
router's has its own source and detail-type; its detail keeps the CloudTrail keys read here and adds
``sharedWithAccount`` (the recipient's account id, also for a share to an IAM user or role) and
``sharedBy`` (the sharer, which must agree with the event's ``account``). Both kinds give the same hints.

The share-event function receives these events one by one (``sam local invoke``, a direct rule) or in
SQS batches (``parse_sqs_batch``), each message body being one EventBridge event.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from policy import RESOURCE_TYPES
from policy.bounded import TooDeep, deeper_than, load_json
from policy.identifiers import ORGANIZATION_ID, OU_ID, is_account_id, is_invitation_id, principal_account
from policy.model import shown

MAX_EVENT_BYTES = 256 * 1024  # EventBridge's largest event
MAX_EVENT_DEPTH = 32  # a CloudTrail share event nests about 6 levels
SHARE_EVENT_NAMES = {f"Create{rtype.title()}Share": rtype for rtype in RESOURCE_TYPES}  # CreateWorkloadShare...

# The two kinds of share event, written once: the router (src/router) imports them from here.
CLOUDTRAIL_SOURCE = "aws.wellarchitected"
CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"
ROUTED_SOURCE = "wa-share-acceptor.router"  # a sharer's router; PutEvents refuses sources starting with aws.
ROUTED_DETAIL_TYPE = "Well-Architected Share Created"
SHARE_EVENT_KINDS = {CLOUDTRAIL_SOURCE: CLOUDTRAIL_DETAIL_TYPE, ROUTED_SOURCE: ROUTED_DETAIL_TYPE}  # source -> type


class InvalidEvent(ValueError):
    """The event is not one this function handles; ``reason`` is a stable code for logs and metrics."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class IgnoredEvent(ValueError):
    """A well-formed share event that names no invitation of this account (a failed call, a share for
    another account or for an organization or OU). Logged at info and counted apart; nothing to do."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class ShareHint(NamedTuple):
    """A share event naming its invitation: decide that one invitation, as listed."""

    invitation_id: str
    resource_type: str
    event_id: str | None
    event_name: str
    claimed_sharer: str | None

    @property
    def key(self) -> str:
        """What the engine reports this hint's status under: the invitation id."""
        return self.invitation_id


class SharerHint(NamedTuple):
    """A share event without a share id: decide every pending invitation of ``resource_type`` that the
    API lists as shared by ``sharer``. The sharer only selects among what the API lists."""

    resource_type: str
    sharer: str  # the event's ``account``: where the share was made
    event_id: str | None
    event_name: str

    @property
    def key(self) -> str:
        """What the engine reports this hint's status under: ``TYPE/sharer`` (never a 32-hex id)."""
        return f"{self.resource_type}/{self.sharer}"


Hint = ShareHint | SharerHint


def check_size(event: Any) -> None:
    """InvalidEvent for an event that is not JSON data, is larger than EventBridge's largest, or nests
    deeper than any share event."""
    too_deep = InvalidEvent("too_deep", f"event {TooDeep(MAX_EVENT_DEPTH)}")
    try:
        size = len(json.dumps(event, default=str))
    except RecursionError:
        raise too_deep from None
    except (TypeError, ValueError) as err:
        raise InvalidEvent("unserializable", f"event is not JSON data: {err}") from err
    if size > MAX_EVENT_BYTES:
        raise InvalidEvent("oversized", f"event is {size} bytes, more than {MAX_EVENT_BYTES}")
    if deeper_than(event, MAX_EVENT_DEPTH):
        raise too_deep


def parse_sweep_event(event: Any) -> str | None:
    """Accept a scheduled event or an empty on-demand request; return the event id (if any)."""
    if event in (None, {}):
        return None
    if not isinstance(event, dict):
        raise InvalidEvent("not_an_object", f"event is a {type(event).__name__}, not a JSON object")
    check_size(event)
    source, detail_type = event.get("source"), event.get("detail-type")
    if source == "aws.events" and detail_type == "Scheduled Event":
        event_id = event.get("id")
        return event_id if isinstance(event_id, str) else None
    raise InvalidEvent(
        "unexpected_event",
        f"sweep takes a scheduled event or {{}}, not source={source!r} detail-type={detail_type!r}",
    )


def parse_share_event(event: Any, own_account: str | None = None) -> Hint:
    """Turn a share event (a forwarded Create*Share CloudTrail event, or a sharer's router's event) into a
    hint: a ``ShareHint`` when it carries a share id, else a ``SharerHint`` when it names its recipient and
    its sharer.

    Raises InvalidEvent for what is not such an event, IgnoredEvent for one that names no invitation of
    ``own_account`` (checked only when it is known).
    """
    if not isinstance(event, dict):
        raise InvalidEvent("not_an_object", f"event is a {type(event).__name__}, not a JSON object")
    check_size(event)
    source, detail_type = event.get("source"), event.get("detail-type")
    if not isinstance(source, str) or source not in SHARE_EVENT_KINDS:
        expected = " or ".join(repr(known) for known in SHARE_EVENT_KINDS)
        raise InvalidEvent("unexpected_source", f"source is {shown(source)}, expected {expected}")
    if detail_type != SHARE_EVENT_KINDS[source]:
        raise InvalidEvent(
            "unexpected_detail_type", f"detail-type is {shown(detail_type)}, expected {SHARE_EVENT_KINDS[source]!r}"
        )
    routed = source == ROUTED_SOURCE
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise InvalidEvent("missing_detail", "event has no detail object")
    event_name = detail.get("eventName")
    if not isinstance(event_name, str) or event_name not in SHARE_EVENT_NAMES:
        raise InvalidEvent(
            "unexpected_event_name", f"eventName is {event_name!r}, expected one of {sorted(SHARE_EVENT_NAMES)}"
        )
    if routed:
        _check_shared_by(event, detail, event_name)
    if detail.get("errorCode") is not None:
        raise IgnoredEvent("failed_call", f"{event_name} failed with {detail.get('errorCode')!r}: no share exists")
    routed_recipient = _routed_recipient(detail) if routed else None
    recipient = _check_recipient(detail.get("requestParameters"), event_name, own_account, routed_recipient)
    share_id = _share_id(detail.get("responseElements"))
    event_id = event.get("id") if isinstance(event.get("id"), str) else None
    resource_type = SHARE_EVENT_NAMES[event_name]
    if share_id is None:
        if recipient is None:
            raise InvalidEvent(
                "missing_recipient",
                f"{event_name} event has no ShareId and its requestParameters.SharedWith names no account",
            )
        return SharerHint(resource_type, _sharer(event, detail, event_name), event_id, event_name)
    claimed = event.get("account")
    return ShareHint(
        invitation_id=share_id,
        resource_type=resource_type,
        event_id=event_id,
        event_name=event_name,
        claimed_sharer=claimed if is_account_id(claimed) else None,
    )


def _share_id(response: Any) -> str | None:
    """The share id in ``responseElements`` (either key casing); None when there is none. A value that is
    there but not 32 lowercase hex characters is broken or forged: an invalid event, not a hint."""
    if response is None:
        return None
    if not isinstance(response, dict):
        raise InvalidEvent("malformed_share_id", f"responseElements is a {type(response).__name__}, not an object")
    share_id = response.get("ShareId", response.get("shareId"))
    if share_id is None or is_invitation_id(share_id):
        return share_id
    raise InvalidEvent("malformed_share_id", f"responseElements.ShareId is {share_id!r}, not 32 lowercase hex digits")


def _sharer(event: dict[str, Any], detail: dict[str, Any], event_name: str) -> str:
    """The account that made the share: the event's ``account`` (set by EventBridge, not by the sender),
    CloudTrail's ``recipientAccountId`` (the account the call was made in) and a routed event's
    ``sharedBy`` where present. Each one present must be an account id and all must agree.
    ``userIdentity.accountId`` names the caller, who can be in another account than the resource, so it is
    not read."""
    claims = {
        "account": event.get("account"),
        "detail.recipientAccountId": detail.get("recipientAccountId"),
        "detail.sharedBy": detail.get("sharedBy"),  # a routed event's (checked by _check_shared_by too)
    }
    present = {field: value for field, value in claims.items() if value is not None}
    if not present:
        raise InvalidEvent("missing_sharer", f"{event_name} event has no ShareId and no account naming its sharer")
    for field, value in present.items():
        if not is_account_id(value):
            raise InvalidEvent("invalid_sharer", f"{field} is {value!r}, not a 12-digit account id")
    if len(set(present.values())) > 1:
        shown = ", ".join(f"{field}={value}" for field, value in present.items())
        raise InvalidEvent("conflicting_sharer", f"{event_name} event names two sharers: {shown}")
    return str(next(iter(present.values())))


def _check_shared_by(event: dict[str, Any], detail: dict[str, Any], event_name: str) -> None:
    """A routed event's ``detail.sharedBy``, when present, is an account id and agrees with the event's
    ``account`` (which EventBridge stamps with the account that put the event: the sharer)."""
    shared_by = detail.get("sharedBy")
    if shared_by is None:
        return
    if not is_account_id(shared_by):
        raise InvalidEvent("invalid_sharer", f"detail.sharedBy is {shown(shared_by)}, not a 12-digit account id")
    account = event.get("account")
    if account is not None and account != shared_by:
        raise InvalidEvent(
            "conflicting_sharer",
            f"{event_name} event names two sharers: account={shown(account)}, detail.sharedBy={shared_by}",
        )


def _routed_recipient(detail: dict[str, Any]) -> str | None:
    """A routed event's ``detail.sharedWithAccount`` (None when absent); present, it must be an account id."""
    account = detail.get("sharedWithAccount")
    if account is None or is_account_id(account):
        return account
    raise InvalidEvent("invalid_recipient", f"detail.sharedWithAccount is {shown(account)}, not a 12-digit account id")


def _check_recipient(
    request: Any, event_name: str, own_account: str | None, routed_recipient: str | None = None
) -> str | None:
    """The account the share was made with (None when the event does not say in a known shape): a routed
    event's ``sharedWithAccount`` when it has one, else the account ``SharedWith`` names.

    IgnoredEvent when the share is plainly for someone else; unknown shapes pass (the API decides).
    InvalidEvent when ``sharedWithAccount`` and ``SharedWith`` name two different accounts."""
    shared_with = request.get("SharedWith", request.get("sharedWith")) if isinstance(request, dict) else None
    named: str | None = None
    if isinstance(shared_with, str):
        if ORGANIZATION_ID.fullmatch(shared_with) or OU_ID.fullmatch(shared_with):
            raise IgnoredEvent("organization_share", f"{event_name} shared with {shared_with}: no invitation is sent")
        named = shared_with if is_account_id(shared_with) else principal_account(shared_with)
    if routed_recipient is not None and named is not None and named != routed_recipient:
        raise InvalidEvent(
            "conflicting_recipient",
            f"{event_name} event names two recipients: detail.sharedWithAccount={routed_recipient}, "
            f"requestParameters.SharedWith={shown(shared_with)}",
        )
    recipient = routed_recipient or named
    if own_account is not None and recipient is not None and recipient != own_account:
        raise IgnoredEvent("other_account", f"{event_name} shared with {recipient}, not this account {own_account}")
    return recipient


class SqsMessage(NamedTuple):
    """One SQS record: its message id (None when it has no usable one) and the EventBridge event in its
    body, or why it has none."""

    message_id: str | None
    event: Any
    error: InvalidEvent | None = None


def is_sqs_batch(event: Any) -> bool:
    return isinstance(event, dict) and isinstance(event.get("Records"), list)


def message_id_of(record: Any) -> str | None:
    """An SQS record's message id; None when it has no usable one."""
    message_id = record.get("messageId") if isinstance(record, dict) else None
    return message_id if isinstance(message_id, str) and message_id else None


def parse_sqs_batch(event: dict[str, Any]) -> list[SqsMessage]:
    """The messages of an SQS batch, each with its decoded body or why it has none. A record without a
    message id is one such message (its id None): SQS cannot be told to deliver it again, and the other
    messages are handled all the same."""
    messages = []
    for index, record in enumerate(event["Records"]):
        message_id = message_id_of(record)
        if message_id is None:
            error = InvalidEvent("missing_message_id", f"SQS record {index} has no messageId")
            messages.append(SqsMessage(None, None, error))
            continue
        if record.get("eventSource") != "aws:sqs":
            error = InvalidEvent("not_sqs", f"record {message_id}: eventSource is {record.get('eventSource')!r}")
            messages.append(SqsMessage(message_id, None, error))
            continue
        body = record.get("body")
        try:
            if not isinstance(body, str):
                raise ValueError(f"body is a {type(body).__name__}, not a string")
            if len(body) > MAX_EVENT_BYTES:
                raise ValueError(f"body is {len(body)} bytes, more than {MAX_EVENT_BYTES}")
            messages.append(SqsMessage(message_id, load_json(body, MAX_EVENT_DEPTH)))
        except ValueError as err:
            messages.append(SqsMessage(message_id, None, InvalidEvent("malformed_body", f"record {message_id}: {err}")))
    return messages
