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

import copy
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.service import ORG_STATUSES, ServiceError

if TYPE_CHECKING:
    from simulator.core import Simulator

_SECTIONS = {
    "workloads": ("WORKLOAD", "CreateWorkloadShare"),
    "lenses": ("LENS", "CreateLensShare"),
    "profiles": ("PROFILE", "CreateProfileShare"),
    "templates": ("TEMPLATE", "CreateTemplateShare"),
}
_HEX32 = re.compile(r"[0-9a-f]{32}")


def load_world(sim: Simulator, world: dict[str, Any] | str | Path) -> dict[str, str]:
    """Create everything the world names; returns {share id: resource name}. Raises ValueError."""
    if not isinstance(world, dict):
        world = json.loads(Path(world).read_text(encoding="utf-8"))
    if not isinstance(world, dict) or not isinstance(world.get("accounts"), dict):
        raise ValueError("a world is a JSON object with an 'accounts' object")
    svc = sim.service
    with svc.lock:
        saved = copy.deepcopy(svc.state)
        try:
            return _load(sim, world)
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            svc.state = saved  # all or nothing: a world that fails part way leaves no trace
            if isinstance(err, ValueError):
                raise
            raise ValueError(f"malformed world: {type(err).__name__}: {err}") from err


def _load(sim: Simulator, world: dict[str, Any]) -> dict[str, str]:
    svc = sim.service
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
                res = svc._add(kind, account, region, name, rid=rid)
                for share_spec in spec.get("shares", []):
                    created.update(_share(sim, res, kind, event_name, share_spec))
    return created


def _share(sim: Simulator, res: Any, kind: str, event_name: str, spec: dict[str, Any]) -> dict[str, str]:
    svc = sim.service
    request: dict[str, Any] = {"SharedWith": spec["with"], "ClientRequestToken": "world"}
    if kind == "WORKLOAD":
        request["PermissionType"] = spec.get("permission", "READONLY")
    try:
        response = svc.create_share(kind, res.owner, res.region, res.rid, request, event_name)
    except ServiceError as err:
        raise ValueError(f"{kind.lower()} {res.name!r} shared with {spec['with']}: {err.message}") from err
    share = svc.state.shares.pop(response["ShareId"])
    wanted = spec.get("share_id")
    if wanted is not None:
        if not isinstance(wanted, str) or not _HEX32.fullmatch(wanted) or wanted in svc.state.shares:
            raise ValueError(f"share_id {wanted!r} is not 32 hex characters or is taken")
        share.share_id = wanted
    svc.state.shares[share.share_id] = share
    svc.state.events[-1]["detail"]["responseElements"]["ShareId"] = share.share_id
    if share.recipient is None:  # an organization or OU: no invitation, an association status
        status = spec.get("status")
        if status not in (None, *ORG_STATUSES, "REVOKED"):
            raise ValueError(f"organization share status {status!r} is not ASSOCIATING, ASSOCIATED, FAILED or REVOKED")
        if status == "REVOKED":
            share.settled = status
        elif status is not None:
            share.association = status
        return {share.share_id: res.name}
    status = spec.get("status", "PENDING")
    if status not in ("PENDING", "ACCEPTED", "REJECTED", "REVOKED"):
        raise ValueError(f"share status {status!r} is not PENDING, ACCEPTED, REJECTED or REVOKED")
    if status != "PENDING":
        share.settled = status
    return {share.share_id: res.name}
