"""Runtime settings, parsed once from the environment into a typed model.

Policy variables are parsed by ``policy.config``; this module adds the operational ones and reports
every problem at once, each naming the variable and the bad value. Like the policy, every value is
matched whole against ASCII classes: numbers are plain decimals (no fullwidth or other non-ASCII digits,
``"1_000"``, ``"1e3"``, ``"nan"`` or ``"inf"``, all of which Python's ``int``/``float`` accept).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from policy import Policy, PolicyConfigError, load_policy
from policy.config import ASCII_SPACE, VARIABLE_FIELDS, non_ascii_note
from policy.identifiers import IAM_ROLE_ARN_PATTERN, MAX_ARN_LENGTH, PARTITION
from policy.model import SimpleForm

# All matched with fullmatch. Pattern strings, compiled by re (and cached) the first time a variable is
# set: most are left empty, and compiling them all at import would cost every cold start about a
# millisecond and a half.
_PARTITION = PARTITION
_ROLE_ARN = IAM_ROLE_ARN_PATTERN
_TOPIC_ARN = rf"arn:{_PARTITION}:sns:[a-z]{{2}}(?:-[a-z]+)+-[0-9]{{1,2}}:[0-9]{{12}}:[A-Za-z0-9_-]{{1,256}}"
# An SSM parameter by name (this account and region) or by ARN (one shared through AWS RAM).
_PARAMETER_NAME = r"/?(?:[A-Za-z0-9_.-]{1,1011}/){0,14}[A-Za-z0-9_.-]{1,1011}"
_REGION = r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}"
_PARAMETER = rf"{_PARAMETER_NAME}|arn:{_PARTITION}:ssm:{_REGION}:[0-9]{{12}}:parameter/{_PARAMETER_NAME}"
# A file shipped with the function's code, relative to it: no absolute path, no "..".
_POLICY_FILE = r"(?:[A-Za-z0-9_.-]{1,128}/){0,8}[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}"
# Where a policy document may come from: at most one is set.
_DOCUMENT_SOURCES = ("POLICY_PARAMETER", "POLICY_FILE", "POLICY_S3_URI")
# The variables a policy document replaces; they must be left at their defaults when one is set.
_DOCUMENT_REPLACES = {name: field for name, field in VARIABLE_FIELDS.items() if name != "DRY_RUN"}
# An event bus by name (this account and region) or by ARN. "default" is the account's default bus.
_EVENT_BUS_NAME = r"[A-Za-z0-9._/-]{1,256}"
_EVENT_BUS = rf"{_EVENT_BUS_NAME}|arn:{_PARTITION}:events:{_REGION}:[0-9]{{12}}:event-bus/{_EVENT_BUS_NAME}"
DEFAULT_EVENT_BUS = "default"
# A DynamoDB table name (the sweep's lease; set by the template).
_TABLE_NAME = r"[A-Za-z0-9_.-]{3,255}"
_INTEGER = r"-?[0-9]{1,15}"
_DECIMAL = r"-?[0-9]{1,15}(?:\.[0-9]{1,15})?"


class ConfigurationError(ValueError):
    """The function's configuration is invalid; nothing may be decided until it is fixed."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


class Settings(NamedTuple):
    policy: Policy
    organizations_role_arn: str | None = None
    org_cache_ttl_seconds: float = 900.0
    max_workers: int = 32  # SweepConcurrency: the most requests in flight (docs/performance.md)
    safety_margin_seconds: float = 10.0
    hint_lookup_attempts: int = 2
    notification_topic_arn: str | None = None
    policy_parameter: str | None = None  # the policy document is this SSM parameter (name or ARN)
    policy_file: str | None = None  # the policy document is this file, relative to the function's code
    policy_cache_seconds: float = 300.0
    policy_s3_uri: str | None = None  # the policy document is this S3 object (s3://bucket/key[?versionId=...])
    policy_s3_region: str | None = None  # the bucket's region, when not the function's own
    decision_event_bus: str | None = None  # decision and run events go to this bus; None: no events
    sweep_lock_table: str | None = None  # the lease that keeps one sweep at a time; continuation needs it
    max_chain_runs: int = 12  # runs one chain of continuations may take (Lambda stops a chain after 16)


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
    raw = env.get(name, "").strip(ASCII_SPACE)
    if not raw:
        return default
    if not re.fullmatch(_INTEGER if integer else _DECIMAL, raw):
        kind = (
            "a whole number (ASCII digits 0-9)" if integer else "a number (ASCII digits 0-9, an optional decimal point)"
        )
        problems.append(f"{name}: {raw!r} is not {kind}{non_ascii_note(raw)}")
        return default
    value = int(raw) if integer else float(raw)
    if not low <= value <= high:
        problems.append(f"{name}: {raw!r} is outside {low:g}..{high:g}")
        return default
    return value


def _arn(env: Mapping[str, str], name: str, pattern: str, kind: str, problems: list[str]) -> str | None:
    raw = env.get(name, "").strip(ASCII_SPACE)
    if not raw:
        return None
    if len(raw) > MAX_ARN_LENGTH or not re.fullmatch(pattern, raw):
        problems.append(f"{name}: {raw!r} is not {kind}{non_ascii_note(raw)}")
        return None
    return raw


def load_settings(env: Mapping[str, str]) -> Settings:
    """Parse every setting; raise ConfigurationError listing every problem."""
    problems: list[str] = []
    policy: Policy | None = None
    try:
        policy = load_policy(env)
    except PolicyConfigError as err:
        problems.extend(str(issue) for issue in err.errors)

    role_arn = _arn(env, "ORGANIZATIONS_ROLE_ARN", _ROLE_ARN, "an IAM role ARN", problems)
    topic_arn = _arn(env, "NOTIFICATION_TOPIC_ARN", _TOPIC_ARN, "an SNS topic ARN", problems)

    ttl = _number(env, "ORG_CACHE_TTL_SECONDS", 900.0, 0, 86_400, problems)
    workers = _number(env, "MAX_WORKERS", 32, 1, 64, problems, integer=True)
    margin = _number(env, "SAFETY_MARGIN_SECONDS", 10.0, 0, 600, problems)
    attempts = _number(env, "HINT_LOOKUP_ATTEMPTS", 2, 1, 10, problems, integer=True)

    parameter = _arn(env, "POLICY_PARAMETER", _PARAMETER, "an SSM parameter name or ARN", problems)
    policy_file = _arn(env, "POLICY_FILE", _POLICY_FILE, "a file path relative to the function's code", problems)
    if policy_file is not None and ".." in policy_file.split("/"):
        problems.append(f"POLICY_FILE: {policy_file!r} leaves the function's code")
    s3_uri = _s3_uri(env, problems)
    s3_region = _arn(env, "POLICY_S3_REGION", _REGION, "an AWS region name", problems)
    if s3_region and not env.get("POLICY_S3_URI", "").strip(ASCII_SPACE):
        problems.append(f"POLICY_S3_REGION: {s3_region!r} set, but POLICY_S3_URI is empty: it is the bucket's region")
    cache = _number(env, "POLICY_CACHE_SECONDS", 300.0, 0, 3600, problems)
    # Unset: the default bus. Set but empty: no decision events.
    bus = (
        _arn(env, "DECISION_EVENT_BUS", _EVENT_BUS, "an event bus name or ARN", problems)
        if "DECISION_EVENT_BUS" in env
        else DEFAULT_EVENT_BUS
    )
    lock_table = _arn(env, "SWEEP_LOCK_TABLE", _TABLE_NAME, "a DynamoDB table name", problems)
    chain_runs = _number(env, "MAX_CHAIN_RUNS", 12, 1, 15, problems, integer=True)
    sources = [n for n in _DOCUMENT_SOURCES if env.get(n, "").strip(ASCII_SPACE)]
    if len(sources) > 1:
        problems.append(
            f"{' and '.join(sources)} are {'both' if len(sources) == 2 else 'all'} set: "
            "the policy document comes from one place"
        )
    if sources and policy is not None and policy.simple is not None:
        problems.extend(_replaced_by_document(policy.simple, sources[0]))

    # Read from the raw environment so that this is reported even when the policy itself failed to parse.
    names = [n for n in ("ALLOWED_SOURCE_OUS", "DENIED_SOURCE_OUS") if env.get(n, "").strip(ASCII_SPACE + ",")]
    if names and not env.get("ORGANIZATIONS_ROLE_ARN", "").strip(ASCII_SPACE):
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
        policy_parameter=parameter,
        policy_file=policy_file,
        policy_cache_seconds=cache,
        policy_s3_uri=s3_uri,
        policy_s3_region=s3_region,
        decision_event_bus=bus,
        sweep_lock_table=lock_table,
        max_chain_runs=int(chain_runs),
    )


def _s3_uri(env: Mapping[str, str], problems: list[str]) -> str | None:
    raw = env.get("POLICY_S3_URI", "").strip(ASCII_SPACE)
    if not raw:
        return None
    from acceptor.s3_uri import parse_s3_uri

    try:
        return parse_s3_uri(raw).uri
    except ValueError as err:
        problems.append(f"POLICY_S3_URI: {err}")
        return None


def _replaced_by_document(form: SimpleForm, source: str) -> list[str]:
    """A variable the document replaces, set to anything but its default, is a contradiction to report."""
    default = SimpleForm()
    return [
        f"{name}: set, but {source} names a policy document, which replaces it (leave it empty; "
        "write the rule in the document)"
        for name, field in _DOCUMENT_REPLACES.items()
        if getattr(form, field) != getattr(default, field)
    ]
