"""Seed a scenario from a world file: accounts, their resources, and who they are shared with.

    {"region": "us-east-1",
     "accounts": {
       "222222222222": {
         "workloads": [{"name": "payments-api", "shares": [{"with": "111111111111", "permission": "READONLY"}]}],
         "lenses":    [{"name": "platform-lens", "shares": [{"with": "111111111111", "status": "ACCEPTED"}]}],
         "profiles":  [{"name": "pci-profile", "shares": [{"with": "111111111111"}]}],
         "templates": [{"name": "standard-review", "shares": [{"with": "111111111111", "share_id": "<32 hex>"}]}]}}}

A share may give "status" (PENDING, the default, ACCEPTED, REJECTED or REVOKED; for an organization or
OU share ASSOCIATING, ASSOCIATED or FAILED, by default ASSOCIATING for a minute, then ASSOCIATED) and a
fixed "share_id"; resources may give a fixed "id" (32 hex) and a "region".
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from simulator.service import Resource, Service, ServiceError

_SECTIONS = {
    "workloads": ("WORKLOAD", "CreateWorkloadShare"),
    "lenses": ("LENS", "CreateLensShare"),
    "profiles": ("PROFILE", "CreateProfileShare"),
    "templates": ("TEMPLATE", "CreateTemplateShare"),
}
_HEX32 = re.compile(r"[0-9a-f]{32}")


def load_world(service: Service, world: dict[str, Any] | str | Path) -> dict[str, str]:
    """Create everything the world names; returns {share id: resource name}. Raises ValueError."""
    if not isinstance(world, dict):
        world = json.loads(Path(world).read_text(encoding="utf-8"))
    if not isinstance(world, dict) or not isinstance(world.get("accounts"), dict):
        raise ValueError("a world is a JSON object with an 'accounts' object")
    try:
        with service.transaction():  # all or nothing: a world that fails part way leaves no trace
            return _load(service, world)
    except (KeyError, TypeError, AttributeError) as err:
        raise ValueError(f"malformed world: {type(err).__name__}: {err}") from err


def _load(service: Service, world: dict[str, Any]) -> dict[str, str]:
    created: dict[str, str] = {}
    for account, sections in world["accounts"].items():
        if not re.fullmatch(r"[0-9]{12}", account):
            raise ValueError(f"account {account!r} is not 12 digits")
        unknown = set(sections) - set(_SECTIONS)
        if unknown:
            raise ValueError(f"account {account}: unknown sections {sorted(unknown)}")
        for section, (kind, event_name) in _SECTIONS.items():
            for spec in sections.get(section, []):
                region = spec.get("region", world.get("region", "us-east-1"))
                name, rid = spec["name"], spec.get("id")
                if not isinstance(name, str) or not 3 <= len(name) <= 100:
                    raise ValueError(f"{section} name {name!r} is not a string of 3 to 100 characters")
                if rid is not None and not (isinstance(rid, str) and _HEX32.fullmatch(rid)):
                    raise ValueError(f"{section} {name!r}: id {rid!r} is not 32 hex characters")
                res = service.add_resource(kind, account, region, name, rid=rid)
                for share_spec in spec.get("shares", []):
                    created.update(_share(service, res, event_name, share_spec))
    return created


def _share(service: Service, res: Resource, event_name: str, spec: dict[str, Any]) -> dict[str, str]:
    request: dict[str, Any] = {"SharedWith": spec["with"], "ClientRequestToken": "world"}
    if res.kind == "WORKLOAD":
        request["PermissionType"] = spec.get("permission", "READONLY")
    try:
        response = service.create_share(
            res.kind, res.owner, res.region, res.rid, request, event_name, share_id=spec.get("share_id")
        )
    except ServiceError as err:
        raise ValueError(f"{res.kind.lower()} {res.name!r} shared with {spec['with']}: {err.message}") from err
    share_id: str = response["ShareId"]
    if "status" in spec:  # without one: PENDING, or for an organization or OU share ASSOCIATING, then ASSOCIATED
        service.preset_status(share_id, spec["status"])
    return {share_id: res.name}
