"""A fresh clone following the README's "Try it locally" word for word decides invitations at every step.

The commands are read from the README and run as written, through make, against the simulator
server on a free loopback port (the only change: the port, so that parallel runs do not collide).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("## Try it locally") : README.index("\n## ", README.index("## Try it locally") + 3)]
# `-o .venv/.installed`: take the shared virtualenv as it is (a test never reinstalls it)
MAKE = ["make", "--no-print-directory", "-o", ".venv/.installed"]


def _steps() -> list[str]:
    (block,) = re.findall(r"```sh\n(.*?)```", SECTION, re.DOTALL)
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MAKE")) and k != "MFLAGS"}
    return env | {"AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture
def simulator() -> Iterator[tuple[str, int]]:
    """Step 1 as written (`make simulator &`), on a free port."""
    (line,) = [s for s in _steps() if s.startswith("make simulator")]
    assert line.endswith("&")
    port = _free_port()
    argv = [*MAKE, *shlex.split(line.rstrip("&"))[1:], f"PORT={port}"]
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=_base_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # its own process group: make and the simulator it runs stop together
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = []
        for _ in range(5):
            lines.append(proc.stdout.readline())
            if lines[-1].startswith("world "):
                break
        assert any("listening on http://127.0.0.1" in x for x in lines), lines
        assert any(x.startswith("world simulator/worlds/example.json: 9 share(s) seeded") for x in lines), lines
        yield line, port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _exports(port: int) -> dict[str, str]:
    (line,) = [s for s in _steps() if s.startswith("export ")]
    pairs = dict(item.split("=", 1) for item in shlex.split(line)[1:])
    assert pairs["AWS_ENDPOINT_URL_WELLARCHITECTED"] == "http://127.0.0.1:8787"  # make simulator's default port
    pairs["AWS_ENDPOINT_URL_WELLARCHITECTED"] = f"http://127.0.0.1:{port}"
    return pairs


def _decisions(output: str) -> list[dict[str, Any]]:
    records = []
    for line in output.splitlines():
        if line.startswith("{") and '"invitation decided"' in line:
            records.append(json.loads(line))
    return records


@pytest.mark.slow
def test_try_it_locally_decides_at_every_step(simulator: tuple[str, int]) -> None:
    _, port = simulator
    env = _base_env() | _exports(port)
    commands = [s for s in _steps() if s.startswith("make ") and not s.startswith("make simulator")]
    assert len(commands) == 4
    outputs = []
    for command in commands:
        result = subprocess.run(
            [*MAKE, *shlex.split(command)[1:]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, (command, result.stdout[-2000:], result.stderr[-2000:])
        assert "Traceback" not in result.stderr
        outputs.append(result.stdout)
    preview, one_event, batch, sweep = outputs

    # 2. the preview: every pending invitation with what the policy would do
    assert "ACCEPT 5, REJECT 1, IGNORE (left pending) 2" in preview
    assert "allowed_account" in preview and "denied_account" in preview

    # 3. one share event: its invitation re-read and accepted (in dry run)
    (decided,) = _decisions(one_event)
    assert (decided["resource_name"], decided["action"], decided["result"]) == ("payments-api", "ACCEPT", "dry_run")
    assert json.loads(one_event.strip().splitlines()[-1])["accept"] == 1

    # 4. an SQS batch: every event's invitation decided, no message to receive again
    assert json.loads(batch.strip().splitlines()[-1]) == {"batchItemFailures": []}
    assert {d["action"] for d in _decisions(batch)} == {"ACCEPT"} and len(_decisions(batch)) == 4

    # 5. the sweep: trusted sharers accepted, the denied one rejected, the rest left pending
    actions = {(d["shared_by"], d["resource_name"]): d["action"] for d in _decisions(sweep)}
    assert actions[("555555555555", "denied-template")] == "REJECT"
    assert actions[("444444444444", "unknown-team-app")] == "IGNORE"
    assert actions[("222222222222", "ledger")] == "IGNORE"  # CONTRIBUTOR, not allowed
    assert sum(a == "ACCEPT" for a in actions.values()) == 5
    summary = json.loads(sweep.strip().splitlines()[-1])
    assert (summary["accept"], summary["reject"], summary["ignore"], summary["dry_run"]) == (5, 1, 2, True)


def test_the_readme_says_to_leave_the_simulator_before_touching_aws() -> None:
    exported = set(shlex.split(next(s for s in _steps() if s.startswith("export ")))[1:])
    names = {item.split("=", 1)[0] for item in exported}
    unset = re.search(r"`unset ([A-Z_ ]+)`", SECTION)
    assert unset and set(unset.group(1).split()) == names


def test_the_sample_env_vars_file_is_a_dry_run_like_the_template() -> None:
    env = json.loads((ROOT / "events" / "env.json").read_text())
    assert env["Parameters"]["DRY_RUN"] == "true"
