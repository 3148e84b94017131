"""A sweep that ends with work left starts its own continuation: one sweep at a time, a bounded chain.

A chain is the scheduled (or manual) sweep and the runs it starts: each run that ends incomplete for
want of time or because the service throttled it, having decided something, invokes the function
again at once (an asynchronous ``Invoke`` of itself) with a continuation marker
``{"continuation": {"chain": "<id>", "run": <n>}}``. A chain stops when a run completes, makes no
progress, fails, or reaches ``max_runs`` (below the 16 invocations after which Lambda's recursive loop
detection stops a chain); the schedule then starts the next one.

One sweep at a time per account and region: a lease item in a DynamoDB table, taken with a conditional
write when a run starts (free, expired, or already this chain's), handed over to the continuation, and
given back when the chain ends. A scheduled sweep that finds another chain's lease does nothing.
Without a table (local runs) every run may start and none continues.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, Protocol

MARKER = "continuation"
MAX_CHAIN_RUNS = 15  # the most a chain may be configured to run: Lambda stops a chain after 16
DEFAULT_CHAIN_RUNS = 12
LEASE_KEY = "sweep"
LEASE_GRACE_SECONDS = 60.0  # a lease outlives its run by this much: a crashed run blocks no one for long
_CHAIN_ID = r"[A-Za-z0-9-]{1,64}"  # compiled (and cached by re) on first use: not at every cold start


class InvalidMarker(ValueError):
    """A continuation marker that is not exactly ``{"chain": <id>, "run": <1..15>}``."""


class Step(NamedTuple):
    chain: str
    run: int  # 1 for the run the schedule started

    def next(self) -> Step:
        return Step(self.chain, self.run + 1)

    def marker(self) -> dict[str, Any]:
        return {MARKER: {"chain": self.chain, "run": self.run}}


def is_continuation(event: Any) -> bool:
    return isinstance(event, dict) and MARKER in event


def parse_marker(event: Mapping[str, Any]) -> Step:
    """The step a continuation event names; InvalidMarker naming the bad value otherwise."""
    if set(event) != {MARKER}:
        raise InvalidMarker(f"a continuation event holds only {MARKER!r}, not {sorted(map(str, event))}")
    body = event[MARKER]
    if not isinstance(body, dict) or set(body) != {"chain", "run"}:
        raise InvalidMarker(f"{MARKER} must be an object with 'chain' and 'run', not {json.dumps(body)[:200]}")
    chain, run = body["chain"], body["run"]
    if not isinstance(chain, str) or not re.fullmatch(_CHAIN_ID, chain):
        raise InvalidMarker(f"continuation chain {chain!r} is not 1-64 ASCII letters, digits or hyphens")
    if type(run) is not int or not 2 <= run <= MAX_CHAIN_RUNS:
        raise InvalidMarker(f"continuation run {run!r} is not a whole number within 2..{MAX_CHAIN_RUNS}")
    return Step(chain, run)


def first_step(request_id: str | None, clock: Callable[[], float] = time.time) -> Step:
    """A new chain, named after the invocation that starts it."""
    chain = request_id if isinstance(request_id, str) and re.fullmatch(_CHAIN_ID, request_id) else None
    return Step(chain or f"chain-{int(clock() * 1000)}", 1)


class RunResult(NamedTuple):
    """What the continuation decision needs to know about a finished run."""

    failed: bool  # a listing failed for a reason other than time: stop, let the alarm and the schedule act
    work_left: bool  # deferred invitations, or types not listed to the end for want of time
    progressed: bool  # decided at least one invitation


def stop_reason(step: Step, result: RunResult, max_runs: int) -> str | None:
    """Why the chain ends after this run, or None when a continuation should start."""
    if result.failed:
        return "a listing failed"
    if not result.work_left:
        return "nothing left"
    if not result.progressed:
        return "no progress in this run"
    if step.run >= max_runs:
        return f"the chain reached its bound of {max_runs} runs"
    return None


class Lease(Protocol):
    def acquire(self, chain: str, until: float, now: float) -> bool: ...

    def release(self, chain: str) -> None: ...


class Invoker(Protocol):
    def invoke_async(self, function_arn: str, payload: dict[str, Any]) -> None: ...


class Decision(NamedTuple):
    continued: bool
    reason: str | None = None  # why not
    next_run: int | None = None


class Chain:
    """Begins and ends one run of a chain. Adapters are injected; time is the wall clock (leases are
    compared across containers)."""

    def __init__(
        self,
        lease: Lease | None,
        invoker: Invoker | None,
        *,
        max_runs: int = DEFAULT_CHAIN_RUNS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._lease = lease
        self._invoker = invoker
        self.max_runs = max(1, min(max_runs, MAX_CHAIN_RUNS))
        self._clock = clock

    @property
    def enabled(self) -> bool:
        return self._lease is not None and self._invoker is not None

    def begin(self, step: Step, run_seconds: float) -> bool:
        """Take (or keep) the lease for this run; False when another chain holds it."""
        if self._lease is None:
            return True
        now = self._clock()
        return self._lease.acquire(step.chain, now + run_seconds + LEASE_GRACE_SECONDS, now)

    def end(self, step: Step, result: RunResult, function_arn: str | None, run_seconds: float) -> Decision:
        """Start the next run, or give the lease back. Never raises for an AWS failure."""
        reason = stop_reason(step, result, self.max_runs)
        if reason is None and (not self.enabled or not function_arn):
            reason = "continuation is not configured"
        if reason is None:
            assert self._lease is not None and self._invoker is not None and function_arn
            nxt = step.next()
            try:
                now = self._clock()
                # Hand the lease over: it covers this run's last seconds and the whole next run.
                if not self._lease.acquire(step.chain, now + 2 * run_seconds + LEASE_GRACE_SECONDS, now):
                    return Decision(False, "the lease was taken by another sweep")
                self._invoker.invoke_async(function_arn, nxt.marker())
            except Exception as err:  # the schedule is the retry: never fail the run for this
                self.release(step)
                return Decision(False, f"continuation not started: {type(err).__name__}: {err}")
            return Decision(True, None, nxt.run)
        self.release(step)
        return Decision(False, reason)

    def release(self, step: Step) -> None:
        """Give the lease back (a run that broke off); never raises."""
        if self._lease is None:
            return
        try:
            self._lease.release(step.chain)
        except Exception:  # an unreleased lease expires by itself
            return


class DynamoLease:
    """The lease as one item of a DynamoDB table (key ``lock``), taken with a conditional write."""

    def __init__(self, table: str, client: Any = None) -> None:
        self._table = table
        self._client = client

    def _ddb(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("dynamodb")
        return self._client

    def acquire(self, chain: str, until: float, now: float) -> bool:
        ddb = self._ddb()
        try:
            ddb.put_item(
                TableName=self._table,
                Item={"lock": {"S": LEASE_KEY}, "holder": {"S": chain}, "expires": {"N": f"{until:.3f}"}},
                ConditionExpression="attribute_not_exists(#l) OR #e < :now OR #h = :chain",
                ExpressionAttributeNames={"#l": "lock", "#e": "expires", "#h": "holder"},
                ExpressionAttributeValues={":now": {"N": f"{now:.3f}"}, ":chain": {"S": chain}},
            )
        except ddb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release(self, chain: str) -> None:
        ddb = self._ddb()
        try:
            ddb.delete_item(
                TableName=self._table,
                Key={"lock": {"S": LEASE_KEY}},
                ConditionExpression="#h = :chain",
                ExpressionAttributeNames={"#h": "holder"},
                ExpressionAttributeValues={":chain": {"S": chain}},
            )
        except ddb.exceptions.ConditionalCheckFailedException:
            return  # someone else's now: not ours to give back


class LambdaInvoker:
    """An asynchronous ``Invoke`` (InvocationType=Event) of a function by ARN."""

    def __init__(self, client: Any = None) -> None:
        self._client = client

    def invoke_async(self, function_arn: str, payload: dict[str, Any]) -> None:
        if self._client is None:
            import boto3

            self._client = boto3.client("lambda")
        response = self._client.invoke(
            FunctionName=function_arn, InvocationType="Event", Payload=json.dumps(payload).encode()
        )
        status = response.get("StatusCode") if isinstance(response, dict) else None
        if status != 202:
            raise RuntimeError(f"asynchronous Invoke answered status {status!r}, not 202")
