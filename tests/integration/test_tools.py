"""The local tools: `make invoke` (like `sam local invoke`), `make check-policy`, `make demo`, and the
simulator served over HTTP to a function run the way `sam local invoke` would."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from simulator import Simulator, serve
from simulator.sharers import RECIPIENT, World
from tests.support.makefile import makefile_recipe
from tools import check_policy, demo
from tools.invoke import invoke
from tools.lambda_env import function_environment, read_env_vars_file

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"


def test_environment_comes_from_template_defaults_and_the_overlay() -> None:
    props, env = function_environment("SweepFunction", read_env_vars_file(EVENTS / "env.json"))
    assert props["Handler"] == "handlers.sweep.lambda_handler"
    assert props["Runtime"] == "python3.13"
    assert props["Timeout"] == "300"
    assert env["ALLOWED_SOURCE_ACCOUNTS"] == "222222222222,333333333333"  # from the overlay
    assert env["MAX_WORKERS"] == "4"  # the function's own section
    assert env["ALLOWED_RESOURCE_TYPES"] == "WORKLOAD,LENS,PROFILE,TEMPLATE"
    assert env["POWERTOOLS_TRACE_DISABLED"] == "true"  # Fn::If on a false condition
    assert env["NOTIFICATION_TOPIC_ARN"] == ""
    _, defaults = function_environment("ShareEventFunction", {})
    assert defaults["ALLOWED_SOURCE_ACCOUNTS"] == "" and defaults["NON_MATCHING_ACTION"] == "IGNORE"


def test_overlay_sets_only_declared_variables_as_sam_does() -> None:
    _, env = function_environment("SweepFunction", {"Parameters": {"NOT_IN_TEMPLATE": "x", "DRY_RUN": "true"}})
    assert "NOT_IN_TEMPLATE" not in env and env["DRY_RUN"] == "true"


def test_parameter_overrides_and_conditions() -> None:
    _, env = function_environment(
        "SweepFunction", {}, parameter_overrides={"EnableTracing": "true", "NotificationEmail": "ops@example.com"}
    )
    assert env["POWERTOOLS_TRACE_DISABLED"] == "false"
    assert env["NOTIFICATION_TOPIC_ARN"] == "NotificationTopic"  # a resource resolves to its logical id
    with pytest.raises(ValueError, match="Nope"):
        function_environment("SweepFunction", {}, parameter_overrides={"Nope": "1"})
    with pytest.raises(ValueError, match="no function 'Missing'"):
        function_environment("Missing", {})


def test_bad_env_vars_file(tmp_path: Path) -> None:
    bad = tmp_path / "env.json"
    bad.write_text('{"Parameters": "not a map"}')
    with pytest.raises(ValueError, match="expected"):
        read_env_vars_file(bad)
    with pytest.raises(ValueError, match="cannot read"):
        read_env_vars_file(tmp_path / "missing.json")


def test_invoke_in_process_against_the_http_simulator(monkeypatch: pytest.MonkeyPatch) -> None:
    sim = Simulator()
    sim.load_world(ROOT / "simulator" / "worlds" / "example.json")
    server, _ = serve(sim)
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL_WELLARCHITECTED", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "111111111111")
        monkeypatch.setenv("AWS_SAM_LOCAL", "false")  # invoke sets it, as sam local does; undone after the test
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # as in a fresh `make invoke` process
        env_vars = read_env_vars_file(EVENTS / "env.json")
        event = json.loads((EVENTS / "share-workload.json").read_text())
        result = invoke("ShareEventFunction", event, env_vars)
        assert result["status"] == "ok" and result["dry_run"] is True  # events/env.json is a dry run
        assert result["share_invitation_id"] == event["detail"]["responseElements"]["ShareId"]
        assert result["accept"] == 1 and sim.share_status(result["share_invitation_id"]) == "PENDING"
        live = {**env_vars, "Parameters": {**env_vars["Parameters"], "DRY_RUN": "false"}}
        result = invoke("ShareEventFunction", event, live)
        assert sim.share_status(result["share_invitation_id"]) == "ACCEPTED"
        sweep_result = invoke("SweepFunction", json.loads((EVENTS / "scheduled-sweep.json").read_text()), env_vars)
        assert sweep_result["status"] == "ok" and sweep_result["failed"] == 0
        assert sweep_result["invitations"] >= 1
    finally:
        server.shutdown()
        for name in ("ALLOWED_SOURCE_ACCOUNTS", "DENIED_SOURCE_ACCOUNTS", "DRY_RUN", "MAX_WORKERS"):
            os.environ.pop(name, None)


def test_invoke_the_sample_without_a_share_id_decides_the_sharers_workloads(monkeypatch: pytest.MonkeyPatch) -> None:
    sim = Simulator()
    sim.load_world(ROOT / "simulator" / "worlds" / "example.json")
    server, _ = serve(sim)
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL_WELLARCHITECTED", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "111111111111")
        monkeypatch.setenv("AWS_SAM_LOCAL", "false")
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
        env_vars = read_env_vars_file(EVENTS / "env.json")
        env_vars["Parameters"]["DRY_RUN"] = "false"  # the sample env is a dry run; this test applies
        event = json.loads((EVENTS / "share-workload-no-shareid.json").read_text())
        result = invoke("ShareEventFunction", event, env_vars)
        assert (result["status"], result["resource_type"], result["shared_by"]) == ("ok", "WORKLOAD", "222222222222")
        assert result["share_events_by_sharer"] == 1 and result["invalid_events"] == 0
        # 222222222222's two pending workloads: the READONLY one accepted, the CONTRIBUTOR one left pending by
        # the policy; its lens, profile and template and other sharers' workloads are not looked at
        assert result["invitations"] == 2 and result["results"] == {"accepted": 1, "left_pending": 1}
        assert sim.share_status("a1b2c3d4e5f60718293a4b5c6d7e8f90") == "ACCEPTED"
        assert sim.share_status("b2c3d4e5f60718293a4b5c6d7e8f90a1") == "PENDING"  # its lens
    finally:
        server.shutdown()
        for name in ("ALLOWED_SOURCE_ACCOUNTS", "DENIED_SOURCE_ACCOUNTS", "DRY_RUN", "MAX_WORKERS"):
            os.environ.pop(name, None)


def test_invoke_cli_prints_logs_then_the_result_as_the_last_line() -> None:
    env = {**os.environ, "AWS_ENDPOINT_URL_WELLARCHITECTED": "http://127.0.0.1:9"}  # never reached
    out = subprocess.run(
        [sys.executable, "-m", "tools.invoke", "ShareEventFunction", "--event", str(EVENTS / "malformed-share.json")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert json.loads(lines[-1])["status"] == "invalid_event"
    assert any('"invalid event; nothing changed"' in line for line in lines[:-1])


def test_invoke_cli_exits_nonzero_when_the_function_raises(tmp_path: Path) -> None:
    env_file = tmp_path / "env.json"
    env_file.write_text(json.dumps({"Parameters": {"ALLOWED_SOURCE_ACCOUNTS": "123"}}))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.invoke",
            "SweepFunction",
            "--event",
            str(EVENTS / "scheduled-sweep.json"),
            "--env-vars",
            str(env_file),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 1
    assert "ALLOWED_SOURCE_ACCOUNTS: '123'" in out.stderr


def test_check_policy_prints_the_effective_policy(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_policy.main(["--env-vars", str(EVENTS / "env.json")]) == 0
    effective = json.loads(capsys.readouterr().out)
    assert effective["policy"]["variables"]["allowed_source_accounts"] == ["222222222222", "333333333333"]
    assert effective["policy"]["rules"][0]["sharers"]["accounts"] == ["555555555555"]
    assert effective["warnings"] == []


def test_check_policy_prints_every_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env_file = tmp_path / "env.json"
    env_file.write_text(
        json.dumps(
            {
                "Parameters": {
                    "ALLOWED_SOURCE_ACCOUNTS": "1234",
                    "DRY_RUN": "perhaps",
                    "ALLOWED_SOURCE_OUS": "ou-ab12-abcdefgh",
                }
            }
        )
    )
    assert check_policy.main(["--env-vars", str(env_file)]) == 1
    err = capsys.readouterr().err
    assert "ALLOWED_SOURCE_ACCOUNTS: '1234'" in err
    assert "DRY_RUN: 'perhaps'" in err
    assert "ORGANIZATIONS_ROLE_ARN is empty" in err


def test_demo_runs_the_product_end_to_end() -> None:
    out = io.StringIO()
    result = demo.run(out)
    text = out.getvalue()
    assert result["sweep"]["accept"] == 5 and result["sweep"]["reject"] == 2 and result["sweep"]["ignore"] == 3
    reasons = {r["reason"] for r in result["sweep_records"]}
    assert reasons == {"allowed_account", "denied_account", "permission_not_allowed", "source_not_allowed"}
    assert {r["resource_type"] for r in result["sweep_records"]} == {"WORKLOAD", "LENS", "PROFILE", "TEMPLATE"}
    assert result["statuses"][result["new_share"]] == "ACCEPTED"
    assert result["statuses"][result["forged_target"]] == "PENDING"
    assert result["sweep_metrics"]["InvitationsAccepted"] == 5
    assert "the API says 444444444444" in text
    assert "REJECTED" in text and "ACCEPTED" in text and "PENDING" in text


@pytest.mark.parametrize(("argv", "strict"), [([], False), (["--strict"], True)], ids=["default", "strict"])
def test_demo_strict_flag_reaches_the_simulator(monkeypatch: pytest.MonkeyPatch, argv: list[str], strict: bool) -> None:
    asked: list[bool] = []

    class Built(Exception):
        pass

    def simulator(**kwargs: Any) -> Simulator:
        asked.append(kwargs["strict"])
        raise Built  # stop here: the flag reached the simulator

    monkeypatch.setattr(demo, "Simulator", simulator)
    with pytest.raises(Built):
        demo.main(argv)
    assert asked == [strict]


def test_demo_world_modifies_a_workload_share_back_to_pending() -> None:
    sim = Simulator(strict=True)
    world = World(sim)
    share = world.workload("222222222222", "payments-api", "READONLY")
    recipient = sim.client(account=RECIPIENT)
    recipient.update_share_invitation(ShareInvitationId=share.share_id, ShareInvitationAction="ACCEPT")
    assert world.status(share) == "ACCEPTED"

    assert world.modify_workload_share(share, "CONTRIBUTOR") is share

    assert (world.status(share), share.permission) == ("PENDING", "CONTRIBUTOR")
    [summary] = recipient.list_share_invitations(ShareResourceType="WORKLOAD")["ShareInvitationSummaries"]
    assert (summary["ShareInvitationId"], summary["PermissionType"]) == (share.share_id, "CONTRIBUTOR")


# ---------------------------------------------------------------- make demo: what a first run prints


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_every_hint_the_demo_prints_works(strict: bool) -> None:
    out = io.StringIO()
    demo.run(out, strict=strict)
    text = out.getvalue()
    hints = re.findall(r"make ([a-z-]+)((?: [A-Z_]+=\S+)*)", text)
    assert hints or strict
    for target, variables in hints:
        recipe = makefile_recipe(target)
        for name in re.findall(r"([A-Z_]+)=", variables):
            assert f"$({name})" in recipe or f"$({name}_FLAG)" in recipe, (target, name)
    # Outside the policy line, no VARIABLE=value the demo would ignore
    rest = "\n".join(line for line in text.splitlines() if not line.startswith("Demo policy:"))
    assert set(re.findall(r"\b([A-Z][A-Z_]+)=", rest)) <= {"STRICT"}


def test_demo_strict_says_it_runs_the_strict_simulator_and_what_that_changes() -> None:
    out = io.StringIO()
    demo.run(out, strict=True)
    first = out.getvalue().splitlines()[:3]
    assert first[0].startswith("Strict simulator (STRICT=1)")
    for change in demo.STRICT_CHANGES:
        assert change in first[1]


def test_the_strict_demo_decides_as_the_default_one() -> None:
    # README: "the decisions must not change" on the strict simulator.
    def decisions(strict: bool) -> list[tuple[str, ...]]:
        result = demo.run(io.StringIO(), strict=strict)
        return sorted(
            (r["shared_by"], r["resource_type"], r["resource_name"], r["action"], r["result"])
            for r in result["sweep_records"]
        )

    assert decisions(strict=True) == decisions(strict=False)
