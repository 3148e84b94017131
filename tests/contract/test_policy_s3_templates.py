"""PolicyS3Uri in template.yaml: the URI grammar the template admits is the one the functions parse,
at most one policy source, and least privilege (GetObject, or GetObjectVersion when pinned, on exactly
that object; kms:Decrypt only with PolicyKmsKeyArn, on that key, only through S3)."""

from __future__ import annotations

import re
from itertools import product
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acceptor.s3_uri import parse_s3_uri
from acceptor.settings import ConfigurationError, load_settings
from tests.support.acceptor_template import PARAMS, ROLES, TEMPLATE
from tests.support.s3_uris import BAD_URIS, GOOD_URIS, URI
from tests.support.templates import as_list, statements
from tools.cfn_template import Resolver, function_properties
from tools.stackset_template import stackset_template

ACCOUNT = "111111111111"
REGION = "eu-west-1"
KEY_ARN = "arn:aws:kms:eu-central-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab"
MRK_ARN = "arn:aws:kms:us-east-1:999999999999:key/mrk-1234abcd12ab34cd56ef1234567890ab"


def _s3_kms_statements(role: str, overrides: dict[str, str]) -> list[dict[str, Any]]:
    """The role's resolved statements that grant any s3: or kms: action other than the notification key's."""
    resolver = Resolver(TEMPLATE, overrides, region=REGION, account=ACCOUNT)
    policies = resolver.resolve(ROLES[role]["Properties"]["Policies"])
    return [
        s
        for s in statements(policies)
        if any(a.split(":")[0] in ("s3", "kms") for a in as_list(s["Action"])) and s.get("Sid") != "NotifyEncrypted"
    ]


# ---------------------------------------------------------------- parameters and variables


def test_parameters_are_optional_and_listed_once() -> None:
    groups = TEMPLATE["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    listed = [p for g in groups for p in g["Parameters"]]
    for name in ("PolicyS3Uri", "PolicyS3Region", "PolicyKmsKeyArn"):
        assert PARAMS[name]["Type"] == "String" and PARAMS[name]["Default"] == ""
        assert listed.count(name) == 1


@pytest.mark.parametrize("function", ["SweepFunction", "ShareEventFunction"])
def test_both_functions_get_the_variables(function: str) -> None:
    pinned = f"{URI}?versionId=3HL4kqtJvjVBH40Nrjfkd"
    resolver = Resolver(TEMPLATE, {"PolicyS3Uri": pinned, "PolicyS3Region": "us-east-1"})
    variables = function_properties(TEMPLATE, function, resolver)["Environment"]["Variables"]
    assert (variables["POLICY_S3_URI"], variables["POLICY_S3_REGION"]) == (pinned, "us-east-1")
    assert "POLICY_KMS_KEY_ARN" not in variables  # S3 decrypts; the key matters to IAM only


@pytest.mark.parametrize("value", GOOD_URIS)
def test_what_the_template_admits_the_functions_accept(value: str) -> None:
    assert re.fullmatch(PARAMS["PolicyS3Uri"]["AllowedPattern"], value)
    assert parse_s3_uri(value).uri == value
    assert load_settings({"POLICY_S3_URI": value}).policy_s3_uri == value


@pytest.mark.parametrize("value", BAD_URIS)
def test_what_the_template_refuses_the_functions_refuse(value: str) -> None:
    assert not re.fullmatch(PARAMS["PolicyS3Uri"]["AllowedPattern"], value)
    with pytest.raises(ValueError):
        parse_s3_uri(value)


@pytest.mark.parametrize("value", ["", "eu-west-1", "us-gov-west-1", "ap-southeast-2", "cn-north-1"])
def test_region_admits(value: str) -> None:
    assert re.fullmatch(PARAMS["PolicyS3Region"]["AllowedPattern"], value)


@pytest.mark.parametrize("value", ["eu-west", "EU-WEST-1", "eu-west-1 ", "eu_west_1", "global"])
def test_region_refuses(value: str) -> None:
    assert not re.fullmatch(PARAMS["PolicyS3Region"]["AllowedPattern"], value)


@pytest.mark.parametrize("value", ["", KEY_ARN, MRK_ARN, KEY_ARN.replace("arn:aws:", "arn:aws-us-gov:")])
def test_kms_key_admits(value: str) -> None:
    assert re.fullmatch(PARAMS["PolicyKmsKeyArn"]["AllowedPattern"], value)


@pytest.mark.parametrize(
    "value",
    [
        "arn:aws:kms:eu-central-1:999999999999:alias/policy",  # IAM cannot grant on an alias
        "arn:aws:kms:eu-central-1:999999999999:key/*",
        "1234abcd-12ab-34cd-56ef-1234567890ab",
        KEY_ARN.upper(),
        KEY_ARN + "\n",
    ],
)
def test_kms_key_refuses(value: str) -> None:
    assert not re.fullmatch(PARAMS["PolicyKmsKeyArn"]["AllowedPattern"], value)


# ---------------------------------------------------------------- rules: one source, options need the URI


def _rules_hold(overrides: dict[str, str]) -> bool:
    resolver = Resolver(TEMPLATE, overrides)
    for rule in TEMPLATE["Rules"].values():
        if "RuleCondition" in rule and not resolver.resolve(rule["RuleCondition"]):
            continue
        if not all(resolver.resolve(a["Assert"]) for a in rule["Assertions"]):
            return False
    return True


@pytest.mark.parametrize(("parameter", "file", "uri"), list(product(["", "/p"], ["", "p.yaml"], ["", URI])))
def test_at_most_one_policy_source_in_the_template_and_in_the_functions(parameter: str, file: str, uri: str) -> None:
    chosen = [v for v in (parameter, file, uri) if v]
    assert _rules_hold({"PolicyParameter": parameter, "PolicyFile": file, "PolicyS3Uri": uri}) is (len(chosen) <= 1)
    env = {"POLICY_PARAMETER": parameter, "POLICY_FILE": file, "POLICY_S3_URI": uri}
    if len(chosen) <= 1:
        load_settings(env)
    else:
        with pytest.raises(ConfigurationError, match="comes from one place"):
            load_settings(env)


@pytest.mark.parametrize("option", [{"PolicyS3Region": "us-east-1"}, {"PolicyKmsKeyArn": KEY_ARN}])
def test_s3_options_need_the_uri(option: dict[str, str]) -> None:
    assert not _rules_hold(option)
    assert _rules_hold({**option, "PolicyS3Uri": URI})


# ---------------------------------------------------------------- least privilege


@pytest.mark.parametrize("role", ["SweepRole", "ShareEventRole"])
def test_no_uri_no_s3_or_kms_permission(role: str) -> None:
    assert _s3_kms_statements(role, {}) == []
    # a key given without a URI (the template's rules refuse it) still grants nothing
    assert _s3_kms_statements(role, {"PolicyKmsKeyArn": KEY_ARN}) == []


@pytest.mark.parametrize("uri", GOOD_URIS)
@pytest.mark.parametrize("role", ["SweepRole", "ShareEventRole"])
def test_get_object_on_exactly_that_object(role: str, uri: str) -> None:
    location = parse_s3_uri(uri)
    [statement] = _s3_kms_statements(role, {"PolicyS3Uri": uri})
    assert statement["Effect"] == "Allow" and "Condition" not in statement
    # GetObject with a VersionId needs s3:GetObjectVersion and not s3:GetObject (S3 API reference)
    expected = "s3:GetObjectVersion" if location.version_id else "s3:GetObject"
    assert as_list(statement["Action"]) == [expected]
    assert as_list(statement["Resource"]) == [location.object_arn()]
    assert "*" not in statement["Resource"] and "?" not in statement["Resource"]


@pytest.mark.parametrize(("key", "region"), [(KEY_ARN, "eu-central-1"), (MRK_ARN, "us-east-1")])
@pytest.mark.parametrize("role", ["SweepRole", "ShareEventRole"])
def test_kms_decrypt_only_with_a_key_on_that_key_through_s3(role: str, key: str, region: str) -> None:
    statements = _s3_kms_statements(role, {"PolicyS3Uri": URI, "PolicyKmsKeyArn": key, "PolicyS3Region": region})
    [kms] = [s for s in statements if any(a.startswith("kms:") for a in as_list(s["Action"]))]
    assert as_list(kms["Action"]) == ["kms:Decrypt"]  # reading needs no GenerateDataKey
    assert as_list(kms["Resource"]) == [key]
    # S3 requires an SSE-KMS key in the bucket's region: the key's ARN names the service endpoint
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}


def test_stackset_output_carries_the_s3_parameters_and_the_conditional_read() -> None:
    converted = stackset_template(TEMPLATE, "acme-artifacts", "wa-share-acceptor/code-0123456789abcdef0123.zip")
    assert {"PolicyS3Uri", "PolicyS3Region", "PolicyKmsKeyArn"} <= set(converted["Parameters"])
    assert {"HasPolicyS3Uri", "PolicyS3Pinned", "HasPolicyKmsKey"} <= set(converted["Conditions"])
    for role in ROLES:
        resolved = Resolver(converted, {"PolicyS3Uri": URI}).resolve(converted["Resources"][role])
        reads = [s for s in statements(resolved) if "s3:GetObject" in as_list(s["Action"])]
        assert [as_list(s["Resource"]) for s in reads] == [[parse_s3_uri(URI).object_arn()]]


_URI_PARTS = st.sampled_from(
    [
        "s3://",
        "acme",
        "ab",
        "a.b",
        "a..b",
        "a-.b",
        "192.168.0.1",
        "Bucket",
        "/",
        "//",
        "p.json",
        ".",
        "..",
        "k" * 300,
        "x" * 1000,
        "?versionId=",
        "v1",
        "*",
        "?",
        "$",
        " ",
        "\u0131",
        "!_'()-",
        "&x=1",
        "\n",
    ]
)


@given(st.lists(_URI_PARTS, min_size=1, max_size=8).map("".join))
@settings(max_examples=400, deadline=None)
def test_the_template_and_the_functions_agree_on_every_uri(value: str) -> None:
    admitted = re.fullmatch(PARAMS["PolicyS3Uri"]["AllowedPattern"], value) is not None and len(value) <= 2048
    try:
        parse_s3_uri(value)
        parsed = True
    except ValueError:
        parsed = False
    assert admitted is (parsed or value == ""), value
