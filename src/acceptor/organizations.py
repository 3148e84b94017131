"""Where a sharing account sits in the organization: every OU and the root above it.

A member account cannot call ``organizations:ListParents`` itself, so the resolver assumes a read-only
role in the management (or a delegated-administrator) account and walks ``ListParents`` from the
account up to the root. Results are cached per container for ``ttl_seconds``, per child: an account's
parent and each OU's parent, so sharers under the same OUs share the walk. Failures are never cached
and never raised: ``lookup`` returns ``OrgAncestry.failed`` saying which call failed, and the policy
then leaves OU-dependent invitations pending.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from policy import OrgAncestry

# Organizations allows five levels of OUs below the root; anything deeper means the walk went wrong.
MAX_DEPTH = 8
SDK_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=5, read_timeout=10)
_REFRESH_BEFORE = timedelta(minutes=5)

ClientFactory = Callable[[dict[str, str]], Any]


def _default_sts() -> Any:
    import boto3

    return boto3.client("sts", config=SDK_CONFIG)


def _default_organizations(credentials: dict[str, str]) -> Any:
    import boto3

    return boto3.client(
        "organizations",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        config=SDK_CONFIG,
    )


def _describe(err: Exception) -> str:
    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        return f"{error.get('Code') or 'Unknown'}: {error.get('Message') or ''}".rstrip(": ")
    return f"{type(err).__name__}: {err}"


class _LookupFailed(Exception):
    pass


class OrgAncestryResolver:
    """Resolve an account's ancestors through an assumed read-only Organizations role. Thread-safe."""

    def __init__(
        self,
        role_arn: str,
        *,
        sts_client: Any = None,
        ttl_seconds: float = 900.0,
        session_name: str = "wa-share-acceptor",
        organizations_client_factory: ClientFactory | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._role_arn = role_arn
        self._sts = sts_client
        self._ttl = ttl_seconds
        self._session_name = session_name
        self._factory = organizations_client_factory or _default_organizations
        self._clock = clock
        self._now = now
        self._lock = threading.Lock()
        self._parents: dict[str, tuple[str, str, float]] = {}  # child -> (parent id, parent type, expires)
        self._in_flight: dict[str, threading.Lock] = {}
        self._client: Any = None
        self._expiration: datetime | None = None
        self.calls: Counter[str] = Counter()  # AWS calls sent: AssumeRole, ListParents

    # ------------------------------------------------------------------ public
    def lookup(self, account_id: str) -> OrgAncestry:
        """Every OU id and the root id above ``account_id``, or why that could not be found."""
        ancestors: set[str] = set()
        child = account_id
        try:
            for _ in range(MAX_DEPTH):
                parent_id, parent_type = self._parent(child, account_id)
                ancestors.add(parent_id)
                if parent_type == "ROOT":
                    return OrgAncestry.found(ancestors)
                child = parent_id
        except _LookupFailed as err:
            return OrgAncestry.failed(str(err))
        return OrgAncestry.failed(f"organizations:ListParents for {account_id}: no root within {MAX_DEPTH} levels")

    # ----------------------------------------------------------------- helpers
    def _parent(self, child: str, account_id: str) -> tuple[str, str]:
        with self._lock:
            child_lock = self._in_flight.setdefault(child, threading.Lock())
        with child_lock:  # concurrent lookups of sharers under the same OU ask for it once
            with self._lock:
                cached = self._parents.get(child)
            if cached is not None and cached[2] > self._clock():
                return cached[0], cached[1]
            return self._ask_parent(child, account_id)

    def _ask_parent(self, child: str, account_id: str) -> tuple[str, str]:
        client = self._organizations(account_id)
        with self._lock:
            self.calls["ListParents"] += 1
        try:
            parents = client.list_parents(ChildId=child).get("Parents") or []
        except (ClientError, BotoCoreError) as err:
            raise _LookupFailed(f"organizations:ListParents for {child} failed: {_describe(err)}") from err
        if len(parents) != 1 or not isinstance(parents[0], dict) or not parents[0].get("Id"):
            raise _LookupFailed(f"organizations:ListParents for {child} returned {len(parents)} parents, not 1")
        parent_id, parent_type = str(parents[0]["Id"]), str(parents[0].get("Type") or "")
        if parent_type not in ("ROOT", "ORGANIZATIONAL_UNIT"):
            raise _LookupFailed(f"organizations:ListParents for {child} returned parent type {parent_type!r}")
        with self._lock:
            self._parents[child] = (parent_id, parent_type, self._clock() + self._ttl)
        return parent_id, parent_type

    def _organizations(self, account_id: str) -> Any:
        """An Organizations client on the assumed role's credentials, refreshed before they expire."""
        with self._lock:
            fresh = self._expiration is None or self._expiration - self._now() > _REFRESH_BEFORE
            if self._client is not None and fresh:
                return self._client
            self.calls["AssumeRole"] += 1
            try:
                if self._sts is None:
                    self._sts = _default_sts()
                credentials = self._sts.assume_role(RoleArn=self._role_arn, RoleSessionName=self._session_name)[
                    "Credentials"
                ]
                self._client = self._factory(credentials)
            except (ClientError, BotoCoreError, KeyError) as err:
                self._client = None
                raise _LookupFailed(
                    f"sts:AssumeRole on {self._role_arn} (for sharer {account_id}) failed: {_describe(err)}"
                ) from err
            expiration = credentials.get("Expiration")
            self._expiration = expiration if isinstance(expiration, datetime) else None
            return self._client
