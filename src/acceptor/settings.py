"""Runtime settings, parsed once from the environment into a typed model.

Policy variables are parsed by ``policy.config``; this module adds the operational ones and reports
every problem at once, each naming the variable and the bad value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from policy import Policy, PolicyConfigError, load_policy

_ROLE_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_TOPIC_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$")


class ConfigurationError(ValueError):
    """The function's configuration is invalid; nothing may be decided until it is fixed."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


class Settings(NamedTuple):
    policy: Policy
    organizations_role_arn: str | None = None
    org_cache_ttl_seconds: float = 900.0
    max_workers: int = 4
    safety_margin_seconds: float = 10.0
    hint_lookup_attempts: int = 2
    notification_topic_arn: str | None = None


def _number(
    env: Mapping[str, str],
    name: str,
    default: float,
    low: float,
    high: float,
    problems: list[str],
    *,
    integer: bool = False,
) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        problems.append(f"{name}: {raw!r} is not {kind}")
        return default
    if not low <= value <= high:
        problems.append(f"{name}: {raw!r} is outside {low:g}..{high:g}")
        return default
    return value


def load_settings(env: Mapping[str, str]) -> Settings:
    """Parse every setting; raise ConfigurationError listing every problem."""
    problems: list[str] = []
    policy: Policy | None = None
    try:
        policy = load_policy(env)
    except PolicyConfigError as err:
        problems.extend(str(issue) for issue in err.errors)

    role_arn = env.get("ORGANIZATIONS_ROLE_ARN", "").strip() or None
    if role_arn and not _ROLE_ARN.match(role_arn):
        problems.append(f"ORGANIZATIONS_ROLE_ARN: {role_arn!r} is not an IAM role ARN")
    topic_arn = env.get("NOTIFICATION_TOPIC_ARN", "").strip() or None
    if topic_arn and not _TOPIC_ARN.match(topic_arn):
        problems.append(f"NOTIFICATION_TOPIC_ARN: {topic_arn!r} is not an SNS topic ARN")

    ttl = _number(env, "ORG_CACHE_TTL_SECONDS", 900.0, 0, 86_400, problems)
    workers = _number(env, "MAX_WORKERS", 4, 1, 64, problems, integer=True)
    margin = _number(env, "SAFETY_MARGIN_SECONDS", 10.0, 0, 600, problems)
    attempts = _number(env, "HINT_LOOKUP_ATTEMPTS", 2, 1, 10, problems, integer=True)

    # Read from the raw environment so that this is reported even when the policy itself failed to parse.
    names = [n for n in ("ALLOWED_SOURCE_OUS", "DENIED_SOURCE_OUS") if env.get(n, "").strip(" ,")]
    if names and not role_arn:
        problems.append(
            f"{' and '.join(names)} set but ORGANIZATIONS_ROLE_ARN is empty: OU rules need the "
            "read-only Organizations role (templates/org-lookup-role.yaml)"
        )
    if problems or policy is None:
        raise ConfigurationError(problems)
    return Settings(
        policy=policy,
        organizations_role_arn=role_arn,
        org_cache_ttl_seconds=ttl,
        max_workers=int(workers),
        safety_margin_seconds=margin,
        hint_lookup_attempts=int(attempts),
        notification_topic_arn=topic_arn,
    )
