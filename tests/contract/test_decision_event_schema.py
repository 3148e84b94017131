"""The published JSON Schemas of the two event details agree with the code that writes the records and
the events: the same keys, the same vocabularies, and what the publisher sends validates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from acceptor.decision_events import SCHEMA_VERSION, DecisionEvents
from acceptor.outcomes import Outcome, Result, Summary
from handlers.common import run_status
from policy import Action, Decision, Invitation
from policy.evaluate import Reason

ROOT = Path(__file__).resolve().parents[2]
DECIDED = json.loads((ROOT / "docs" / "schemas" / "share-invitation-decided.schema.json").read_text())
RUN = json.loads((ROOT / "docs" / "schemas" / "share-acceptor-run-finished.schema.json").read_text())
ORIGIN = {"account", "region", "schema_version"}


class Keep:
    """An EventBridge client that keeps what it is given."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.entries += Entries
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(i)} for i in range(len(Entries))]}


def outcome(result: Result, **extra: Any) -> Outcome:
    inv = Invitation("a" * 32, "222222222222", "111111111111", "WORKLOAD", "READONLY", "payments", "b" * 32)
    decision = Decision(Action.ACCEPT, Reason.ALLOWED_ACCOUNT.value, "SharedBy", "allowed", rule=0, rule_id="r1")
    return Outcome(inv, decision, result, **extra)


def published(records: list[dict[str, Any]], summary: Summary | None = None) -> list[dict[str, Any]]:
    keep = Keep()
    events = DecisionEvents("default", account="111111111111", region="us-east-1", client=keep)
    for record in records:
        events.decision(record)
    if summary is not None:
        events.run_finished("sweep", run_status(summary), summary.to_dict())
    events.flush()
    return [json.loads(e["Detail"]) for e in keep.entries]


def test_the_schema_names_every_key_of_every_record() -> None:
    plain = outcome(Result.ACCEPTED).record(False)
    failed = outcome(Result.FAILED, error_code="ConflictException", error_message="x").record(False)
    lost = outcome(Result.ACCEPTED, error_code="Conflict", error_message="y", answer_lost=True).record(False)
    assert set(DECIDED["required"]) == set(plain) | ORIGIN
    assert set(DECIDED["properties"]) == set(plain) | set(failed) | set(lost) | ORIGIN
    for detail in published([plain, failed, lost]):
        jsonschema.validate(detail, DECIDED)


def test_the_vocabularies_are_the_codes() -> None:
    assert set(DECIDED["properties"]["result"]["enum"]) == {r.value for r in Result}
    assert set(DECIDED["properties"]["action"]["enum"]) == {a.value for a in Action} | {None}
    assert set(DECIDED["properties"]["reason"]["enum"]) == {r.value for r in Reason} | {None}
    assert (
        DECIDED["properties"]["schema_version"]["const"]
        == SCHEMA_VERSION
        == RUN["properties"]["schema_version"]["const"]
    )


def test_a_record_with_a_bad_value_does_not_validate() -> None:
    detail = published([outcome(Result.ACCEPTED).record(False)])[0]
    for key, bad in (("result", "maybe"), ("account", "12345"), ("dry_run", "no"), ("extra", 1)):
        broken = {**detail, key: bad}
        try:
            jsonschema.validate(broken, DECIDED)
        except jsonschema.ValidationError:
            continue
        raise AssertionError(f"{key}={bad!r} validated")


def test_the_run_event_carries_the_summary_the_schema_describes() -> None:
    summary = Summary(dry_run=False)
    summary.add(outcome(Result.ACCEPTED))
    [*_, run] = published([outcome(Result.ACCEPTED).record(False)], summary)
    jsonschema.validate(run, RUN)
    assert set(RUN["properties"]) - {"function", "status", "decision_events"} - ORIGIN <= set(summary.to_dict())
    assert set(RUN["properties"]["status"]["enum"]) == {"ok", "incomplete", "failed"}
    assert run["decision_events"] == 1 and run["results"] == {"accepted": 1}
