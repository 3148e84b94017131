"""templates/sharer-forwarding.yaml, the share-event router of a sharer account: least privilege, the rule
against the sample events, what the function reads, and its StackSets form."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from moto.events.models import EventPattern

from router import forwarded
from router.settings import load_router_settings
from simulator.service import share_event
from tools.cfn_template import Resolver, function_properties, load_template
from tools.stackset_template import stackset_template

ROOT = Path(__file__).resolve().parents[2]
PATH = ROOT / "templates" / "sharer-forwarding.yaml"
TEMPLATE = load_template(PATH)
RESOURCES = TEMPLATE["Resources"]
ORG = "o-abcdef1234"
LISTED = "111111111111,333333333333"
SHARER = "222222222222"
SHARE_EVENTS = sorted(p for p in (ROOT / "events").glob("share-*.json") if p.name != "share-batch.json")
CREATE_SHARE_EVENTS = ["CreateWorkloadShare", "CreateLensShare", "CreateProfileShare", "CreateTemplateShare"]
BOUNDARY = {"Fn::If": ["HasBoundary", {"Ref": "PermissionsBoundary"}, {"Ref": "AWS::NoValue"}]}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def _resolved(overrides: dict[str, str]) -> dict[str, Any]:
    return Resolver(TEMPLATE, overrides).resolve(RESOURCES)


def _statements(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (policy,) = resources["RouterRole"]["Properties"]["Policies"]
    return {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}


def _matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    return EventPattern.load(json.dumps(pattern)).matches_event(event)


# ---------------------------------------------------------------- shape


def test_one_function_one_rule_one_role_one_queue_and_its_alarm() -> None:
    types = sorted(r["Type"] for r in RESOURCES.values())
    assert types == sorted(
        [
            "AWS::Serverless::Function",
            "AWS::Logs::LogGroup",
            "AWS::IAM::Role",
            "AWS::Events::Rule",
            "AWS::Lambda::Permission",
            "AWS::SQS::Queue",
            "AWS::SQS::QueuePolicy",
            "AWS::CloudWatch::Alarm",
            "AWS::Logs::QueryDefinition",
            "AWS::Logs::QueryDefinition",
        ]
    )
    # no per-recipient parameter, rule or role: one stack serves every recipient
    assert "RecipientAccountId" not in TEMPLATE["Parameters"]
    assert len(TEMPLATE["Description"]) > 200
    assert "CloudTrail must be enabled" in " ".join(TEMPLATE["Description"].split())


def test_interface_lists_every_parameter_once() -> None:
    groups = TEMPLATE["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    listed = [p for g in groups for p in g["Parameters"]]
    assert sorted(listed) == sorted(TEMPLATE["Parameters"])


@pytest.mark.parametrize(
    "path",
    [ROOT / "template.yaml", PATH, ROOT / "templates" / "org-lookup-role.yaml"],
    ids=lambda p: p.name,
)
def test_every_role_takes_the_permissions_boundary_parameter(path: Path) -> None:
    template = load_template(path)
    roles = _of_type(template, "AWS::IAM::Role")
    assert roles
    for name, role in roles.items():
        assert role["Properties"]["PermissionsBoundary"] == BOUNDARY, name
    assert template["Conditions"]["HasBoundary"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "PermissionsBoundary"}, ""]}]}
    acceptor = load_template(ROOT / "template.yaml")["Parameters"]["PermissionsBoundary"]
    assert template["Parameters"]["PermissionsBoundary"]["AllowedPattern"] == acceptor["AllowedPattern"]
    assert template["Parameters"]["PermissionsBoundary"]["Default"] == ""


@pytest.mark.parametrize(
    ("organization", "accounts", "allowed"),
    [("", "", False), (ORG, "", True), ("", LISTED, True), (ORG, LISTED, True)],
)
def test_a_stack_must_bound_its_recipients(organization: str, accounts: str, allowed: bool) -> None:
    (rule,) = TEMPLATE["Rules"]["RecipientsAreBounded"]["Assertions"]
    resolver = Resolver(TEMPLATE, {"OrganizationId": organization, "RecipientAccounts": accounts})
    assert resolver.resolve(rule["Assert"]) is allowed


# ---------------------------------------------------------------- least privilege


@pytest.mark.parametrize(
    ("overrides", "bound"),
    [
        ({"OrganizationId": ORG}, {"aws:ResourceOrgID": ORG}),
        ({"RecipientAccounts": LISTED}, {"aws:ResourceAccount": LISTED.split(",")}),
        (
            {"OrganizationId": ORG, "RecipientAccounts": LISTED},
            {"aws:ResourceOrgID": ORG, "aws:ResourceAccount": LISTED.split(",")},
        ),
    ],
)
def test_the_router_may_put_only_its_own_events_on_default_buses_it_is_bounded_to(
    overrides: dict[str, str], bound: dict[str, Any]
) -> None:
    resources = _resolved(overrides)
    statements = _statements(resources)
    assert set(statements) == {"RecipientDefaultBuses", "Logs", "DeadLetters"}
    put = statements["RecipientDefaultBuses"]
    assert (put["Effect"], _as_list(put["Action"])) == ("Allow", ["events:PutEvents"])
    assert put["Resource"] == "arn:aws:events:us-east-1:*:event-bus/default"  # this region's default buses
    assert put["Condition"] == {
        "ForAllValues:StringEquals": {
            "events:source": [forwarded.SOURCE],
            "events:detail-type": [forwarded.DETAIL_TYPE],
        },
        "StringEquals": bound,
    }
    assert statements["Logs"]["Resource"] == "RouterLogGroup.Arn"
    assert _as_list(statements["Logs"]["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert (_as_list(statements["DeadLetters"]["Action"]), statements["DeadLetters"]["Resource"]) == (
        ["sqs:SendMessage"],
        "DeadLetterQueue.Arn",
    )
    role = resources["RouterRole"]["Properties"]
    assert "ManagedPolicyArns" not in role
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert (trust["Principal"], trust["Action"]) == ({"Service": "lambda.amazonaws.com"}, "sts:AssumeRole")


def test_no_wildcard_action_anywhere() -> None:
    for sid, statement in _statements(_resolved({"OrganizationId": ORG})).items():
        for action in _as_list(statement["Action"]):
            assert "*" not in action, sid


def test_only_the_rule_may_invoke_the_router() -> None:
    permission = _resolved({"OrganizationId": ORG})["RouterInvokePermission"]["Properties"]
    assert permission == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": "RouterFunction",
        "Principal": "events.amazonaws.com",
        "SourceAccount": "123456789012",
        "SourceArn": "ShareEventsRule.Arn",
    }


def test_dead_letter_queue_is_encrypted_kept_alarmed_and_only_the_rule_writes_by_policy() -> None:
    queue = RESOURCES["DeadLetterQueue"]["Properties"]
    assert queue == {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True}
    (statement,) = RESOURCES["DeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["ShareEventsRule", "Arn"]}}}
    alarm = RESOURCES["DeadLetterQueueAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}}]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    with_topic = _resolved({"OrganizationId": ORG, "AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:ops"})
    assert with_topic["DeadLetterQueueAlarm"]["Properties"]["AlarmActions"] == [
        "arn:aws:sns:us-east-1:123456789012:ops"
    ]
    assert "AlarmActions" not in _resolved({"OrganizationId": ORG})["DeadLetterQueueAlarm"]["Properties"]


def test_failed_invocations_and_failed_rule_deliveries_land_in_the_dead_letter_queue() -> None:
    function = RESOURCES["RouterFunction"]["Properties"]
    assert function["EventInvokeConfig"]["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]},
    }
    assert function["EventInvokeConfig"]["MaximumEventAgeInSeconds"] == 3600
    (target,) = RESOURCES["ShareEventsRule"]["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["RouterFunction", "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 3600


# ---------------------------------------------------------------- what the function reads


def test_the_handler_exists_and_the_code_is_src() -> None:
    function = RESOURCES["RouterFunction"]["Properties"]
    module, name = function["Handler"].rsplit(".", 1)
    assert callable(getattr(importlib.import_module(module), name))
    assert (PATH.parent / function["CodeUri"]).resolve() == (ROOT / "src").resolve()
    assert function["Runtime"] == load_template(ROOT / "template.yaml")["Globals"]["Function"]["Runtime"]


@pytest.mark.parametrize("overrides", [{"OrganizationId": ORG}, {"RecipientAccounts": LISTED}])
def test_the_function_environment_is_valid_router_settings(overrides: dict[str, str]) -> None:
    resolver = Resolver(TEMPLATE, overrides, account=SHARER)
    env = function_properties(TEMPLATE, "RouterFunction", resolver)["Environment"]["Variables"]
    env = {
        **env,
        "AWS_REGION": "us-east-1",
        "DEAD_LETTER_QUEUE_URL": f"https://sqs.us-east-1.amazonaws.com/{SHARER}/dlq",
    }
    settings = load_router_settings(env)
    assert (settings.own_account, settings.partition, settings.region) == (SHARER, "aws", "us-east-1")
    expected = frozenset(LISTED.split(",")) if "RecipientAccounts" in overrides else None
    assert settings.recipient_accounts == expected


# ---------------------------------------------------------------- the rule against the sample events

PATTERN = RESOURCES["ShareEventsRule"]["Properties"]["EventPattern"]


def test_rule_pattern_lists_exactly_the_create_share_calls_and_no_recipient() -> None:
    assert RESOURCES["ShareEventsRule"]["Properties"]["EventBusName"] == "default"
    assert PATTERN["source"] == ["aws.wellarchitected"]
    assert PATTERN["detail-type"] == ["AWS API Call via CloudTrail"]
    assert set(PATTERN["detail"]) == {"eventSource", "eventName", "errorCode"}
    assert sorted(PATTERN["detail"]["eventName"]) == sorted(CREATE_SHARE_EVENTS)
    assert PATTERN["detail"]["errorCode"] == [{"exists": False}]


@pytest.mark.parametrize("path", SHARE_EVENTS, ids=lambda p: p.name)
def test_pattern_matches_sample_share_events_and_not_their_failures(path: Path) -> None:
    event = json.loads(path.read_text())
    assert _matches(PATTERN, event)
    event["detail"]["errorCode"] = "AccessDenied"
    assert not _matches(PATTERN, event)


@pytest.mark.parametrize(
    "shared_with", ["111111111111", "333333333333", f"arn:aws:iam::{SHARER}:role/R", "o-abcdef1234"]
)
def test_pattern_takes_shares_to_anyone_the_router_decides(shared_with: str) -> None:
    now = datetime(2026, 12, 3, tzinfo=UTC)
    event = share_event("CreateWorkloadShare", SHARER, "us-east-1", {"SharedWith": shared_with}, {}, now)
    assert _matches(PATTERN, event)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("detail", "eventName"), "DeleteWorkloadShare"),
        (("detail", "eventName"), "UpdateShareInvitation"),
        (("source",), forwarded.SOURCE),  # the router's own events never come back to it
        (("detail-type",), forwarded.DETAIL_TYPE),
    ],
)
def test_pattern_rejects_other_events(path: tuple[str, ...], value: str) -> None:
    event = json.loads(SHARE_EVENTS[0].read_text())
    node = event
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert not _matches(PATTERN, event)


# ---------------------------------------------------------------- StackSets


def test_stackset_form_reads_the_code_from_each_regions_bucket() -> None:
    key = "wa-share-router/code-0123456789abcdef0123.zip"
    converted = stackset_template(TEMPLATE, "acme-artifacts", key)
    assert "Transform" not in converted
    assert not [r for r in converted["Resources"].values() if r["Type"].startswith("AWS::Serverless::")]
    function = converted["Resources"]["RouterFunction"]["Properties"]
    assert function["Code"] == {"S3Bucket": {"Fn::Sub": "acme-artifacts-${AWS::Region}"}, "S3Key": key}
    assert set(converted["Parameters"]) == set(TEMPLATE["Parameters"])
    assert converted["Rules"] == TEMPLATE["Rules"]
    assert {"RouterFunctionEventInvokeConfig", "ShareEventsRule", "RouterInvokePermission"} <= set(
        converted["Resources"]
    )


# ---------------------------------------------------------------- what a recipient receives


def test_the_routed_sample_is_what_the_router_makes_of_the_lens_sample() -> None:
    from router.routing import route

    lens = json.loads((ROOT / "events" / "share-lens.json").read_text())
    routed = json.loads((ROOT / "events" / "routed-share.json").read_text())
    share = route(lens, own_account=lens["account"], region=lens["region"])
    assert isinstance(share, forwarded.ForwardedShare)
    assert routed["detail"] == share.detail()
    assert (routed["source"], routed["detail-type"]) == (forwarded.SOURCE, forwarded.DETAIL_TYPE)
    assert routed["account"] == lens["account"]  # EventBridge names the caller of PutEvents: the sharer


def test_the_acceptors_bus_policies_admit_the_routed_sample() -> None:
    routed = json.loads((ROOT / "events" / "routed-share.json").read_text())
    acceptor = load_template(ROOT / "template.yaml")
    for name in ("OrganizationBusPolicy", "AccountsBusPolicy"):
        condition = acceptor["Resources"][name]["Properties"]["Statement"]["Condition"]["ForAllValues:StringEquals"]
        assert routed["source"] in condition["events:source"], name
        assert routed["detail-type"] in condition["events:detail-type"], name
