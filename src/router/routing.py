"""Read a ``Create*Share`` CloudTrail event from this account's default bus as hostile input, and say where
it goes: a ``ForwardedShare`` for one recipient account, or why it goes nowhere.

Nothing here calls AWS. The identifier rules (account id, IAM user or role ARN, organization or OU id,
share id, event names) are the acceptor's, imported from where they are written; none is spelt again.
"""

from __future__ import annotations

from collections.abc import Set
from enum import StrEnum
from typing import Any, NamedTuple

from acceptor.events import (  # the recipient side's rules
    CLOUDTRAIL_DETAIL_TYPE,
    CLOUDTRAIL_SOURCE,
    SHARE_EVENT_NAMES,
    InvalidEvent,
    check_size,
)
from policy.identifiers import ORGANIZATION_ID, OU_ID, is_account_id, is_invitation_id, principal_account
from policy.model import PERMISSION_TYPES, shown
from router.forwarded import ForwardedShare

MAX_PRINCIPAL_LENGTH = 2048
MAX_LABEL_LENGTH = 128  # eventID and eventTime: copied to the recipient only when short printable ASCII


class NotRoutedReason(StrEnum):
    FAILED_CALL = "failed_call"  # errorCode: the call made no share
    ORGANIZATION_SHARE = "organization_share"  # an organization or OU: no invitation is sent
    OWN_ACCOUNT = "own_account"  # shared with this account: its own acceptor sees the event already
    OTHER_SHARER = "other_sharer"  # an event of another account that reached this bus: not ours to route
    OTHER_REGION = "other_region"  # Well-Architected is regional; this router serves its own region
    NOT_LISTED = "not_listed"  # RECIPIENT_ACCOUNTS is set and does not hold the recipient


class NotRouted(NamedTuple):
    reason: NotRoutedReason
    detail: str
    recipient: str | None = None


def route(
    event: Any,
    *,
    own_account: str,
    region: str,
    allowed_recipients: Set[str] | None = None,
) -> ForwardedShare | NotRouted:
    """Where this share event goes. Raises InvalidEvent (with a stable ``reason``) for what is not a
    well-formed ``Create*Share`` CloudTrail event or names no recipient the router can read."""
    if not isinstance(event, dict):
        raise InvalidEvent("not_an_object", f"event is a {type(event).__name__}, not a JSON object")
    try:
        check_size(event)
    except RecursionError as err:  # json.dumps gives up on deep nesting: such an event is no share event
        raise InvalidEvent("too_deep", "event is nested too deeply to be a CloudTrail record") from err
    source, detail_type = event.get("source"), event.get("detail-type")
    if source != CLOUDTRAIL_SOURCE:
        raise InvalidEvent("unexpected_source", f"source is {shown(source)}, expected {CLOUDTRAIL_SOURCE!r}")
    if detail_type != CLOUDTRAIL_DETAIL_TYPE:
        raise InvalidEvent(
            "unexpected_detail_type", f"detail-type is {shown(detail_type)}, expected {CLOUDTRAIL_DETAIL_TYPE!r}"
        )
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise InvalidEvent("missing_detail", "event has no detail object")
    event_name = detail.get("eventName")
    if not isinstance(event_name, str) or event_name not in SHARE_EVENT_NAMES:
        raise InvalidEvent(
            "unexpected_event_name", f"eventName is {shown(event_name)}, expected one of {sorted(SHARE_EVENT_NAMES)}"
        )
    sharer = event.get("account")
    if not is_account_id(sharer):
        raise InvalidEvent("bad_account", f"account is {shown(sharer)}, not a 12-digit account id")
    if detail.get("errorCode") is not None:
        return NotRouted(NotRoutedReason.FAILED_CALL, f"{event_name} failed with {shown(detail.get('errorCode'))}")
    if sharer != own_account:
        return NotRouted(NotRoutedReason.OTHER_SHARER, f"{event_name} was made by {sharer}, not by {own_account}")
    event_region = event.get("region")
    if event_region != region:
        return NotRouted(NotRoutedReason.OTHER_REGION, f"{event_name} in {shown(event_region)}, not in {region}")

    shared_with, recipient = _recipient(detail.get("requestParameters"), event_name)
    if recipient is None:
        return NotRouted(NotRoutedReason.ORGANIZATION_SHARE, f"{event_name} shared with {shared_with}")
    if recipient == own_account:
        return NotRouted(NotRoutedReason.OWN_ACCOUNT, f"{event_name} shared with this account", recipient)
    if allowed_recipients is not None and recipient not in allowed_recipients:
        return NotRouted(
            NotRoutedReason.NOT_LISTED, f"{event_name} shared with {recipient}, not in RECIPIENT_ACCOUNTS", recipient
        )
    request = detail["requestParameters"]
    permission = request.get("PermissionType", request.get("permissionType"))
    return ForwardedShare(
        event_name=event_name,
        sharer=sharer,
        recipient=recipient,
        shared_with=shared_with,
        region=region,
        share_id=_share_id(detail.get("responseElements")),
        permission_type=permission if isinstance(permission, str) and permission in PERMISSION_TYPES else None,
        event_id=_label(detail.get("eventID")),
        event_time=_label(detail.get("eventTime")),
    )


def _recipient(request: Any, event_name: str) -> tuple[str, str | None]:
    """(SharedWith, the recipient's account id); the account is None for an organization or OU."""
    if not isinstance(request, dict):
        raise InvalidEvent("missing_recipient", f"{event_name} event has no requestParameters object")
    shared_with = request.get("SharedWith", request.get("sharedWith"))
    if not isinstance(shared_with, str):
        raise InvalidEvent("missing_recipient", f"requestParameters.SharedWith is {shown(shared_with)}")
    if len(shared_with) <= MAX_PRINCIPAL_LENGTH:
        if is_account_id(shared_with):
            return shared_with, shared_with
        principal = principal_account(shared_with)
        if principal is not None:
            return shared_with, principal
        if ORGANIZATION_ID.fullmatch(shared_with) or OU_ID.fullmatch(shared_with):
            return shared_with, None
    raise InvalidEvent(
        "bad_recipient",
        f"SharedWith {shown(shared_with)} is not an account id, an IAM user or role ARN, an organization or an OU",
    )


def _share_id(response: Any) -> str | None:
    if not isinstance(response, dict):
        return None
    share_id = response.get("ShareId", response.get("shareId"))
    return share_id if is_invitation_id(share_id) else None


def _label(value: Any) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= MAX_LABEL_LENGTH and value.isascii() and value.isprintable():
        return value
    return None
