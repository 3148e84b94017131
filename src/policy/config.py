"""Parse the allowlist from environment-style variables into a validated ``Policy``.

Every problem is collected and reported at once, each naming the variable and the bad value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from policy.model import PERMISSION_TYPES, RESOURCE_TYPES, NonMatchingAction, Policy

ACCOUNT_ID = re.compile(r"^\d{12}$")
OU_OR_ROOT_ID = re.compile(r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$")

VARIABLES = (
    "ALLOWED_SOURCE_ACCOUNTS",
    "ALLOWED_SOURCE_OUS",
    "DENIED_SOURCE_ACCOUNTS",
    "DENIED_SOURCE_OUS",
    "ALLOWED_RESOURCE_TYPES",
    "ALLOWED_PERMISSION_TYPES",
    "NON_MATCHING_ACTION",
    "DRY_RUN",
)


class ConfigIssue(NamedTuple):
    variable: str
    value: str
    problem: str

    def __str__(self) -> str:
        return f"{self.variable}: {self.value!r} {self.problem}"


class PolicyConfigError(ValueError):
    """The policy configuration is invalid. ``errors`` lists every problem found."""

    def __init__(self, errors: list[ConfigIssue]) -> None:
        self.errors = errors
        super().__init__("invalid policy configuration:\n" + "\n".join(f"  - {e}" for e in errors))


def _items(raw: str) -> list[str]:
    seen: dict[str, None] = {}
    for item in raw.split(","):
        item = item.strip()
        if item:
            seen.setdefault(item, None)
    return list(seen)


def _accounts(env: Mapping[str, str], name: str, issues: list[ConfigIssue]) -> frozenset[str]:
    found = set()
    for item in _items(env.get(name) or ""):
        if ACCOUNT_ID.match(item):
            found.add(item)
        elif item.startswith("arn:"):
            issues.append(ConfigIssue(name, item, "is an ARN; give the 12-digit account id"))
        else:
            issues.append(ConfigIssue(name, item, "is not a 12-digit AWS account id"))
    return frozenset(found)


def _org_ids(env: Mapping[str, str], name: str, issues: list[ConfigIssue]) -> frozenset[str]:
    found = set()
    for item in _items(env.get(name) or ""):
        if OU_OR_ROOT_ID.match(item):
            found.add(item)
        elif item.startswith("arn:"):
            issues.append(ConfigIssue(name, item, "is an ARN; give the OU id (ou-...) or root id (r-...)"))
        else:
            issues.append(ConfigIssue(name, item, "is not an OU id (ou-...) or root id (r-...)"))
    return frozenset(found)


def _choices(
    env: Mapping[str, str], name: str, allowed: tuple[str, ...], default: frozenset[str], issues: list[ConfigIssue]
) -> frozenset[str]:
    items = _items(env.get(name) or "")
    if not items:
        return default
    found = set()
    for item in items:
        if item.upper() in allowed:
            found.add(item.upper())
        else:
            issues.append(ConfigIssue(name, item, f"is not one of {', '.join(allowed)}"))
    return frozenset(found)


def _bool(env: Mapping[str, str], name: str, issues: list[ConfigIssue]) -> bool:
    raw = (env.get(name) or "").strip()
    if not raw or raw.lower() == "false":
        return False
    if raw.lower() == "true":
        return True
    issues.append(ConfigIssue(name, raw, "is not true or false"))
    return False


def load_policy(env: Mapping[str, str]) -> Policy:
    """Build the policy from these variables (unset or empty means the default)."""
    issues: list[ConfigIssue] = []
    raw_action = (env.get("NON_MATCHING_ACTION") or "").strip()
    non_matching = NonMatchingAction.IGNORE
    if raw_action:
        try:
            non_matching = NonMatchingAction(raw_action.upper())
        except ValueError:
            issues.append(ConfigIssue("NON_MATCHING_ACTION", raw_action, "is not IGNORE or REJECT"))
    policy = Policy(
        allowed_accounts=_accounts(env, "ALLOWED_SOURCE_ACCOUNTS", issues),
        allowed_ous=_org_ids(env, "ALLOWED_SOURCE_OUS", issues),
        denied_accounts=_accounts(env, "DENIED_SOURCE_ACCOUNTS", issues),
        denied_ous=_org_ids(env, "DENIED_SOURCE_OUS", issues),
        allowed_resource_types=_choices(
            env, "ALLOWED_RESOURCE_TYPES", RESOURCE_TYPES, frozenset(RESOURCE_TYPES), issues
        ),
        allowed_permission_types=_choices(
            env, "ALLOWED_PERMISSION_TYPES", PERMISSION_TYPES, frozenset({"READONLY"}), issues
        ),
        non_matching_action=non_matching,
        dry_run=_bool(env, "DRY_RUN", issues),
    )
    if issues:
        raise PolicyConfigError(issues)
    return policy


def policy_as_env(policy: Policy) -> dict[str, str]:
    """The variables that load back into this policy (the inverse of ``load_policy``)."""
    return {
        "ALLOWED_SOURCE_ACCOUNTS": ",".join(sorted(policy.allowed_accounts)),
        "ALLOWED_SOURCE_OUS": ",".join(sorted(policy.allowed_ous)),
        "DENIED_SOURCE_ACCOUNTS": ",".join(sorted(policy.denied_accounts)),
        "DENIED_SOURCE_OUS": ",".join(sorted(policy.denied_ous)),
        "ALLOWED_RESOURCE_TYPES": ",".join(sorted(policy.allowed_resource_types)),
        "ALLOWED_PERMISSION_TYPES": ",".join(sorted(policy.allowed_permission_types)),
        "NON_MATCHING_ACTION": policy.non_matching_action.value,
        "DRY_RUN": "true" if policy.dry_run else "false",
    }


def policy_warnings(policy: Policy) -> list[str]:
    """Legal but probably unintended configurations, for tooling to print."""
    warnings = []
    both = sorted(policy.allowed_accounts & policy.denied_accounts)
    if both:
        warnings.append(f"accounts both allowed and denied (deny wins): {', '.join(both)}")
    both_ous = sorted(policy.allowed_ous & policy.denied_ous)
    if both_ous:
        warnings.append(f"OUs both allowed and denied (deny wins): {', '.join(both_ous)}")
    if not policy.allowed_accounts and not policy.allowed_ous:
        warnings.append("no allowed source accounts or OUs: nothing will be accepted")
    return warnings
