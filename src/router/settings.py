"""The router's settings, parsed once from the environment; every problem is reported at once, each
naming the variable and its bad value."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from acceptor.settings import _PARTITION, _REGION, ConfigurationError, _number
from policy.config import ASCII_SPACE, ConfigIssue, _accounts, non_ascii_note
from policy.identifiers import ACCOUNT_ID

# https://sqs.<region>.amazonaws.com/<account>/<name> (also amazonaws.com.cn and the like)
_QUEUE_URL = re.compile(r"https://sqs\.[a-z0-9.-]{1,100}/[0-9]{12}/[A-Za-z0-9_-]{1,80}")


class RouterSettings(NamedTuple):
    own_account: str  # the sharer account this router serves
    region: str
    partition: str
    dead_letter_queue_url: str
    # None: any account (the role's aws:ResourceOrgID condition keeps deliveries inside the organization)
    recipient_accounts: frozenset[str] | None = None
    safety_margin_seconds: float = 5.0


def load_router_settings(env: Mapping[str, str]) -> RouterSettings:
    """Parse SHARER_ACCOUNT_ID, AWS_REGION, PARTITION, DEAD_LETTER_QUEUE_URL, RECIPIENT_ACCOUNTS and
    SAFETY_MARGIN_SECONDS; raise ConfigurationError listing every problem."""
    problems: list[str] = []

    def value(name: str, pattern: re.Pattern[str], kind: str, default: str | None = None) -> str:
        raw = (env.get(name) or "").strip(ASCII_SPACE)
        if not raw and default is not None:
            return default
        if not pattern.fullmatch(raw):
            problems.append(f"{name}: {raw!r} is not {kind}{non_ascii_note(raw)}")
        return raw

    account = value("SHARER_ACCOUNT_ID", ACCOUNT_ID, "a 12-digit AWS account id")
    region = value("AWS_REGION", re.compile(_REGION), "an AWS region name")
    partition = value("PARTITION", re.compile(_PARTITION), "an AWS partition (aws, aws-cn, aws-us-gov)", "aws")
    queue = value("DEAD_LETTER_QUEUE_URL", _QUEUE_URL, "an SQS queue URL")
    margin = _number(env, "SAFETY_MARGIN_SECONDS", 5.0, 0, 25, problems)  # the function's timeout is 30 s
    issues: list[ConfigIssue] = []
    listed = _accounts(env, "RECIPIENT_ACCOUNTS", issues)
    problems.extend(str(issue) for issue in issues)
    if problems:
        raise ConfigurationError(problems)
    return RouterSettings(
        own_account=account,
        region=region,
        partition=partition,
        dead_letter_queue_url=queue,
        recipient_accounts=listed or None,
        safety_margin_seconds=margin,
    )
