"""The only code that calls the Well-Architected API: list pending invitations, answer one.

SDK retries are off; this adapter retries throttling, 5xx and connection errors itself, with backoff and
shared pacing, inside the invocation's ``Deadline``: an attempt starts only when its connect and read
timeouts fit in the time left (it then uses a client whose timeouts are cut to fit), and a retry or a
paced wait that cannot finish before the deadline is not started.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import Any, NamedTuple

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from acceptor import aws_errors
from acceptor.aws_errors import MalformedResponse
from acceptor.concurrency import ConcurrencyLimit, Gate
from acceptor.deadline import Deadline
from acceptor.throttle import AdaptiveRate, backoff_delay

PAGE_SIZE = 50  # the API's maximum
# (connect, read) timeouts per attempt, longest first; an attempt takes the longest that fits the time left.
TIMEOUT_STEPS: tuple[tuple[float, float], ...] = ((5.0, 15.0), (3.0, 7.0), (2.0, 3.0), (0.5, 1.0))
SDK_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 1},
    connect_timeout=TIMEOUT_STEPS[0][0],
    read_timeout=TIMEOUT_STEPS[0][1],
)

_SETTLED = frozenset({"ConflictException", "ResourceNotFoundException"})
OUT_OF_TIME = "OutOfTime"


class UpdateStatus(StrEnum):
    APPLIED = "applied"
    APPLIED_ANSWER_LOST = "applied_answer_lost"  # an attempt may have applied; the retry found it settled
    ALREADY_SETTLED = "already_settled"
    FAILED = "failed"
    THROTTLED = "throttled"  # still throttled when its retries or the time ran out: not carried out
    OUT_OF_TIME = "out_of_time"  # an answered 5xx, and no time left to retry it (a hang stays FAILED)
    NOT_SENT = "not_sent"  # no time left to send it


class UpdateResult(NamedTuple):
    status: UpdateStatus
    error_code: str | None = None
    message: str | None = None


class ListError(RuntimeError):
    """Listing pending invitations failed after retries (or ran out of time)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(f"ListShareInvitations failed: {code}: {message}")

    @property
    def deferred(self) -> bool:
        """Not a failure: the time ran out, or the service kept throttling the listing (its rate limit
        working as designed). The rest of the type is left for the next run."""
        return self.code == OUT_OF_TIME or self.code in aws_errors.THROTTLING_CODES


class OutOfTime(Exception):
    """No attempt, retry or paced wait fits in the time left."""


def default_client(config: Config = SDK_CONFIG) -> Any:
    """A wellarchitected client for the function's own account and region (SDK retries off)."""
    import boto3

    return boto3.client("wellarchitected", config=config)


class Clients:
    """Clients whose timeouts fit the time left: one per timeout step, built on first use.

    ``factory(config)`` builds one; a fixed ``client`` (the simulator's, in tests) serves every step.
    """

    def __init__(self, client: Any = None, factory: Callable[[Config], Any] | None = None) -> None:
        if client is None and factory is None:
            factory = default_client
        self._fixed = client
        self._factory = factory
        self._by_step: dict[tuple[float, float], Any] = {}
        self._lock = threading.Lock()

    def fitting(self, seconds_left: float) -> Any:
        """The client for the longest timeouts that fit in ``seconds_left``; OutOfTime when none does."""
        for step in TIMEOUT_STEPS:
            if step[0] + step[1] <= seconds_left:
                return self._client(step)
        raise OutOfTime(f"{seconds_left:.1f} s left, less than the shortest attempt ({min_attempt_seconds():g} s)")

    def _client(self, step: tuple[float, float]) -> Any:
        if self._fixed is not None:
            return self._fixed
        with self._lock:
            client = self._by_step.get(step)
            if client is None:
                assert self._factory is not None
                config = SDK_CONFIG.merge(Config(connect_timeout=step[0], read_timeout=step[1]))
                client = self._by_step[step] = self._factory(config)
            return client


def min_attempt_seconds() -> float:
    return TIMEOUT_STEPS[-1][0] + TIMEOUT_STEPS[-1][1]


class ShareInvitations:
    """Adapter over Well-Architected clients. Thread-safe: boto3 clients are."""

    def __init__(
        self,
        client: Any = None,
        *,
        clients: Clients | None = None,
        max_attempts: int = 6,
        max_throttled_attempts: int = 20,
        rate: AdaptiveRate | None = None,
        concurrency: ConcurrencyLimit | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clients = clients or Clients(client)
        self._max_attempts = max_attempts
        self._max_throttled = max(max_attempts, max_throttled_attempts)
        self._rate = rate or AdaptiveRate(sleep=sleep)
        self.concurrency = concurrency
        self._gate = Gate(concurrency) if concurrency is not None else None
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._clock = clock
        self._count_lock = threading.Lock()
        self.calls = 0  # API calls sent, retries included

    @property
    def most_in_flight(self) -> int:
        """The most requests this adapter had in flight at once (0 without a concurrency limit)."""
        return self._gate.most_in_flight if self._gate is not None else 0

    @property
    def paced_rate(self) -> float | None:
        """Requests/s the client paces itself at (None until the service first throttled)."""
        return self._rate.rate

    def _count(self) -> None:
        with self._count_lock:
            self.calls += 1

    def _call(self, operation: str, deadline: Deadline, attempts: list[Exception], **params: Any) -> dict[str, Any]:
        """Call with pacing, the concurrency limit and retries inside the deadline.

        Each failed attempt's error is appended to ``attempts``. Re-raises the last error when retries run
        out or do not apply; raises OutOfTime when not even the first attempt fits, MalformedResponse when
        the answer cannot be read. Throttled attempts have their own, larger allowance: the pacing spaces
        them, and throttling is no failure.
        """
        throttled = 0
        while True:
            client = self._clients.fitting(deadline.left())
            if not self._rate.acquire(max_wait=deadline.left() - min_attempt_seconds()):
                raise OutOfTime("the paced wait for the next request does not fit in the time left")
            gate = self._gate
            if gate is not None and not gate.enter(timeout=max(0.0, deadline.left() - min_attempt_seconds())):
                raise OutOfTime("no room among the requests in flight within the time left")
            try:
                client = self._clients.fitting(deadline.left())  # the waits may have used some of it
                self._count()
                started = self._clock()
                try:
                    response: dict[str, Any] = getattr(client, operation)(**params)
                except (ClientError, BotoCoreError) as err:
                    self._report(err, self._clock() - started)
                    raise
                if self.concurrency is not None:
                    self.concurrency.succeeded(self._clock() - started)
            except (ClientError, BotoCoreError) as err:
                attempts.append(err)
                _code, retryable = aws_errors.code(err), aws_errors.is_retryable(err)
                if aws_errors.is_throttling(err):
                    throttled += 1
                    self._rate.throttled()
                    out_of_retries = throttled >= self._max_throttled
                else:
                    self._rate.answered()
                    out_of_retries = len(attempts) - throttled >= self._max_attempts  # throttles have their own
                if not retryable or out_of_retries:
                    raise
                delay = backoff_delay(min(len(attempts), 6), rng=self._rng)
                if deadline.left() - delay < min_attempt_seconds():
                    if isinstance(err, ClientError):
                        # The service answered at once (a 5xx): the budget ran out, not the service.
                        raise OutOfTime(f"no time left to retry {_code}") from err
                    raise  # a hang or a lost connection took the time: that error stands
                self._sleep(delay)
                continue
            except aws_errors.PARSER_FAILURES as err:  # botocore could not read the answer
                raise MalformedResponse(operation, f"{type(err).__name__}: {err}") from err
            finally:
                if gate is not None:
                    gate.leave()
            self._rate.succeeded()
            if not isinstance(response, dict):
                raise MalformedResponse(operation, f"a {type(response).__name__}, not an object")
            return response

    def _report(self, err: Exception, seconds: float) -> None:
        if self.concurrency is None:
            return
        if aws_errors.is_throttling(err):
            self.concurrency.throttled(seconds)
        else:
            self.concurrency.failed(seconds)

    def pages(self, resource_type: str, deadline: Deadline | None = None) -> Iterator[list[Any]]:
        """Yield pages of one resource type's pending ShareInvitationSummaries, following NextToken.

        The type is always given: what the API lists without one is not documented. botocore has no
        paginator for ListShareInvitations. Items are yielded as the API sent them (the caller checks
        their shapes). Raises ListError when a page cannot be read, or the time runs out.
        """
        deadline = deadline or Deadline.unlimited()
        params: dict[str, Any] = {"MaxResults": PAGE_SIZE, "ShareResourceType": resource_type}
        seen_tokens: set[str] = set()
        while True:
            try:
                response = self._call("list_share_invitations", deadline, [], **params)
            except (ClientError, BotoCoreError, MalformedResponse) as err:
                raise ListError(aws_errors.code(err), aws_errors.message(err)) from err
            except OutOfTime as err:
                raise ListError(OUT_OF_TIME, str(err)) from err
            items = response.get("ShareInvitationSummaries")
            if items is None:
                items = []
            if not isinstance(items, list):
                raise ListError(MalformedResponse.code, f"ShareInvitationSummaries is a {type(items).__name__}")
            yield items
            token = response.get("NextToken")
            if token is None or token == "":
                return
            if not isinstance(token, str):
                raise ListError(MalformedResponse.code, f"NextToken is a {type(token).__name__}, not a string")
            if token in seen_tokens:  # a service bug must not loop the function until its timeout
                raise ListError("RepeatedNextToken", "the service returned the same NextToken twice")
            seen_tokens.add(token)
            params["NextToken"] = token

    def update(self, share_invitation_id: str, action: str, deadline: Deadline | None = None) -> UpdateResult:
        """ACCEPT or REJECT one invitation. Never raises for an AWS failure: the result says what happened."""
        if action not in ("ACCEPT", "REJECT"):
            raise ValueError(f"action must be ACCEPT or REJECT, not {action!r}")
        attempts: list[Exception] = []
        try:
            self._call(
                "update_share_invitation",
                deadline or Deadline.unlimited(),
                attempts,
                ShareInvitationId=share_invitation_id,
                ShareInvitationAction=action,
            )
        except OutOfTime as err:
            if not attempts:
                return UpdateResult(UpdateStatus.NOT_SENT, OUT_OF_TIME, str(err))
            code, message = aws_errors.code(attempts[-1]), aws_errors.message(attempts[-1])
            if aws_errors.is_throttling(attempts[-1]):
                return UpdateResult(UpdateStatus.THROTTLED, code, f"{message} (no time left to retry)")
            if isinstance(attempts[-1], ClientError):
                # An answered 5xx, and the run's budget ended first: the next run lists it again (and, if
                # this attempt did apply it, finds it gone).
                return UpdateResult(UpdateStatus.OUT_OF_TIME, code, f"{message} (no time left to retry)")
            return UpdateResult(UpdateStatus.FAILED, code, f"{message} (no time left to retry)")
        except MalformedResponse as err:
            return UpdateResult(UpdateStatus.FAILED, err.code, str(err))
        except (ClientError, BotoCoreError) as err:
            code, message = aws_errors.code(err), aws_errors.message(err)
            if aws_errors.is_throttling(err):
                why = "retries" if sum(map(aws_errors.is_throttling, attempts)) >= self._max_throttled else "time"
                return UpdateResult(UpdateStatus.THROTTLED, code, f"{message} (still throttled when its {why} ran out)")
            if code not in _SETTLED:
                return UpdateResult(UpdateStatus.FAILED, code, message)
            earlier = attempts[:-1]
            if any(aws_errors.may_have_applied(e) for e in earlier):
                lost = aws_errors.code(next(e for e in earlier if aws_errors.may_have_applied(e)))
                return UpdateResult(
                    UpdateStatus.APPLIED_ANSWER_LOST,
                    lost,
                    f"an attempt's answer was lost ({lost}); the retry got {code}",
                )
            return UpdateResult(UpdateStatus.ALREADY_SETTLED, code, message)
        return UpdateResult(UpdateStatus.APPLIED)
