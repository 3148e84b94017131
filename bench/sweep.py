"""Sweep throughput: 2,000 pending invitations from 40 sharers on the simulator with 20 ms latency per
call, a 100 requests/s throttle and 10% injected 5xx errors, against the floor (calls needed, counting
one retry per injected error, divided by the throttle rate) and a one-call-at-a-time baseline; on the
default and on the strict simulator."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from acceptor.engine import Acceptor
from acceptor.outcomes import Result
from acceptor.recorder import NULL_LOG
from acceptor.wellarchitected import PAGE_SIZE, RESOURCE_TYPES, SDK_CONFIG, ShareInvitations
from policy import load_policy
from simulator import Faults, Simulator

RECIPIENT = "111111111111"
LATENCY_S = 0.020
THROTTLE_RPS = 100.0
ERROR_RATE = 0.10


def sharers(n: int = 40) -> list[str]:
    return [f"{200000000000 + i:012d}" for i in range(n)]


def seed(sim: Simulator, invitations: int, accounts: list[str]) -> dict[str, str]:
    """Workload shares round-robin over the sharers; returns share id -> sharer."""
    clients = {a: sim.client(account=a) for a in accounts}
    owner: dict[str, str] = {}
    for n in range(invitations):
        sharer = accounts[n % len(accounts)]
        wa = clients[sharer]
        workload = wa.create_workload(
            WorkloadName=f"bench-workload-{n:05d}",
            Description="bench",
            Environment="PRODUCTION",
            Lenses=["wellarchitected"],
            AwsRegions=["us-east-1"],
            ClientRequestToken=str(uuid.uuid4()),
        )["WorkloadId"]
        share = wa.create_workload_share(
            WorkloadId=workload, SharedWith=RECIPIENT, PermissionType="READONLY", ClientRequestToken=str(uuid.uuid4())
        )["ShareId"]
        owner[share] = sharer
    return owner


def run_once(workers: int, invitations: int = 2000, seed_value: int = 1, strict: bool = False) -> dict[str, Any]:
    accounts = sharers()
    denied = set(accounts[-5:])  # 35 trusted sharers, 5 denied: every invitation gets an update
    policy = load_policy(
        {
            "ALLOWED_SOURCE_ACCOUNTS": ",".join(a for a in accounts if a not in denied),
            "DENIED_SOURCE_ACCOUNTS": ",".join(sorted(denied)),
        }
    )
    sim = Simulator(strict=strict)
    owner = seed(sim, invitations, accounts)
    sim.faults = Faults(latency_s=LATENCY_S, throttle_rps=THROTTLE_RPS, error_rate=ERROR_RATE, seed=seed_value)
    sim.reset_stats()
    adapter = ShareInvitations(sim.client(account=RECIPIENT, config=SDK_CONFIG))
    acceptor = Acceptor(adapter, max_workers=workers, log=NULL_LOG)
    start = time.perf_counter()
    summary = acceptor.sweep(policy)
    elapsed = time.perf_counter() - start
    stats = dict(sim.stats)

    wrong = lost = 0
    for share_id, sharer in owner.items():
        status = sim.share_status(share_id)
        expected = "REJECTED" if sharer in denied else "ACCEPTED"
        if status == "PENDING":
            lost += 1
        elif status != expected:
            wrong += 1
    pages = -(-invitations // PAGE_SIZE) + len(RESOURCE_TYPES) - 1  # the other types: one empty page each
    needed = pages + invitations
    injected = stats.get("injected_errors", 0)
    floor = (needed + injected) / THROTTLE_RPS
    return {
        "simulator": "strict" if strict else "default",
        "workers": workers,
        "invitations": invitations,
        "seconds": elapsed,
        "floor_seconds": floor,
        "ratio_to_floor": elapsed / floor,
        "api_calls": stats.get("total", 0),
        "calls_needed": needed,
        "injected_errors": injected,
        "throttled": stats.get("throttled", 0),
        "api_calls_per_invitation": stats.get("total", 0) / invitations,
        "accepted": summary.count_of(Result.ACCEPTED),
        "rejected": summary.count_of(Result.REJECTED),
        "failed": summary.failed,
        "lost": lost,
        "wrongly_decided": wrong,
    }


def measure(workers: int = 4, invitations: int = 2000) -> dict[str, Any]:
    concurrent = run_once(workers, invitations)
    strict = run_once(workers, invitations, strict=True)
    baseline = run_once(1, invitations)
    concurrent["speedup_vs_one_at_a_time"] = baseline["seconds"] / concurrent["seconds"]
    return {"concurrent": concurrent, "strict": strict, "one_at_a_time": baseline}


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
