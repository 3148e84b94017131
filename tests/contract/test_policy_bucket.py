"""templates/policy-bucket.yaml: versioned, encrypted, TLS only, public access blocked, old versions
expired, the document readable by the organization and written only by the named owners; its output
is a PolicyS3Uri the acceptors admit, and the object they are granted is the one the bucket lets them read."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from acceptor.s3_uri import parse_s3_uri
from tests.support.acceptor_template import PARAMS, ROLES, TEMPLATE
from tests.support.s3_uris import BAD_URIS, GOOD_URIS
from tests.support.templates import as_list, statements
from tools.cfn_template import Resolver, load_template

ROOT = Path(__file__).resolve().parents[2]
BUCKET_PATH = ROOT / "templates" / "policy-bucket.yaml"
BUCKET = load_template(BUCKET_PATH)
CENTRAL_ACCOUNT = "999999999999"
ORG_ID = "o-abcd123456"
OWNERS = f"arn:aws:iam::{CENTRAL_ACCOUNT}:role/policy-owners,arn:aws:iam::888888888888:role/ci/publisher"
DEFAULT_ARN = f"arn:aws:s3:::wa-share-acceptor-policy-{CENTRAL_ACCOUNT}-eu-west-1"
KEY_ARN = f"arn:aws:kms:eu-west-1:{CENTRAL_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _resolved(overrides: dict[str, str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    values = {"OrganizationId": ORG_ID, "PolicyOwnerArns": OWNERS, **(overrides or {})}
    resolver = Resolver(BUCKET, values, region="eu-west-1", account=CENTRAL_ACCOUNT)
    resolver.values["PolicyOwnerArns"] = values["PolicyOwnerArns"].split(",")  # a CommaDelimitedList
    # Ref and GetAtt of the bucket resolve to what CloudFormation would give: its name and ARN
    name = resolver.resolve(BUCKET["Resources"]["PolicyBucket"]["Properties"]["BucketName"])
    resolver.values["PolicyBucket"] = name
    resources = {name: resolver.resolve(r) for name, r in BUCKET["Resources"].items()}
    outputs = {name: resolver.resolve(o["Value"]) for name, o in BUCKET["Outputs"].items()}
    return resources, outputs


def _bucket_statements(overrides: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    resources, _ = _resolved(overrides)
    return {s["Sid"]: s for s in resources["PolicyBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]}


def test_cfn_lint_passes() -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), str(BUCKET_PATH)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_plain_cloudformation_with_every_parameter_listed_once() -> None:
    assert "Transform" not in BUCKET and "Globals" not in BUCKET
    assert len(BUCKET["Description"]) > 80
    groups = BUCKET["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    listed = [p for g in groups for p in g["Parameters"]]
    assert sorted(listed) == sorted(BUCKET["Parameters"])
    types = {r["Type"] for r in BUCKET["Resources"].values()}
    assert types == {"AWS::S3::Bucket", "AWS::S3::BucketPolicy"}


def test_the_bucket_is_versioned_private_encrypted_and_retained() -> None:
    resources, outputs = _resolved()
    bucket = resources["PolicyBucket"]
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    assert props["BucketName"] == f"wa-share-acceptor-policy-{CENTRAL_ACCOUNT}-eu-west-1"
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    [sse] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert sse["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    kms = _resolved({"KmsKeyArn": KEY_ARN})[0]["PolicyBucket"]["Properties"]["BucketEncryption"]
    [kms_sse] = kms["ServerSideEncryptionConfiguration"]
    assert kms_sse["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY_ARN}
    assert kms_sse["BucketKeyEnabled"] is True
    assert outputs["PolicyS3Region"] == "eu-west-1"


def test_old_versions_expire_but_the_newest_are_kept() -> None:
    resources, _ = _resolved({"NoncurrentVersionDays": "30", "NoncurrentVersionsKept": "5"})
    rules = {r["Id"]: r for r in resources["PolicyBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]}
    expire = rules["expire-old-versions"]
    assert expire["Status"] == "Enabled"
    assert expire["NoncurrentVersionExpiration"] == {"NoncurrentDays": "30", "NewerNoncurrentVersions": "5"}
    assert "ExpirationInDays" not in expire  # the current version never expires
    assert (
        BUCKET["Parameters"]["NoncurrentVersionDays"]["Default"],
        BUCKET["Parameters"]["NoncurrentVersionsKept"]["Default"],
    ) == (90, 10)


def test_tls_only_for_everything() -> None:
    tls = _bucket_statements()["TlsOnly"]
    assert tls["Effect"] == "Deny" and tls["Action"] == "s3:*" and tls["Principal"] == {"AWS": "*"}
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert sorted(tls["Resource"]) == [DEFAULT_ARN, f"{DEFAULT_ARN}/*"]


def test_the_organization_reads_only_the_document() -> None:
    statements = _bucket_statements()
    read = statements["OrganizationReadsTheDocument"]
    assert read["Effect"] == "Allow" and read["Principal"] == {"AWS": "*"}
    assert sorted(read["Action"]) == ["s3:GetObject", "s3:GetObjectVersion"]
    assert read["Resource"] == f"{DEFAULT_ARN}/wa-share-acceptor/policy.json"
    assert read["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}
    for sid, statement in statements.items():  # every other Allow names its principals
        if statement["Effect"] == "Allow" and sid != "OrganizationReadsTheDocument":
            assert statement["Principal"] == {"AWS": OWNERS.split(",")}, sid


def test_only_the_owners_write() -> None:
    statements = _bucket_statements()
    allowed_writes = {
        a
        for s in statements.values()
        if s["Effect"] == "Allow"
        for a in as_list(s["Action"])
        if a.startswith(("s3:Put", "s3:Delete", "s3:Restore"))
    }
    deny = statements["OnlyOwnersWrite"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == {"AWS": "*"}
    assert deny["Resource"] == f"{DEFAULT_ARN}/*"
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": OWNERS.split(",")}}
    # every write an Allow grants (and more) is denied to anyone but the owners
    assert allowed_writes <= set(deny["Action"])
    assert {"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"} <= set(deny["Action"])
    assert statements["OwnersList"]["Resource"] == DEFAULT_ARN


@pytest.mark.parametrize("value", [parse_s3_uri(u).key for u in GOOD_URIS])
def test_document_key_admits_what_the_acceptors_admit(value: str) -> None:
    assert re.fullmatch(BUCKET["Parameters"]["DocumentKey"]["AllowedPattern"], value)


@pytest.mark.parametrize("value", ["", "/p.json", "a//b", "a/../b", "./p", "p*", "p?x", "a b", "pé", "p/"])
def test_document_key_refuses_the_rest(value: str) -> None:
    assert not re.fullmatch(BUCKET["Parameters"]["DocumentKey"]["AllowedPattern"], value)
    with pytest.raises(ValueError):
        parse_s3_uri(f"s3://acme/{value}")


def test_owner_arns_pattern() -> None:
    pattern = BUCKET["Parameters"]["PolicyOwnerArns"]["AllowedPattern"]
    for arn in [*OWNERS.split(","), "arn:aws-us-gov:iam::123456789012:user/alice"]:
        assert re.fullmatch(pattern, arn), arn
    for arn in ["*", "arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:role/*", "123456789012"]:
        assert not re.fullmatch(pattern, arn), arn


@pytest.mark.parametrize("key", ["wa-share-acceptor/policy.json", "org/security/wa-policy.yaml"])
def test_the_output_uri_is_what_every_acceptor_may_read(key: str) -> None:
    # Given the central bucket's PolicyS3Uri output
    resources, outputs = _resolved({"BucketName": "acme-wa-policy", "DocumentKey": key})
    uri = outputs["PolicyS3Uri"]
    assert uri == f"s3://acme-wa-policy/{key}" and uri not in BAD_URIS
    # When it is an acceptor's PolicyS3Uri
    assert re.fullmatch(PARAMS["PolicyS3Uri"]["AllowedPattern"], uri)
    for role in ROLES:
        resolver = Resolver(TEMPLATE, {"PolicyS3Uri": uri}, region="us-east-1", account="111111111111")
        granted = [
            s["Resource"]
            for s in statements(resolver.resolve(ROLES[role]["Properties"]["Policies"]))
            if "s3:GetObject" in as_list(s["Action"])
        ]
        # Then the acceptor's role may read exactly the object the bucket lets the organization read
        read = _bucket_statements({"BucketName": "acme-wa-policy", "DocumentKey": key})["OrganizationReadsTheDocument"]
        assert granted == [read["Resource"]] == [f"arn:aws:s3:::acme-wa-policy/{key}"]
    assert resources["PolicyBucket"]["Properties"]["BucketName"] == "acme-wa-policy"
