"""The daily digest: invitations left waiting for a person that expire within ``ExpiryWarningDays``,
soonest first, as one SNS message that AWS Chatbot posts to Slack or Teams (its custom-notification
format) and e-mail subscribers read as text (SNS per-protocol message)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fleet.report import Waiting

MAX_LINES = 50  # Chatbot shows a few thousand characters; the rest is counted
SUBJECT_LIMIT = 100


def _line(w: Waiting, now: datetime) -> str:
    hours = max(0, int((w.expires - now).total_seconds() // 3600))
    why = f"rule {w.rule}" if w.rule else (w.reason or "no reason recorded")
    name = w.resource_name or "(unnamed)"
    return (
        f"{w.expires:%Y-%m-%d %H:%M} UTC (in {hours} h): account {w.account} {w.region}, "
        f"{w.resource_type or '?'} {name!r} shared by {w.shared_by or '?'}, left by {why} "
        f"[{w.share_invitation_id}]"
    )


def message(items: list[Waiting], now: datetime, days: int) -> tuple[str, str] | None:
    """(subject, SNS message with per-protocol bodies), or None when nothing expires soon."""
    if not items:
        return None
    accounts = len({(w.account, w.region) for w in items})
    title = f"{len(items)} Well-Architected share invitations expire within {days} days ({accounts} account-regions)"
    lines = [_line(w, now) for w in items[:MAX_LINES]]
    if len(items) > MAX_LINES:
        lines.append(f"... and {len(items) - MAX_LINES} more (make fleet-report)")
    text = "\n".join(lines)
    chatbot = {
        "version": "1.0",
        "source": "custom",
        "content": {"textType": "client-markdown", "title": title, "description": "\n".join(f"- {x}" for x in lines)},
    }
    body = {"default": json.dumps(chatbot), "email": f"{title}\n\n{text}\n"}
    return title[:SUBJECT_LIMIT], json.dumps(body)


def publish(sns: Any, topic_arn: str, items: list[Waiting], now: datetime, days: int) -> bool:
    built = message(items, now, days)
    if built is None:
        return False
    subject, body = built
    sns.publish(TopicArn=topic_arn, Subject=subject, Message=body, MessageStructure="json")
    return True
