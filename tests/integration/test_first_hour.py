"""A user's first hour: mistakes get a sentence, not a traceback; every hint printed works."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.makefile import makefile_recipe

ROOT = Path(__file__).resolve().parents[2]
MAKE = ["make", "--no-print-directory", "-o", ".venv/.installed"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MAKE")) and k != "MFLAGS"}
    return env | {"AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1"} | extra


def _run(argv: list[str], **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, env=_env(**extra), capture_output=True, text=True, timeout=120, check=False)


# ---------------------------------------------------------------- the simulator


def test_a_port_in_use_is_a_sentence() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _run([sys.executable, "-m", "simulator", "--port", str(port)])
    assert result.returncode == 2
    assert f"simulator: cannot listen on 127.0.0.1:{port}" in result.stderr and "PORT=" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("not json", "is not"),  # the JSON error follows the path
        ('{"accounts": {"12345": {}}}', "account '12345' is not 12 digits"),
        ('{"accounts": {"222222222222": {"workloads": [{"shares": []}]}}}', "malformed world"),
    ],
)
def test_a_world_file_with_an_error_names_the_file(content: str, words: str, tmp_path: Path) -> None:
    world = tmp_path / "world.json"
    world.write_text(content)
    result = _run([sys.executable, "-m", "simulator", "--port", "0", "--world", str(world)])
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"simulator: world file {world}: ")
    if words != "is not":
        assert words in result.stderr


def test_make_simulator_serves_the_example_world_by_default() -> None:
    dry = _run([*MAKE, "-n", "simulator"])
    assert '--world "simulator/worlds/example.json"' in dry.stdout
    assert "--world" not in _run([*MAKE, "-n", "simulator", "WORLD="]).stdout


# ---------------------------------------------------------------- make invoke


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["FUNCTION=SweepFuncton"], "invoke: no function 'SweepFuncton' in the template; functions: "),
        (["EVENT=README.md"], "invoke: event file README.md is not JSON: "),
        (["EVENT=no-such-event.json"], "invoke: cannot read event file no-such-event.json: "),
    ],
)
def test_invoke_mistakes_are_sentences(args: list[str], words: str) -> None:
    result = _run([*MAKE, "invoke", *args], AWS_ENDPOINT_URL_WELLARCHITECTED="http://127.0.0.1:9")
    assert result.returncode != 0
    assert words in result.stderr and "Traceback" not in result.stderr


def test_invoke_refuses_an_env_vars_typo(tmp_path: Path) -> None:
    env_vars = tmp_path / "env.json"
    env_vars.write_text('{"Parameters": {"DENY_SOURCE_ACCOUNTS": "555555555555"}}')
    result = _run([*MAKE, "invoke", f"ENV_VARS={env_vars}"], AWS_ENDPOINT_URL_WELLARCHITECTED="http://127.0.0.1:9")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert (
        "DENY_SOURCE_ACCOUNTS is not a variable of the functions; did you mean DENIED_SOURCE_ACCOUNTS?" in result.stderr
    )


# ---------------------------------------------------------------- make build finds python3.13


def test_find_python_finds_a_pyenv_python_3_13(tmp_path: Path) -> None:
    # Given no python3.13 on PATH, and one in pyenv's versions
    fake = tmp_path / "pyenv" / "versions" / "3.13.0" / "bin" / "python3.13"
    fake.parent.mkdir(parents=True)
    fake.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    fake.chmod(0o755)
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    result = subprocess.run(
        ["/bin/sh", str(ROOT / "scripts" / "find-python"), "3.13"],
        env={"PATH": f"{empty_bin}:/bin", "PYENV_ROOT": str(tmp_path / "pyenv"), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if sys.version_info[:2] != (3, 13):
        assert result.returncode == 1  # the fake runs this interpreter, which is not 3.13
        assert "no python3.13 found" in result.stderr
    else:
        assert result.returncode == 0 and result.stdout.strip() == sys.executable


def test_find_python_says_when_there_is_none(tmp_path: Path) -> None:
    result = subprocess.run(
        ["/bin/sh", str(ROOT / "scripts" / "find-python"), "3.13"],
        env={"PATH": "/nonexistent", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1 and "no python3.13 found (looked on PATH, in pyenv's versions" in result.stderr


def test_make_build_finds_python_before_installing_the_sam_cli() -> None:
    recipe = makefile_recipe("build")
    assert re.match(r"build: *##", recipe), "no prerequisite: the SAM CLI is installed only after python3.13 is found"
    assert recipe.index("scripts/find-python 3.13") < recipe.index('echo "build: python3.13 is')
    assert recipe.index('echo "build: python3.13 is') < recipe.index("sam-venv")
