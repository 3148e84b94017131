"""The event a recipient account receives from a sharer's router: its source, detail-type and detail.

EventBridge refuses ``PutEvents`` with a source that starts with ``aws.``, so a forwarded share cannot keep
the CloudTrail event's ``aws.wellarchitected``; it carries its own source and detail-type instead. Its
``detail`` keeps the shape of the CloudTrail record the acceptor already reads (``eventName``,
``requestParameters.SharedWith``, ``responseElements.ShareId``) with only the fields a recipient needs: the
sharer's caller identity, IP address and user agent stay in the sharer account. ``sharedWithAccount`` is
the recipient's account id, also for a share to an IAM user or role, so that a rule can match it.

``responseElements`` is present only when the CloudTrail record carried a well-formed share id (whether
real records do is unconfirmed): without it the event still names the resource type and the sharer.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from acceptor.events import ROUTED_DETAIL_TYPE, ROUTED_SOURCE

# Written once, on the side that reads them (acceptor.events.SHARE_EVENT_KINDS); named here for the router.
SOURCE = ROUTED_SOURCE
DETAIL_TYPE = ROUTED_DETAIL_TYPE
SCHEMA_VERSION = 1
EVENT_SOURCE = "wellarchitected.amazonaws.com"


class ForwardedShare(NamedTuple):
    """What the router learned from one CloudTrail record, all of it validated."""

    event_name: str
    sharer: str  # the 12-digit account that made the share (this router's account)
    recipient: str  # the 12-digit account whose bus receives it
    shared_with: str  # SharedWith as the call gave it: the account id, or an IAM user or role ARN
    region: str
    share_id: str | None = None
    permission_type: str | None = None
    event_id: str | None = None
    event_time: str | None = None

    def detail(self) -> dict[str, Any]:
        request: dict[str, str] = {"SharedWith": self.shared_with}
        if self.permission_type is not None:
            request["PermissionType"] = self.permission_type
        detail: dict[str, Any] = {
            "schemaVersion": SCHEMA_VERSION,
            "eventSource": EVENT_SOURCE,
            "eventName": self.event_name,
            "awsRegion": self.region,
            "sharedBy": self.sharer,
            "sharedWithAccount": self.recipient,
            "requestParameters": request,
        }
        if self.event_id is not None:
            detail["eventID"] = self.event_id
        if self.event_time is not None:
            detail["eventTime"] = self.event_time
        if self.share_id is not None:
            detail["responseElements"] = {"ShareId": self.share_id}
        return detail

    def entry(self, bus_arn: str) -> dict[str, Any]:
        """The PutEvents entry for the recipient's bus."""
        return {
            "Source": SOURCE,
            "DetailType": DETAIL_TYPE,
            "Detail": json.dumps(self.detail(), separators=(",", ":"), sort_keys=True),
            "EventBusName": bus_arn,
        }


def default_bus_arn(partition: str, region: str, account: str) -> str:
    return f"arn:{partition}:events:{region}:{account}:event-bus/default"
