"""Policy evaluation with 10,000 allowed accounts and 500 OUs: decisions per second and memory."""

from __future__ import annotations

import json
import random
import time
import tracemalloc
from typing import Any

from policy import Invitation, OrgAncestry, evaluate, load_policy


def _ou(n: int) -> str:
    return f"ou-ab{n % 100:02d}-{n:08d}"


def measure(decisions: int = 300_000, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    allowed = [f"{100000000000 + i * 7:012d}" for i in range(10_000)]
    denied = [f"{900000000000 + i:012d}" for i in range(100)]
    allowed_ous = [_ou(i) for i in range(500)]
    tracemalloc.start()
    policy = load_policy(
        {
            "ALLOWED_SOURCE_ACCOUNTS": ",".join(allowed),
            "DENIED_SOURCE_ACCOUNTS": ",".join(denied),
            "ALLOWED_SOURCE_OUS": ",".join(allowed_ous),
            "DENIED_SOURCE_OUS": ",".join(_ou(1000 + i) for i in range(10)),
            "ALLOWED_PERMISSION_TYPES": "READONLY,CONTRIBUTOR",
        }
    )
    policy_bytes, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    sharers = allowed[:2000] + denied + [f"{500000000000 + i:012d}" for i in range(1000)]
    types = ["WORKLOAD", "LENS", "PROFILE", "TEMPLATE"]
    cases = []
    for n in range(2000):
        sharer = rng.choice(sharers)
        rtype = rng.choice(types)
        inv = Invitation(
            f"{n:032x}",
            sharer,
            "111111111111",
            rtype,
            "READONLY" if rtype == "WORKLOAD" else None,
            f"resource-{n}",
            f"{n:032x}",
        )
        ancestry = OrgAncestry.found({"r-ab12", rng.choice([*allowed_ous, _ou(2000 + n)])})
        cases.append((inv, ancestry))
    start = time.perf_counter()
    done = 0
    while done < decisions:
        for inv, ancestry in cases:
            evaluate(policy, inv, ancestry)
        done += len(cases)
    elapsed = time.perf_counter() - start
    return {
        "allowed_accounts": len(allowed),
        "allowed_ous": len(allowed_ous),
        "decisions": done,
        "seconds": elapsed,
        "decisions_per_second": done / elapsed,
        "policy_memory_bytes": policy_bytes,
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
