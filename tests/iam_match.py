"""A small evaluator of IAM policy statements, as the IAM User Guide documents them, for testing our SCPs.

It implements only what the guardrail SCPs and the lookup role's trust use, and refuses anything else, so
that an SCP using a new operator fails its tests instead of being evaluated wrongly:

- String operators (IAM User Guide, "Condition operators"): `StringEquals` and `StringLike` are
  case-sensitive, the `IgnoreCase` forms are not. In `StringLike`, `*` matches any run of characters (the
  empty one too) and `?` exactly one character, anywhere in the value.
- ARN operators: `ArnLike` (and `ArnEquals`, which behaves the same) is case-sensitive and matches each of
  the six colon-separated parts of the ARN separately: a wildcard never matches across a `:`, so a value
  with fewer parts never matches. The Resource element is matched the same way (`*` alone matches all).
- A key missing from the request makes a positive operator false and a negated one (`...Not...`) true.
  Several values under one key are ORed; several keys and operators in a Condition are ANDed.
- Action names are matched without regard to case, with `*` and `?` wildcards.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ARN_PARTS = 6


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """`*` is any run of characters, `?` exactly one; everything else literal; the whole value must match."""
    return _compiled(pattern, ignore_case).fullmatch(value) is not None


def arn_like(pattern: str, value: str) -> bool:
    """ArnLike: case-sensitive, each of the six `:`-separated parts matched on its own."""
    pattern_parts = pattern.split(":", ARN_PARTS - 1)
    value_parts = value.split(":", ARN_PARTS - 1)
    if len(pattern_parts) != ARN_PARTS or len(value_parts) != ARN_PARTS:
        return False
    return all(wildcard_match(p, v) for p, v in zip(pattern_parts, value_parts, strict=True))


def _string_equals(pattern: str, value: str) -> bool:
    return pattern == value


def _string_equals_ignore_case(pattern: str, value: str) -> bool:
    return pattern.casefold() == value.casefold()


def _string_like(pattern: str, value: str) -> bool:
    return wildcard_match(pattern, value)


# operator -> (match one policy value against the request value, negated)
OPERATORS = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (_string_equals_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_string_equals_ignore_case, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "ArnEquals": (arn_like, False),
    "ArnLike": (arn_like, False),
    "ArnNotEquals": (arn_like, True),
    "ArnNotLike": (arn_like, True),
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def condition_holds(operator: str, policy_values: Any, request_value: str | None) -> bool:
    if operator not in OPERATORS:
        raise ValueError(f"condition operator {operator!r} is not implemented by this evaluator")
    match, negated = OPERATORS[operator]
    values = _as_list(policy_values)
    if not all(isinstance(v, str) for v in values):
        raise ValueError(f"{operator}: every policy value must be a string, got {values!r}")
    if request_value is None:
        return negated
    hit = any(match(v, request_value) for v in values)
    return not hit if negated else hit


@dataclass(frozen=True)
class Request:
    """One API call: its action, the resource it acts on, and its request context (single-valued keys)."""

    action: str
    resource: str
    principal_arn: str
    context: Mapping[str, str] = field(default_factory=dict)

    def value(self, key: str) -> str | None:
        keys = {"aws:principalarn": self.principal_arn} | {k.lower(): v for k, v in self.context.items()}
        return keys.get(key.lower())  # condition key names are not case-sensitive


def _action_matches(patterns: Any, action: str) -> bool:
    return any(wildcard_match(p, action, ignore_case=True) for p in _as_list(patterns))


def _resource_matches(patterns: Any, resource: str) -> bool:
    return any(p == "*" or arn_like(p, resource) for p in _as_list(patterns))


def statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    """True when the statement's Action, Resource and every condition match the request."""
    unsupported = set(statement) - {"Sid", "Effect", "Action", "Resource", "Condition"}
    if unsupported:
        raise ValueError(f"statement elements {sorted(unsupported)} are not implemented by this evaluator")
    if not _action_matches(statement["Action"], request.action):
        return False
    if not _resource_matches(statement["Resource"], request.resource):
        return False
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, values in keys.items():
            if not condition_holds(operator, values, request.value(key)):
                return False
    return True


def denied(policy: Mapping[str, Any], request: Request) -> bool:
    """True when any Deny statement of the policy applies (SCPs here only deny)."""
    statements = _as_list(policy["Statement"])
    return any(s["Effect"] == "Deny" and statement_applies(s, request) for s in statements)
