"""Where a sharing account sits in the organization: every OU and the root above it.

A member account cannot call ``organizations:ListParents`` itself, so the resolver assumes a read-only
role in the management (or a delegated-administrator) account and walks ``ListParents`` from the
account up to the root. Results are cached per container for ``ttl_seconds``, per child: an account's
parent and each OU's parent, so sharers under the same OUs share the walk. Failures are never cached
and never raised: ``lookup`` returns ``OrgAncestry.failed`` saying which call failed, and the policy
then leaves OU-dependent invitations pending. Every call fits in the caller's ``Deadline``: one SDK
attempt with short timeouts, retried here only while a retry can still finish in time.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from acceptor.deadline import Deadline
from acceptor.fanout import FanOut, in_order
from acceptor.throttle import backoff_delay
from policy import OrgAncestry

# Organizations allows five levels of OUs below the root; anything deeper means the walk went wrong.
MAX_DEPTH = 8
SDK_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=2, read_timeout=5)
CALL_SECONDS = 7.0  # connect + read: the most one attempt can take
MAX_ATTEMPTS = 3
_RETRYABLE = frozenset({"TooManyRequestsException", "ThrottlingException", "ServiceException", "InternalFailure"})
_REFRESH_BEFORE = timedelta(minutes=5)
_ACCOUNT = re.compile(r"[0-9]{12}")

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


def _retryable(err: Exception) -> bool:
    if isinstance(err, ClientError):
        status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return err.response.get("Error", {}).get("Code") in _RETRYABLE or status == 429 or status >= 500
    return isinstance(err, BotoCoreError)


def _within(deadline: Deadline, what: str, call: Callable[[], Any], sleep: Callable[[float], None]) -> Any:
    """``call()`` with retries, each attempt started only when it can finish before the deadline."""
    attempt = 0
    while True:
        if deadline.left() < CALL_SECONDS:
            raise _LookupFailed(f"{what}: not called, {max(0.0, deadline.left()):.1f} s left (out of time)")
        attempt += 1
        try:
            return call()
        except (ClientError, BotoCoreError) as err:
            delay = backoff_delay(attempt, base=0.2)
            if not _retryable(err) or attempt >= MAX_ATTEMPTS or deadline.left() - delay < CALL_SECONDS:
                raise
            sleep(delay)


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
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._role_arn = role_arn
        self._sts = sts_client
        self._ttl = ttl_seconds
        self._session_name = session_name
        self._factory = organizations_client_factory or _default_organizations
        self._clock = clock
        self._now = now
        self._sleep = sleep
        self._lock = threading.Lock()
        self._parents: dict[str, tuple[str, str, float]] = {}  # child -> (parent id, parent type, expires)
        self._in_flight: dict[str, threading.Lock] = {}
        self._client: Any = None
        self._expiration: datetime | None = None
        self.calls: Counter[str] = Counter()  # AWS calls sent: AssumeRole, ListParents

    # ------------------------------------------------------------------ public
    def lookup(self, account_id: str, deadline: Deadline | None = None) -> OrgAncestry:
        """Every OU id and the root id above ``account_id``, or why that could not be found."""
        deadline = deadline or Deadline.unlimited(self._clock)
        ancestors: set[str] = set()
        child = account_id
        try:
            for _ in range(MAX_DEPTH):
                parent_id, parent_type = self._parent(child, account_id, deadline)
                ancestors.add(parent_id)
                if parent_type == "ROOT":
                    return OrgAncestry.found(ancestors)
                child = parent_id
        except _LookupFailed as err:
            return OrgAncestry.failed(str(err))
        return OrgAncestry.failed(f"organizations:ListParents for {account_id}: no root within {MAX_DEPTH} levels")

    # ----------------------------------------------------------------- helpers
    def _parent(self, child: str, account_id: str, deadline: Deadline) -> tuple[str, str]:
        with self._lock:
            child_lock = self._in_flight.setdefault(child, threading.Lock())
        with child_lock:  # concurrent lookups of sharers under the same OU ask for it once
            with self._lock:
                cached = self._parents.get(child)
            if cached is not None and cached[2] > self._clock():
                return cached[0], cached[1]
            return self._ask_parent(child, account_id, deadline)

    def _ask_parent(self, child: str, account_id: str, deadline: Deadline) -> tuple[str, str]:
        client = self._organizations(account_id, deadline)

        def ask() -> Any:
            with self._lock:
                self.calls["ListParents"] += 1
            return client.list_parents(ChildId=child)

        try:
            response = _within(deadline, f"organizations:ListParents for {child}", ask, self._sleep)
        except (ClientError, BotoCoreError) as err:
            raise _LookupFailed(f"organizations:ListParents for {child} failed: {_describe(err)}") from err
        parents = response.get("Parents") if isinstance(response, dict) else None
        if not isinstance(parents, list) or len(parents) != 1 or not isinstance(parents[0], dict):
            count = len(parents) if isinstance(parents, list) else type(parents).__name__
            raise _LookupFailed(f"organizations:ListParents for {child} returned {count} parents, not 1")
        parent_id, parent_type = parents[0].get("Id"), parents[0].get("Type")
        if not isinstance(parent_id, str) or not parent_id:
            raise _LookupFailed(f"organizations:ListParents for {child} returned parent id {parent_id!r}")
        if parent_type not in ("ROOT", "ORGANIZATIONAL_UNIT"):
            raise _LookupFailed(f"organizations:ListParents for {child} returned parent type {parent_type!r}")
        with self._lock:
            self._parents[child] = (parent_id, parent_type, self._clock() + self._ttl)
        return parent_id, parent_type

    def _organizations(self, account_id: str, deadline: Deadline) -> Any:
        """An Organizations client on the assumed role's credentials, refreshed before they expire."""
        with self._lock:
            fresh = self._expiration is None or self._expiration - self._now() > _REFRESH_BEFORE
            if self._client is not None and fresh:
                return self._client
            try:
                if self._sts is None:
                    self._sts = _default_sts()
                sts = self._sts

                def assume() -> Any:
                    self.calls["AssumeRole"] += 1
                    return sts.assume_role(RoleArn=self._role_arn, RoleSessionName=self._session_name)

                credentials = _within(deadline, f"sts:AssumeRole on {self._role_arn}", assume, self._sleep)[
                    "Credentials"
                ]
                self._client = self._factory(credentials)
            except (ClientError, BotoCoreError, KeyError, TypeError) as err:
                self._client = None
                raise _LookupFailed(
                    f"sts:AssumeRole on {self._role_arn} (for sharer {account_id}) failed: {_describe(err)}"
                ) from err
            expiration = credentials.get("Expiration")
            self._expiration = expiration if isinstance(expiration, datetime) else None
            return self._client


def ancestries_of(
    sharers: Iterable[Any],
    lookup: Callable[[str], OrgAncestry] | None,
    *,
    missing: str = "no Organizations lookup configured",
    fan_out: FanOut = in_order,
) -> dict[str, OrgAncestry]:
    """Each well-formed sharer's place in the organization, each looked up once.

    Only 12-digit account ids are looked up (the policy refuses the rest). Without a ``lookup`` every
    sharer's answer is ``OrgAncestry.failed(missing)``; a lookup that raises is a failed answer too, so OU
    rules stay undecided and nothing stops the run."""
    accounts = sorted({s for s in sharers if isinstance(s, str) and _ACCOUNT.fullmatch(s)})
    if lookup is None:
        return {s: OrgAncestry.failed(missing) for s in accounts}
    ask = lookup

    def one(sharer: str) -> OrgAncestry:
        try:
            return ask(sharer)
        except Exception as err:  # a lookup must never stop the run: OU rules stay undecided
            return OrgAncestry.failed(f"organizations lookup raised {type(err).__name__}: {err}")

    return dict(zip(accounts, fan_out(one, accounts), strict=True))
