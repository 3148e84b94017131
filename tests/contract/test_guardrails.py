"""The guardrail SCPs, evaluated statement by statement with IAM's documented matching (tests/iam_match.py)
against the principals that must keep working and the ones that must be stopped."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.iam_match import Request, arn_like, denied, statement_applies
from tools import guardrails
from tools.cfn_template import Resolver, load_template
from tools.guardrails import GuardrailError, parse_settings

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "wa-share-acceptor"
MEMBER, OTHER_MEMBER, CENTRAL = "111111111111", "222222222222", "999999999999"
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-7")
PARAMETER = f"arn:aws:ssm:us-east-1:{CENTRAL}:parameter/wa-share-acceptor/policy"
BUCKET, KEY = "central-policies", "wa-share-acceptor/policy.yaml"
SSO_BREAK_GLASS = "aws-reserved/sso.amazonaws.com/AWSReservedSSO_BreakGlass_*"

SETTINGS = parse_settings(
    {
        "RoleNamePrefix": PREFIX,
        "BREAK_GLASS_ROLES": f"BreakGlass,{SSO_BREAK_GLASS}",
        "INVITEE_ROLES": "WorkloadReviewer",
        "POLICY_PARAMETER": PARAMETER,
        "POLICY_S3_URI": f"s3://{BUCKET}/{KEY}?versionId=3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
        "POLICY_OWNER_ROLES": "PolicyOwner",
    }
)
SCPS = {name: json.loads(text) for name, text in guardrails.render(SETTINGS).items()}


def role(name: str, account: str = MEMBER, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:role/{name}"


# ------------------------------------------------------------------ who is who

ACCEPTOR_ROLES = [
    role(f"{PREFIX}-{r}-{kind}", a) for a in (MEMBER, OTHER_MEMBER) for r in REGIONS for kind in ("sweep", "event")
]
BREAK_GLASS = [
    role("BreakGlass"),
    role("BreakGlass", OTHER_MEMBER),
    role(SSO_BREAK_GLASS.replace("*", "0123456789abcdef")),
]
DEPLOYERS = [
    role("stacksets-exec-0a1b2c3d4e5f60718293a4b5c6d7e8f9"),  # service-managed StackSets
    role("AWSCloudFormationStackSetExecutionRole", OTHER_MEMBER),  # self-managed StackSets
]
INVITEE = role("WorkloadReviewer")
OWNER = role("PolicyOwner", CENTRAL)
ADMINS = [
    role("Admin"),
    role("OrganizationAccountAccessRole"),
    role("aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef"),
    f"arn:aws:iam::{MEMBER}:user/alice",
    f"arn:aws:iam::{MEMBER}:root",
]
LOOK_ALIKES = [
    role(f"evil/{PREFIX}-us-east-1-sweep"),  # the right name under another path
    role(f"{PREFIX}-us-east-1-sweeper"),
    role(f"{PREFIX}-sweep"),
    role(f"{PREFIX.upper()}-US-EAST-1-SWEEP"),  # ArnLike is case-sensitive
    role(f"x{PREFIX}-us-east-1-event"),
    f"arn:aws:iam::{MEMBER}:user/{PREFIX}-us-east-1-sweep",  # a user, not a role
    f"arn:aws:iam::11111111111:role/{PREFIX}-us-east-1-sweep",  # an 11-character account
    f"arn:aws:iam::{MEMBER}1:role/{PREFIX}-us-east-1-sweep",  # a 13-character account
    f"arn:aws:sts::{MEMBER}:assumed-role/{PREFIX}-us-east-1-sweep/session",  # a session ARN is not a role ARN
    role("BreakGlassX"),
    role("breakglass"),
    role("evil/BreakGlass"),
    role("stacksets-exec"),  # not stacksets-exec-<id>
]
LOOKUP_ROLE_AND_ITS_CALLERS = [
    role(f"{PREFIX}-org-lookup", CENTRAL),  # the Organizations lookup role (default name) and its sessions
    role(f"{PREFIX}-org-lookup"),  # the same name in a delegated-administrator member account
    role(f"{PREFIX}-lookup-caller"),  # a role an administrator names <prefix>-* to reach the lookup role
]
EVERYONE = (
    ACCEPTOR_ROLES + BREAK_GLASS + DEPLOYERS + [INVITEE, OWNER] + ADMINS + LOOK_ALIKES + LOOKUP_ROLE_AND_ITS_CALLERS
)


def statements(scp: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in SCPS[scp]["Statement"]}


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def _check(statement: dict[str, Any], requests: list[Request], allowed: list[str]) -> None:
    """Every request is denied to everyone except the allowed principals, who are never denied."""
    assert requests
    for request in requests:
        for principal in EVERYONE:
            call = Request(request.action, request.resource, principal, request.context)
            expected = principal not in allowed
            assert statement_applies(statement, call) is expected, (principal, request.action, request.resource)


# ------------------------------------------------------------------ who may answer invitations


def test_only_the_acceptor_roles_break_glass_and_invitees_answer_invitations() -> None:
    statement = statements("decisions")["OnlyTheAcceptorAnswersInvitations"]
    assert _actions(statement) == ["wellarchitected:UpdateShareInvitation"]
    assert statement["Resource"] == "*"  # the action supports no resource ARN (DOMAIN.md)
    request = Request("wellarchitected:UpdateShareInvitation", "*", "")
    _check(statement, [request], ACCEPTOR_ROLES + BREAK_GLASS + [INVITEE])


def test_without_invitees_an_invitation_to_a_role_stays_unanswerable() -> None:
    """The documented rule: share with the account; a principal-addressed invitation is left pending."""
    plain = parse_settings({"RoleNamePrefix": PREFIX})
    (statement,) = json.loads(guardrails.render(plain)["decisions"])["Statement"]
    call = Request("wellarchitected:UpdateShareInvitation", "*", INVITEE)
    assert statement_applies(statement, call)
    assert not statement_applies(statement, Request(call.action, "*", ACCEPTOR_ROLES[0]))


def test_an_invitee_can_answer_any_invitation_of_its_account() -> None:
    """Why INVITEE_ROLES is a trade-off (docs/guardrails.md): no condition key tells invitations apart."""
    statement = statements("decisions")["OnlyTheAcceptorAnswersInvitations"]
    assert set(statement["Condition"]) == {"ArnNotLike"}
    assert set(statement["Condition"]["ArnNotLike"]) == {"aws:PrincipalArn"}


# ------------------------------------------------------------------ who may change the policy document


def test_only_policy_owners_change_the_policy_parameter() -> None:
    statement = statements("decisions")["OnlyPolicyOwnersChangeThePolicyParameter"]
    assert set(_actions(statement)) == {"ssm:PutParameter", "ssm:DeleteParameter", "ssm:DeleteParameters"}
    requests = [Request(a, PARAMETER, "") for a in _actions(statement)]
    _check(statement, requests, [OWNER, *BREAK_GLASS])
    other = PARAMETER.replace("policy", "other")
    assert not statement_applies(statement, Request("ssm:PutParameter", other, ADMINS[0]))


def test_a_parameter_name_is_protected_in_every_account_and_region() -> None:
    local = parse_settings(
        {"RoleNamePrefix": PREFIX, "POLICY_PARAMETER": "/team/policy", "POLICY_OWNER_ROLES": "Owner"}
    )
    (_, statement) = json.loads(guardrails.render(local)["decisions"])["Statement"]
    for account in (MEMBER, OTHER_MEMBER):
        for region in REGIONS:
            arn = f"arn:aws:ssm:{region}:{account}:parameter/team/policy"
            assert statement_applies(statement, Request("ssm:PutParameter", arn, ADMINS[0]))
            assert not statement_applies(statement, Request("ssm:PutParameter", arn, role("Owner", account)))
    assert not statement_applies(
        statement, Request("ssm:PutParameter", f"arn:aws:ssm:us-east-1:{MEMBER}:parameter/team/policy2", ADMINS[0])
    )


def test_only_policy_owners_write_the_policy_object() -> None:
    statement = statements("decisions")["OnlyPolicyOwnersChangeThePolicyObject"]
    obj, bucket = f"arn:aws:s3:::{BUCKET}/{KEY}", f"arn:aws:s3:::{BUCKET}"
    assert statement["Resource"] == [obj, bucket]  # the version id pins reads, not writes
    requests = [Request(a, bucket if ("Bucket" in a or "Replication" in a) else obj, "") for a in _actions(statement)]
    _check(statement, requests, [OWNER, *BREAK_GLASS])
    for other in (f"arn:aws:s3:::{BUCKET}/other.yaml", f"arn:aws:s3:::other-bucket/{KEY}"):
        assert not statement_applies(statement, Request("s3:PutObject", other, ADMINS[0]))


def test_no_policy_source_no_policy_statements() -> None:
    plain = parse_settings({"RoleNamePrefix": PREFIX})
    sids = [s["Sid"] for s in json.loads(guardrails.render(plain)["decisions"])["Statement"]]
    assert sids == ["OnlyTheAcceptorAnswersInvitations"]


# ------------------------------------------------------------------ who may change the stack


def _template_names(prefix: str, region: str) -> dict[str, list[str]]:
    """The physical names template.yaml gives its resources, resolved for this prefix and region."""
    template = load_template(ROOT / "template.yaml")
    resolver = Resolver(template, {"RoleNamePrefix": prefix}, region=region)
    names: dict[str, list[str]] = {"function": [], "queue": [], "rule": [], "alarm": [], "role": []}
    keys = {
        "AWS::Serverless::Function": ("function", "FunctionName"),
        "AWS::SQS::Queue": ("queue", "QueueName"),
        "AWS::Events::Rule": ("rule", "Name"),
        "AWS::CloudWatch::Alarm": ("alarm", "AlarmName"),
        "AWS::IAM::Role": ("role", "RoleName"),
    }
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] in keys:
            kind, prop = keys[resource["Type"]]
            assert prop in resource["Properties"], f"{logical_id} has no {prop}: the guardrails cannot protect it"
            names[kind].append(resolver.resolve(resource["Properties"][prop]))
        if resource["Type"] == "AWS::Serverless::Function":
            for event_id, event in resource["Properties"].get("Events", {}).items():
                if event["Type"] == "Schedule":
                    assert "Name" in event["Properties"], f"{logical_id}.{event_id}: a schedule rule needs a name"
                    names["rule"].append(resolver.resolve(event["Properties"]["Name"]))
    return names


def _arn(kind: str, name: str, account: str, region: str) -> str:
    return {
        "function": f"arn:aws:lambda:{region}:{account}:function:{name}",
        "queue": f"arn:aws:sqs:{region}:{account}:{name}",
        "rule": f"arn:aws:events:{region}:{account}:rule/{name}",
        "alarm": f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}",
        "role": f"arn:aws:iam::{account}:role/{name}",
    }[kind]


KIND_OF_SERVICE = {"lambda": "function", "sqs": "queue", "events": "rule", "cloudwatch": "alarm", "iam": "role"}


def _stack_requests(statement: dict[str, Any], account: str, region: str) -> Iterator[Request]:
    names = _template_names(PREFIX, region)
    for action in _actions(statement):
        kind = KIND_OF_SERVICE[action.split(":")[0]]
        for name in names[kind]:
            yield Request(action, _arn(kind, name, account, region), "")


def test_only_deployers_and_break_glass_change_the_acceptor_resources() -> None:
    statement = statements("stack")["OnlyDeployersChangeTheAcceptor"]
    places = [(MEMBER, REGIONS[0]), (OTHER_MEMBER, REGIONS[-1])]
    requests = [r for account, region in places for r in _stack_requests(statement, account, region)]
    kinds = {r.resource.split(":")[2] for r in requests}
    assert kinds == {"lambda", "sqs", "events", "cloudwatch", "iam"}
    _check(statement, requests, DEPLOYERS + BREAK_GLASS)


def test_every_resource_the_template_names_is_protected() -> None:
    names = _template_names(PREFIX, "eu-west-1")
    # the two function roles and the hub forwarding role; the schedule, share-event and hub rules
    assert len(names["function"]) == 2 and len(names["role"]) == 3 and len(names["queue"]) == 3
    assert len(names["rule"]) == 3 and len(names["alarm"]) >= 9
    policy = SCPS["stack"]
    action = {
        "function": "lambda:UpdateFunctionConfiguration",
        "queue": "sqs:SetQueueAttributes",
        "rule": "events:DisableRule",
        "alarm": "cloudwatch:DisableAlarmActions",
        "role": "iam:PutRolePolicy",
    }
    for kind, kind_names in names.items():
        for name in kind_names:
            assert name.startswith(f"{PREFIX}-"), name
            arn = _arn(kind, name, MEMBER, "eu-west-1")
            assert denied(policy, Request(action[kind], arn, ADMINS[0])), arn
            assert not denied(policy, Request(action[kind], arn, DEPLOYERS[0])), arn


def test_the_function_roles_cannot_be_passed_to_another_function() -> None:
    policy = SCPS["stack"]
    for arn in ACCEPTOR_ROLES:
        assert denied(policy, Request("iam:PassRole", arn, ADMINS[0]))
        assert denied(policy, Request("iam:PassRole", arn, arn))  # not even by itself
        assert not denied(policy, Request("iam:PassRole", arn, DEPLOYERS[0]))


def test_event_source_mappings_of_the_acceptor_functions_only() -> None:
    statement = statements("stack")["OnlyDeployersChangeTheAcceptorEventSources"]
    mapping = f"arn:aws:lambda:us-east-1:{MEMBER}:event-source-mapping:0f2b9a4e-6d1c-4b8e-9a7f-3c5d1e2f4a6b"
    requests = [
        Request(action, mapping, "", {"lambda:FunctionArn": f"arn:aws:lambda:us-east-1:{MEMBER}:function:{name}"})
        for action in _actions(statement)
        for name in _template_names(PREFIX, "us-east-1")["function"]
    ]
    _check(statement, requests, DEPLOYERS + BREAK_GLASS)
    other = Request(
        requests[0].action,
        mapping,
        ADMINS[0],
        {"lambda:FunctionArn": f"arn:aws:lambda:us-east-1:{MEMBER}:function:my-app"},
    )
    assert not statement_applies(statement, other)


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("lambda:UpdateFunctionConfiguration", f"arn:aws:lambda:us-east-1:{MEMBER}:function:my-app"),
        ("sqs:PurgeQueue", f"arn:aws:sqs:us-east-1:{MEMBER}:my-queue"),
        ("events:DisableRule", f"arn:aws:events:us-east-1:{MEMBER}:rule/my-rule"),
        ("cloudwatch:DeleteAlarms", f"arn:aws:cloudwatch:us-east-1:{MEMBER}:alarm:my-alarm"),
        ("iam:CreateRole", role("my-app-role")),
        ("iam:PassRole", role("my-app-role")),
        ("ssm:PutParameter", f"arn:aws:ssm:us-east-1:{MEMBER}:parameter/my/param"),
        ("s3:PutObject", "arn:aws:s3:::my-bucket/key"),
        ("wellarchitected:CreateWorkloadShare", "*"),
    ],
)
def test_everything_else_is_left_to_the_account(action: str, resource: str) -> None:
    for admin in ADMINS:
        assert not any(denied(scp, Request(action, resource, admin)) for scp in SCPS.values())


# ------------------------------------------------------------------ nobody else can become an exempt principal


def _exempt_patterns() -> list[str]:
    found = []
    for scp in SCPS.values():
        for statement in scp["Statement"]:
            found += statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    lookup = load_template(ROOT / "templates" / "org-lookup-role.yaml")
    trust = lookup["Resources"]["OrgLookupRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    found += Resolver(lookup, {"OrganizationId": "o-abcdef1234", "AcceptorRoleNamePrefix": PREFIX}).resolve(
        trust["Condition"]["ArnLike"]["aws:PrincipalArn"]
    )
    return sorted(set(found))


def _instances(pattern: str) -> list[str]:
    """Role ARNs a pattern admits: its ? as digits, its * as a name part or as a path."""
    base = pattern.replace("????????????", MEMBER)
    return [base.replace("*", filler) for filler in ("x", "evil/x", "us-east-1")]


def test_every_role_an_exemption_admits_can_only_be_created_by_deployers() -> None:
    policy = SCPS["stack"]
    patterns = _exempt_patterns()
    assert any("-*-sweep" in p for p in patterns) and any("BreakGlass" in p for p in patterns)
    for pattern in patterns:
        for arn in _instances(pattern):
            assert arn_like(pattern, arn), (pattern, arn)
            for action in ("iam:CreateRole", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy", "iam:PassRole"):
                for admin in ADMINS + LOOKUP_ROLE_AND_ITS_CALLERS + [ACCEPTOR_ROLES[0]]:
                    assert denied(policy, Request(action, arn, admin)), (action, arn, admin)


def test_the_lookup_role_trusts_exactly_the_function_roles() -> None:
    lookup = load_template(ROOT / "templates" / "org-lookup-role.yaml")
    trust = lookup["Resources"]["OrgLookupRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    patterns = Resolver(lookup, {"OrganizationId": "o-abcdef1234"}).resolve(
        trust["Condition"]["ArnLike"]["aws:PrincipalArn"]
    )
    admitted = [p for p in EVERYONE if any(arn_like(x, p) for x in patterns)]
    assert admitted == ACCEPTOR_ROLES
    for region in REGIONS:  # the names template.yaml really gives its roles: the function roles only
        for name in _template_names(PREFIX, region)["role"]:
            assert any(arn_like(x, role(name)) for x in patterns) == name.endswith(FUNCTION_ROLE_SUFFIXES), name


# ------------------------------------------------------------------ the deployment's names agree


def test_no_other_role_of_the_project_can_answer_invitations() -> None:
    """A new role named <prefix>-<region>-...-event would answer invitations: only the two function roles may."""
    statement = statements("decisions")["OnlyTheAcceptorAnswersInvitations"]
    able = []
    for path in [ROOT / "template.yaml", *sorted((ROOT / "templates").rglob("*.yaml"))]:
        template = load_template(path)
        params = template.get("Parameters") or {}
        overrides = {k: PREFIX for k in ("RoleNamePrefix", "AcceptorRoleNamePrefix") if k in params}
        overrides |= {k: "ou-ab12-abcdefgh" for k in params if "Default" not in params[k] and k not in overrides}
        resolver = Resolver(template, overrides)
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] == "AWS::IAM::Role" and "RoleName" in resource["Properties"]:
                arn = role(resolver.resolve(resource["Properties"]["RoleName"]))
                if not statement_applies(statement, Request("wellarchitected:UpdateShareInvitation", "*", arn)):
                    able.append(f"{path.name}:{logical_id}")
    assert sorted(able) == ["template.yaml:ShareEventRole", "template.yaml:SweepRole"]


def test_the_guardrails_default_prefix_is_the_templates() -> None:
    assert load_template(ROOT / "template.yaml")["Parameters"]["RoleNamePrefix"]["Default"] == guardrails.DEFAULT_PREFIX


FUNCTION_ROLE_SUFFIXES = ("-sweep", "-event")


@pytest.mark.parametrize("prefix", ["a", "A_b-9", "x" * 40])
def test_any_valid_prefix_protects_that_deployment(prefix: str) -> None:
    pattern = load_template(ROOT / "template.yaml")["Parameters"]["RoleNamePrefix"]["AllowedPattern"]
    assert re.fullmatch(pattern, prefix)
    settings = parse_settings({"RoleNamePrefix": prefix})
    rendered = {n: json.loads(t) for n, t in guardrails.render(settings).items()}
    for region in REGIONS:
        names = _template_names(prefix, region)
        for name in names["role"]:  # the function roles answer; the hub forwarding role may not
            call = Request("wellarchitected:UpdateShareInvitation", "*", role(name))
            answers = not denied(rendered["decisions"], call)
            assert answers == name.endswith(FUNCTION_ROLE_SUFFIXES), name
        for name in names["function"]:
            arn = _arn("function", name, MEMBER, region)
            assert denied(rendered["stack"], Request("lambda:UpdateFunctionCode", arn, ADMINS[0]))
    assert denied(rendered["decisions"], Request("wellarchitected:UpdateShareInvitation", "*", ADMINS[0]))


def test_a_prefix_mismatch_is_named() -> None:
    assert guardrails.prefix_mismatch(PREFIX, {}) is None  # the template default
    assert guardrails.prefix_mismatch(PREFIX, {"RoleNamePrefix": PREFIX}) is None
    warning = guardrails.prefix_mismatch(PREFIX, {"RoleNamePrefix": "wa-share-acceptor-dev"}, source="params.json")
    assert warning is not None
    assert "'wa-share-acceptor'" in warning and "params.json uses 'wa-share-acceptor-dev'" in warning
    warning = guardrails.prefix_mismatch("team-acceptor", {})
    assert warning is not None and "the template default" in warning


def test_deployed_parameters_from_samconfig_and_a_parameters_file(tmp_path: Path) -> None:
    dev = guardrails.deployed_parameters(config_env="dev")
    assert dev["RoleNamePrefix"] == "wa-share-acceptor-dev"
    assert guardrails.prefix_mismatch(PREFIX, dev) is not None
    path = tmp_path / "params.json"
    path.write_text(json.dumps([{"ParameterKey": "RoleNamePrefix", "ParameterValue": "team"}]))
    assert guardrails.deployed_parameters(parameters_file=str(path)) == {"RoleNamePrefix": "team"}
    path.write_text('[{"ParameterKey": "RoleNamePrefix", "ParameterKey": "x", "ParameterValue": "team"}]')
    with pytest.raises(GuardrailError, match="duplicate keys"):
        guardrails.deployed_parameters(parameters_file=str(path))
    with pytest.raises(GuardrailError, match="no environment 'nope'"):
        guardrails.deployed_parameters(config_env="nope")


# ------------------------------------------------------------------ a real policy linter


def _parliament_findings(text: str) -> list[tuple[str, str]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # parliament imports pkg_resources, which warns on import
        from parliament import analyze_policy_string

    policy = analyze_policy_string(text, include_community_auditors=True)
    return [(f.issue, str(f.detail)) for f in policy.findings]


VARIANTS = {
    "full": SETTINGS,
    "plain": parse_settings({"RoleNamePrefix": PREFIX}),
    "local-parameter": parse_settings(
        {
            "RoleNamePrefix": "team",
            "POLICY_PARAMETER": "policy",
            "POLICY_OWNER_ROLES": "Owner",
            "PARTITION": "aws-us-gov",
        }
    ),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_parliament_finds_nothing(variant: str) -> None:
    texts = guardrails.render(VARIANTS[variant])
    assert set(texts) == {"decisions", "stack"}
    for name, text in texts.items():
        assert _parliament_findings(text) == [], name


def test_parliament_would_notice_a_mistake() -> None:
    scp = json.loads(guardrails.render(SETTINGS)["stack"])
    scp["Statement"][0]["Action"].append("lambda:UpdateFunctionConfig")  # a misspelled action
    assert ("UNKNOWN_ACTION", "Unknown action lambda:UpdateFunctionConfig") in _parliament_findings(json.dumps(scp))


# ------------------------------------------------------------------ size


def test_each_scp_fits_and_is_indented_when_it_can_be() -> None:
    for name, text in guardrails.render(SETTINGS).items():
        assert len(text) <= guardrails.SCP_LIMIT, name
        assert text.startswith("{\n  "), name


def test_an_scp_over_the_limit_indented_is_minimized() -> None:
    many = ",".join(f"BreakGlass-{i:03}" for i in range(20))
    texts = guardrails.render(parse_settings({"RoleNamePrefix": PREFIX, "BREAK_GLASS_ROLES": many}))
    stack = texts["stack"]
    assert len(json.dumps(json.loads(stack), indent=2)) > guardrails.SCP_LIMIT >= len(stack)
    assert "\n" not in stack and ", " not in stack


def test_an_scp_over_the_limit_minimized_is_refused() -> None:
    many = ",".join(f"BreakGlass-{i:03}" for i in range(30))
    with pytest.raises(GuardrailError, match=r"stack: \d+ characters even minimized, over the SCP limit of 5120"):
        guardrails.render(parse_settings({"RoleNamePrefix": PREFIX, "BREAK_GLASS_ROLES": many}))


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "RoleNamePrefix: '' is not 1-40"),
        ({"RoleNamePrefix": "a" * 41}, "is not 1-40"),
        ({"RoleNamePrefix": "wa/share"}, "'wa/share' is not 1-40"),
        ({"BREAK_GLASS_ROLES": "*"}, "BREAK_GLASS_ROLES: '*' is too broad"),
        ({"BREAK_GLASS_ROLES": "Ops*"}, "'Ops*' is too broad"),
        ({"BREAK_GLASS_ROLES": "path/*"}, "'path/*' is too broad"),
        ({"BREAK_GLASS_ROLES": "Break Glass"}, "'Break Glass' is not a role name"),
        ({"BREAK_GLASS_ROLES": "Break?Glass"}, "'Break?Glass' is not a role name"),
        ({"BREAK_GLASS_ROLES": "BreakGlass\n"}, None),  # surrounding blanks are trimmed
        ({"BREAK_GLASS_ROLES": "a,,b"}, "'a,,b' has an empty entry"),
        ({"BREAK_GLASS_ROLES": "BreakGlass,BreakGlass"}, "'BreakGlass' is listed twice"),
        ({"BREAK_GLASS_ROLES": "Break${aws:username}"}, "is not a role name"),
        ({"DEPLOYER_ROLES": ""}, "DEPLOYER_ROLES: empty"),
        ({"INVITEE_ROLES": "AWSCloudFormationStackSetExecutionRole"}, "is a deployer role"),
        ({"POLICY_PARAMETER": "/p"}, "POLICY_OWNER_ROLES: empty, but POLICY_PARAMETER is set"),
        ({"POLICY_S3_URI": "s3://bucket/key"}, "POLICY_OWNER_ROLES: empty, but POLICY_S3_URI is set"),
        ({"POLICY_OWNER_ROLES": "Owner"}, "neither POLICY_PARAMETER nor POLICY_S3_URI"),
        ({"POLICY_PARAMETER": "p*", "POLICY_OWNER_ROLES": "O"}, "POLICY_PARAMETER: 'p*' is neither"),
        ({"POLICY_PARAMETER": "arn:aws:ssm:us-east-1:1:parameter/p", "POLICY_OWNER_ROLES": "O"}, "is neither"),
        (
            {"POLICY_PARAMETER": "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/p", "POLICY_OWNER_ROLES": "O"},
            "partition 'aws'",
        ),
        ({"POLICY_S3_URI": "s3://bucket/*", "POLICY_OWNER_ROLES": "O"}, "no * or ?"),
        ({"POLICY_S3_URI": "s3://Bucket/key", "POLICY_OWNER_ROLES": "O"}, "POLICY_S3_URI: 's3://Bucket/key'"),
        ({"POLICY_S3_URI": "https://bucket/key", "POLICY_OWNER_ROLES": "O"}, "is not s3://"),
        ({"PARTITION": "AWS"}, "PARTITION: 'AWS'"),
        ({"TARGET_IDS": "ou-ab12-abcdefgh,o-abcdefghij"}, "TARGET_IDS: 'o-abcdefghij'"),
    ],
)
def test_bad_input_is_named(values: dict[str, str], message: str | None) -> None:
    values = {"RoleNamePrefix": PREFIX, **values} if "RoleNamePrefix" not in values and values else values
    if message is None:
        assert parse_settings(values).break_glass_roles == ("BreakGlass",)
        return
    with pytest.raises(GuardrailError) as error:
        parse_settings(values)
    assert message in str(error.value)


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(GuardrailError) as error:
        parse_settings({"RoleNamePrefix": "", "BREAK_GLASS_ROLES": "*", "PARTITION": "x"})
    assert str(error.value).count(";") == 2


def test_unknown_or_misplaced_placeholders_are_refused(tmp_path: Path) -> None:
    source = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "x:Y", "Resource": "arn:${Nope}:x"}]}
    (tmp_path / "decisions.json").write_text(json.dumps(source))
    (tmp_path / "stack.json").write_text(json.dumps(source))
    with pytest.raises(GuardrailError, match=r"placeholder \$\{Nope\} is unknown"):
        guardrails.render(SETTINGS, tmp_path)
    source["Statement"][0]["Resource"] = "x ${BreakGlassRoleArns}"
    (tmp_path / "decisions.json").write_text(json.dumps(source))
    with pytest.raises(GuardrailError, match="is a list: it must be a whole list item"):
        guardrails.render(SETTINGS, tmp_path)
    (tmp_path / "decisions.json").write_text('{"Version": "1", "Version": "2", "Statement": []}')
    with pytest.raises(GuardrailError, match="duplicate keys"):
        guardrails.render(SETTINGS, tmp_path)


# ------------------------------------------------------------------ the command and the attaching stack


def test_make_guardrails_writes_and_prints_every_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "guardrails"
    out.mkdir()
    (out / "old-policy.json").write_text("{}")  # an SCP that no longer applies is not left behind
    code = guardrails.main(
        [
            "--role-name-prefix",
            PREFIX,
            "--break-glass-roles",
            "BreakGlass",
            "--deployer-roles",
            "",
            "--target-ids",
            "ou-ab12-abcdefgh,r-ab12",
            "--output-dir",
            str(out),
        ]
    )
    printed = capsys.readouterr()
    assert code == 0, printed.err
    names = ["decisions.json", "stack.json", "stack-parameters.json", "manifest.json"]
    assert printed.out.split() == [str(out / n) for n in names]
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    settings = guardrails.load_manifest(out / "manifest.json")
    assert settings == parse_settings({"RoleNamePrefix": PREFIX, "BREAK_GLASS_ROLES": "BreakGlass"})
    assert settings.deployer_roles == guardrails.DEFAULT_DEPLOYER_ROLES
    params = {p["ParameterKey"]: p["ParameterValue"] for p in json.loads((out / "stack-parameters.json").read_text())}
    assert json.loads(params["StackPolicy"]) == json.loads((out / "stack.json").read_text())
    assert json.loads(params["DecisionsPolicy"]) == json.loads((out / "decisions.json").read_text())
    template = load_template(ROOT / "templates" / "guardrails" / "guardrails.yaml")
    assert set(params) == set(template["Parameters"]) - {"PolicyNamePrefix"}
    for key, value in params.items():
        spec = template["Parameters"][key]
        assert len(value) <= spec.get("MaxLength", 4096)
        assert re.fullmatch(spec.get("AllowedPattern", ".*").strip("^$"), value), key


def test_make_guardrails_refuses_bad_input_and_warns_on_a_mismatch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert guardrails.main(["--role-name-prefix", "bad prefix", "--output-dir", str(tmp_path)]) == 2
    assert "RoleNamePrefix: 'bad prefix'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
    params = tmp_path / "params.json"
    params.write_text(json.dumps([{"ParameterKey": "RoleNamePrefix", "ParameterValue": "other"}]))
    code = guardrails.main(
        ["--role-name-prefix", PREFIX, "--output-dir", str(tmp_path / "g"), "--parameters", str(params)]
    )
    err = capsys.readouterr().err
    assert code == 0
    assert f"warning: guardrails protect RoleNamePrefix 'wa-share-acceptor' but {params} uses 'other'" in err


def test_the_attaching_stack_is_plain_and_lint_clean() -> None:
    path = ROOT / "templates" / "guardrails" / "guardrails.yaml"
    template = load_template(path)
    assert "Transform" not in template and "Globals" not in template
    assert len(template["Description"]) > 80
    assert {r["Type"] for r in template["Resources"].values()} == {"AWS::Organizations::Policy"}
    groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    assert sorted(p for g in groups for p in g["Parameters"]) == sorted(template["Parameters"])
    resolved = Resolver(
        template, {"DecisionsPolicy": "{}", "StackPolicy": "{}", "TargetIds": "ou-ab12-abcdefgh,r-ab12"}
    )
    for logical_id, scp in (("DecisionsScp", "DecisionsPolicy"), ("StackScp", "StackPolicy")):
        props = resolved.resolve(template["Resources"][logical_id]["Properties"])
        assert props["Type"] == "SERVICE_CONTROL_POLICY"
        assert props["TargetIds"] == ["ou-ab12-abcdefgh", "r-ab12"]
        assert template["Resources"][logical_id]["Properties"]["Content"] == {"Ref": scp}
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
