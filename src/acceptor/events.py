"""Parse the functions' events. An event is a hint, never an input to the policy.

From a forwarded ``Create*Share`` CloudTrail event we keep the share id (the recipient's invitation
id) and the resource type named by the event, to know where to look; the event's claims about the
sharer are kept only to be logged next to what the API says.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

MAX_EVENT_BYTES = 256 * 1024  # EventBridge's largest event
SHARE_EVENT_NAMES = {
    "CreateWorkloadShare": "WORKLOAD",
    "CreateLensShare": "LENS",
    "CreateProfileShare": "PROFILE",
    "CreateTemplateShare": "TEMPLATE",
}
_INVITATION_ID = re.compile(r"^[0-9a-f]{32}$")
_ACCOUNT = re.compile(r"^\d{12}$")


class InvalidEvent(ValueError):
    """The event is not one this function handles; ``reason`` is a stable code for logs and metrics."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class ShareHint(NamedTuple):
    invitation_id: str
    resource_type: str
    event_id: str | None
    event_name: str
    claimed_sharer: str | None


def _check_size(event: Any) -> None:
    try:
        size = len(json.dumps(event, default=str))
    except (TypeError, ValueError) as err:
        raise InvalidEvent("unserializable", f"event is not JSON data: {err}") from err
    if size > MAX_EVENT_BYTES:
        raise InvalidEvent("oversized", f"event is {size} bytes, more than {MAX_EVENT_BYTES}")


def parse_sweep_event(event: Any) -> str | None:
    """Accept a scheduled event or an empty on-demand request; return the event id (if any)."""
    if event in (None, {}):
        return None
    if not isinstance(event, dict):
        raise InvalidEvent("not_an_object", f"event is a {type(event).__name__}, not a JSON object")
    _check_size(event)
    source, detail_type = event.get("source"), event.get("detail-type")
    if source == "aws.events" and detail_type == "Scheduled Event":
        event_id = event.get("id")
        return event_id if isinstance(event_id, str) else None
    raise InvalidEvent(
        "unexpected_event",
        f"sweep takes a scheduled event or {{}}, not source={source!r} detail-type={detail_type!r}",
    )


def parse_share_event(event: Any) -> ShareHint:
    """Turn a forwarded Create*Share CloudTrail event into a hint; raise InvalidEvent otherwise."""
    if not isinstance(event, dict):
        raise InvalidEvent("not_an_object", f"event is a {type(event).__name__}, not a JSON object")
    _check_size(event)
    source, detail_type = event.get("source"), event.get("detail-type")
    if source != "aws.wellarchitected":
        raise InvalidEvent("unexpected_source", f"source is {source!r}, expected 'aws.wellarchitected'")
    if detail_type != "AWS API Call via CloudTrail":
        raise InvalidEvent(
            "unexpected_detail_type", f"detail-type is {detail_type!r}, expected 'AWS API Call via CloudTrail'"
        )
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise InvalidEvent("missing_detail", "event has no detail object")
    event_name = detail.get("eventName")
    if event_name not in SHARE_EVENT_NAMES:
        raise InvalidEvent(
            "unexpected_event_name", f"eventName is {event_name!r}, expected one of {sorted(SHARE_EVENT_NAMES)}"
        )
    if detail.get("errorCode"):
        raise InvalidEvent("failed_call", f"{event_name} failed with {detail.get('errorCode')!r}: no share exists")
    response = detail.get("responseElements")
    if not isinstance(response, dict):
        raise InvalidEvent("missing_share_id", f"{event_name} event has no responseElements")
    share_id = response.get("ShareId", response.get("shareId"))
    if not isinstance(share_id, str) or not _INVITATION_ID.match(share_id):
        raise InvalidEvent("missing_share_id", f"responseElements.ShareId is {share_id!r}, not 32 hex characters")
    event_id = event.get("id")
    claimed = event.get("account")
    return ShareHint(
        invitation_id=share_id,
        resource_type=SHARE_EVENT_NAMES[event_name],
        event_id=event_id if isinstance(event_id, str) else None,
        event_name=event_name,
        claimed_sharer=claimed if isinstance(claimed, str) and _ACCOUNT.match(claimed) else None,
    )
