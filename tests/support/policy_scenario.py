"""The handler tests' scenario written as a policy document: the shares it decides and what it decided."""

from __future__ import annotations

from typing import Any

from simulator.sharers import World
from tests.support.handlers import DENIED, SECURITY, TRUSTED, UNKNOWN

# The scenario of the handler tests, written once as variables and once as a document.
ENV_FORM = {
    "ALLOWED_SOURCE_ACCOUNTS": f"{TRUSTED},{SECURITY}",
    "DENIED_SOURCE_ACCOUNTS": DENIED,
    "ALLOWED_RESOURCE_TYPES": "WORKLOAD,LENS,PROFILE",
    "NON_MATCHING_ACTION": "REJECT",
}
DOCUMENT = {
    "version": 1,
    "non_matching_action": "REJECT",
    "rules": [
        {"id": "vendor", "action": "REJECT", "sharers": {"accounts": [DENIED]}},
        {
            "id": "trusted",
            "action": "ACCEPT",
            "sharers": {"accounts": [TRUSTED, SECURITY]},
            "resource_types": ["WORKLOAD", "LENS", "PROFILE"],
        },
    ],
}
# A document for the base environment of the fixtures: no variables of the allowlist may be set with it.
DOCUMENT_ENV = {"ALLOWED_SOURCE_ACCOUNTS": "", "DENIED_SOURCE_ACCOUNTS": ""}


def scenario(world: World) -> list[Any]:
    return [
        world.workload(TRUSTED, "payments-api", "READONLY"),
        world.workload(TRUSTED, "ledger", "CONTRIBUTOR"),
        world.lens(SECURITY, "security-lens"),
        world.template(TRUSTED, "standard-review"),
        world.profile(DENIED, "vendor-profile"),
        world.workload(UNKNOWN, "shadow", "READONLY"),
    ]


def outcome(run: Any) -> dict[str, tuple[str, str]]:
    return {r["resource_name"]: (r["action"], r["reason"]) for r in run.decisions}
