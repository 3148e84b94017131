"""Opt-in, against real AWS with your credentials (RUN_AWS_TESTS=1). Read-only: the sweep runs in dry
run, so it lists this account's pending invitations and decides them, but never answers one."""

from __future__ import annotations

import boto3
import pytest

from acceptor import runtime
from acceptor.settings import load_settings
from acceptor.wellarchitected import SDK_CONFIG
from handlers import sweep
from tests.support.handlers import SCHEDULED, invoke

pytestmark = pytest.mark.aws


def test_dry_run_sweep_lists_and_decides_without_changing_anything() -> None:
    client = boto3.client("wellarchitected", config=SDK_CONFIG)
    settings = load_settings({"ALLOWED_SOURCE_ACCOUNTS": "", "DRY_RUN": "true"})
    run = invoke(sweep.lambda_handler, SCHEDULED, runtime.build(settings, wellarchitected_client=client))
    assert run.result["status"] == "ok" and run.result["dry_run"] is True
    assert run.result["list_error"] is None and run.result["accept"] == 0  # an empty policy accepts nothing
    assert "accepted" not in run.result["results"] and "rejected" not in run.result["results"]
    assert len(run.decisions) == run.result["invitations"]
