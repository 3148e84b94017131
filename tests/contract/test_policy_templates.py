"""The policy document's deployment: PolicyParameter in template.yaml (least-privilege read of exactly that
parameter), the central parameter shared through AWS RAM (templates/policy-parameter.yaml), and the
StackSets output that carries both."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from acceptor.settings import load_settings
from policy import Action, Invitation, evaluate, load_document
from tests.support.acceptor_template import PARAMS, RESOURCES, ROLES, TEMPLATE
from tests.support.templates import as_list, statements
from tools.cfn_template import Resolver, function_properties, load_template
from tools.stackset_template import stackset_template

ROOT = Path(__file__).resolve().parents[2]
CENTRAL_PATH = ROOT / "templates" / "policy-parameter.yaml"
CENTRAL = load_template(CENTRAL_PATH)
ACCOUNT = "111111111111"
CENTRAL_ACCOUNT = "999999999999"
REGION = "eu-west-1"
SHARED_ARN = f"arn:aws:ssm:us-east-1:{CENTRAL_ACCOUNT}:parameter/wa-share-acceptor/policy"


def _ssm_statements(
    role: str, policy_parameter: str, *, region: str = REGION, account: str = ACCOUNT
) -> list[dict[str, Any]]:
    """The role's resolved statements that grant any ssm: or kms: action, for a PolicyParameter value."""
    resolver = Resolver(TEMPLATE, {"PolicyParameter": policy_parameter}, region=region, account=account)
    policies = resolver.resolve(ROLES[role]["Properties"]["Policies"])
    return [s for s in statements(policies) if any(a.split(":")[0] in ("ssm", "kms") for a in as_list(s["Action"]))]


# ---------------------------------------------------------------- template.yaml: PolicyParameter


def test_parameters_and_their_defaults() -> None:
    param = PARAMS["PolicyParameter"]
    assert param["Type"] == "String" and param["Default"] == ""
    cache = PARAMS["PolicyCacheSeconds"]
    assert cache["Type"] == "Number"
    assert (cache["Default"], cache["MinValue"], cache["MaxValue"]) == (300, 0, 3600)
    groups = TEMPLATE["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    listed = [p for g in groups for p in g["Parameters"]]
    assert listed.count("PolicyParameter") == 1 and listed.count("PolicyCacheSeconds") == 1


@pytest.mark.parametrize("function", ["SweepFunction", "ShareEventFunction"])
def test_both_functions_get_the_variables(function: str) -> None:
    overrides = {"PolicyParameter": SHARED_ARN, "PolicyCacheSeconds": "60"}
    props = function_properties(TEMPLATE, function, Resolver(TEMPLATE, overrides))
    variables = props["Environment"]["Variables"]
    assert variables["POLICY_PARAMETER"] == SHARED_ARN
    assert variables["POLICY_CACHE_SECONDS"] == "60"
    defaults = function_properties(TEMPLATE, function, Resolver(TEMPLATE))["Environment"]["Variables"]
    assert (defaults["POLICY_PARAMETER"], defaults["POLICY_CACHE_SECONDS"]) == ("", "300")


GOOD_PARAMETERS = [
    "",
    "/wa-share-acceptor/policy",
    "policy",
    "Policy_v2.json-1",
    "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o",  # 15 levels, the most SSM allows
    SHARED_ARN,
    "arn:aws:ssm:eu-west-1:123456789012:parameter/policy",
    "arn:aws-us-gov:ssm:us-gov-west-1:123456789012:parameter/a/b",
    "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/p",
]
BAD_PARAMETERS = [
    " /wa-share-acceptor/policy",
    "/wa-share-acceptor/policy ",
    "/wa share/policy",
    "/wa-share-acceptor/",
    "//policy",
    "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p",  # 16 levels
    "/policy:1",  # a version or label selector is not a name
    "/polícy",
    "/policy\n",
    "arn:aws:ssm:us-east-1:123456789012:parameter//policy",
    "arn:aws:ssm:us-east-1:123456789012:parameter/",
    "arn:aws:ssm:us-east-1:12345678901:parameter/p",
    "arn:aws:ssm::123456789012:parameter/p",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:p",
    "arn:aws:ssm:us-east-1:123456789012:document/p",
    "arn:aws:ssm:us-east-1:123456789012:parameter/*",
    "*",
]


@pytest.mark.parametrize("value", GOOD_PARAMETERS)
def test_policy_parameter_admits_names_and_arns(value: str) -> None:
    assert re.fullmatch(PARAMS["PolicyParameter"]["AllowedPattern"], value)


@pytest.mark.parametrize("value", BAD_PARAMETERS)
def test_policy_parameter_refuses_anything_else(value: str) -> None:
    assert not re.fullmatch(PARAMS["PolicyParameter"]["AllowedPattern"], value)


@pytest.mark.parametrize("value", GOOD_PARAMETERS[1:])
def test_what_the_template_admits_the_functions_accept(value: str) -> None:
    settings = load_settings({"POLICY_PARAMETER": value, "POLICY_CACHE_SECONDS": "300"})
    assert settings.policy_parameter == value


@pytest.mark.parametrize("value", ["policy.yaml", "policies/org.json", "a/b/c/d/e/f/g/h/p.yml", "_p", "p..yaml"])
def test_policy_file_admits_paths_inside_the_code(value: str) -> None:
    assert re.fullmatch(PARAMS["PolicyFile"]["AllowedPattern"], value)
    assert load_settings({"POLICY_FILE": value}).policy_file == value


@pytest.mark.parametrize(
    "value", ["..", "../policy.yaml", "a/../../p", "a/..", "/etc/passwd", "a//b", ".hidden", "a b", "p\n", "pé"]
)
def test_policy_file_refuses_paths_that_leave_it(value: str) -> None:
    assert not re.fullmatch(PARAMS["PolicyFile"]["AllowedPattern"], value)


def test_one_policy_document_at_most() -> None:
    [assertion] = TEMPLATE["Rules"]["OnePolicyDocument"]["Assertions"]
    for parameter, file, ok in (("", "", True), ("/p", "", True), ("", "p.yaml", True), ("/p", "p.yaml", False)):
        resolver = Resolver(TEMPLATE, {"PolicyParameter": parameter, "PolicyFile": file})
        assert resolver.resolve(assertion["Assert"]) is ok
    # what the template refuses at deploy, the functions refuse at run time
    with pytest.raises(ValueError, match="both set"):
        load_settings({"POLICY_PARAMETER": "/p", "POLICY_FILE": "p.yaml"})


@pytest.mark.parametrize("role", ["SweepRole", "ShareEventRole"])
def test_no_parameter_no_ssm_permission(role: str) -> None:
    assert _ssm_statements(role, "") == []


@pytest.mark.parametrize(
    ("value", "resource"),
    [
        ("/wa-share-acceptor/policy", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/wa-share-acceptor/policy"),
        ("policy", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/policy"),
        ("team/policy", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/team/policy"),
        (SHARED_ARN, SHARED_ARN),  # another account's and another region's parameter, as given
    ],
)
@pytest.mark.parametrize("role", ["SweepRole", "ShareEventRole"])
def test_get_parameter_on_exactly_that_parameter(role: str, value: str, resource: str) -> None:
    [statement] = _ssm_statements(role, value)
    assert statement["Effect"] == "Allow"
    assert as_list(statement["Action"]) == ["ssm:GetParameter"]  # no GetParameters, no path reads, no KMS
    assert as_list(statement["Resource"]) == [resource]
    assert "Condition" not in statement


def test_derived_arns_are_arns_the_parameter_itself_would_admit() -> None:
    pattern = PARAMS["PolicyParameter"]["AllowedPattern"]
    for value in GOOD_PARAMETERS[1:]:
        [statement] = _ssm_statements("SweepRole", value)
        (resource,) = as_list(statement["Resource"])
        assert resource.startswith("arn:") and re.fullmatch(pattern, resource), (value, resource)
        assert "*" not in resource and "//" not in resource


def test_no_kms_grant_beyond_the_notification_key() -> None:
    for role in ROLES:
        for value in ("", SHARED_ARN):
            for statement in _ssm_statements(role, value):
                if any(a.startswith("kms:") for a in as_list(statement["Action"])):
                    assert statement["Resource"] == "NotificationKey.Arn", (role, statement)


def test_policy_load_failures_alarm() -> None:
    alarm = RESOURCES["PolicyLoadFailuresAlarm"]["Properties"]
    assert alarm["Namespace"] == {"Ref": "MetricsNamespace"}
    assert alarm["MetricName"] == "PolicyLoadFailures"
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "wa-share-acceptor"}]  # no DryRun dimension
    assert alarm["Statistic"] == "Sum" and alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    expected = {"Fn::If": ["HasEmail", [{"Ref": "NotificationTopic"}], {"Ref": "AWS::NoValue"}]}
    assert alarm["AlarmActions"] == alarm["OKActions"] == expected


# ---------------------------------------------------------------- templates/policy-parameter.yaml


def test_central_template_passes_cfn_lint() -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), str(CENTRAL_PATH)], capture_output=True, text=True, check=False, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_central_template_is_plain_and_lists_every_parameter_once() -> None:
    assert "Transform" not in CENTRAL and "Globals" not in CENTRAL
    assert len(CENTRAL["Description"]) > 80
    groups = CENTRAL["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    listed = [p for g in groups for p in g["Parameters"]]
    assert sorted(listed) == sorted(CENTRAL["Parameters"])
    assert {r["Type"] for r in CENTRAL["Resources"].values()} == {"AWS::SSM::Parameter", "AWS::RAM::ResourceShare"}


def _central(overrides: dict[str, str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    resolver = Resolver(CENTRAL, overrides, region="us-east-1", account=CENTRAL_ACCOUNT)
    resources = {
        name: resolver.resolve(r)
        for name, r in CENTRAL["Resources"].items()
        if "Condition" not in r or resolver.condition(r["Condition"])
    }
    outputs = {
        name: resolver.resolve(o["Value"])
        for name, o in CENTRAL["Outputs"].items()
        if "Condition" not in o or resolver.condition(o["Condition"])
    }
    return resources, outputs


def test_the_parameter_is_an_advanced_string() -> None:
    resources, outputs = _central()
    props = resources["PolicyDocument"]["Properties"]
    assert props["Type"] == "String"  # no KMS key to share, and the acceptors get no kms permission
    assert props["Tier"] == "Advanced"  # RAM shares only advanced parameters
    assert props["Name"] == "/wa-share-acceptor/policy"
    assert props["Value"] == CENTRAL["Parameters"]["InitialDocument"]["Default"]
    assert outputs["ParameterArn"] == SHARED_ARN


def test_the_initial_document_is_valid_and_leaves_everything_pending_in_dry_run() -> None:
    text = CENTRAL["Parameters"]["InitialDocument"]["Default"]
    assert len(text.encode()) <= CENTRAL["Parameters"]["InitialDocument"]["MaxLength"]
    policy = load_document(text, source="InitialDocument")
    assert policy.dry_run is True
    for sharer in (ACCOUNT, CENTRAL_ACCOUNT, "222222222222"):
        for rtype, permission in (("WORKLOAD", "READONLY"), ("LENS", None), ("WORKLOAD", "CONTRIBUTOR")):
            summary = {
                "ShareInvitationId": "a" * 32,
                "SharedBy": sharer,
                "SharedWith": ACCOUNT,
                "ShareResourceType": rtype,
                "PermissionType": permission,
            }
            decision = evaluate(policy, Invitation.from_summary(summary))
            assert decision.action is Action.IGNORE, (sharer, rtype, decision)


def test_not_shared_without_principals() -> None:
    resources, outputs = _central()
    assert set(resources) == {"PolicyDocument"}
    assert "ResourceShareArn" not in outputs


ORG = f"arn:aws:organizations::{CENTRAL_ACCOUNT}:organization/o-abcd123456"
OU = f"arn:aws:organizations::{CENTRAL_ACCOUNT}:ou/o-abcd123456/ou-ab12-abcdefgh"


def test_shared_read_only_inside_the_organization() -> None:
    resources, outputs = _central({"ShareWith": f"{ORG},{OU},{ACCOUNT}"})
    share = resources["PolicyDocumentShare"]["Properties"]
    assert share["Principals"] == [ORG, OU, ACCOUNT]
    assert share["ResourceArns"] == [outputs["ParameterArn"]] == [SHARED_ARN]
    assert share["AllowExternalPrincipals"] is False
    assert share["PermissionArns"] == ["arn:aws:ram::aws:permission/AWSRAMDefaultPermissionSSMParameterReadOnly"]
    assert resources["PolicyDocumentShare"]["DependsOn"] == "PolicyDocument"
    assert outputs["ResourceShareArn"] == "PolicyDocumentShare.Arn"


@pytest.mark.parametrize(
    "value",
    ["", ORG, OU, ACCOUNT, f"{ACCOUNT},222222222222", f"{OU},{ORG}", ORG.replace("arn:aws:", "arn:aws-us-gov:")],
)
def test_share_with_admits(value: str) -> None:
    assert re.fullmatch(CENTRAL["Parameters"]["ShareWith"]["AllowedPattern"], value)


@pytest.mark.parametrize(
    "value",
    [
        "o-abcd123456",  # the id, not the ARN RAM wants
        "ou-ab12-abcdefgh",
        f"{ACCOUNT}, 222222222222",
        f"{ACCOUNT},",
        ",",
        "*",
        "1111111111111",
        f"arn:aws:iam::{ACCOUNT}:root",
        f"arn:aws:iam::{ACCOUNT}:role/x",
        f"arn:aws:organizations::{CENTRAL_ACCOUNT}:organization/o-ABCD123456",
        f"arn:aws:organizations::{CENTRAL_ACCOUNT}:ou/o-abcd123456/",
        f"{ACCOUNT}\n",
    ],
)
def test_share_with_refuses(value: str) -> None:
    assert not re.fullmatch(CENTRAL["Parameters"]["ShareWith"]["AllowedPattern"], value)


@pytest.mark.parametrize("value", ["/wa-share-acceptor/policy", "/p", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o", "/A_b.c-1"])
def test_parameter_name_admits_paths(value: str) -> None:
    assert re.fullmatch(CENTRAL["Parameters"]["ParameterName"]["AllowedPattern"], value)


@pytest.mark.parametrize(
    "value", ["policy", "/", "//p", "/p/", "/a b", "/p:1", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p", "/é", "/p\n"]
)
def test_parameter_name_refuses_the_rest(value: str) -> None:
    # a leading "/" is required: the ARN is built as parameter<name>
    assert not re.fullmatch(CENTRAL["Parameters"]["ParameterName"]["AllowedPattern"], value)


@pytest.mark.parametrize("name", ["/wa-share-acceptor/policy", "/org/security/wa-policy"])
def test_the_central_arn_is_what_every_acceptor_may_read(name: str) -> None:
    # Given the central stack's ParameterArn output in us-east-1
    _, outputs = _central({"ParameterName": name})
    arn = outputs["ParameterArn"]
    # When it is an acceptor's PolicyParameter in any account and region
    assert re.fullmatch(PARAMS["PolicyParameter"]["AllowedPattern"], arn)
    for role in ROLES:
        [statement] = _ssm_statements(role, arn)
        # Then the acceptor may call GetParameter on exactly that ARN
        assert as_list(statement["Resource"]) == [arn]
    # and an acceptor in the central account and region, given the bare name, derives the same ARN
    [same] = _ssm_statements("SweepRole", name, region="us-east-1", account=CENTRAL_ACCOUNT)
    assert as_list(same["Resource"]) == [arn]


# ---------------------------------------------------------------- StackSets output


@pytest.fixture(scope="module")
def converted() -> dict[str, Any]:
    return stackset_template(TEMPLATE, "acme-artifacts", "wa-share-acceptor/code-0123456789abcdef0123.zip")


def test_stackset_output_carries_the_parameters_and_the_conditional_read(converted: dict[str, Any]) -> None:
    assert {"PolicyParameter", "PolicyCacheSeconds"} <= set(converted["Parameters"])
    assert {"HasPolicyParameter", "PolicyParameterIsArn", "PolicyParameterIsPath"} <= set(converted["Conditions"])
    for name in ("SweepFunction", "ShareEventFunction"):
        variables = converted["Resources"][name]["Properties"]["Environment"]["Variables"]
        assert variables["POLICY_PARAMETER"] == {"Ref": "PolicyParameter"}
        assert variables["POLICY_CACHE_SECONDS"] == {"Ref": "PolicyCacheSeconds"}
    for role in ROLES:
        resolved = Resolver(converted, {"PolicyParameter": SHARED_ARN}).resolve(converted["Resources"][role])
        reads = [s for s in statements(resolved) if "ssm:GetParameter" in as_list(s["Action"])]
        assert [as_list(s["Resource"]) for s in reads] == [[SHARED_ARN]], role
        unset = Resolver(converted).resolve(converted["Resources"][role])
        assert not [s for s in statements(unset) if "ssm:GetParameter" in as_list(s["Action"])], role
    assert "PolicyLoadFailuresAlarm" in converted["Resources"]
