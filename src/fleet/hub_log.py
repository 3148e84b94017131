"""Read the hub's log group: every event the hub bus received, as EventBridge wrote it (one JSON event per
log line). Only ``FilterLogEvents``, with the caller's credentials: read-only.

Every line is hostile input: size-bounded, duplicate keys refused, each field type-checked. A line that
is not a decision or run event of ours is skipped and counted, never raised.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple

SOURCE = "wa-share-acceptor"
DECIDED = "Share Invitation Decided"
RUN_FINISHED = "Share Acceptor Run Finished"
# Server-side filter: only our events (CloudWatch Logs JSON filter syntax); re-checked on every line.
FILTER_PATTERN = '{ $.source = "wa-share-acceptor" }'
MAX_LINE = 256 * 1024 + 4096  # an event is at most 256 KB plus EventBridge's envelope
_ACCOUNT = re.compile(r"[0-9]{12}")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}")
_ID = re.compile(r"[0-9a-f]{32}")


class Decision(NamedTuple):
    time: datetime
    account: str
    region: str
    share_invitation_id: str
    result: str
    shared_by: str | None
    resource_type: str | None
    resource_name: str | None
    reason: str | None
    rule: str | None  # the rule's id, else its index
    error_code: str | None


class Run(NamedTuple):
    time: datetime
    account: str
    region: str
    function: str
    status: str
    complete: bool


class Events(NamedTuple):
    decisions: list[Decision]
    runs: list[Run]
    skipped: int  # lines that were not well-formed events of ours


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _text(detail: dict[str, Any], key: str, limit: int = 1024) -> str | None:
    value = detail.get(key)
    return value[:limit] if isinstance(value, str) else None


def _rule(detail: dict[str, Any]) -> str | None:
    rule_id, index = detail.get("rule_id"), detail.get("rule")
    if isinstance(rule_id, str):
        return rule_id[:256]
    return f"#{index}" if isinstance(index, int) and not isinstance(index, bool) else None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{8,15}Z", value):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_line(message: str) -> Decision | Run | None:
    """One log line as a decision or run event; None for anything else."""
    if len(message) > MAX_LINE:
        return None
    try:
        event = json.loads(message, object_pairs_hook=_no_duplicates)
    except ValueError:
        return None
    if not isinstance(event, dict) or event.get("source") != SOURCE:
        return None
    detail, when = event.get("detail"), _time(event.get("time"))
    if not isinstance(detail, dict) or when is None:
        return None
    # The member's own account and region travel in the detail: the envelope's are the forwarder's.
    account, region = detail.get("account"), detail.get("region")
    if not (isinstance(account, str) and _ACCOUNT.fullmatch(account)):
        return None
    if not (isinstance(region, str) and _REGION.fullmatch(region)):
        return None
    kind = event.get("detail-type")
    if kind == DECIDED:
        inv, result = detail.get("share_invitation_id"), detail.get("result")
        if not (isinstance(inv, str) and _ID.fullmatch(inv)) or not isinstance(result, str):
            return None
        return Decision(
            when,
            account,
            region,
            inv,
            result[:64],
            _text(detail, "shared_by", 64),
            _text(detail, "resource_type", 64),
            _text(detail, "resource_name"),
            _text(detail, "reason", 128),
            _rule(detail),
            _text(detail, "error_code", 256),
        )
    if kind == RUN_FINISHED:
        function, status, complete = detail.get("function"), detail.get("status"), detail.get("complete")
        if not isinstance(function, str) or not isinstance(status, str) or not isinstance(complete, bool):
            return None
        return Run(when, account, region, function[:64], status[:64], complete)
    return None


def read(logs: Any, log_group: str, start: datetime, end: datetime | None = None) -> Events:
    """Every decision and run event the hub logged between ``start`` and ``end`` (now)."""
    decisions: list[Decision] = []
    runs: list[Run] = []
    skipped = 0
    for message in _messages(logs, log_group, start, end or datetime.now(UTC)):
        parsed = parse_line(message)
        if isinstance(parsed, Decision):
            decisions.append(parsed)
        elif isinstance(parsed, Run):
            runs.append(parsed)
        else:
            skipped += 1
    decisions.sort(key=lambda d: d.time)
    runs.sort(key=lambda r: r.time)
    return Events(decisions, runs, skipped)


def _messages(logs: Any, log_group: str, start: datetime, end: datetime) -> Iterator[str]:
    kwargs: dict[str, Any] = {
        "logGroupName": log_group,
        "startTime": int(start.timestamp() * 1000),
        "endTime": int(end.timestamp() * 1000),
        "filterPattern": FILTER_PATTERN,
    }
    seen_tokens: set[str] = set()
    while True:
        page = logs.filter_log_events(**kwargs)
        for item in page.get("events") or []:
            message = item.get("message") if isinstance(item, dict) else None
            if isinstance(message, str):
                yield message
        token = page.get("nextToken")
        if not isinstance(token, str) or token in seen_tokens:
            return
        seen_tokens.add(token)
        kwargs["nextToken"] = token
