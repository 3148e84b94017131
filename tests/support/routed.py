"""A sharer's router's event, as the recipient's default bus receives it: what ``router.routing.route`` makes
of a CloudTrail share event, wrapped the way EventBridge delivers a ``PutEvents`` entry (the caller's
account in ``account``, a fresh ``id``, ``time`` and ``region``)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from router.forwarded import ForwardedShare, default_bus_arn
from router.routing import route


def routed_event(cloudtrail: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    """The event the share's recipient receives for ``cloudtrail`` (a successful share by its ``account``)."""
    share = route(cloudtrail, own_account=cloudtrail["account"], region=cloudtrail["region"])
    assert isinstance(share, ForwardedShare), share
    entry = share.entry(default_bus_arn("aws", share.region, share.recipient))
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": share.sharer,
        "time": cloudtrail["time"],
        "region": share.region,
        "resources": [],
        "detail": json.loads(entry["Detail"]),
    }
