"""The hub functions' settings, parsed once from the environment; every problem names the variable."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import NamedTuple

_LOG_GROUP = re.compile(r"[A-Za-z0-9_./#-]{1,512}")
_TOPIC = re.compile(r"arn:aws(?:-[a-z]+)*:sns:[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}:[0-9]{12}:[A-Za-z0-9_-]{1,256}")
_SMALL = re.compile(r"[0-9]{1,4}")


class HubSettings(NamedTuple):
    log_group: str
    topic_arn: str
    interval: timedelta
    expiry_warning_days: int


def load_hub_settings(env: Mapping[str, str] | None = None) -> HubSettings:
    env = os.environ if env is None else env
    problems = []
    group = env.get("HUB_LOG_GROUP", "")
    if not _LOG_GROUP.fullmatch(group):
        problems.append(f"HUB_LOG_GROUP: {group!r} is not a log group name")
    topic = env.get("HUB_TOPIC_ARN", "")
    if not _TOPIC.fullmatch(topic):
        problems.append(f"HUB_TOPIC_ARN: {topic!r} is not an SNS topic ARN")
    numbers = {}
    for name, default, low, high in (("SWEEP_INTERVAL_MINUTES", "60", 5, 480), ("EXPIRY_WARNING_DAYS", "2", 1, 6)):
        raw = env.get(name, default) or default
        if not _SMALL.fullmatch(raw) or not low <= int(raw) <= high:
            problems.append(f"{name}: {raw!r} is not a whole number in {low}..{high}")
            raw = default
        numbers[name] = int(raw)
    if problems:
        raise ValueError("invalid hub configuration: " + "; ".join(problems))
    return HubSettings(
        group, topic, timedelta(minutes=numbers["SWEEP_INTERVAL_MINUTES"]), numbers["EXPIRY_WARNING_DAYS"]
    )
