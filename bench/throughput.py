"""Sweep throughput where the user is: 100-250 ms per call, a rate limit, 5xx errors, a backlog.

Every run uses the functions' own wiring (``runtime.share_invitations``: pacing, the adaptive
concurrency limit with ``SweepConcurrency`` as its cap, retries) and the functions' Logger
configuration writing every decision record (to /dev/null).

Slow runs are time-scaled: with ``scale`` k the simulator's latency, its token bucket, the Lambda
deadline and every wait of the client run on one clock that goes k times faster than real time, and the
figures are in that clock's seconds. Nothing else changes, except that each millisecond of CPU counts
k times: a scaled run is a run on a CPU k times slower, which makes it a harder test, not an easier one.
"""

from __future__ import annotations

import os
import time
from typing import Any, NamedTuple

from aws_lambda_powertools import Logger

from acceptor import logjson, runtime
from acceptor.continuation import Chain, RunResult, Step, first_step, parse_marker
from acceptor.deadline import Deadline
from acceptor.engine import Acceptor
from acceptor.outcomes import Result, Summary
from acceptor.settings import Settings
from acceptor.wellarchitected import PAGE_SIZE, SDK_CONFIG, Clients
from handlers.common import run_result
from policy import RESOURCE_TYPES, load_policy
from simulator import Faults, Simulator
from simulator.faults import FaultInjector

RECIPIENT = "111111111111"
ERROR_RATE = 0.10
SECTIONS = {"WORKLOAD": "workloads", "LENS": "lenses", "PROFILE": "profiles", "TEMPLATE": "templates"}
DEFAULTS = Settings._field_defaults  # the functions' defaults: SweepConcurrency, margin, chain bound
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{RECIPIENT}:function:sweep"


class Timebase:
    """One clock for the simulator and the client, ``scale`` times faster than real time."""

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale
        self._start = time.monotonic()

    def clock(self) -> float:
        return (time.monotonic() - self._start) * self.scale

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.scale)


def sharers(n: int = 40) -> list[str]:
    return [f"{200000000000 + i:012d}" for i in range(n)]


def bench_policy(accounts: list[str]) -> Any:
    denied = accounts[-5:]  # 35 trusted sharers, 5 denied: every invitation gets an update
    return load_policy(
        {
            "ALLOWED_SOURCE_ACCOUNTS": ",".join(a for a in accounts if a not in denied),
            "DENIED_SOURCE_ACCOUNTS": ",".join(denied),
        }
    )


def decision_logger() -> Logger:
    """The functions' Logger configuration, writing to /dev/null."""
    return Logger(
        service="bench-decisions",
        stream=open(os.devnull, "w"),
        json_serializer=logjson.serialize,
        json_deserializer=logjson.deserialize,
    )


def seed(sim: Simulator, invitations: int, accounts: list[str], main_share: float = 0.95) -> dict[str, str]:
    """Invitations round-robin over the sharers, ``main_share`` of them workloads (the hard case: one type's
    long listing) and the rest spread over the other three types. Returns share id -> sharer."""
    world: dict[str, dict[str, list[dict[str, Any]]]] = {a: {s: [] for s in SECTIONS.values()} for a in accounts}
    others = RESOURCE_TYPES[1:]
    every = max(1, round(1 / (1 - main_share))) if main_share < 1 else 0
    sharer_of: dict[str, str] = {}
    for n in range(invitations):
        sharer = accounts[n % len(accounts)]
        rtype = others[(n // every) % len(others)] if every and n % every == every - 1 else "WORKLOAD"
        name = f"tp-{n:06d}"
        world[sharer][SECTIONS[rtype]].append({"name": name, "shares": [{"with": RECIPIENT}]})
        sharer_of[name] = sharer
    created = sim.load_world({"accounts": world})
    return {share_id: sharer_of[name] for share_id, name in created.items()}


def calls_needed(sim: Simulator, owner: dict[str, str]) -> int:
    """List pages of each type (at least one, empty, per type) plus one update per invitation."""
    per_type = dict.fromkeys(RESOURCE_TYPES, 0)
    with sim.service.lock:
        for share_id in owner:
            per_type[sim.service.state.shares[share_id].resource.kind] += 1
    return sum(max(1, -(-n // PAGE_SIZE)) for n in per_type.values()) + len(owner)


def verify(sim: Simulator, owner: dict[str, str], denied: set[str]) -> tuple[int, int]:
    """(lost, wrong): still pending although decided; a final status the policy did not ask for."""
    lost = wrong = 0
    for share_id, sharer in owner.items():
        status = sim.share_status(share_id)
        if status == "PENDING":
            lost += 1
        elif status != ("REJECTED" if sharer in denied else "ACCEPTED"):
            wrong += 1
    return lost, wrong


class Setup(NamedTuple):
    sim: Simulator
    owner: dict[str, str]
    denied: set[str]
    acceptor: Acceptor
    adapter: Any
    timebase: Timebase
    policy: Any


def setup(
    invitations: int,
    latency: float,
    rps: float,
    *,
    scale: float = 1.0,
    cap: int | None = None,
    seed_value: int = 1,
    strict: bool = False,
) -> Setup:
    accounts = sharers()
    policy = bench_policy(accounts)
    sim = Simulator(strict=strict)
    owner = seed(sim, invitations, accounts)
    tb = Timebase(scale)
    faults = Faults(latency_s=latency / scale, throttle_rps=rps, error_rate=ERROR_RATE, seed=seed_value)
    sim._injector = FaultInjector(faults, clock=tb.clock)  # the token bucket on the scaled clock
    sim.reset_stats()
    cap = cap or DEFAULTS["max_workers"]
    clients = Clients(sim.client(account=RECIPIENT, config=SDK_CONFIG))
    adapter = runtime.share_invitations(clients, cap, clock=tb.clock, sleep=tb.sleep)
    acceptor = Acceptor(adapter, log=decision_logger(), max_workers=cap, clock=tb.clock, sleep=tb.sleep)
    return Setup(sim, owner, set(accounts[-5:]), acceptor, adapter, tb, policy)


def sweep_once(
    invitations: int = 2000,
    latency: float = 0.1,
    rps: float = 100.0,
    *,
    scale: float = 1.0,
    cap: int | None = None,
    strict: bool = False,
) -> dict[str, Any]:
    """One sweep without a deadline, against the throttle floor."""
    s = setup(invitations, latency, rps, scale=scale, cap=cap, strict=strict)
    cpu = time.process_time()
    start = s.timebase.clock()
    summary = s.acceptor.sweep(s.policy)
    elapsed = s.timebase.clock() - start
    cpu = time.process_time() - cpu
    stats = s.sim.stats
    lost, wrong = verify(s.sim, s.owner, s.denied)
    needed = calls_needed(s.sim, s.owner)
    injected = stats.get("injected_errors", 0)
    floor = (needed + injected) / rps
    return {
        "simulator": "strict" if strict else "default",
        "cap": cap or DEFAULTS["max_workers"],
        "latency_ms": latency * 1000,
        "rps": rps,
        "scale": scale,
        "invitations": invitations,
        "seconds": elapsed,
        "floor_seconds": floor,
        "ratio_to_floor": elapsed / floor,
        "api_calls": stats.get("total", 0),
        "calls_needed": needed,
        "list_calls": stats.get("ListShareInvitations", 0),
        "injected_errors": injected,
        "throttled": stats.get("throttled", 0),
        "accepted": summary.count_of(Result.ACCEPTED),
        "rejected": summary.count_of(Result.REJECTED),
        "deferred": summary.count_of(Result.DEFERRED),
        "failed": summary.failed,
        "decision_failures": summary.failed,
        "lost": lost,
        "wrongly_decided": wrong,
        "most_in_flight": s.adapter.most_in_flight,
        "cpu_ms_per_invitation": cpu * 1000 / invitations,
    }


class MemoryLease:
    """The DynamoDB lease's rule in memory (the bench's one account and region)."""

    def __init__(self) -> None:
        self.holder: str | None = None
        self.until = 0.0

    def acquire(self, chain: str, until: float, now: float) -> bool:
        if self.holder is None or self.until < now or self.holder == chain:
            self.holder, self.until = chain, until
            return True
        return False

    def release(self, chain: str) -> None:
        if self.holder == chain:
            self.holder = None


class QueuedInvoker:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def invoke_async(self, function_arn: str, payload: dict[str, Any]) -> None:
        self.sent.append(payload)


def backlog(
    invitations: int = 20_000,
    latency: float = 0.1,
    rps: float = 10.0,
    *,
    scale: float = 10.0,
    timeout: float = 300.0,
    hop_seconds: float = 1.0,
) -> dict[str, Any]:
    """A backlog decided by one chain of sweeps (the scheduled run and its continuations), each run with the
    function's default timeout and safety margin, ``hop_seconds`` between a run's end and the next start
    (an asynchronous Invoke on a warm container)."""
    s = setup(invitations, latency, rps, scale=scale)
    wall_clock = s.timebase.clock  # the lease compares this clock across runs
    invoker = QueuedInvoker()
    chain = Chain(MemoryLease(), invoker, max_runs=DEFAULTS["max_chain_runs"], clock=wall_clock)
    step: Step = first_step("bench-chain")
    runs: list[dict[str, Any]] = []
    start = s.timebase.clock()
    while True:
        assert chain.begin(step, timeout)
        deadline = Deadline.within(timeout, DEFAULTS["safety_margin_seconds"], clock=s.timebase.clock)
        summary = Summary(dry_run=False)
        s.acceptor.sweep(s.policy, deadline, summary)
        result: RunResult = run_result(summary)
        decision = chain.end(step, result, FUNCTION_ARN, timeout)
        runs.append(
            {
                "run": step.run,
                "decided": summary.count_of(Result.ACCEPTED) + summary.count_of(Result.REJECTED),
                "deferred": summary.count_of(Result.DEFERRED),
                "failed": summary.failed,
                "failures": [f["error_code"] for f in summary.failures] + sorted(summary.list_errors),
                "status": "failed" if summary.failed else ("ok" if summary.complete else "incomplete"),
                "next": decision.next_run,
                "stop": decision.reason,
            }
        )
        if not decision.continued:
            break
        s.timebase.sleep(hop_seconds)
        step = parse_marker(invoker.sent[-1])
    elapsed = s.timebase.clock() - start
    stats = s.sim.stats
    lost, wrong = verify(s.sim, s.owner, s.denied)
    needed = calls_needed(s.sim, s.owner)
    injected = stats.get("injected_errors", 0)
    floor = (needed + injected) / rps
    return {
        "invitations": invitations,
        "latency_ms": latency * 1000,
        "rps": rps,
        "scale": scale,
        "timeout_seconds": timeout,
        "seconds": elapsed,
        "floor_seconds": floor,
        "ratio_to_floor": elapsed / floor,
        "runs": runs,
        "api_calls": stats.get("total", 0),
        "list_calls": stats.get("ListShareInvitations", 0),
        "calls_needed": needed,
        "injected_errors": injected,
        "throttled": stats.get("throttled", 0),
        "lost": lost,
        "wrongly_decided": wrong,
        "failed_runs": sum(1 for r in runs if r["status"] == "failed"),
    }
