"""Reading CloudFormation templates and EventBridge patterns in tests."""

from __future__ import annotations

import json
from typing import Any

from moto.events.models import EventPattern

# (path, value) pairs that turn a CloudTrail share event into some other call: a share rule must not match.
OTHER_CALLS = [
    (("detail", "eventName"), "DeleteWorkloadShare"),
    (("detail", "eventName"), "UpdateShareInvitation"),
    (("detail", "eventSource"), "organizations.amazonaws.com"),
    (("source",), "aws.organizations"),
    (("detail-type",), "AWS Service Event via CloudTrail"),
]


def as_list(value: Any) -> list[Any]:
    """An IAM or pattern field that may be one value or a list, as a list."""
    return value if isinstance(value, list) else [value]


def statements(node: Any) -> list[dict[str, Any]]:
    """Every policy statement, including both branches of Fn::If."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "Effect" in node and "Action" in node:
            found.append(node)
        for value in node.values():
            found.extend(statements(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(statements(value))
    return found


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge matching by moto's matcher (it implements `$or` and `exists`; see test_template_queue.py)."""
    return bool(EventPattern.load(json.dumps(pattern)).matches_event(event))
