"""A policy document, the pending shares to preview it against (`make check-policy --what-if`) and what it
decides for each, a check that a preview updated nothing, and an env-vars file for the tools."""

from __future__ import annotations

import json
from pathlib import Path

from simulator import Simulator

RECIPIENT = "111111111111"

DOCUMENT = """\
version: 1
non_matching_action: IGNORE
rules:
  - id: vendor-never
    action: REJECT
    sharers: {accounts: ["555555555555"]}
  - id: platform
    action: ACCEPT
    sharers: {accounts: ["222222222222"]}
  - id: security-lenses
    action: ACCEPT
    sharers: {accounts: ["333333333333"]}
    resource_types: [LENS]
    resource_names: ["acme-*"]
"""
# What the variables in events/env.json allow: 222222222222 and 333333333333, READONLY, all types;
# 555555555555 denied.

WORLD = {
    "region": "us-east-1",
    "accounts": {
        "222222222222": {
            "workloads": [
                {
                    "name": "payments-api",
                    "shares": [{"with": RECIPIENT, "permission": "READONLY", "share_id": "1" * 32}],
                },
                {"name": "ledger", "shares": [{"with": RECIPIENT, "permission": "CONTRIBUTOR", "share_id": "2" * 32}]},
            ],
            "templates": [{"name": "standard-review", "shares": [{"with": RECIPIENT, "share_id": "3" * 32}]}],
        },
        "333333333333": {
            "lenses": [
                {"name": "acme-security", "shares": [{"with": RECIPIENT, "share_id": "4" * 32}]},
                {"name": "data-lens", "shares": [{"with": RECIPIENT, "share_id": "5" * 32}]},
            ],
            "profiles": [{"name": "pci-profile", "shares": [{"with": RECIPIENT, "share_id": "6" * 32}]}],
        },
        "444444444444": {"workloads": [{"name": "unknown-app", "shares": [{"with": RECIPIENT, "share_id": "7" * 32}]}]},
        "555555555555": {"lenses": [{"name": "acme-vendor", "shares": [{"with": RECIPIENT, "share_id": "8" * 32}]}]},
        "666666666666": {
            "workloads": [{"name": "platform-app", "shares": [{"with": RECIPIENT, "share_id": "9" * 32}]}],
            "profiles": [{"name": "shared-elsewhere", "shares": [{"with": "999999999999", "share_id": "a" * 32}]}],
        },
    },
}
EXPECTED = {  # share id -> (action, rule index, rule id) under DOCUMENT
    "1" * 32: ("ACCEPT", 1, "platform"),
    "2" * 32: ("IGNORE", None, None),  # CONTRIBUTOR: the platform rule accepts READONLY only
    "3" * 32: ("ACCEPT", 1, "platform"),
    "4" * 32: ("ACCEPT", 2, "security-lenses"),
    "5" * 32: ("IGNORE", None, None),  # not acme-*
    "6" * 32: ("IGNORE", None, None),  # no rule accepts profiles from 333333333333
    "7" * 32: ("IGNORE", None, None),
    "8" * 32: ("REJECT", 0, "vendor-never"),
    "9" * 32: ("IGNORE", None, None),
}


def assert_nothing_was_updated(sim: Simulator) -> None:
    stats = sim.stats
    assert set(stats) <= {"total", "ListShareInvitations"}, stats  # no UpdateShareInvitation, nothing else
    assert stats["ListShareInvitations"] >= 4  # all four types
    for share_id in EXPECTED:
        assert sim.share_status(share_id) == "PENDING"


def env_file(tmp_path: Path, **variables: str) -> Path:
    path = tmp_path / "env-vars.json"
    path.write_text(json.dumps({"Parameters": variables}))
    return path
