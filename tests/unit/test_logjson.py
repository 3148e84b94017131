"""The Logger's JSON functions: the same lines as Powertools' defaults, only cheaper."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from aws_lambda_powertools import Logger

from acceptor.logjson import deserialize, serialize

RECORD = {
    "share_invitation_id": "0123456789abcdef0123456789abcdef",
    "resource_name": 'quote " back\\slash \u00e9 \u2028 \x00',
    "reason_detail": None,
    "dry_run": False,
    "nested": {"n": [1, 2.5, Decimal("1.5"), datetime(2026, 12, 3, tzinfo=UTC)]},
}


def test_serialize_matches_powertools_default() -> None:
    default = json.dumps(RECORD, separators=(",", ":"), default=str, ensure_ascii=False)
    assert serialize(RECORD) == default


@pytest.mark.parametrize("text", ['{"a": 1}', "  [1, 2]", b'{"a": 1}'])
def test_json_messages_still_decode(text: str | bytes) -> None:
    assert deserialize(text) == json.loads(text)


@pytest.mark.parametrize("text", ["invitation decided", "", "1", '"quoted"', "true", b"bytes message"])
def test_plain_messages_are_refused_before_the_decoder(text: str | bytes) -> None:
    with pytest.raises(ValueError, match="not a JSON object or array"):
        deserialize(text)


def test_a_logger_with_them_writes_the_same_line() -> None:
    lines = []
    for kwargs in ({}, {"json_serializer": serialize, "json_deserializer": deserialize}):
        stream = io.StringIO()
        logger = Logger(service=f"logjson-{len(lines)}", stream=stream, **kwargs)  # type: ignore[arg-type]
        logger.info("invitation decided", extra=RECORD)
        logger.info('{"a": 1}')
        lines.append([json.loads(line) for line in stream.getvalue().split("\n") if line])
    for line in (*lines[0], *lines[1]):
        line.pop("timestamp"), line.pop("service"), line.pop("location")
    assert lines[0] == lines[1]
    assert lines[1][1]["message"] == {"a": 1}
