"""`make check-policy`: documents validated with every error's JSON path, the eight variables as before,
and the read-only what-if preview against the simulator (in-process, and once over HTTP through make)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from policy import Action, Invitation, OrgAncestry, evaluate, load_document
from simulator import Simulator, serve
from tests.support.policy_preview import DOCUMENT, EXPECTED, RECIPIENT, WORLD, assert_nothing_was_updated, env_file
from tools import check_policy

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
POLICY_DOCUMENTS = (ROOT / "docs" / "policy-documents.md").read_text()
PLATFORM_OU = "ou-ab12-platform1"


@pytest.fixture
def sim() -> Simulator:
    simulator = Simulator()
    simulator.load_world(WORLD)
    simulator.reset_stats()
    return simulator


@pytest.fixture
def document(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(DOCUMENT)
    return path


def _run(argv: list[str], **kwargs: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = check_policy.main(argv, out=out, err=err, **kwargs)
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------- validate


def test_a_document_is_validated_and_its_rules_printed(document: Path) -> None:
    code, out, err = _run(["--policy", str(document)])
    assert code == 0, err
    checked = json.loads(out)
    rules = checked["policy"]["rules"]
    assert [(r["index"], r.get("id"), r["action"]) for r in rules] == [
        (0, "vendor-never", "REJECT"),
        (1, "platform", "ACCEPT"),
        (2, "security-lenses", "ACCEPT"),
    ]
    assert rules[2]["resource_names"] == ["acme-*"] and rules[2]["resource_types"] == ["LENS"]
    assert checked["policy"]["dry_run"] is False
    assert checked["warnings"] == []


def test_every_document_error_is_named_with_its_json_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "version": 1,
                "rules": [
                    {"action": "ACCEPT", "sharers": {"accounts": ["12345", "222222222222"]}},
                    {"action": "ALLOW", "sharers": {"ous": ["ou-1"]}, "resource_types": ["STACK"]},
                ],
            }
        )
    )
    code, out, err = _run(["--policy", str(bad)])
    assert code == 1 and out == ""
    assert f"invalid policy document {bad}:" in err
    for path in (
        "$.rules[0].sharers.accounts[0]: '12345'",
        "$.rules[1].action: 'ALLOW'",
        "$.rules[1].sharers.ous[0]: 'ou-1'",
        "$.rules[1].resource_types[0]: 'STACK'",
    ):
        assert f"  - {path}" in err, err
    assert len([line for line in err.splitlines() if line.startswith("  - ")]) == 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "$: the document is empty"),
        (b"{not json", "$: is not valid JSON"),
        (b"version: 1\nrules: [\n", "$: is neither valid JSON nor valid YAML"),
        (b'{"version": 2, "rules": []}', "$.version: 2 is not a supported version"),
    ],
)
def test_unreadable_documents_are_invalid(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(content)
    code, _, err = _run(["--policy", str(path)])
    assert code == 1 and message in err, err


def test_a_missing_or_binary_file_is_named(tmp_path: Path) -> None:
    code, _, err = _run(["--policy", str(tmp_path / "nope.yaml")])
    assert code == 2 and f"cannot read {tmp_path / 'nope.yaml'}" in err
    binary = tmp_path / "policy.bin"
    binary.write_bytes(b"\xff\xfe\x00version")
    code, _, err = _run(["--policy", str(binary)])
    assert code == 2 and "is not UTF-8 text" in err


def test_the_variables_still_work_and_compile_to_rules() -> None:
    code, out, err = _run(["--env-vars", str(EVENTS / "env.json")])
    assert code == 0, err
    checked = json.loads(out)
    variables = checked["policy"]["variables"]
    assert variables["allowed_source_accounts"] == ["222222222222", "333333333333"]
    assert variables["denied_source_accounts"] == ["555555555555"]
    assert [(r["id"], r["action"]) for r in checked["policy"]["rules"]] == [
        ("denied-accounts", "REJECT"),
        ("allowed", "ACCEPT"),
    ]
    assert checked["max_workers"] == 4 and checked["warnings"] == []


def test_deployed_needs_what_if(document: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        check_policy.main(["--policy", str(document), "--deployed", str(document)], err=io.StringIO())
    assert exited.value.code == 2


def test_policy_and_env_vars_exclude_each_other(document: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        check_policy.main(["--policy", str(document), "--env-vars", str(EVENTS / "env.json")])
    assert exited.value.code == 2


# ---------------------------------------------------------------- what if (in-process simulator)


def test_what_if_names_the_deciding_rule_and_updates_nothing(sim: Simulator, document: Path) -> None:
    code, out, err = _run(
        ["--policy", str(document), "--what-if", "--format", "json"], wellarchitected_client=sim.client(RECIPIENT)
    )
    assert code == 0, err
    report = json.loads(out)
    got = {i["share_invitation_id"]: (i["action"], i["rule"], i["rule_id"]) for i in report["invitations"]}
    assert got == EXPECTED  # "a" * 32 is shared with another account: not listed here
    assert report["counts"] == {"ACCEPT": 3, "REJECT": 1, "IGNORE": 5}
    by_id = {i["share_invitation_id"]: i for i in report["invitations"]}
    assert by_id["5" * 32]["reason"] == "resource_name_not_allowed"
    assert by_id["4" * 32]["resource_name"] == "acme-security"
    assert_nothing_was_updated(sim)


def test_what_if_text_output(sim: Simulator, document: Path) -> None:
    code, out, _ = _run(["--policy", str(document), "--what-if"], wellarchitected_client=sim.client(RECIPIENT))
    assert code == 0
    assert f"what document {document} would do with 9 pending invitation(s) (read-only preview):" in out
    line = next(line for line in out.splitlines() if line.startswith("4" * 32))
    assert re.search(r"LENS\s+acme-security\s+333333333333\s+-\s+ACCEPT\s+#2 security-lenses allowed_account", line)
    assert "ACCEPT 3, REJECT 1, IGNORE (left pending) 5" in out
    assert_nothing_was_updated(sim)


def test_what_if_against_deployed_variables_lists_what_changes(sim: Simulator, document: Path) -> None:
    code, out, err = _run(
        ["--policy", str(document), "--what-if", "--deployed", str(EVENTS / "env.json"), "--format", "json"],
        wellarchitected_client=sim.client(RECIPIENT),
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["deployed"] == f"variables {EVENTS / 'env.json'}"
    changes = {c["share_invitation_id"]: (c["deployed"]["action"], c["action"]) for c in report["changes"]}
    # the variables accept every READONLY share of 333333333333; the document only its acme-* lenses
    assert changes == {"5" * 32: ("ACCEPT", "IGNORE"), "6" * 32: ("ACCEPT", "IGNORE")}
    assert report["deployed_counts"] == {"ACCEPT": 5, "REJECT": 1, "IGNORE": 3}
    change = next(c for c in report["changes"] if c["share_invitation_id"] == "6" * 32)
    assert (change["deployed"]["rule"], change["deployed"]["rule_id"]) == (1, "allowed")
    assert_nothing_was_updated(sim)


def test_what_if_against_a_deployed_document(sim: Simulator, document: Path, tmp_path: Path) -> None:
    deployed = tmp_path / "deployed.json"
    deployed.write_text(
        json.dumps({"version": 1, "rules": [{"action": "ACCEPT", "sharers": {"accounts": ["444444444444"]}}]})
    )
    code, out, err = _run(
        ["--policy", str(document), "--what-if", "--deployed", str(deployed)],
        wellarchitected_client=sim.client(RECIPIENT),
    )
    assert code == 0, err
    section = out[out.index("changes from the deployed policy") :]
    assert f"changes from the deployed policy (document {deployed}): 5" in section
    assert f"{'7' * 32} WORKLOAD 'unknown-app' from 444444444444: ACCEPT (#0 allowed_account) -> IGNORE" in section
    assert (
        f"{'8' * 32} LENS 'acme-vendor' from 555555555555: IGNORE (- source_not_allowed) -> REJECT (#0 vendor-never"
        in section
    )
    assert_nothing_was_updated(sim)


def test_an_invalid_deployed_policy_is_named(sim: Simulator, document: Path, tmp_path: Path) -> None:
    env = tmp_path / "env.json"
    env.write_text(json.dumps({"Parameters": {"DENIED_SOURCE_ACCOUNTS": "\uff15" * 12}}))
    code, out, err = _run(
        ["--policy", str(document), "--what-if", "--deployed", str(env)], wellarchitected_client=sim.client(RECIPIENT)
    )
    assert code == 1 and out == ""
    assert "DENIED_SOURCE_ACCOUNTS" in err and "U+FF15" in err
    assert sim.stats == {}  # nothing listed before every policy was valid


def test_ou_rules_use_the_lookup_and_stay_pending_without_it(sim: Simulator, tmp_path: Path) -> None:
    path = tmp_path / "ou.yaml"
    path.write_text(
        "version: 1\nrules:\n  - id: platform-ou\n    action: ACCEPT\n"
        f"    sharers: {{ous: [{PLATFORM_OU}]}}\n    resource_types: [WORKLOAD]\n"
    )
    looked_up: list[str] = []

    def lookup(account: str) -> OrgAncestry:
        looked_up.append(account)
        if account == "444444444444":
            raise RuntimeError("AccessDenied")
        return OrgAncestry.found({PLATFORM_OU, "r-ab12"} if account == "666666666666" else {"r-ab12"})

    argv = ["--policy", str(path), "--what-if", "--format", "json"]
    code, out, _ = _run(argv, wellarchitected_client=sim.client(RECIPIENT), lookup=lookup)
    assert code == 0
    found = {i["share_invitation_id"]: i for i in json.loads(out)["invitations"]}
    assert (found["9" * 32]["action"], found["9" * 32]["rule_id"]) == ("ACCEPT", "platform-ou")
    assert (found["1" * 32]["action"], found["1" * 32]["reason"]) == ("IGNORE", "source_not_allowed")
    assert (found["7" * 32]["action"], found["7" * 32]["reason"]) == ("IGNORE", "org_lookup_failed")
    assert "AccessDenied" in found["7" * 32]["detail"]
    assert sorted(looked_up) == sorted(set(looked_up))  # each sharer once
    # Without a role the OU rule cannot decide: pending, never accepted
    code, out, _ = _run(argv, wellarchitected_client=sim.client(RECIPIENT))
    found = {i["share_invitation_id"]: i for i in json.loads(out)["invitations"]}
    assert (found["9" * 32]["action"], found["9" * 32]["reason"]) == ("IGNORE", "org_lookup_failed")
    assert "--organizations-role-arn" in found["9" * 32]["detail"]
    assert_nothing_was_updated(sim)


def test_a_bad_role_arn_is_named(sim: Simulator, document: Path) -> None:
    code, _, err = _run(
        ["--policy", str(document), "--what-if", "--organizations-role-arn", "arn:aws:iam::1:role/x"],
        wellarchitected_client=sim.client(RECIPIENT),
    )
    assert code == 2 and "ORGANIZATIONS_ROLE_ARN: 'arn:aws:iam::1:role/x'" in err
    assert sim.stats == {}


def test_strict_simulator_summaries_without_a_type_get_the_listed_one(document: Path) -> None:
    strict = Simulator(strict=True)
    strict.load_world(WORLD)
    code, out, _ = _run(
        ["--policy", str(document), "--what-if", "--format", "json"], wellarchitected_client=strict.client(RECIPIENT)
    )
    assert code == 0
    got = {i["share_invitation_id"]: (i["resource_type"], i["action"]) for i in json.loads(out)["invitations"]}
    assert got["4" * 32] == ("LENS", "ACCEPT") and got["8" * 32] == ("LENS", "REJECT")
    assert set(strict.stats) <= {"total", "ListShareInvitations"}


class _FakeClient:
    """Pages of crafted summaries per type; records every call it gets."""

    def __init__(self, pages: dict[str, list[list[Any]]], fail: str | None = None) -> None:
        self.pages = pages
        self.fail = fail
        self.calls: list[dict[str, Any]] = []

    def list_share_invitations(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        rtype = params["ShareResourceType"]
        if rtype == self.fail:
            error = {"Error": {"Code": "AccessDeniedException", "Message": "denied by an SCP"}}
            raise ClientError(error, "ListShareInvitations")  # type: ignore[arg-type]
        pages = self.pages.get(rtype, [[]])
        index = int(params.get("NextToken", "0"))
        answer: dict[str, Any] = {"ShareInvitationSummaries": pages[index]}
        if index + 1 < len(pages):
            answer["NextToken"] = str(index + 1)
        return answer

    def update_share_invitation(self, **params: Any) -> None:
        raise AssertionError("the preview sent an update")


def _summary(inv_id: str, name: str, sharer: str = "222222222222") -> dict[str, Any]:
    return {
        "ShareInvitationId": inv_id,
        "SharedBy": sharer,
        "SharedWith": RECIPIENT,
        "ShareResourceType": "WORKLOAD",
        "PermissionType": "READONLY",
        "WorkloadName": name,
    }


def test_pages_duplicates_junk_and_hostile_names(document: Path) -> None:
    hostile = "x\x1b[2J\u202eevil"
    fake = _FakeClient(
        {"WORKLOAD": [[_summary("b" * 32, "one"), "junk", 7], [_summary("b" * 32, "one"), _summary("c" * 32, hostile)]]}
    )
    code, out, _ = _run(["--policy", str(document), "--what-if"], wellarchitected_client=fake)
    assert code == 0
    assert "with 2 pending invitation(s)" in out  # the duplicate once, the non-objects skipped
    assert "\x1b" not in out and "\u202e" not in out
    assert "x\\x1b[2J\\u202eevil" in out
    assert [c["ShareResourceType"] for c in fake.calls] == ["WORKLOAD", "WORKLOAD", "LENS", "PROFILE", "TEMPLATE"]


def test_a_failed_listing_is_named_and_nothing_is_printed_as_decided(document: Path) -> None:
    fake = _FakeClient({"WORKLOAD": [[_summary("b" * 32, "one")]]}, fail="PROFILE")
    code, out, err = _run(["--policy", str(document), "--what-if"], wellarchitected_client=fake)
    assert code == 2 and out == ""
    assert "listing PROFILE invitations failed" in err and "AccessDeniedException" in err


def test_the_preview_client_can_only_list() -> None:
    fake = _FakeClient({})
    read_only = check_policy._ListOnly(fake)
    assert not hasattr(read_only, "update_share_invitation")
    assert read_only.list_share_invitations(ShareResourceType="LENS") == {"ShareInvitationSummaries": []}


# ---------------------------------------------------------------- over HTTP, through make


def test_make_check_policy_what_if_over_http(sim: Simulator, document: Path) -> None:
    server, _ = serve(sim)
    try:
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL_WELLARCHITECTED": f"http://127.0.0.1:{server.server_address[1]}",
            "AWS_ACCESS_KEY_ID": RECIPIENT,
            "AWS_SECRET_ACCESS_KEY": "x",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        env.pop("AWS_PROFILE", None)
        result = subprocess.run(
            [
                "make",
                "--no-print-directory",
                "-s",
                "-o",
                ".venv/.installed",
                "check-policy",
                f"PY={sys.executable}",
                f"POLICY={document}",
                "WHAT_IF=1",
                f"DEPLOYED={EVENTS / 'env.json'}",
                "FORMAT=json",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    got = {i["share_invitation_id"]: (i["action"], i["rule"], i["rule_id"]) for i in report["invitations"]}
    assert got == EXPECTED
    assert {c["share_invitation_id"] for c in report["changes"]} == {"5" * 32, "6" * 32}
    assert_nothing_was_updated(sim)


# ---------------------------------------------------------------- the example in docs/policy-documents.md


def _readme_document() -> str:
    section = POLICY_DOCUMENTS[: POLICY_DOCUMENTS.index("## Where the document lives")]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1
    return blocks[0]


def test_the_documented_example_decides_as_its_table_says() -> None:
    policy = load_document(_readme_document(), source="docs/policy-documents.md")
    assert len({r.id for r in policy.rules}) == len(policy.rules) >= 3
    below_platform = OrgAncestry.found({PLATFORM_OU, "r-ab12"})
    elsewhere = OrgAncestry.found({"r-ab12"})

    def decide(sharer: str, rtype: str, name: str, permission: str | None, ancestry: OrgAncestry | None) -> Any:
        field = {"WORKLOAD": "WorkloadName", "LENS": "LensName", "PROFILE": "ProfileName", "TEMPLATE": "TemplateName"}
        summary = {
            "ShareInvitationId": "f" * 32,
            "SharedBy": sharer,
            "SharedWith": RECIPIENT,
            "ShareResourceType": rtype,
            "PermissionType": permission,
            field[rtype]: name,
        }
        d = evaluate(policy, Invitation.from_summary(summary), ancestry)
        return d.action, d.rule_id, d.reason

    assert decide("333333333333", "LENS", "acme-security", None, elsewhere) == (
        Action.ACCEPT,
        "security-lenses-and-profiles",
        "allowed_account",
    )
    assert decide("333333333333", "LENS", "vendor-lens", None, elsewhere)[::2] == (
        Action.IGNORE,
        "resource_name_not_allowed",
    )
    assert decide("333333333333", "PROFILE", "pci", None, elsewhere)[:2] == (Action.ACCEPT, "security-profiles")
    assert decide("666666666666", "WORKLOAD", "app", "READONLY", below_platform)[:2] == (
        Action.ACCEPT,
        "platform-workloads-readonly",
    )
    assert decide("666666666666", "WORKLOAD", "app", "READONLY", None)[::2] == (Action.IGNORE, "org_lookup_failed")
    assert decide("666666666666", "WORKLOAD", "app", "READONLY", OrgAncestry.failed("denied"))[0] is Action.IGNORE
    assert decide("444444444444", "WORKLOAD", "app", "CONTRIBUTOR", elsewhere)[:2] == (
        Action.ACCEPT,
        "review-account-contributor",
    )
    for rtype in ("WORKLOAD", "LENS", "PROFILE", "TEMPLATE"):
        assert decide("555555555555", rtype, "acme-x", "READONLY", below_platform)[:2] == (
            Action.REJECT,
            "vendor-denied",
        )
    for sharer in ("333333333333", "444444444444", "666666666666", "777777777777"):
        assert decide(sharer, "TEMPLATE", "t", None, below_platform)[::2] == (
            Action.IGNORE,
            "resource_type_not_allowed",
        )
    table = POLICY_DOCUMENTS[
        POLICY_DOCUMENTS.index("| Invitation | Decision | Rule |") : POLICY_DOCUMENTS.index(
            "## Where the document lives"
        )
    ]
    for rule in policy.rules:
        assert f"| {rule.position} `{rule.id}` |" in table, rule.id


def test_the_readme_example_is_the_json_example() -> None:
    yaml_form = load_document(_readme_document(), source="docs/policy-documents.md")
    json_form = load_document((ROOT / "docs" / "examples" / "policy.json").read_text(), source="example")
    assert yaml_form == json_form
    assert [r.id for r in yaml_form.rules] == [r.id for r in json_form.rules]


def test_the_readme_example_passes_check_policy(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(_readme_document())
    code, out, err = _run(["--policy", str(path)])
    assert code == 0, err
    # its platform rule names an OU: the stack needs the Organizations role
    assert json.loads(out)["warnings"] == [
        "rules name OUs: the functions need OrganizationsRoleArn (templates/org-lookup-role.yaml) and refuse "
        "this document without it; a preview needs ORG_ROLE_ARN to decide them"
    ]


# ---------------------------------------------------------------- variables that name a document


PARAMETER_ARN = "arn:aws:ssm:us-east-1:123456789012:parameter/wa-share-acceptor/policy"


@pytest.fixture
def ssm() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("ssm", region_name="us-east-1")
        client.put_parameter(Name="/wa-share-acceptor/policy", Type="String", Tier="Advanced", Value=DOCUMENT)
        yield client


def test_variables_naming_a_parameter_are_checked_with_its_document(tmp_path: Path, ssm: Any) -> None:
    env = env_file(tmp_path, POLICY_PARAMETER="/wa-share-acceptor/policy", DRY_RUN="false")
    code, out, err = _run(["--env-vars", str(env)], ssm_client=ssm)
    assert code == 0, err
    policy = json.loads(out)["policy"]
    assert policy["source"] == "SSM parameter /wa-share-acceptor/policy"
    assert [r.get("id") for r in policy["rules"]] == ["vendor-never", "platform", "security-lenses"]
    assert policy["dry_run"] is False
    # DryRun=true on the stack wins over the document, as in the functions
    env = env_file(tmp_path, POLICY_PARAMETER="/wa-share-acceptor/policy", DRY_RUN="true")
    code, out, _ = _run(["--env-vars", str(env)], ssm_client=ssm)
    assert code == 0 and json.loads(out)["policy"]["dry_run"] is True


def test_an_invalid_or_missing_parameter_is_named(tmp_path: Path, ssm: Any) -> None:
    ssm.put_parameter(
        Name="/bad", Type="String", Value='{"version": 1, "rules": [{"action": "ACCEPT", "sharers": {"ous": ["x"]}}]}'
    )
    code, out, err = _run(["--env-vars", str(env_file(tmp_path, POLICY_PARAMETER="/bad"))], ssm_client=ssm)
    assert code == 1 and out == ""
    assert "invalid policy document" in err and "  - $.rules[0].sharers.ous[0]: 'x'" in err
    code, out, err = _run(["--env-vars", str(env_file(tmp_path, POLICY_PARAMETER="/missing"))], ssm_client=ssm)
    assert code == 2 and out == ""
    assert "ssm:GetParameter for /missing failed" in err and "ParameterNotFound" in err


def test_variables_a_document_replaces_are_refused(tmp_path: Path, ssm: Any) -> None:
    env = env_file(tmp_path, POLICY_PARAMETER="/wa-share-acceptor/policy", ALLOWED_SOURCE_ACCOUNTS="222222222222")
    code, _, err = _run(["--env-vars", str(env)], ssm_client=ssm)
    assert code == 1 and "ALLOWED_SOURCE_ACCOUNTS: set, but POLICY_PARAMETER names a policy document" in err


def test_variables_naming_a_shipped_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "src" / "policies").mkdir(parents=True)
    (tmp_path / "src" / "policies" / "policy.yaml").write_text(DOCUMENT)
    monkeypatch.setattr(check_policy, "ROOT", tmp_path)
    code, out, err = _run(["--env-vars", str(env_file(tmp_path, POLICY_FILE="policies/policy.yaml"))])
    assert code == 0, err
    assert json.loads(out)["policy"]["source"] == "file policies/policy.yaml"
    code, _, err = _run(["--env-vars", str(env_file(tmp_path, POLICY_FILE="policies/none.yaml"))])
    assert code == 2 and "policy file policies/none.yaml cannot be read" in err


def test_what_if_against_the_live_parameter(sim: Simulator, tmp_path: Path, ssm: Any) -> None:
    # Given the deployed stack reads the central parameter, and a candidate that also accepts profiles
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(
        DOCUMENT + "  - id: security-profiles\n    action: ACCEPT\n"
        '    sharers: {accounts: ["333333333333"]}\n    resource_types: [PROFILE]\n'
    )
    deployed = env_file(tmp_path, POLICY_PARAMETER="/wa-share-acceptor/policy")
    # When previewing against it
    code, out, err = _run(
        ["--policy", str(candidate), "--what-if", "--deployed", str(deployed), "--format", "json"],
        wellarchitected_client=sim.client(RECIPIENT),
        ssm_client=ssm,
    )
    # Then only the profile's decision changes, and nothing is updated
    assert code == 0, err
    report = json.loads(out)
    assert report["deployed"] == f"variables {deployed}: SSM parameter /wa-share-acceptor/policy"
    assert [
        (c["share_invitation_id"], c["deployed"]["action"], c["action"], c["rule_id"]) for c in report["changes"]
    ] == [("6" * 32, "IGNORE", "ACCEPT", "security-profiles")]
    assert_nothing_was_updated(sim)


def test_what_if_says_when_ou_rules_cannot_be_decided(sim: Simulator, tmp_path: Path) -> None:
    path = tmp_path / "ou.yaml"
    path.write_text(f"version: 1\nrules:\n  - action: ACCEPT\n    sharers: {{ous: [{PLATFORM_OU}]}}\n")
    code, _, err = _run(["--policy", str(path), "--what-if"], wellarchitected_client=sim.client(RECIPIENT))
    assert code == 0
    assert "rules name OUs and no Organizations role was given (ORG_ROLE_ARN)" in err


def test_no_region_is_named_before_anything_is_called(document: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(document.parent / "no-config"))
    code, out, err = _run(["--policy", str(document), "--what-if"])
    assert code == 2 and out == ""
    assert "cannot create a Well-Architected client" in err and "region" in err


def test_the_text_preview_says_why_an_ou_lookup_failed(sim: Simulator, tmp_path: Path) -> None:
    path = tmp_path / "ou.yaml"
    path.write_text(f"version: 1\nrules:\n  - action: ACCEPT\n    sharers: {{ous: [{PLATFORM_OU}]}}\n")

    def lookup(account: str) -> OrgAncestry:
        raise RuntimeError("AccessDenied: not trusted by the lookup role")

    code, out, _ = _run(
        ["--policy", str(path), "--what-if"], wellarchitected_client=sim.client(RECIPIENT), lookup=lookup
    )
    assert code == 0
    failed = [line for line in out.splitlines() if "org_lookup_failed" in line]
    assert failed and all("AccessDenied: not trusted by the lookup role" in line for line in failed)


# ---------------------------------------------------------------- env-vars files: typos are refused


@pytest.mark.parametrize(
    ("key", "known"),
    [
        ("DENY_SOURCE_ACCOUNTS", "DENIED_SOURCE_ACCOUNTS"),
        ("DRYRUN", "DRY_RUN"),
        ("dry_run", "DRY_RUN"),
        ("ALLOWED_SOURCE_ACCOUNT", "ALLOWED_SOURCE_ACCOUNTS"),
        ("NON_MATCHING_ACTIONS", "NON_MATCHING_ACTION"),
    ],
)
def test_an_env_vars_key_that_is_a_near_miss_is_an_error_naming_both(key: str, known: str, tmp_path: Path) -> None:
    env = tmp_path / "env.json"
    env.write_text(json.dumps({"Parameters": {key: "555555555555"}}))
    code, out, err = _run(["--env-vars", str(env)])
    assert code == 1 and out == ""
    assert f"Parameters: {key} is not a variable of the functions; did you mean {known}?" in err


def test_a_stack_parameter_name_in_an_env_vars_file_names_the_variable(tmp_path: Path) -> None:
    env = tmp_path / "env.json"
    env.write_text(json.dumps({"SweepFunction": {"AllowedSourceAccounts": "22222222222"}}))
    code, _, err = _run(["--env-vars", str(env)])
    assert code == 1
    assert "SweepFunction: AllowedSourceAccounts is the stack parameter; the functions' variable is" in err
    assert "ALLOWED_SOURCE_ACCOUNTS" in err


def test_unrelated_env_vars_keys_are_allowed(tmp_path: Path) -> None:
    # Landing-zone tooling injects variables of its own (Landing Zone Accelerator: SOLUTION_ID).
    env = tmp_path / "env.json"
    env.write_text(
        json.dumps(
            {
                "Parameters": {"SOLUTION_ID": "SO0199", "ALLOWED_SOURCE_ACCOUNTS": "222222222222"},
                "SweepFunction": {"HTTP_PROXY": "http://proxy:3128"},
                "LandingZoneTooling": {"X": "1"},
            }
        )
    )
    code, out, _ = _run(["--env-vars", str(env)])
    assert code == 0
    assert json.loads(out)["policy"]["variables"]["allowed_source_accounts"] == ["222222222222"]


def test_a_misspelled_function_section_is_named(tmp_path: Path) -> None:
    env = tmp_path / "env.json"
    env.write_text(json.dumps({"SweepFuncton": {"DRY_RUN": "false"}}))
    code, _, err = _run(["--env-vars", str(env)])
    assert (
        code == 1 and "section 'SweepFuncton' is neither Parameters nor a function; did you mean SweepFunction?" in err
    )


@pytest.mark.parametrize(
    "content",
    ["[" * 100_000 + "]" * 100_000, "rules: " + "[" * 5_000 + "]" * 5_000],
    ids=["json", "yaml"],
)
def test_a_document_nested_too_deep_is_invalid_not_a_traceback(tmp_path: Path, content: str) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(content)
    code, out, err = _run(["--policy", str(path)])
    assert (code, out) == (1, "")
    assert err == f"invalid policy document {path}:\n  - $: is nested more than 16 levels deep\n"
    deployed = tmp_path / "deployed.json"
    deployed.write_text(content)
    code, _, err = _run(["--policy", str(path), "--what-if", "--deployed", str(deployed)])
    assert code == 1 and "Traceback" not in err


def test_a_duplicate_rule_id_is_reported_with_the_rules_other_errors(tmp_path: Path) -> None:
    rule = {"id": "platform", "action": "ACCEPT", "sharers": {"accounts": ["222222222222"]}}
    broken = {"id": "platform", "action": "ALLOW", "sharers": {"accounts": ["222222222222"]}}
    path = tmp_path / "dup.json"
    path.write_text(json.dumps({"version": 1, "rules": [rule, broken]}))
    code, _, err = _run(["--policy", str(path)])
    assert code == 1
    assert "  - $.rules[1].action: 'ALLOW' is not ACCEPT or REJECT" in err
    assert "  - $.rules[1].id: 'platform' is also the id of rule 0" in err


def test_a_yaml_document_with_a_key_twice_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text("version: 1\nrules:\n  - {action: REJECT, sharers: {accounts: ['555555555555']}}\nrules: []\n")
    code, _, err = _run(["--policy", str(path)])
    assert code == 1 and "  - $: key 'rules' (line 4) appears twice" in err
