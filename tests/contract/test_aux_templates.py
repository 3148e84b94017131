"""templates/*.yaml (Organizations lookup role, sharer forwarding) stay lint-clean; the lookup role stays tight.

The sharer forwarding template (the share-event router) has its own tests: test_sharer_forwarding.py."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.iam_match import arn_like
from tests.support.templates import as_list
from tools.cfn_template import Resolver, load_template

ROOT = Path(__file__).resolve().parents[2]
LOOKUP_PATH = ROOT / "templates" / "org-lookup-role.yaml"
FORWARDING_PATH = ROOT / "templates" / "sharer-forwarding.yaml"
LOOKUP = load_template(LOOKUP_PATH)
FORWARDING = load_template(FORWARDING_PATH)
SHARER = "222222222222"


def _only(template: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    found = [(k, v) for k, v in template["Resources"].items() if v["Type"] == resource_type]
    assert len(found) == 1, f"expected one {resource_type}, found {[k for k, _ in found]}"
    return found[0]


def _policy_statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in role["Properties"].get("Policies", []) for s in p["PolicyDocument"]["Statement"]]


# ---------------------------------------------------------------- both templates


@pytest.mark.parametrize("path", [LOOKUP_PATH, FORWARDING_PATH], ids=lambda p: p.name)
def test_cfn_lint_passes(path: Path) -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("template", [LOOKUP], ids=["lookup"])
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
    assert props["PermissionsBoundary"] == {
        "Fn::If": ["HasBoundary", {"Ref": "PermissionsBoundary"}, {"Ref": "AWS::NoValue"}]
    }
    assert props["RoleName"] == {"Ref": "RoleName"}
    assert props["MaxSessionDuration"] == 3600
    assert "ManagedPolicyArns" not in props
    assert LOOKUP["Outputs"]["RoleArn"]["Value"] == {"Fn::GetAtt": [name, "Arn"]}
    assert LOOKUP["Parameters"]["RoleName"]["Default"] == "wa-share-acceptor-org-lookup"


def test_lookup_role_allows_only_list_parents() -> None:
    statements = _policy_statements(_only(LOOKUP, "AWS::IAM::Role")[1])
    assert [s["Effect"] for s in statements] == ["Allow"]
    assert [as_list(s["Action"]) for s in statements] == [["organizations:ListParents"]]
    assert as_list(statements[0]["Resource"]) == ["*"]  # ListParents has no resource-level permissions


def test_lookup_trust_needs_the_organization_and_the_acceptor_role_names() -> None:
    trust = _only(LOOKUP, "AWS::IAM::Role")[1]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert len(trust) == 1
    (statement,) = trust
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": "*"}
    assert as_list(statement["Action"]) == ["sts:AssumeRole"]
    condition = Resolver(LOOKUP, {"OrganizationId": "o-abcdef1234"}).resolve(statement["Condition"])
    assert condition == {
        "StringEquals": {"aws:PrincipalOrgID": "o-abcdef1234"},
        "ArnLike": {
            "aws:PrincipalArn": [
                "arn:aws:iam::????????????:role/wa-share-acceptor-*-sweep",
                "arn:aws:iam::????????????:role/wa-share-acceptor-*-event",
            ]
        },
    }
    # IAM's ArnLike semantics are tested against every look-alike in tests/contract/test_guardrails.py
    patterns = condition["ArnLike"]["aws:PrincipalArn"]
    for region in ("us-east-1", "eu-west-1"):
        for kind in ("sweep", "event"):
            assert any(arn_like(p, f"arn:aws:iam::{SHARER}:role/wa-share-acceptor-{region}-{kind}") for p in patterns)
    for other in (
        f"arn:aws:iam::{SHARER}:role/PlatformAdmin",
        f"arn:aws:iam::{SHARER}:user/wa-share-acceptor-x-sweep",
        f"arn:aws:iam::{SHARER}:role/wa-share-acceptor-org-lookup",
        f"arn:aws:iam::{SHARER}:role/wa-share-acceptor-anything",
    ):
        assert not any(arn_like(p, other) for p in patterns), other


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
