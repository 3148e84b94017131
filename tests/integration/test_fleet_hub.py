"""The fleet hub against moto: decision and run events from several member accounts reach the hub bus,
its rule writes them to the hub log group, and the report, the digest and the watch read them back."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from acceptor.decision_events import DECIDED, RUN_FINISHED, SOURCE
from fleet import digest, hub_log, report
from fleet.settings import HubSettings, load_hub_settings
from handlers import fleet_digest, fleet_watch
from tools import fleet_report

REGION = "us-east-1"
GROUP = "/aws/events/wa-share-acceptor-hub"
BUS = "wa-share-acceptor-hub"
A, B, C = "111111111111", "222222222222", "333333333333"
NOW = datetime.now(UTC).replace(microsecond=0)
HOUR = timedelta(hours=1)


@pytest.fixture
def hub() -> Iterator[dict[str, Any]]:
    """The hub's bus, its keep-everything rule into the log group, and a topic with a queue subscribed."""
    with mock_aws():
        events = boto3.client("events", region_name=REGION)
        logs = boto3.client("logs", region_name=REGION)
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        events.create_event_bus(Name=BUS)
        logs.create_log_group(logGroupName=GROUP)
        group_arn = f"arn:aws:logs:{REGION}:123456789012:log-group:{GROUP}"
        events.put_rule(Name="keep", EventBusName=BUS, EventPattern=json.dumps({"source": [SOURCE, "aws.cloudwatch"]}))
        events.put_targets(Rule="keep", EventBusName=BUS, Targets=[{"Id": "logs", "Arn": group_arn}])
        topic = sns.create_topic(Name="hub")["TopicArn"]
        url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        yield {"events": events, "logs": logs, "sns": sns, "sqs": sqs, "topic": topic, "inbox": url}


def decision(account: str, region: str, inv: int, result: str, when: datetime, **extra: Any) -> dict[str, Any]:
    detail = {
        "share_invitation_id": f"{inv:032x}",
        "shared_by": "444444444444",
        "shared_with": account,
        "resource_type": "WORKLOAD",
        "resource_name": f"workload-{inv}",
        "resource_id": f"{inv:032x}",
        "permission_type": "READONLY",
        "action": {"accepted": "ACCEPT", "rejected": "REJECT", "failed": "ACCEPT"}.get(result, "IGNORE"),
        "reason": "source_not_allowed",
        "reason_field": "SharedBy",
        "reason_detail": None,
        "rule": None,
        "rule_id": None,
        "result": result,
        "dry_run": False,
        "account": account,
        "region": region,
        "schema_version": "1",
        **extra,
    }
    return {"Source": SOURCE, "DetailType": DECIDED, "Detail": json.dumps(detail), "Time": when, "EventBusName": BUS}


def run(account: str, region: str, status: str, when: datetime, function: str = "sweep") -> dict[str, Any]:
    detail = {"function": function, "status": status, "complete": status != "incomplete", "dry_run": False,
              "invitations": 1, "accept": 0, "reject": 0, "ignore": 0, "results": {}, "failed": 0,
              "decision_events": 1, "account": account, "region": region, "schema_version": "1"}  # fmt: skip
    return {
        "Source": SOURCE,
        "DetailType": RUN_FINISHED,
        "Detail": json.dumps(detail),
        "Time": when,
        "EventBusName": BUS,
    }


def put(events: Any, entries: list[dict[str, Any]]) -> None:
    for i in range(0, len(entries), 10):
        answer = events.put_events(Entries=entries[i : i + 10])
        assert answer["FailedEntryCount"] == 0


def seed_fleet(events: Any) -> None:
    """Three accounts in two regions, as a week of sweeps would leave them."""
    entries = [
        # A us-east-1: two accepted, one rejected, one waiting since 6 days (seen every sweep), one failing
        decision(A, REGION, 1, "accepted", NOW - 3 * HOUR),
        decision(A, REGION, 2, "accepted", NOW - 2 * HOUR),
        decision(A, REGION, 3, "rejected", NOW - 2 * HOUR),
        decision(A, REGION, 4, "left_pending", NOW - timedelta(days=6)),
        decision(A, REGION, 4, "left_pending", NOW - 3 * HOUR),
        decision(A, REGION, 4, "left_pending", NOW - HOUR, rule=2, rule_id="vendors-review"),
        decision(A, REGION, 5, "failed", NOW - HOUR, error_code="AccessDeniedException"),
        # A us-east-1: waiting once, then someone accepted it by hand: no longer listed, not waiting
        decision(A, REGION, 6, "left_pending", NOW - timedelta(days=5)),
        run(A, REGION, "ok", NOW - 2 * HOUR),
        run(A, REGION, "failed", NOW - HOUR + timedelta(minutes=1)),
        # A eu-west-1: an invitation for a principal, first seen a day ago
        decision(A, "eu-west-1", 7, "for_principal", NOW - timedelta(days=1)),
        decision(A, "eu-west-1", 7, "for_principal", NOW - HOUR),
        run(A, "eu-west-1", "ok", NOW - HOUR + timedelta(minutes=1)),
        # B: failed twice running; its waiting invitation expires in 12 hours
        decision(B, REGION, 8, "left_pending", NOW - timedelta(days=6, hours=12)),
        decision(B, REGION, 8, "left_pending", NOW - HOUR),
        run(B, REGION, "ok", NOW - 5 * HOUR),
        run(B, REGION, "incomplete", NOW - 2 * HOUR),
        run(B, REGION, "failed", NOW - HOUR + timedelta(minutes=1)),
        # C: heard from three days ago, silent since
        decision(C, REGION, 9, "accepted", NOW - timedelta(days=3)),
        run(C, REGION, "ok", NOW - timedelta(days=3)),
    ]
    put(events, entries)


def read_all(logs: Any) -> hub_log.Events:
    return hub_log.read(logs, GROUP, NOW - timedelta(days=9), NOW + HOUR)


# ---------------------------------------------------------------- the report


def test_the_hub_log_holds_every_event_and_the_report_tells_each_account_and_region(hub: dict[str, Any]) -> None:
    seed_fleet(hub["events"])
    events = read_all(hub["logs"])
    assert len(events.decisions) == 13 and len(events.runs) == 7 and events.skipped == 0
    rows = {(r.account, r.region): r for r in report.table(events, NOW, HOUR)}
    a = rows[(A, REGION)]
    assert (a.accepted, a.rejected, a.waiting, a.failed) == (2, 1, 1, 1)
    # invitation 4 was first seen 6 days ago: it expires in a day
    assert a.soonest_expiry == NOW - timedelta(days=6) + timedelta(days=7)
    assert a.last_completed_run == NOW - 2 * HOUR
    eu = rows[(A, "eu-west-1")]
    assert eu.waiting == 1 and eu.soonest_expiry == NOW + timedelta(days=6)
    assert rows[(B, REGION)].last_completed_run == NOW - 5 * HOUR
    assert rows[(C, REGION)].waiting == 0 and rows[(C, REGION)].accepted == 1
    assert set(rows) == {(A, REGION), (A, "eu-west-1"), (B, REGION), (C, REGION)}


def test_silent_and_failing_members_are_named(hub: dict[str, Any]) -> None:
    seed_fleet(hub["events"])
    events = read_all(hub["logs"])
    assert report.silent(events, NOW, HOUR) == [(B, REGION), (C, REGION)]
    assert report.failing_twice(events) == [(B, REGION)]


def test_forged_and_malformed_lines_are_skipped_not_raised(hub: dict[str, Any]) -> None:
    put(
        hub["events"],
        [
            decision("12345", REGION, 1, "accepted", NOW),  # not an account
            decision(A, "mars-1", 1, "accepted", NOW),  # not a region
            {"Source": SOURCE, "DetailType": DECIDED, "Detail": json.dumps({"x": 1}), "EventBusName": BUS},
            {"Source": SOURCE, "DetailType": "Other", "Detail": "{}", "EventBusName": BUS},
            decision(A, REGION, 1, "accepted", NOW),
        ],
    )
    events = read_all(hub["logs"])
    assert [d.share_invitation_id for d in events.decisions] == [f"{1:032x}"]
    assert events.skipped == 4
    assert hub_log.parse_line('{"source": "wa-share-acceptor", "source": "x"}') is None  # duplicate keys


def test_fleet_report_prints_the_table_and_json(hub: dict[str, Any]) -> None:
    seed_fleet(hub["events"])
    out = io.StringIO()
    assert fleet_report.main(["--log-group", GROUP, "--format", "json"], logs=hub["logs"], now=NOW, out=out) == 0
    body = json.loads(out.getvalue())
    rows = {(r["account"], r["region"]): r for r in body["rows"]}
    assert rows[(A, REGION)]["accepted"] == 2 and rows[(A, REGION)]["waiting"] == 1
    assert rows[(A, REGION)]["soonest_expiry"] == (NOW + timedelta(days=1)).isoformat()
    assert body["no_complete_sweep_in_two_intervals"] == [
        {"account": B, "region": REGION},
        {"account": C, "region": REGION},
    ]
    text = io.StringIO()
    assert fleet_report.main(["--log-group", GROUP], logs=hub["logs"], now=NOW, out=text) == 0
    lines = text.getvalue().splitlines()
    assert lines[1].split() == list(fleet_report.COLUMNS)
    assert any(line.split()[:7] == [A, REGION, "2", "1", "1", (NOW + timedelta(days=1)).strftime("%Y-%m-%d"),
                                    (NOW + timedelta(days=1)).strftime("%H:%M")] for line in lines)  # fmt: skip


def test_fleet_report_names_a_missing_log_group(hub: dict[str, Any]) -> None:
    err = io.StringIO()
    assert fleet_report.main(["--log-group", "/nope"], logs=hub["logs"], now=NOW, err=err) == 2
    assert "/nope" in err.getvalue()


# ---------------------------------------------------------------- the digest


def settings(hub: dict[str, Any], days: int = 2) -> HubSettings:
    return HubSettings(GROUP, hub["topic"], HOUR, days)


def inbox(hub: dict[str, Any]) -> list[dict[str, Any]]:
    msgs = hub["sqs"].receive_message(QueueUrl=hub["inbox"], MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in msgs]


def test_the_digest_lists_what_expires_within_the_warning_days_soonest_first(hub: dict[str, Any]) -> None:
    seed_fleet(hub["events"])
    result = fleet_digest.lambda_handler({}, None, settings=settings(hub), logs=hub["logs"], sns=hub["sns"])
    assert result == {"expiring": 2, "sent": True, "skipped_lines": 0}
    [note] = inbox(hub)
    chatbot = json.loads(note["Message"])  # the "default" body: AWS Chatbot's custom notification
    assert chatbot["version"] == "1.0" and chatbot["source"] == "custom"
    assert chatbot["content"]["title"].startswith("2 Well-Architected share invitations expire within 2 days")
    lines = chatbot["content"]["description"].splitlines()
    assert B in lines[0] and f"{8:032x}" in lines[0]  # 12 hours left: first
    assert A in lines[1] and "rule vendors-review" in lines[1] and "444444444444" in lines[1]
    assert "workload-4" in lines[1]


def test_the_digest_sends_nothing_when_nothing_expires_soon(hub: dict[str, Any]) -> None:
    put(hub["events"], [decision(A, REGION, 1, "left_pending", NOW - HOUR)])
    result = fleet_digest.lambda_handler({}, None, settings=settings(hub, 1), logs=hub["logs"], sns=hub["sns"])
    assert result["sent"] is False and inbox(hub) == []


def test_the_digest_message_has_an_email_body_and_a_bounded_length() -> None:
    items = [
        report.Waiting(A, REGION, f"{i:032x}", "4" * 12, "LENS", "l", "source_not_allowed", None, NOW, NOW + HOUR)
        for i in range(80)
    ]
    built = digest.message(items, NOW, 2)
    assert built is not None
    subject, body = built
    bodies = json.loads(body)
    assert len(subject) <= 100
    assert bodies["email"].startswith("80 Well-Architected") and "and 30 more" in bodies["email"]
    assert len(json.loads(bodies["default"])["content"]["description"].splitlines()) == digest.MAX_LINES + 1


# ---------------------------------------------------------------- the watch


def test_the_watch_counts_members_failing_twice(hub: dict[str, Any]) -> None:
    seed_fleet(hub["events"])
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    result = fleet_watch.lambda_handler({}, None, settings=settings(hub), logs=hub["logs"], cloudwatch=cloudwatch)
    assert result == {"failing_twice": [f"{B} {REGION}"]}
    stats = cloudwatch.get_metric_statistics(
        Namespace=fleet_watch.NAMESPACE, MetricName="MembersFailingTwice", StartTime=NOW - HOUR,
        EndTime=NOW + 2 * HOUR, Period=3600, Statistics=["Maximum"],
    )  # fmt: skip
    assert [p["Maximum"] for p in stats["Datapoints"]] == [1.0]


def test_hub_settings_name_every_bad_variable() -> None:
    good = {"HUB_LOG_GROUP": GROUP, "HUB_TOPIC_ARN": f"arn:aws:sns:{REGION}:123456789012:hub"}
    assert load_hub_settings(good).expiry_warning_days == 2
    with pytest.raises(ValueError, match=r"HUB_TOPIC_ARN.*EXPIRY_WARNING_DAYS: '9'"):
        load_hub_settings({**good, "HUB_TOPIC_ARN": "x", "EXPIRY_WARNING_DAYS": "9"})
