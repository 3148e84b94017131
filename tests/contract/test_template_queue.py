"""The share-event path of template.yaml: rule -> encrypted queue (with its own DLQ) -> batched function.

Event patterns are evaluated with moto's EventBridge matcher (moto.events.models.EventPattern), which
implements `$or` and `exists`; the first tests pin that it does, on the examples AWS documents.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from acceptor.events import (
    CLOUDTRAIL_DETAIL_TYPE,
    CLOUDTRAIL_SOURCE,
    ROUTED_DETAIL_TYPE,
    ROUTED_SOURCE,
    SHARE_EVENT_KINDS,
    SHARE_EVENT_NAMES,
)
from simulator import Simulator
from simulator.service import share_event
from tests.support.documents import with_value
from tests.support.templates import OTHER_CALLS, as_list, matches
from tools.cfn_template import Resolver, load_template

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = TEMPLATE["Resources"]
PARAMETERS = TEMPLATE["Parameters"]
RECIPIENT = "111111111111"
OTHER_ACCOUNT = "999999999999"
SHARER = "222222222222"
SAMPLES = ["share-workload.json", "share-lens.json", "share-profile.json", "share-template.json"]
ROUTED_SAMPLES = ["routed-share.json", "routed-share-no-shareid.json"]  # what a sharer's router puts on our bus
SQS_CONSUMER_ACTIONS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
# CloudTrail's own events (forwarded by a sharer's rule), and the events of a sharer's router (router/forwarded.py)
TRUSTED_EVENTS = {
    "events:source": [CLOUDTRAIL_SOURCE, ROUTED_SOURCE],
    "events:detail-type": [CLOUDTRAIL_DETAIL_TYPE, ROUTED_DETAIL_TYPE],
}


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return data


def _resolved(node: Any, overrides: dict[str, str] | None = None) -> Any:
    return Resolver(TEMPLATE, overrides, account=RECIPIENT).resolve(node)


RULE_PATTERN: dict[str, Any] = _resolved(RESOURCES["ShareEventRule"]["Properties"]["EventPattern"])


# ---------------------------------------------------------------- the matcher, on AWS's documented examples


@pytest.mark.parametrize(
    ("event_detail", "matched"),
    [({"c-count": 5}, False), ({"c-count": "x"}, False), ({"d-count": 3}, True), ({}, True)],
)
def test_matcher_exists_false_means_the_field_is_absent(event_detail: dict[str, Any], matched: bool) -> None:
    assert matches({"detail": {"c-count": [{"exists": False}]}}, {"detail": event_detail}) is matched


@pytest.mark.parametrize(
    ("event_detail", "matched"),
    [
        ({"c-count": 3}, True),
        ({"c-count": 9, "d-count": 4}, True),
        ({"x-limit": 301.8}, True),
        ({"c-count": 9, "d-count": 12}, False),
        ({"y-limit": 1}, False),
    ],
)
def test_matcher_or_matches_any_branch(event_detail: dict[str, Any], matched: bool) -> None:
    pattern = {
        "detail": {
            "$or": [
                {"c-count": [{"numeric": [">", 0, "<=", 5]}]},
                {"d-count": [{"numeric": ["<", 10]}]},
                {"x-limit": [{"numeric": ["=", 3.018e2]}]},
            ]
        }
    }
    assert matches(pattern, {"detail": event_detail}) is matched


def test_matcher_or_combines_with_the_other_fields_by_and() -> None:
    pattern = {"source": ["a"], "detail": {"$or": [{"x": ["1"]}, {"y": ["1"]}]}}
    assert matches(pattern, {"source": "a", "detail": {"y": "1"}})
    assert not matches(pattern, {"source": "b", "detail": {"y": "1"}})
    assert not matches(pattern, {"source": "a", "detail": {"y": "2"}})


# ---------------------------------------------------------------- the rule


def test_rule_is_standalone_on_the_default_bus_and_targets_the_queue() -> None:
    rule = RESOURCES["ShareEventRule"]
    assert rule["Type"] == "AWS::Events::Rule"
    props = rule["Properties"]
    assert props.get("EventBusName", "default") == "default"
    assert props["State"] == "ENABLED"
    (target,) = props["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["ShareEventQueue", "Arn"]}
    assert "RoleArn" not in target  # the queue policy admits the rule, no role needed
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 3600
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}


def _branches() -> dict[str, dict[str, Any]]:
    """The rule's branches (its top-level ``$or``), by source."""
    pattern = RESOURCES["ShareEventRule"]["Properties"]["EventPattern"]
    assert list(pattern) == ["$or"]
    branches = {branch["source"][0]: branch for branch in pattern["$or"]}
    assert len(branches) == len(pattern["$or"])
    return branches


def test_rule_pattern_has_one_branch_per_kind_of_share_event_the_parser_accepts() -> None:
    branches = _branches()
    assert {source: branch["source"] for source, branch in branches.items()} == {
        source: [source] for source in SHARE_EVENT_KINDS
    }
    assert {source: branch["detail-type"] for source, branch in branches.items()} == {
        source: [detail_type] for source, detail_type in SHARE_EVENT_KINDS.items()
    }
    for branch in branches.values():
        assert sorted(branch["detail"]["eventName"]) == sorted(SHARE_EVENT_NAMES)


def test_rule_pattern_names_a_routed_share_by_its_recipient_account() -> None:
    routed = _branches()[ROUTED_SOURCE]
    assert set(routed) == {"source", "detail-type", "detail"}
    assert set(routed["detail"]) == {"eventName", "sharedWithAccount"}
    assert routed["detail"]["sharedWithAccount"] == [{"Ref": "AWS::AccountId"}]


def test_rule_pattern_names_the_create_share_calls_success_and_this_account() -> None:
    pattern = _branches()[CLOUDTRAIL_SOURCE]
    assert pattern["source"] == ["aws.wellarchitected"]
    assert pattern["detail-type"] == ["AWS API Call via CloudTrail"]
    detail = pattern["detail"]
    assert detail["eventSource"] == ["wellarchitected.amazonaws.com"]
    assert sorted(detail["eventName"]) == [
        "CreateLensShare",
        "CreateProfileShare",
        "CreateTemplateShare",
        "CreateWorkloadShare",
    ]
    assert detail["errorCode"] == [{"exists": False}]
    account = {"Ref": "AWS::AccountId"}
    assert detail["$or"] == [
        {"requestParameters": {"SharedWith": [account]}},
        {"requestParameters": {"sharedWith": [account]}},
    ]


@pytest.mark.parametrize("name", [*SAMPLES, "share-workload-no-shareid.json", *ROUTED_SAMPLES])
def test_rule_matches_each_sample_share_for_this_account(name: str) -> None:
    assert matches(RULE_PATTERN, _load(name))  # with or without a ShareId: the acceptor reads both


def _routed(**detail: Any) -> dict[str, Any]:
    event = _load("routed-share.json")
    event["detail"].update(detail)
    return event


@pytest.mark.parametrize("name", ROUTED_SAMPLES)
def test_rule_matches_a_routed_share_by_sharedwithaccount_alone(name: str) -> None:
    # A share to one of this account's IAM roles or users: SharedWith is the ARN, sharedWithAccount this account.
    for shared_with in (f"arn:aws:iam::{RECIPIENT}:role/Reviewers", f"arn:aws:iam::{RECIPIENT}:user/path/alice"):
        event = _load(name)
        event["detail"]["requestParameters"]["SharedWith"] = shared_with
        assert matches(RULE_PATTERN, event)
    # And nothing else in the detail is needed: the router's events carry no errorCode, no eventSource test.
    event = _load(name)
    event["detail"] = {"eventName": event["detail"]["eventName"], "sharedWithAccount": RECIPIENT}
    assert matches(RULE_PATTERN, event)


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(_routed(sharedWithAccount=OTHER_ACCOUNT), id="another-account"),
        pytest.param(
            _routed(sharedWithAccount=OTHER_ACCOUNT, requestParameters={"SharedWith": RECIPIENT}),
            id="another-account-whatever-sharedwith-says",
        ),
        pytest.param(_routed(sharedWithAccount=[OTHER_ACCOUNT]), id="another-account-in-a-list"),
        pytest.param(_routed(sharedWithAccount=None), id="null-recipient"),
        pytest.param(_routed(eventName="DeleteLensShare"), id="another-call"),
        pytest.param({**_routed(), "source": "wa-share-acceptor.forger"}, id="another-source"),
        pytest.param({**_routed(), "detail-type": "AWS API Call via CloudTrail"}, id="cloudtrail-detail-type"),
        pytest.param({**_load("share-lens.json"), "detail-type": ROUTED_DETAIL_TYPE}, id="cloudtrail-routed-type"),
    ],
)
def test_rule_does_not_match_a_routed_share_for_another_account_or_of_another_shape(event: dict[str, Any]) -> None:
    assert not matches(RULE_PATTERN, event)


def test_rule_does_not_match_a_routed_share_without_its_recipient_account() -> None:
    event = _routed()
    del event["detail"]["sharedWithAccount"]  # SharedWith alone is CloudTrail's field, not the routed branch's
    assert event["detail"]["requestParameters"]["SharedWith"] == RECIPIENT
    assert not matches(RULE_PATTERN, event)


def _simulated(event_name: str, request: dict[str, Any], response: dict[str, Any] | None = None) -> dict[str, Any]:
    now = datetime(2026, 11, 23, 3, 10, tzinfo=UTC)
    return share_event(event_name, SHARER, "us-east-1", request, response or {"ShareId": "e" * 32}, now)


SIMULATED_REQUESTS = {
    "CreateWorkloadShare": {"WorkloadId": "4f3c1e0b9a8d7c6b5a4f3e2d1c0b9a8d", "PermissionType": "READONLY"},
    "CreateLensShare": {"LensAlias": "arn:aws:wellarchitected:us-east-1:222222222222:lens/" + "3" * 32},
    "CreateProfileShare": {"ProfileArn": "arn:aws:wellarchitected:us-east-1:222222222222:profile/" + "6" * 32},
    "CreateTemplateShare": {
        "TemplateArn": "arn:aws:wellarchitected:us-east-1:222222222222:review-template/" + "9" * 32
    },
}


@pytest.mark.parametrize("event_name", sorted(SIMULATED_REQUESTS))
def test_rule_on_simulated_shares(event_name: str) -> None:
    request = SIMULATED_REQUESTS[event_name]
    # Given a successful share for this account, with either key casing: it matches.
    assert matches(RULE_PATTERN, _simulated(event_name, {**request, "SharedWith": RECIPIENT}))
    assert matches(RULE_PATTERN, _simulated(event_name, {**request, "sharedWith": RECIPIENT}))
    # A share for another account, an IAM principal, an organization, or with no recipient: no match.
    for shared_with in (OTHER_ACCOUNT, f"arn:aws:iam::{RECIPIENT}:user/alice", "o-abcdefghij", RECIPIENT[:-1]):
        assert not matches(RULE_PATTERN, _simulated(event_name, {**request, "SharedWith": shared_with}))
    assert not matches(RULE_PATTERN, _simulated(event_name, dict(request)))
    # A failed call (CloudTrail adds errorCode, and no response) for this account: no match.
    failed = _simulated(event_name, {**request, "SharedWith": RECIPIENT})
    failed["detail"]["errorCode"] = "ValidationException"
    failed["detail"]["errorMessage"] = "bad request"
    failed["detail"]["responseElements"] = None
    assert not matches(RULE_PATTERN, failed)


def test_rule_is_resolved_per_account() -> None:
    other = Resolver(TEMPLATE, account=OTHER_ACCOUNT).resolve(RESOURCES["ShareEventRule"]["Properties"]["EventPattern"])
    for name in ("share-workload.json", *ROUTED_SAMPLES):
        assert not matches(other, _load(name)), name
        assert matches(RULE_PATTERN, _load(name)), name
    assert matches(other, _routed(sharedWithAccount=OTHER_ACCOUNT))


@pytest.mark.parametrize(("path", "value"), OTHER_CALLS)
def test_rule_rejects_other_calls(path: tuple[str, ...], value: str) -> None:
    event = with_value(_load("share-workload.json"), path, value)
    assert not matches(RULE_PATTERN, event)


def test_rule_does_not_match_the_scheduled_sweep() -> None:
    assert not matches(RULE_PATTERN, _load("scheduled-sweep.json"))


# ---------------------------------------------------------------- the queues


def test_queue_is_encrypted_and_redrives_to_its_own_dead_letter_queue() -> None:
    queue = RESOURCES["ShareEventQueue"]
    dlq = RESOURCES["ShareEventDeadLetterQueue"]
    assert queue["Type"] == dlq["Type"] == "AWS::SQS::Queue"
    for q in (queue, dlq):
        assert q["Properties"]["SqsManagedSseEnabled"] is True
    redrive = queue["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["ShareEventDeadLetterQueue", "Arn"]}
    assert 3 <= redrive["maxReceiveCount"] <= 10
    # Redriven messages keep their enqueue time, so the DLQ must keep them longer than the queue does.
    assert dlq["Properties"]["MessageRetentionPeriod"] == 1209600
    assert queue["Properties"]["MessageRetentionPeriod"] < dlq["Properties"]["MessageRetentionPeriod"]


def test_visibility_timeout_is_six_function_timeouts_plus_the_longest_batch_window() -> None:
    timeout = RESOURCES["ShareEventFunction"]["Properties"]["Timeout"]
    longest_window = PARAMETERS["ShareEventBatchWindowSeconds"]["MaxValue"]
    assert RESOURCES["ShareEventQueue"]["Properties"]["VisibilityTimeout"] >= 6 * timeout + longest_window


def test_only_the_rule_may_send_to_the_queue() -> None:
    policies = [r for r in RESOURCES.values() if r["Type"] == "AWS::SQS::QueuePolicy"]
    mine = [p for p in policies if p["Properties"]["Queues"] == [{"Ref": "ShareEventQueue"}]]
    assert len(mine) == 1
    (statement,) = mine[0]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert as_list(statement["Action"]) == ["sqs:SendMessage"]
    assert statement["Resource"] == {"Fn::GetAtt": ["ShareEventQueue", "Arn"]}
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["ShareEventRule", "Arn"]}}}
    # No other queue policy names either share-event queue (redrive needs no policy).
    for policy in policies:
        if policy is not mine[0]:
            assert "ShareEvent" not in json.dumps(policy["Properties"]["Queues"])


# ---------------------------------------------------------------- the event source mapping


def test_function_is_fed_only_by_the_queue_in_reported_batches() -> None:
    props = RESOURCES["ShareEventFunction"]["Properties"]
    assert list(props["Events"]) == ["ShareEvents"]
    source = props["Events"]["ShareEvents"]
    assert source["Type"] == "SQS"
    assert source["Properties"] == {
        "Queue": {"Fn::GetAtt": ["ShareEventQueue", "Arn"]},
        "BatchSize": {"Ref": "ShareEventBatchSize"},
        "MaximumBatchingWindowInSeconds": {"Ref": "ShareEventBatchWindowSeconds"},
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": {"MaximumConcurrency": {"Ref": "ShareEventMaxConcurrency"}},
    }
    # Nothing invokes it asynchronously any more, and no reserved concurrency (new accounts have little).
    assert "EventInvokeConfig" not in props
    assert "ReservedConcurrentExecutions" not in props
    assert "ReservedConcurrentExecutions" not in TEMPLATE["Globals"]["Function"]


def test_sam_translates_the_event_source_mapping_as_declared() -> None:
    from tools.stackset_template import stackset_template

    plain = stackset_template(load_template(ROOT / "template.yaml"), "acme-artifacts", "k/code-0123456789abcdef.zip")
    mappings = [r for r in plain["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert len(mappings) == 1
    props = mappings[0]["Properties"]
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["ShareEventQueue", "Arn"]}
    assert props["FunctionName"] == {"Ref": "ShareEventFunction"}
    assert props["BatchSize"] == {"Ref": "ShareEventBatchSize"}
    assert props["MaximumBatchingWindowInSeconds"] == {"Ref": "ShareEventBatchWindowSeconds"}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "ShareEventMaxConcurrency"}}
    functions = [r for r in plain["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert all("ReservedConcurrentExecutions" not in f["Properties"] for f in functions)
    rules = [r for r in plain["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    targets = [t["Arn"] for r in rules for t in r["Properties"].get("Targets", [])]
    assert {"Fn::GetAtt": ["ShareEventFunction", "Arn"]} not in targets  # no rule invokes it directly


def test_event_source_parameters() -> None:
    size, window, concurrency = (
        PARAMETERS[name] for name in ("ShareEventBatchSize", "ShareEventBatchWindowSeconds", "ShareEventMaxConcurrency")
    )
    assert (size["Type"], size["Default"], size["MinValue"], size["MaxValue"]) == ("Number", 100, 1, 1000)
    # Lambda refuses a batch size above 10 without a window of at least 1 s.
    assert (window["Type"], window["Default"], window["MinValue"], window["MaxValue"]) == ("Number", 10, 1, 60)
    # MaximumConcurrency accepts 2 to 1000.
    assert (concurrency["Type"], concurrency["Default"], concurrency["MinValue"]) == ("Number", 2, 2)
    assert concurrency["MaxValue"] <= 1000
    groups = TEMPLATE["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    listed = [p for g in groups for p in g["Parameters"]]
    assert {"ShareEventBatchSize", "ShareEventBatchWindowSeconds", "ShareEventMaxConcurrency"} <= set(listed)
    assert sorted(listed) == sorted(PARAMETERS)


# ---------------------------------------------------------------- IAM for SQS


def _role_statements(role: str) -> list[dict[str, Any]]:
    resolved = _resolved(RESOURCES[role]["Properties"]["Policies"], {"NotificationEmail": "ops@example.com"})
    return [s for p in resolved for s in p["PolicyDocument"]["Statement"]]


def test_event_role_may_only_consume_its_queue() -> None:
    sqs = [s for s in _role_statements("ShareEventRole") if any(a.startswith("sqs:") for a in as_list(s["Action"]))]
    assert len(sqs) == 1
    (statement,) = sqs
    assert statement["Effect"] == "Allow"
    assert set(as_list(statement["Action"])) == SQS_CONSUMER_ACTIONS
    assert len(as_list(statement["Action"])) == len(SQS_CONSUMER_ACTIONS)
    assert as_list(statement["Resource"]) == ["ShareEventQueue.Arn"]
    assert "Condition" not in statement


def test_no_other_role_touches_the_share_event_queues() -> None:
    for name, resource in RESOURCES.items():
        if resource["Type"] != "AWS::IAM::Role" or name == "ShareEventRole":
            continue
        text = json.dumps(resource["Properties"])
        assert "ShareEventQueue" not in text, name
        assert "ShareEventDeadLetterQueue" not in text, name
        for statement in _role_statements(name):
            assert not SQS_CONSUMER_ACTIONS & set(as_list(statement["Action"])), name


# ---------------------------------------------------------------- the dead-letter alarm


def test_dead_letter_alarm_fires_on_one_message_and_does_not_clear_on_silence() -> None:
    alarm = RESOURCES["ShareEventDeadLetterQueueAlarm"]
    assert alarm["Type"] == "AWS::CloudWatch::Alarm"
    props = alarm["Properties"]
    assert props["Namespace"] == "AWS/SQS"
    assert props["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert props["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["ShareEventDeadLetterQueue", "QueueName"]}}
    ]
    assert props["Statistic"] == "Maximum"
    assert (props["Threshold"], props["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert props["EvaluationPeriods"] == 1
    assert props["Period"] <= 300
    # SQS stops publishing for an idle queue: "notBreaching" would clear it while messages wait, and
    # "breaching" would fire on an empty idle queue. "ignore" keeps the last state until SQS reports.
    assert props["TreatMissingData"] == "ignore"
    assert _resolved(props["AlarmActions"], {"NotificationEmail": "ops@example.com"}) == ["NotificationTopic"]
    assert "AlarmActions" not in _resolved(props)
    assert "redrive" in props["AlarmDescription"]


def test_outputs_name_both_queues() -> None:
    outputs = TEMPLATE["Outputs"]
    assert outputs["ShareEventQueueUrl"]["Value"] == {"Ref": "ShareEventQueue"}
    assert outputs["ShareEventDeadLetterQueueUrl"]["Value"] == {"Ref": "ShareEventDeadLetterQueue"}


# ---------------------------------------------------------------- the default-bus policies


BUS = f"arn:aws:events:us-east-1:{RECIPIENT}:event-bus/default"


def test_organization_bus_policy_admits_only_well_architected_cloudtrail_events() -> None:
    policy = _resolved(RESOURCES["OrganizationBusPolicy"], {"EventSourceOrganizationId": "o-abcdefghij"})
    assert policy["Condition"] == "AdmitOrganization"
    statement = policy["Properties"]["Statement"]
    assert (statement["Effect"], statement["Principal"], statement["Action"]) == ("Allow", "*", "events:PutEvents")
    assert statement["Resource"] == BUS
    assert statement["Condition"] == {
        "StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"},
        "ForAllValues:StringEquals": TRUSTED_EVENTS,
    }


def test_accounts_bus_policy_admits_only_well_architected_cloudtrail_events() -> None:
    policy = _resolved(RESOURCES["AccountsBusPolicy"], {"EventSourceAccounts": "222222222222,333333333333"})
    assert policy["Condition"] == "AdmitAccounts"
    statement = policy["Properties"]["Statement"]
    assert statement["Principal"] == {"AWS": ["222222222222", "333333333333"]}
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == ("Allow", "events:PutEvents", BUS)
    assert statement["Condition"] == {"ForAllValues:StringEquals": TRUSTED_EVENTS}


@pytest.mark.parametrize("name", [*SAMPLES, *ROUTED_SAMPLES])
def test_bus_policies_admit_what_the_rule_wants(name: str) -> None:
    event = _load(name)
    (branch,) = [b for b in RULE_PATTERN["$or"] if b["source"] == [event["source"]]]
    assert branch["detail-type"] == [event["detail-type"]]
    assert event["source"] in TRUSTED_EVENTS["events:source"]
    assert event["detail-type"] in TRUSTED_EVENTS["events:detail-type"]
    # and the policies admit nothing the rule does not want
    assert sorted(b["source"][0] for b in RULE_PATTERN["$or"]) == sorted(TRUSTED_EVENTS["events:source"])
    assert sorted(b["detail-type"][0] for b in RULE_PATTERN["$or"]) == sorted(TRUSTED_EVENTS["events:detail-type"])


# ---------------------------------------------------------------- events/share-batch.json

BATCH = _load("share-batch.json")
_QUEUE_ARN = re.compile(r"arn:aws:sqs:us-east-1:111111111111:[A-Za-z0-9_-]{1,80}")
_MESSAGE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_MILLIS = re.compile(r"[0-9]{13}")


def test_batch_records_have_the_sqs_event_source_shape() -> None:
    assert list(BATCH) == ["Records"]
    records = BATCH["Records"]
    assert len({r["messageId"] for r in records}) == len(records) >= 5
    assert len({r["receiptHandle"] for r in records}) == len(records)
    for record in records:
        assert set(record) == {
            "messageId",
            "receiptHandle",
            "body",
            "attributes",
            "messageAttributes",
            "md5OfBody",
            "eventSource",
            "eventSourceARN",
            "awsRegion",
        }
        assert _MESSAGE_ID.fullmatch(record["messageId"])
        assert record["eventSource"] == "aws:sqs"
        assert _QUEUE_ARN.fullmatch(record["eventSourceARN"])
        assert record["awsRegion"] == "us-east-1"
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
        attributes = record["attributes"]
        assert {"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(
            attributes
        )
        assert all(isinstance(v, str) for v in attributes.values())
        assert _MILLIS.fullmatch(attributes["SentTimestamp"])
        assert isinstance(record["messageAttributes"], dict)


def _bodies() -> list[dict[str, Any]]:
    return [json.loads(r["body"]) for r in BATCH["Records"]]


def test_batch_holds_every_share_type_for_the_recipient_and_one_failed_call() -> None:
    bodies = _bodies()
    failed = [b for b in bodies if "errorCode" in b["detail"]]
    ok = [b for b in bodies if "errorCode" not in b["detail"]]
    assert len(failed) == 1
    assert failed[0]["detail"]["responseElements"] is None
    assert sorted({b["detail"]["eventName"] for b in ok}) == [
        "CreateLensShare",
        "CreateProfileShare",
        "CreateTemplateShare",
        "CreateWorkloadShare",
    ]
    for body in bodies:
        assert body["detail"]["requestParameters"]["SharedWith"] == RECIPIENT
    # The successful ones are the sample events, byte for byte in content.
    assert sorted(ok, key=lambda b: b["id"]) == sorted((_load(n) for n in SAMPLES), key=lambda b: b["id"])


def test_batch_bodies_against_the_rule() -> None:
    for body in _bodies():
        assert matches(RULE_PATTERN, body) is ("errorCode" not in body["detail"]), body["id"]


def test_batch_points_at_pending_invitations_of_the_example_world() -> None:
    sim = Simulator()
    seeded = sim.load_world(ROOT / "simulator" / "worlds" / "example.json")
    wa = sim.client(account=RECIPIENT)
    pending = set()
    for resource_type in ("WORKLOAD", "LENS", "PROFILE", "TEMPLATE"):
        summaries = wa.list_share_invitations(ShareResourceType=resource_type, MaxResults=50)[
            "ShareInvitationSummaries"
        ]
        pending |= {s["ShareInvitationId"] for s in summaries}
    for body in _bodies():
        if "errorCode" not in body["detail"]:
            share_id = body["detail"]["responseElements"]["ShareId"]
            assert share_id in seeded
            assert share_id in pending


def test_failed_record_is_a_copy_of_a_sample_with_cloudtrail_error_fields() -> None:
    (failed,) = (b for b in _bodies() if "errorCode" in b["detail"])
    sample = _load("share-workload.json")
    assert re.fullmatch(r"[A-Za-z]{1,64}", failed["detail"]["errorCode"])
    assert failed["detail"]["errorMessage"]
    stripped = copy.deepcopy(failed)
    for key in ("errorCode", "errorMessage", "responseElements", "requestID", "eventID"):
        stripped["detail"].pop(key)
        sample["detail"].pop(key, None)
    stripped["detail"]["requestParameters"].pop("ClientRequestToken")
    sample["detail"]["requestParameters"].pop("ClientRequestToken")
    stripped.pop("id")
    sample.pop("id")
    assert stripped == sample
