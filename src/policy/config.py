"""Parse the allowlist from environment-style variables into a validated ``Policy``.

Every problem is collected and reported at once, each naming the variable and the bad value.
Values are parsed as hostile input: ASCII character classes matched against the whole value, words
compared only after checking they are ASCII (``"pro\\ufb01le".upper() == "PROFILE"``), and a list that holds
only separators is an error rather than the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from policy.identifiers import ACCOUNT_ID, OU_OR_ROOT_ID
from policy.model import PERMISSION_TYPES, RESOURCE_TYPES, NonMatchingAction, Policy, SimpleForm, compile_simple

# What str.strip() would remove, without the Unicode spaces (a no-break space is part of a bad value).
ASCII_SPACE = " \t\n\r\x0b\x0c"

# The eight variables and the field of the simple form each one sets: the one table of them.
VARIABLE_FIELDS: dict[str, str] = {
    "ALLOWED_SOURCE_ACCOUNTS": "allowed_accounts",
    "ALLOWED_SOURCE_OUS": "allowed_ous",
    "DENIED_SOURCE_ACCOUNTS": "denied_accounts",
    "DENIED_SOURCE_OUS": "denied_ous",
    "ALLOWED_RESOURCE_TYPES": "allowed_resource_types",
    "ALLOWED_PERMISSION_TYPES": "allowed_permission_types",
    "NON_MATCHING_ACTION": "non_matching_action",
    "DRY_RUN": "dry_run",
}
VARIABLES = tuple(VARIABLE_FIELDS)


class ConfigIssue(NamedTuple):
    variable: str
    value: str
    problem: str

    def __str__(self) -> str:
        return f"{self.variable}: {self.value!r} {self.problem}{non_ascii_note(self.value)}"


def non_ascii_note(value: str) -> str:
    """Names the non-ASCII characters of a refused value, which a reader may not see: "; it holds non-ASCII U+0131"."""
    if value.isascii():
        return ""
    odd = sorted({c for c in value if not c.isascii()})
    shown = ", ".join(f"U+{ord(c):04X}" for c in odd[:5]) + (", ..." if len(odd) > 5 else "")
    return f"; it holds non-ASCII {shown}"


class PolicyConfigError(ValueError):
    """The policy configuration is invalid. ``errors`` lists every problem found."""

    def __init__(self, errors: list[ConfigIssue]) -> None:
        self.errors = errors
        super().__init__("invalid policy configuration:\n" + "\n".join(f"  - {e}" for e in errors))


def _raw(env: Mapping[str, str], name: str) -> str:
    return (env.get(name) or "").strip(ASCII_SPACE)


def _items(env: Mapping[str, str], name: str, issues: list[ConfigIssue]) -> list[str]:
    """The trimmed, deduplicated items of a comma-separated variable; [] when it is unset or blank.

    A value made only of separators (``",,"``, ``" , "``) is reported: it looks like an attempt at a
    list, and taking it as "unset" would silently give the default (for types: every type).
    """
    raw = _raw(env, name)
    seen: dict[str, None] = {}
    for item in raw.split(","):
        item = item.strip(ASCII_SPACE)
        if item:
            seen.setdefault(item, None)
    if raw and not seen:
        issues.append(
            ConfigIssue(name, env.get(name) or "", "holds only separators; leave it empty to use the default")
        )
    return list(seen)


def _word(raw: str, allowed: tuple[str, ...]) -> str | None:
    """``raw`` as one of ``allowed`` (upper case), ignoring ASCII case only; None when it is not one."""
    if not raw.isascii():  # "contr\u0131butor".upper() == "CONTRIBUTOR" (dotless i)
        return None
    word = raw.upper()
    return word if word in allowed else None


def _accounts(env: Mapping[str, str], name: str, issues: list[ConfigIssue]) -> frozenset[str]:
    found = set()
    for item in _items(env, name, issues):
        if ACCOUNT_ID.fullmatch(item):
            found.add(item)
        elif item.startswith("arn:"):
            issues.append(ConfigIssue(name, item, "is an ARN; give the 12-digit account id"))
        else:
            issues.append(ConfigIssue(name, item, "is not a 12-digit AWS account id"))
    return frozenset(found)


def _org_ids(env: Mapping[str, str], name: str, issues: list[ConfigIssue]) -> frozenset[str]:
    found = set()
    for item in _items(env, name, issues):
        if OU_OR_ROOT_ID.fullmatch(item):
            found.add(item)
        elif item.startswith("arn:"):
            issues.append(ConfigIssue(name, item, "is an ARN; give the OU id (ou-...) or root id (r-...)"))
        else:
            issues.append(ConfigIssue(name, item, "is not an OU id (ou-...) or root id (r-...)"))
    return frozenset(found)


def _choices(
    env: Mapping[str, str], name: str, allowed: tuple[str, ...], default: frozenset[str], issues: list[ConfigIssue]
) -> frozenset[str]:
    items = _items(env, name, issues)
    if not items:
        return default  # unset or blank; a separator-only value was reported by _items
    found = set()
    for item in items:
        word = _word(item, allowed)
        if word is not None:
            found.add(word)
        else:
            issues.append(ConfigIssue(name, item, f"is not one of {', '.join(allowed)}"))
    return frozenset(found)


def _bool(env: Mapping[str, str], name: str, issues: list[ConfigIssue]) -> bool:
    raw = _raw(env, name)
    if not raw:
        return False
    word = _word(raw, ("TRUE", "FALSE"))
    if word is None:
        issues.append(ConfigIssue(name, raw, "is not true or false"))
        return False
    return word == "TRUE"


def load_policy(env: Mapping[str, str]) -> Policy:
    """Build the policy from these variables (unset or empty means the default), compiled into rules."""
    return compile_simple(load_simple_form(env))


def load_simple_form(env: Mapping[str, str]) -> SimpleForm:
    """The eight variables, validated (unset or empty means the default)."""
    issues: list[ConfigIssue] = []
    raw_action = _raw(env, "NON_MATCHING_ACTION")
    non_matching = NonMatchingAction.IGNORE
    if raw_action:
        word = _word(raw_action, tuple(NonMatchingAction))
        if word is None:
            issues.append(ConfigIssue("NON_MATCHING_ACTION", raw_action, "is not IGNORE or REJECT"))
        else:
            non_matching = NonMatchingAction(word)
    parsed: dict[str, Any] = {
        "ALLOWED_SOURCE_ACCOUNTS": _accounts(env, "ALLOWED_SOURCE_ACCOUNTS", issues),
        "ALLOWED_SOURCE_OUS": _org_ids(env, "ALLOWED_SOURCE_OUS", issues),
        "DENIED_SOURCE_ACCOUNTS": _accounts(env, "DENIED_SOURCE_ACCOUNTS", issues),
        "DENIED_SOURCE_OUS": _org_ids(env, "DENIED_SOURCE_OUS", issues),
        "ALLOWED_RESOURCE_TYPES": _choices(
            env, "ALLOWED_RESOURCE_TYPES", RESOURCE_TYPES, frozenset(RESOURCE_TYPES), issues
        ),
        "ALLOWED_PERMISSION_TYPES": _choices(
            env, "ALLOWED_PERMISSION_TYPES", PERMISSION_TYPES, frozenset({"READONLY"}), issues
        ),
        "NON_MATCHING_ACTION": non_matching,
        "DRY_RUN": _bool(env, "DRY_RUN", issues),
    }
    form = SimpleForm(**{VARIABLE_FIELDS[name]: value for name, value in parsed.items()})
    if issues:
        raise PolicyConfigError(issues)
    return form


def policy_as_env(policy: Policy | SimpleForm) -> dict[str, str]:
    """The variables that load back into this policy (the inverse of ``load_policy``)."""
    if isinstance(policy, Policy):
        if policy.simple is None:
            raise ValueError("a policy document has no environment-variable form")
        policy = policy.simple
    return {name: _as_variable(getattr(policy, field)) for name, field in VARIABLE_FIELDS.items()}


def _as_variable(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, NonMatchingAction):
        return value.value
    assert isinstance(value, frozenset)
    return ",".join(sorted(value))


def policy_warnings(policy: Policy) -> list[str]:
    """Legal but probably unintended configurations, for tooling to print."""
    warnings = []
    rules = policy.rules
    rejects = [r for r in rules if r.action.value == "REJECT"]
    accepts = [r for r in rules if r.action.value == "ACCEPT"]
    both = sorted({a for r in accepts for a in r.accounts} & {a for r in rejects for a in r.accounts})
    if both:
        warnings.append(f"accounts both allowed and denied (deny wins): {', '.join(both)}")
    both_ous = sorted({o for r in accepts for o in r.ous} & {o for r in rejects for o in r.ous})
    if both_ous:
        warnings.append(f"OUs both allowed and denied (deny wins): {', '.join(both_ous)}")
    if not any(r.accounts or r.ous for r in accepts):
        warnings.append("no allowed source accounts or OUs: nothing will be accepted")
    return warnings
