"""`make policy-publish` and `make check-policy` with S3 URIs, under moto: a valid document is uploaded
and its version printed; an invalid one is refused with every error and nothing uploaded; check-policy
reads s3:// documents, pinned versions and env-vars naming POLICY_S3_URI the way the functions do."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from acceptor.policy_source import read_s3_policy
from policy.document import MAX_DOCUMENT_BYTES
from simulator import Simulator
from tests.support.policy_preview import DOCUMENT, RECIPIENT, WORLD, assert_nothing_was_updated, env_file
from tools import check_policy, policy_publish

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "acme-wa-policy"
URI = f"s3://{BUCKET}/wa-share-acceptor/policy.yaml"


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        yield client


def _publish(argv: list[str], client: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = policy_publish.main(argv, client=client, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _check(argv: list[str], **kwargs: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = check_policy.main(argv, out=out, err=err, **kwargs)
    return code, out.getvalue(), err.getvalue()


def _versions(s3: Any) -> list[dict[str, Any]]:
    versions: list[dict[str, Any]] = s3.list_object_versions(Bucket=BUCKET).get("Versions", [])
    return versions


# ---------------------------------------------------------------- publish


def test_a_valid_document_is_uploaded_and_its_version_printed(s3: Any, tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(DOCUMENT)
    code, out, err = _publish(["--policy", str(path), "--uri", URI], s3)
    assert code == 0, err
    [version] = _versions(s3)
    assert f"version id: {version['VersionId']}\n" in out
    assert f"pinned URI: {URI}?versionId={version['VersionId']}\n" in out
    assert "3 rules" in out and err == ""
    stored = s3.get_object(Bucket=BUCKET, Key="wa-share-acceptor/policy.yaml")
    assert stored["Body"].read() == DOCUMENT.encode() and stored["ContentType"] == "application/yaml"
    # and the functions read exactly what was published
    policy = read_s3_policy(f"{URI}?versionId={version['VersionId']}", organizations=False, s3_client=s3)
    assert [r.id for r in policy.rules] == ["vendor-never", "platform", "security-lenses"]


def test_each_publish_is_a_new_version(s3: Any, tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"version": 1, "rules": [{"action": "ACCEPT", "sharers": {"accounts": ["2" * 12]}}]}))
    first = _publish(["-p", str(path), "-u", URI], s3)
    second = _publish(["-p", str(path), "-u", URI], s3)
    assert first[0] == second[0] == 0
    ids = {v["VersionId"] for v in _versions(s3)}
    assert len(ids) == 2 and all(f"version id: {i}" in first[1] + second[1] for i in ids)


def test_an_invalid_document_is_refused_with_every_error_and_nothing_uploaded(s3: Any, tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("version: 2\nrules:\n  - action: MAYBE\n    sharers: {accounts: ['12']}\n")
    code, out, err = _publish(["--policy", str(path), "--uri", URI], s3)
    assert code == 1 and out == ""
    assert "invalid policy document" in err and "$.version" in err and "$.rules[0].action" in err
    assert "$.rules[0].sharers.accounts[0]" in err
    assert "nothing was uploaded" in err
    assert _versions(s3) == []


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\xff\xfe", "not UTF-8 text"),
        (b"", "the document is empty"),
        (b"{not json", "not valid JSON"),
        (b'{"version": 1, "version": 1, "rules": []}', "appears twice"),
        (b" " * (MAX_DOCUMENT_BYTES + 1), f"larger than {MAX_DOCUMENT_BYTES} bytes"),
    ],
)
def test_unreadable_documents_are_refused(s3: Any, tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "policy.json"
    path.write_bytes(content)
    code, _, err = _publish(["--policy", str(path), "--uri", URI], s3)
    assert code == 1 and problem in err and _versions(s3) == []


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        (f"{URI}?versionId=abc", "names a version"),
        ("s3://acme/p*.json", "is not s3://"),
        (f"https://{BUCKET}.s3.amazonaws.com/policy.yaml", "is not s3://"),
        ("s3://no-such-bucket-here/policy.yaml", "NoSuchBucket"),
    ],
)
def test_bad_destinations_are_named(s3: Any, tmp_path: Path, uri: str, problem: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(DOCUMENT)
    code, out, err = _publish(["--policy", str(path), "--uri", uri], s3)
    assert code == 2 and out == "" and problem in err


def test_a_missing_file_is_named(s3: Any, tmp_path: Path) -> None:
    code, _, err = _publish(["--policy", str(tmp_path / "none.yaml"), "--uri", URI], s3)
    assert code == 2 and "cannot read" in err and "none.yaml" in err


def test_an_unversioned_bucket_is_warned_about(s3: Any, tmp_path: Path) -> None:
    s3.create_bucket(Bucket="plain-bucket")
    path = tmp_path / "policy.yaml"
    path.write_text(DOCUMENT)
    code, out, err = _publish(["--policy", str(path), "--uri", "s3://plain-bucket/policy.yaml"], s3)
    assert code == 0 and "version id: None" in out and "pinned URI" not in out
    assert "the bucket is not versioned" in err


def test_ou_rules_are_published_with_a_warning(s3: Any, tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("version: 1\nrules:\n  - action: ACCEPT\n    sharers: {ous: [ou-ab12-platform1]}\n")
    code, _, err = _publish(["--policy", str(path), "--uri", URI], s3)
    assert code == 0 and "stacks without OrganizationsRoleArn refuse this document" in err


def test_make_policy_publish_needs_both_variables() -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "policy-publish", "POLICY=x.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode != 0 and "set POLICY=file and URI=s3://bucket/key" in result.stdout


def test_the_command_runs_as_a_module(tmp_path: Path) -> None:
    # No S3 reachable: the document is still validated first, and an invalid one exits 1 before any call.
    path = tmp_path / "policy.yaml"
    path.write_text("version: 3\n")
    result = subprocess.run(
        [sys.executable, "-m", "tools.policy_publish", "--policy", str(path), "--uri", URI],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"},
    )
    assert result.returncode == 1, result.stderr
    assert "$.version" in result.stderr and "nothing was uploaded" in result.stderr


# ---------------------------------------------------------------- check-policy reads S3


def test_check_policy_reads_an_s3_document(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="wa-share-acceptor/policy.yaml", Body=DOCUMENT.encode())
    code, out, err = _check(["--policy", URI], s3_client=s3)
    assert code == 0, err
    policy = json.loads(out)["policy"]
    assert policy["source"] == f"S3 object {URI}"
    assert [r.get("id") for r in policy["rules"]] == ["vendor-never", "platform", "security-lenses"]


def test_check_policy_reads_a_pinned_version(s3: Any) -> None:
    first = s3.put_object(Bucket=BUCKET, Key="wa-share-acceptor/policy.yaml", Body=DOCUMENT.encode())["VersionId"]
    s3.put_object(Bucket=BUCKET, Key="wa-share-acceptor/policy.yaml", Body=b"version: 1\nrules: []\n")
    code, out, err = _check(["--policy", f"{URI}?versionId={first}"], s3_client=s3)
    assert code == 0, err and len(json.loads(out)["policy"]["rules"]) == 3
    code, _, err = _check(["--policy", URI], s3_client=s3)
    assert code == 1 and "$.rules: must be a non-empty list of rules" in err


def test_check_policy_names_a_missing_or_invalid_s3_document(s3: Any) -> None:
    code, out, err = _check(["--policy", URI], s3_client=s3)
    assert code == 2 and out == "" and "NoSuchKey" in err and URI in err
    s3.put_object(Bucket=BUCKET, Key="wa-share-acceptor/policy.yaml", Body=b"version: 1\nrules: [{action: X}]\n")
    code, out, err = _check(["--policy", URI], s3_client=s3)
    assert code == 1 and out == "" and "$.rules[0].action" in err


def test_check_policy_env_vars_naming_an_s3_document(s3: Any, tmp_path: Path) -> None:
    s3.put_object(Bucket=BUCKET, Key="wa-share-acceptor/policy.yaml", Body=DOCUMENT.encode())
    env = env_file(tmp_path, POLICY_S3_URI=URI, DRY_RUN="false")
    code, out, err = _check(["--env-vars", str(env)], s3_client=s3)
    assert code == 0, err
    assert json.loads(out)["policy"]["source"] == f"S3 object {URI}"
    env = env_file(tmp_path, POLICY_S3_URI=URI, POLICY_PARAMETER="/p")
    code, _, err = _check(["--env-vars", str(env)], s3_client=s3)
    assert code == 1 and "comes from one place" in err


def test_what_if_against_the_live_s3_document(s3: Any, tmp_path: Path) -> None:
    # Given the invitations of the check-policy tests, the deployed document in S3, and a candidate that
    # also accepts profiles
    sim = Simulator()
    sim.load_world(WORLD)
    sim.reset_stats()
    s3.put_object(Bucket=BUCKET, Key="wa-share-acceptor/policy.yaml", Body=DOCUMENT.encode())
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(
        DOCUMENT + "  - id: security-profiles\n    action: ACCEPT\n"
        '    sharers: {accounts: ["333333333333"]}\n    resource_types: [PROFILE]\n'
    )
    # When previewing against it, named by its URI
    code, out, err = _check(
        ["--policy", str(candidate), "--what-if", "--deployed", URI, "--format", "json"],
        wellarchitected_client=sim.client(RECIPIENT),
        s3_client=s3,
    )
    # Then only the profile's decision changes, and nothing is updated
    assert code == 0, err
    report = json.loads(out)
    assert report["deployed"] == f"document {URI}"
    assert [(c["share_invitation_id"], c["action"], c["rule_id"]) for c in report["changes"]] == [
        ("6" * 32, "ACCEPT", "security-profiles")
    ]
    assert_nothing_was_updated(sim)
