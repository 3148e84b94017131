"""The only code that calls the Well-Architected API: list pending invitations, answer one.

The boto3 client is injected (tests attach the simulator to it); SDK retries are off and this
adapter retries throttling, 5xx and connection errors itself, with backoff and shared pacing.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import Any, NamedTuple

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

from acceptor.throttle import AdaptiveRate, backoff_delay

PAGE_SIZE = 50  # the API's maximum
SDK_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5, read_timeout=15)

_SETTLED = frozenset({"ConflictException", "ResourceNotFoundException"})
_RETRYABLE = frozenset(
    {
        "ThrottlingException",
        "InternalServerException",
        "ServiceUnavailableException",
        "TooManyRequestsException",
        "RequestTimeoutException",
    }
)
_THROTTLES = frozenset({"ThrottlingException", "TooManyRequestsException"})


class UpdateStatus(StrEnum):
    APPLIED = "applied"
    ALREADY_SETTLED = "already_settled"
    FAILED = "failed"


class UpdateResult(NamedTuple):
    status: UpdateStatus
    error_code: str | None = None
    message: str | None = None


class ListError(RuntimeError):
    """Listing pending invitations failed after retries; nothing from the broken page is used."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(f"ListShareInvitations failed: {code}: {message}")


def default_client() -> Any:
    """A wellarchitected client for the function's own account and region (SDK retries off)."""
    import boto3

    return boto3.client("wellarchitected", config=SDK_CONFIG)


def _error_code(err: Exception) -> tuple[str, str, bool]:
    """(code, message, retryable) for a botocore failure."""
    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        code = str(error.get("Code") or "Unknown")
        status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return code, str(error.get("Message") or ""), code in _RETRYABLE or status == 429 or status >= 500
    if isinstance(err, ConnectionError | HTTPClientError):
        return type(err).__name__, str(err), True
    return type(err).__name__, str(err), False


class ShareInvitations:
    """Adapter over one wellarchitected client. Thread-safe: boto3 clients are."""

    def __init__(
        self,
        client: Any,
        *,
        max_attempts: int = 6,
        rate: AdaptiveRate | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self._max_attempts = max_attempts
        self._rate = rate or AdaptiveRate(sleep=sleep)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._count_lock = threading.Lock()
        self.calls = 0  # API calls sent, retries included

    def _count(self) -> None:
        with self._count_lock:
            self.calls += 1

    def _call(self, operation: Callable[..., dict[str, Any]], **params: Any) -> dict[str, Any]:
        """Call with pacing and retries; re-raise the last error when retries run out or do not apply."""
        attempt = 0
        while True:
            attempt += 1
            self._rate.acquire()
            self._count()
            try:
                response = operation(**params)
            except (ClientError, BotoCoreError) as err:
                code, _message, retryable = _error_code(err)
                if code in _THROTTLES or (
                    isinstance(err, ClientError)
                    and err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 429
                ):
                    self._rate.throttled()
                if not retryable or attempt >= self._max_attempts:
                    raise
                self._sleep(backoff_delay(attempt, rng=self._rng))
                continue
            self._rate.succeeded()
            return response

    def pages(self, resource_type: str | None = None) -> Iterator[list[dict[str, Any]]]:
        """Yield pages of pending ShareInvitationSummary dicts, following NextToken to the end.

        botocore has no paginator for ListShareInvitations. Raises ListError when a page cannot be read.
        """
        params: dict[str, Any] = {"MaxResults": PAGE_SIZE}
        if resource_type:
            params["ShareResourceType"] = resource_type
        seen_tokens: set[str] = set()
        while True:
            try:
                response = self._call(self._client.list_share_invitations, **params)
            except (ClientError, BotoCoreError) as err:
                code, message, _ = _error_code(err)
                raise ListError(code, message) from err
            yield list(response.get("ShareInvitationSummaries") or [])
            token = response.get("NextToken")
            if not token:
                return
            if token in seen_tokens:  # a service bug must not loop the function until its timeout
                raise ListError("RepeatedNextToken", "the service returned the same NextToken twice")
            seen_tokens.add(token)
            params["NextToken"] = token

    def update(self, share_invitation_id: str, action: str) -> UpdateResult:
        """ACCEPT or REJECT one invitation. Never raises for an AWS failure: the result says what happened."""
        if action not in ("ACCEPT", "REJECT"):
            raise ValueError(f"action must be ACCEPT or REJECT, not {action!r}")
        try:
            self._call(
                self._client.update_share_invitation,
                ShareInvitationId=share_invitation_id,
                ShareInvitationAction=action,
            )
        except (ClientError, BotoCoreError) as err:
            code, message, _ = _error_code(err)
            status = UpdateStatus.ALREADY_SETTLED if code in _SETTLED else UpdateStatus.FAILED
            return UpdateResult(status, code, message)
        return UpdateResult(UpdateStatus.APPLIED)
