"""Share-event burst: 2,000 pending invitations of all four types in one account and their 2,000 forwarded
events, delivered in SQS batches to two concurrent containers (the queue's maximum concurrency), on the
simulator with 100 ms latency, a 100 requests/s throttle and 10% injected 5xx errors. Each container is
wired as the function is (``runtime.share_invitations``: pacing and adaptive concurrency up to
``SweepConcurrency``) and writes every decision record with the functions' Logger configuration.

Messages a batch reports as failed go back to the queue, as SQS redelivers them. Compared with one sweep
over the same invitations: API calls (listing pages and updates, not counting injected errors and
throttled requests) against the sweep's, and wall time against the throttle floor.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from typing import Any

from acceptor import runtime
from acceptor.engine import Acceptor
from acceptor.events import parse_share_event
from acceptor.outcomes import HintStatus
from acceptor.wellarchitected import PAGE_SIZE, SDK_CONFIG, Clients
from bench.throughput import DEFAULTS, ERROR_RATE, RECIPIENT, decision_logger, sharers
from policy import RESOURCE_TYPES, load_policy
from simulator import Faults, Simulator

SECTIONS = ("workloads", "lenses", "profiles", "templates")
BATCH_SIZE = 100  # ShareEventBatchSize's default
CONCURRENCY = 2  # ShareEventMaxConcurrency's default
LATENCY_S = 0.100
THROTTLE_RPS = 100.0


def seed(sim: Simulator, invitations: int, accounts: list[str]) -> dict[str, str]:
    """Shares of every type, round-robin over sharers and types; returns share id -> sharer."""
    world: dict[str, dict[str, list[dict[str, Any]]]] = {a: {s: [] for s in SECTIONS} for a in accounts}
    for n in range(invitations):
        sharer = accounts[n % len(accounts)]
        world[sharer][SECTIONS[n % len(SECTIONS)]].append({"name": f"burst-{n:05d}", "shares": [{"with": RECIPIENT}]})
    sim.load_world({"accounts": world})
    return {e["detail"]["responseElements"]["ShareId"]: e["account"] for e in sim.events}


def delivery_order(events: list[dict[str, Any]], order: str, rng: random.Random) -> list[dict[str, Any]]:
    """``jittered``: the order sent, each message moved by up to one batch (a standard queue's best-effort
    order); ``random``: no order at all (the worst case)."""
    if order == "random":
        shuffled = list(events)
        rng.shuffle(shuffled)
        return shuffled
    keyed = sorted(enumerate(events), key=lambda pair: pair[0] + rng.uniform(-BATCH_SIZE, BATCH_SIZE))
    return [event for _, event in keyed]


def run_once(invitations: int = 2000, order: str = "jittered", seed_value: int = 1) -> dict[str, Any]:
    accounts = sharers()
    denied = set(accounts[-5:])
    policy = load_policy(
        {
            "ALLOWED_SOURCE_ACCOUNTS": ",".join(a for a in accounts if a not in denied),
            "DENIED_SOURCE_ACCOUNTS": ",".join(sorted(denied)),
        }
    )
    sim = Simulator()
    owner = seed(sim, invitations, accounts)
    rng = random.Random(seed_value)
    queue = deque(delivery_order(list(sim.events), order, rng))
    sim.faults = Faults(latency_s=LATENCY_S, throttle_rps=THROTTLE_RPS, error_rate=ERROR_RATE, seed=seed_value)
    sim.reset_stats()
    lock = threading.Lock()
    batches = redelivered = 0

    def container() -> None:
        """One Lambda container: its own client and pacing, taking batches until the queue is empty."""
        nonlocal batches, redelivered
        cap = DEFAULTS["max_workers"]
        adapter = runtime.share_invitations(Clients(sim.client(account=RECIPIENT, config=SDK_CONFIG)), cap)
        acceptor = Acceptor(adapter, max_workers=cap, log=decision_logger())
        while True:
            with lock:
                batch = [queue.popleft() for _ in range(min(BATCH_SIZE, len(queue)))]
                batches += 1 if batch else 0
            if not batch:
                return
            hints = [parse_share_event(event, RECIPIENT) for event in batch]
            status = acceptor.handle_hints(policy, hints).status
            retry = [event for event, hint in zip(batch, hints, strict=True) if status[hint.key] is HintStatus.RETRY]
            with lock:
                queue.extend(retry)  # SQS delivers them again after the visibility timeout
                redelivered += len(retry)

    start = time.perf_counter()
    threads = [threading.Thread(target=container) for _ in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    stats = dict(sim.stats)

    wrong = lost = 0
    for share_id, sharer in owner.items():
        status = sim.share_status(share_id)
        if status == "PENDING":
            lost += 1
        elif status != ("REJECTED" if sharer in denied else "ACCEPTED"):
            wrong += 1
    per_type = -(-invitations // len(RESOURCE_TYPES))
    sweep_calls = len(RESOURCE_TYPES) * -(-per_type // PAGE_SIZE) + invitations  # one sweep: pages + updates
    injected, throttled = stats.get("injected_errors", 0), stats.get("throttled", 0)
    useful = stats.get("total", 0) - injected - throttled
    floor = (sweep_calls + injected) / THROTTLE_RPS
    return {
        "order": order,
        "latency_ms": LATENCY_S * 1000,
        "invitations": invitations,
        "batches": batches,
        "redelivered_messages": redelivered,
        "seconds": elapsed,
        "floor_seconds": floor,
        "ratio_to_floor": elapsed / floor,
        "api_calls": useful,
        "list_calls": stats.get("ListShareInvitations", 0),
        "one_sweep_calls": sweep_calls,
        "calls_ratio_to_sweep": useful / sweep_calls,
        "injected_errors": injected,
        "throttled": throttled,
        "lost": lost,
        "wrongly_decided": wrong,
    }


def measure(invitations: int = 2000) -> dict[str, Any]:
    return {"jittered": run_once(invitations, "jittered"), "random": run_once(invitations, "random")}


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
