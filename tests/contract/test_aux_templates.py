"""templates/*.yaml (Organizations lookup role, sharer forwarding rule) stay lint-clean and tight."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
from moto.events.models import EventPattern

from simulator.service import share_event
from tools.cfn_template import Resolver, load_template

ROOT = Path(__file__).resolve().parents[2]
LOOKUP_PATH = ROOT / "templates" / "org-lookup-role.yaml"
FORWARDING_PATH = ROOT / "templates" / "sharer-forwarding.yaml"
LOOKUP = load_template(LOOKUP_PATH)
FORWARDING = load_template(FORWARDING_PATH)
RECIPIENT = "111111111111"
SHARER = "222222222222"
TARGET_BUS = f"arn:aws:events:us-east-1:{RECIPIENT}:event-bus/default"
SHARE_EVENTS = sorted(p for p in (ROOT / "events").glob("share-*.json") if p.name != "share-batch.json")
CREATE_SHARE_EVENTS = ["CreateWorkloadShare", "CreateLensShare", "CreateProfileShare", "CreateTemplateShare"]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _only(template: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    found = [(k, v) for k, v in template["Resources"].items() if v["Type"] == resource_type]
    assert len(found) == 1, f"expected one {resource_type}, found {[k for k, _ in found]}"
    return found[0]


def _policy_statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in role["Properties"].get("Policies", []) for s in p["PolicyDocument"]["Statement"]]


def _matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge matching by moto's matcher (it implements `$or` and `exists`; see test_template_queue.py)."""
    return EventPattern.load(json.dumps(pattern)).matches_event(event)


# ---------------------------------------------------------------- both templates


@pytest.mark.parametrize("path", [LOOKUP_PATH, FORWARDING_PATH], ids=lambda p: p.name)
def test_cfn_lint_passes(path: Path) -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("template", [LOOKUP, FORWARDING], ids=["lookup", "forwarding"])
def test_plain_cloudformation(template: dict[str, Any]) -> None:
    assert "Transform" not in template
    assert "Globals" not in template
    types = {r["Type"] for r in template["Resources"].values()}
    assert not {t for t in types if t.startswith("AWS::Serverless::")}
    assert len(template["Description"]) > 80


@pytest.mark.parametrize("template", [LOOKUP, FORWARDING], ids=["lookup", "forwarding"])
def test_interface_lists_every_parameter_once(template: dict[str, Any]) -> None:
    groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    listed = [p for g in groups for p in g["Parameters"]]
    assert sorted(listed) == sorted(template["Parameters"])


# ---------------------------------------------------------------- Organizations lookup role


def test_lookup_template_is_one_role_with_its_arn_as_output() -> None:
    assert set(r["Type"] for r in LOOKUP["Resources"].values()) == {"AWS::IAM::Role"}
    name, role = _only(LOOKUP, "AWS::IAM::Role")
    props = role["Properties"]
    assert props["RoleName"] == {"Ref": "RoleName"}
    assert props["MaxSessionDuration"] == 3600
    assert "ManagedPolicyArns" not in props
    assert LOOKUP["Outputs"]["RoleArn"]["Value"] == {"Fn::GetAtt": [name, "Arn"]}
    assert LOOKUP["Parameters"]["RoleName"]["Default"] == "wa-share-acceptor-org-lookup"


def test_lookup_role_allows_only_list_parents() -> None:
    statements = _policy_statements(_only(LOOKUP, "AWS::IAM::Role")[1])
    assert [s["Effect"] for s in statements] == ["Allow"]
    assert [_as_list(s["Action"]) for s in statements] == [["organizations:ListParents"]]
    assert _as_list(statements[0]["Resource"]) == ["*"]  # ListParents has no resource-level permissions


def test_lookup_trust_needs_the_organization_and_the_acceptor_role_names() -> None:
    trust = _only(LOOKUP, "AWS::IAM::Role")[1]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert len(trust) == 1
    (statement,) = trust
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": "*"}
    assert _as_list(statement["Action"]) == ["sts:AssumeRole"]
    condition = Resolver(LOOKUP, {"OrganizationId": "o-abcdef1234"}).resolve(statement["Condition"])
    assert condition == {
        "StringEquals": {"aws:PrincipalOrgID": "o-abcdef1234"},
        "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/wa-share-acceptor-*"},
    }
    pattern = condition["ArnLike"]["aws:PrincipalArn"]
    for region in ("us-east-1", "eu-west-1"):
        for kind in ("sweep", "event"):
            assert fnmatchcase(f"arn:aws:iam::{SHARER}:role/wa-share-acceptor-{region}-{kind}", pattern)
    assert not fnmatchcase(f"arn:aws:iam::{SHARER}:role/PlatformAdmin", pattern)
    assert not fnmatchcase(f"arn:aws:iam::{SHARER}:user/wa-share-acceptor-x", pattern)


def test_lookup_prefix_matches_the_acceptor_default() -> None:
    acceptor = load_template(ROOT / "template.yaml")["Parameters"]["RoleNamePrefix"]
    mine = LOOKUP["Parameters"]["AcceptorRoleNamePrefix"]
    assert mine["Default"] == acceptor["Default"] == "wa-share-acceptor"
    assert mine["AllowedPattern"] == acceptor["AllowedPattern"]


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("o-a1b2c3d4e5", True),
        ("o-" + "a" * 32, True),
        ("o-a1b2c3d4e", False),
        ("o-A1B2C3D4E5", False),
        ("r-a1b2c3d4e5", False),
        ("", False),
        ("o-a1b2c3d4e5 ", False),
    ],
)
def test_organization_id_pattern(value: str, ok: bool) -> None:
    pattern = LOOKUP["Parameters"]["OrganizationId"]["AllowedPattern"]
    assert "Default" not in LOOKUP["Parameters"]["OrganizationId"]
    assert bool(re.fullmatch(pattern, value)) is ok


# ---------------------------------------------------------------- sharer forwarding


def _resolved_forwarding() -> dict[str, Any]:
    return Resolver(FORWARDING, {"RecipientAccountId": RECIPIENT}).resolve(FORWARDING["Resources"])


def test_recipient_account_pattern() -> None:
    pattern = FORWARDING["Parameters"]["RecipientAccountId"]["AllowedPattern"]
    assert re.fullmatch(pattern, RECIPIENT)
    for bad in ("", "11111111111", "1111111111111", "11111111111a", "*"):
        assert not re.fullmatch(pattern, bad), bad


def test_rule_pattern_lists_exactly_the_create_share_calls() -> None:
    _, rule = _only(FORWARDING, "AWS::Events::Rule")
    pattern = rule["Properties"]["EventPattern"]
    assert rule["Properties"].get("EventBusName", "default") == "default"
    assert pattern["source"] == ["aws.wellarchitected"]
    assert pattern["detail-type"] == ["AWS API Call via CloudTrail"]
    assert pattern["detail"]["eventSource"] == ["wellarchitected.amazonaws.com"]
    assert sorted(pattern["detail"]["eventName"]) == sorted(CREATE_SHARE_EVENTS)
    assert set(pattern["detail"]) == {"eventSource", "eventName", "errorCode", "$or"}
    assert pattern["detail"]["errorCode"] == [{"exists": False}]
    recipient = {"Ref": "RecipientAccountId"}
    assert pattern["detail"]["$or"] == [
        {"requestParameters": {"SharedWith": [recipient]}},
        {"requestParameters": {"sharedWith": [recipient]}},
    ]


def test_rule_targets_only_the_recipient_bus_with_retries_and_a_dead_letter_queue() -> None:
    resources = _resolved_forwarding()
    rule_id, _ = _only(FORWARDING, "AWS::Events::Rule")
    role_id, _ = _only(FORWARDING, "AWS::IAM::Role")
    queue_id, _ = _only(FORWARDING, "AWS::SQS::Queue")
    (target,) = resources[rule_id]["Properties"]["Targets"]
    assert target["Arn"] == TARGET_BUS
    assert target["RoleArn"] == f"{role_id}.Arn"
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 24}
    assert target["DeadLetterConfig"] == {"Arn": f"{queue_id}.Arn"}


def test_forwarding_role_may_only_put_events_on_the_target_bus() -> None:
    resources = _resolved_forwarding()
    role_id, _ = _only(FORWARDING, "AWS::IAM::Role")
    role = resources[role_id]["Properties"]
    assert "ManagedPolicyArns" not in role
    statements = _policy_statements(resources[role_id])
    assert [(s["Effect"], _as_list(s["Action"]), _as_list(s["Resource"])) for s in statements] == [
        ("Allow", ["events:PutEvents"], [TARGET_BUS])
    ]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert _as_list(trust["Action"]) == ["sts:AssumeRole"]
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_dead_letter_queue_is_encrypted_kept_and_only_writable_by_the_rule() -> None:
    rule_id, _ = _only(FORWARDING, "AWS::Events::Rule")
    queue_id, queue = _only(FORWARDING, "AWS::SQS::Queue")
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["Properties"]["MessageRetentionPeriod"] == 1209600
    _, policy = _only(FORWARDING, "AWS::SQS::QueuePolicy")
    assert policy["Properties"]["Queues"] == [{"Ref": queue_id}]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert _as_list(statement["Action"]) == ["sqs:SendMessage"]
    assert statement["Resource"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}


def test_forwarding_outputs() -> None:
    outputs = FORWARDING["Outputs"]
    rule_id, _ = _only(FORWARDING, "AWS::Events::Rule")
    role_id, _ = _only(FORWARDING, "AWS::IAM::Role")
    queue_id, _ = _only(FORWARDING, "AWS::SQS::Queue")
    assert outputs["RuleArn"]["Value"] == {"Fn::GetAtt": [rule_id, "Arn"]}
    assert outputs["ForwardingRoleArn"]["Value"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert outputs["DeadLetterQueueUrl"]["Value"] == {"Ref": queue_id}


def test_description_says_cloudtrail_is_needed() -> None:
    assert "CloudTrail must be enabled" in " ".join(FORWARDING["Description"].split())


# ---------------------------------------------------------------- the pattern against the sample events

PATTERN = Resolver(FORWARDING, {"RecipientAccountId": RECIPIENT}).resolve(
    _only(FORWARDING, "AWS::Events::Rule")[1]["Properties"]["EventPattern"]
)


def test_there_is_a_sample_event_for_every_share_call() -> None:
    with_id = [p for p in SHARE_EVENTS if "ShareId" in json.loads(p.read_text())["detail"]["responseElements"]]
    names = sorted(json.loads(p.read_text())["detail"]["eventName"] for p in with_id)
    assert names == sorted(CREATE_SHARE_EVENTS)  # and share-workload-no-shareid.json, the sharer-hint sample


@pytest.mark.parametrize("path", SHARE_EVENTS, ids=lambda p: p.name)
def test_pattern_matches_sample_share_event(path: Path) -> None:
    assert _matches(PATTERN, json.loads(path.read_text()))


def test_pattern_does_not_match_the_scheduled_sweep() -> None:
    assert not _matches(PATTERN, json.loads((ROOT / "events" / "scheduled-sweep.json").read_text()))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("detail", "eventName"), "DeleteWorkloadShare"),
        (("detail", "eventName"), "UpdateShareInvitation"),
        (("detail", "eventSource"), "organizations.amazonaws.com"),
        (("source",), "aws.organizations"),
        (("detail-type",), "AWS Service Event via CloudTrail"),
    ],
)
def test_pattern_rejects_other_calls(path: tuple[str, ...], value: str) -> None:
    event = json.loads(SHARE_EVENTS[0].read_text())
    node = event
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert not _matches(PATTERN, event)


def _share(event_name: str, shared_with_key: str, shared_with: str) -> dict[str, Any]:
    request = {shared_with_key: shared_with, "ClientRequestToken": "8d1c3a52-5f0e-4c3b-9f7e-2a6b1d9c0e41"}
    now = datetime(2026, 11, 23, 3, 10, tzinfo=UTC)
    return share_event(event_name, SHARER, "us-east-1", request, {"ShareId": "e" * 32}, now)


@pytest.mark.parametrize("event_name", CREATE_SHARE_EVENTS)
@pytest.mark.parametrize("key", ["SharedWith", "sharedWith"])
def test_pattern_forwards_only_shares_for_the_recipient(event_name: str, key: str) -> None:
    assert _matches(PATTERN, _share(event_name, key, RECIPIENT))
    for other in ("333333333333", f"arn:aws:iam::{RECIPIENT}:role/Reviewer", "o-abcdefghij", RECIPIENT + "0"):
        assert not _matches(PATTERN, _share(event_name, key, other)), other


def test_pattern_ignores_a_share_without_a_recipient() -> None:
    event = _share("CreateWorkloadShare", "SharedWith", RECIPIENT)
    del event["detail"]["requestParameters"]["SharedWith"]
    assert not _matches(PATTERN, event)


@pytest.mark.parametrize("path", SHARE_EVENTS, ids=lambda p: p.name)
def test_pattern_does_not_forward_failed_calls(path: Path) -> None:
    event = json.loads(path.read_text())
    event["detail"]["errorCode"] = "AccessDenied"
    event["detail"]["errorMessage"] = "User is not authorized to perform: wellarchitected:CreateWorkloadShare"
    event["detail"]["responseElements"] = None
    assert not _matches(PATTERN, event)


def test_pattern_is_resolved_per_recipient() -> None:
    rule = _only(FORWARDING, "AWS::Events::Rule")[1]["Properties"]["EventPattern"]
    other = Resolver(FORWARDING, {"RecipientAccountId": "333333333333"}).resolve(rule)
    assert not _matches(other, json.loads(SHARE_EVENTS[0].read_text()))
