"""template.yaml stays honest: lint-clean, least-privilege, parameters wired to the documented variables."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.templates import as_list, statements
from tools.cfn_template import Resolver, function_properties, load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = TEMPLATE["Resources"]
FUNCTIONS = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"}

ALLOWED_ACTIONS = {
    "wellarchitected:ListShareInvitations",
    "wellarchitected:UpdateShareInvitation",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "sqs:SendMessage",
    "sqs:ReceiveMessage",  # these three only on ShareEventQueue (tests/contract/test_template_queue.py)
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sts:AssumeRole",  # only on OrganizationsRoleArn, only when set
    "sns:Publish",  # only on the notification topic, only when set
    "kms:GenerateDataKey",  # only on the topic's key, only through SNS, only when set
    "kms:Decrypt",
    "events:PutEvents",  # only on DecisionEventBus, or CentralEventBusArn (tests/contract/test_template_hub.py)
    "xray:PutTraceSegments",  # only when EnableTracing=true
    "xray:PutTelemetryRecords",
    "ssm:GetParameter",  # only on PolicyParameter, only when set (tests/contract/test_policy_templates.py)
    "s3:GetObject",  # only on PolicyS3Uri's object, only when set (tests/contract/test_policy_s3_templates.py)
    "s3:GetObjectVersion",  # the same, when it pins a version
    "dynamodb:PutItem",  # these three only on the lease and the sweep itself (test_template_continuation.py)
    "dynamodb:DeleteItem",
    "lambda:InvokeFunction",
}
STAR_RESOURCE_OK = {"wellarchitected", "xray"}  # these actions support no resource ARNs

PARAMETER_FOR_ENV = {
    "ALLOWED_SOURCE_ACCOUNTS": "AllowedSourceAccounts",
    "ALLOWED_SOURCE_OUS": "AllowedSourceOUs",
    "DENIED_SOURCE_ACCOUNTS": "DeniedSourceAccounts",
    "DENIED_SOURCE_OUS": "DeniedSourceOUs",
    "ALLOWED_RESOURCE_TYPES": "AllowedResourceTypes",
    "ALLOWED_PERMISSION_TYPES": "AllowedPermissionTypes",
    "NON_MATCHING_ACTION": "NonMatchingAction",
    "DRY_RUN": "DryRun",
    "POLICY_PARAMETER": "PolicyParameter",
    "POLICY_CACHE_SECONDS": "PolicyCacheSeconds",
    "POLICY_FILE": "PolicyFile",
    "POLICY_S3_URI": "PolicyS3Uri",
    "POLICY_S3_REGION": "PolicyS3Region",
    "ORGANIZATIONS_ROLE_ARN": "OrganizationsRoleArn",
    "ORG_CACHE_TTL_SECONDS": "OrgCacheTtlSeconds",
    "MAX_WORKERS": "SweepConcurrency",
    "POWERTOOLS_METRICS_NAMESPACE": "MetricsNamespace",
    "POWERTOOLS_LOG_LEVEL": "LogLevel",
}


def test_cfn_lint_passes() -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), str(ROOT / "template.yaml")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


ROLE_STATEMENTS = [
    (name, s)
    for name, r in RESOURCES.items()
    if r["Type"] == "AWS::IAM::Role"
    for s in statements(r["Properties"].get("Policies", []))
] + [
    (r["Properties"]["RoleName"]["Ref"], s)
    for r in RESOURCES.values()
    if r["Type"] == "AWS::IAM::RolePolicy"
    for s in statements(r["Properties"]["PolicyDocument"])
]


def test_roles_grant_only_the_allowed_actions_and_no_wildcards() -> None:
    assert ROLE_STATEMENTS, "no role policies found"
    for role, statement in ROLE_STATEMENTS:
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"{role}: wildcard action {action}"
            assert action in ALLOWED_ACTIONS, f"{role}: action {action} is beyond least privilege"


def test_star_resources_only_where_iam_allows_nothing_narrower() -> None:
    for role, statement in ROLE_STATEMENTS:
        if "*" in as_list(statement["Resource"]):
            services = {a.split(":")[0] for a in as_list(statement["Action"])}
            assert services <= STAR_RESOURCE_OK, f"{role}: Resource '*' for {services}"


def test_functions_use_explicit_roles_and_no_sam_policy_templates() -> None:
    for name, fn in FUNCTIONS.items():
        props = fn["Properties"]
        assert "Role" in props, name
        assert "Policies" not in props, f"{name}: SAM policies would add actions outside the review"
    assert all(r["Type"] != "AWS::IAM::ManagedPolicy" for r in RESOURCES.values())
    for name, r in RESOURCES.items():
        if r["Type"] == "AWS::IAM::Role":
            assert "ManagedPolicyArns" not in r["Properties"], name


def test_runtime_and_handlers_resolve() -> None:
    assert TEMPLATE["Globals"]["Function"]["Runtime"] == "python3.13"
    sys.path.insert(0, str(ROOT / "src"))
    for name in FUNCTIONS:
        props = function_properties(TEMPLATE, name, Resolver(TEMPLATE))
        module, _, attr = props["Handler"].rpartition(".")
        assert callable(getattr(importlib.import_module(module), attr)), name
        assert (ROOT / props["CodeUri"] / "requirements.txt").exists()


def test_environment_variables_come_from_their_parameters() -> None:
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    for env, param in PARAMETER_FOR_ENV.items():
        assert variables[env] == {"Ref": param}, env
        assert param in TEMPLATE["Parameters"], param


def test_parameter_defaults_are_the_documented_ones() -> None:
    defaults = {k: str(v.get("Default")) for k, v in TEMPLATE["Parameters"].items()}
    assert defaults["AllowedSourceAccounts"] == ""
    assert defaults["AllowedSourceOUs"] == ""
    assert defaults["DeniedSourceAccounts"] == ""
    assert defaults["AllowedResourceTypes"] == "WORKLOAD,LENS,PROFILE,TEMPLATE"
    assert defaults["AllowedPermissionTypes"] == "READONLY"
    assert defaults["NonMatchingAction"] == "IGNORE"
    assert defaults["DryRun"] == "true"
    assert defaults["SweepIntervalMinutes"] == "60"
    assert defaults["HeartbeatPeriods"] == "2"
    assert defaults["PermissionsBoundary"] == ""
    assert defaults["EnableTracing"] == "false"


@pytest.mark.parametrize(
    ("param", "good", "bad"),
    [
        (
            "AllowedSourceAccounts",
            ["", "123456789012", "123456789012,210987654321", " 123456789012 , 210987654321"],
            ["12345678901", "1234567890123", "123456789012,", "arn:aws:iam::123456789012:root", "12345678901a"],
        ),
        (
            "AllowedSourceOUs",
            ["", "ou-ab12-abcdefgh", "r-ab12,ou-ab12-abcdefgh12"],
            ["ou-1", "o-abcdefghij", "ou-AB12-abcdefgh"],
        ),
        (
            "AllowedResourceTypes",
            ["WORKLOAD", "LENS,PROFILE", "WORKLOAD,LENS,PROFILE,TEMPLATE"],
            ["", "workload", "STACK"],
        ),
        (
            "OrganizationsRoleArn",
            ["", "arn:aws:iam::123456789012:role/wa-share-acceptor-org-lookup"],
            ["arn:aws:iam::123456789012:user/x", "role/x"],
        ),
        ("EventSourceOrganizationId", ["", "o-abcdefghij"], ["o-short", "ou-ab12-abcdefgh"]),
        ("NotificationEmail", ["", "ops@example.com"], ["not-an-email", "a b@example.com"]),
    ],
)
def test_allowed_patterns(param: str, good: list[str], bad: list[str]) -> None:
    pattern = re.compile(TEMPLATE["Parameters"][param]["AllowedPattern"])
    for value in good:
        assert pattern.fullmatch(value), f"{param} should accept {value!r}"
    for value in bad:
        assert not pattern.fullmatch(value), f"{param} should refuse {value!r}"


def test_log_groups_have_retention_and_functions_use_them() -> None:
    for name, fn in FUNCTIONS.items():
        group = fn["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert RESOURCES[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name


def test_alarms_cover_failures_invalid_events_and_dead_letters() -> None:
    alarmed = {r["Properties"]["MetricName"] for r in RESOURCES.values() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert {"DecisionFailures", "InvalidEvents", "ApproximateNumberOfMessagesVisible"} <= alarmed
