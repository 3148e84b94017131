"""The simulator: one dispatch function shared by the in-process hook and the HTTP server."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from simulator.faults import FaultInjector, Faults
from simulator.inprocess import client as inprocess_client
from simulator.protocol import Caller, caller, decode, error_response, match, ok_response
from simulator.service import IAM_PRINCIPAL, IDENT, Service, ServiceError, conflict
from simulator.world import load_world

_KIND = {"Workload": "WORKLOAD", "Lens": "LENS", "Profile": "PROFILE", "Template": "TEMPLATE"}
_DELETE = {
    "DeleteWorkload": "WORKLOAD",
    "DeleteLens": "LENS",
    "DeleteProfile": "PROFILE",
    "DeleteReviewTemplate": "TEMPLATE",
}


def _copy(body: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a response body, through JSON as a client would see it."""
    copied: dict[str, Any] = json.loads(json.dumps(body))
    return copied


class Simulator:
    """An in-memory AWS Well-Architected sharing service for every account and region.

    strict=True gives every behaviour no public source confirms its most pessimistic plausible form
    (docs/simulator.md, "Default and strict")."""

    def __init__(self, faults: Faults | None = None, start_time: datetime | None = None, strict: bool = False) -> None:
        self._offset = timedelta(0)
        self._start = start_time
        self._started_at = time.monotonic()
        self.strict = strict
        self.service = Service(self.now, strict=strict)
        # Create*Share answers by (account, principal, region, operation, ClientRequestToken)
        self._idempotent: dict[tuple[str, ...], tuple[str, dict[str, Any]]] = {}
        self._injector = FaultInjector(faults or Faults())
        self._stats: Counter[str] = Counter()
        self._stats_lock = threading.Lock()

    # ---------------------------------------------------------------- controls
    @property
    def faults(self) -> Faults:
        return self._injector.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._injector = FaultInjector(faults)

    def now(self) -> datetime:
        base = (
            self._start + timedelta(seconds=time.monotonic() - self._started_at) if self._start else datetime.now(UTC)
        )
        return base + self._offset

    def advance(self, seconds: float) -> None:
        """Move the simulated clock forward (invitations expire 7 days after they are created)."""
        if seconds < 0:
            raise ValueError(f"the clock only moves forward, not by {seconds}")
        self._offset += timedelta(seconds=seconds)

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.service.events()

    @property
    def stats(self) -> dict[str, int]:
        with self._stats_lock:
            return dict(self._stats)

    def reset_stats(self) -> None:
        with self._stats_lock:
            self._stats.clear()

    def share_status(self, share_id: str) -> str:
        return self.service.share_status(share_id)

    def load_world(self, world: dict[str, Any] | str | Path) -> dict[str, str]:
        return load_world(self.service, world)

    def client(
        self,
        account: str = "123456789012",
        region: str = "us-east-1",
        principal: str | None = None,
        **client_kwargs: Any,
    ) -> Any:
        """A boto3 wellarchitected client for this account and region, served in-process. principal (an IAM
        user or role ARN of that account) makes the client call as that user or role; without it the client
        is the account's role ``Simulator``."""
        if principal is not None:
            named = IAM_PRINCIPAL.fullmatch(principal)
            if not named or named.group(1) != account:
                raise ValueError(f"principal {principal!r} is not an IAM user or role ARN of account {account}")
        return inprocess_client(self, account, region, principal, **client_kwargs)

    # ---------------------------------------------------------------- requests
    def _count(self, *names: str) -> None:
        with self._stats_lock:
            for name in names:
                self._stats[name] += 1

    def handle(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Serve one HTTP request: (status, headers, body)."""
        try:
            who = caller(headers)
            op, path_params = match(method, path)
        except ServiceError as err:
            return error_response(err)
        injector = self._injector
        if injector.faults.latency_s:
            time.sleep(injector.faults.latency_s)
        self._count("total", op.name)
        if injector.throttled(who.account, who.region):
            self._count("throttled")
            return error_response(ServiceError(429, "ThrottlingException", "Rate exceeded"))
        if injector.fails():
            self._count("injected_errors")
            return error_response(ServiceError(500, "InternalServerException", "injected internal error"))
        try:
            params = decode(op, path_params, query, body)
            with self.service.lock:
                result = self._idempotent_call(op.name, who, params)
        except ServiceError as err:
            return error_response(err)
        return ok_response(result)

    def _idempotent_call(self, name: str, who: Caller, p: dict[str, Any]) -> dict[str, Any]:
        """A Create*Share retried with the same ClientRequestToken by the same caller answers the original
        result and changes nothing; the same token with other parameters is a ConflictException."""
        token = p.get("ClientRequestToken")
        if not (token and name.startswith("Create") and name.endswith("Share")):
            return self._call(name, who, p)
        key = (who.account, who.principal, who.region, name, token)
        fingerprint = json.dumps(p, sort_keys=True, default=str)
        if key in self._idempotent:
            original, result = self._idempotent[key]
            if original != fingerprint:
                raise conflict(f"ClientRequestToken {token!r} was used with other parameters", token, "SHARE")
            return _copy(result)
        result = self._call(name, who, p)
        self._idempotent[key] = (fingerprint, _copy(result))
        return result

    def _call(self, name: str, who: Caller, p: dict[str, Any]) -> dict[str, Any]:
        svc = self.service
        account, region = who.account, who.region
        if name == "ListShareInvitations":
            return svc.list_share_invitations(account, region, p)
        if name == "UpdateShareInvitation":
            return svc.update_share_invitation(
                account, region, p["ShareInvitationId"], p["ShareInvitationAction"], who.principal
            )
        if name == "UpdateWorkloadShare":
            return svc.update_workload_share(account, region, p["WorkloadId"], p["ShareId"], p["PermissionType"])
        if name == "CreateLensVersion":
            return svc.create_lens_version(account, region, p["LensAlias"], p["LensVersion"])
        if name in _DELETE:
            return svc.delete_resource(_DELETE[name], account, region, p[IDENT[_DELETE[name]]])
        if name == "CreateWorkload":
            return svc.create_workload(account, region, p)
        if name == "ImportLens":
            return svc.import_lens(account, region, p)
        if name == "CreateProfile":
            return svc.create_profile(account, region, p)
        if name == "CreateReviewTemplate":
            return svc.create_review_template(account, region, p)
        for verb in ("Create", "List", "Delete"):
            for noun, kind in _KIND.items():
                if name == f"{verb}{noun}Share{'s' if verb == 'List' else ''}":
                    ident = p[IDENT[kind]]
                    if verb == "Create":
                        request = {k: v for k, v in p.items() if k != IDENT[kind]}
                        return svc.create_share(kind, account, region, ident, request, name)
                    if verb == "List":
                        return svc.list_shares(kind, account, region, ident, p)
                    return svc.delete_share(kind, account, region, ident, p["ShareId"])
        raise ServiceError(404, "UnknownOperationException", f"{name} is not simulated")

    def admin(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        """The /_sim/ endpoints of the HTTP server (not part of AWS)."""
        try:
            payload = json.loads(body) if body else {}
            if method == "GET" and path == "/_sim/events":
                return 200, self.events
            if method == "GET" and path == "/_sim/stats":
                return 200, self.stats
            if method == "POST" and path == "/_sim/advance":
                self.advance(float(payload["seconds"]))
                return 200, {"now": self.now().isoformat()}
            if method == "POST" and path == "/_sim/world":
                return 200, self.load_world(payload)
            if method == "POST" and path == "/_sim/faults":
                self.faults = Faults(**payload)
                return 200, {"faults": vars(self.faults)}
        except (ValueError, KeyError, TypeError) as err:
            return 400, {"Message": f"bad admin request: {err}"}
        return 404, {"Message": f"no admin endpoint {method} {path}"}
