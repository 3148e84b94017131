"""Policy evaluation with 10,000 allowed accounts and 500 OUs: decisions per second and memory, for the
eight variables (evaluate alone) and for a document of 200 rules (evaluate alone, and the whole pipeline
from a listed summary to the logged decision record)."""

from __future__ import annotations

import json
import random
import time
import tracemalloc
from typing import Any

from acceptor.outcomes import Outcome, Result
from policy import Invitation, OrgAncestry, Policy, evaluate, load_document, load_policy


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
    summaries = []
    ancestries = []
    for n in range(2000):
        sharer = rng.choice(sharers)
        rtype = rng.choice(types)
        summary: dict[str, Any] = {
            "ShareInvitationId": f"{n:032x}",
            "SharedBy": sharer,
            "SharedWith": "111111111111",
            "ShareResourceType": rtype,
            {"WORKLOAD": "WorkloadName", "LENS": "LensName", "PROFILE": "ProfileName", "TEMPLATE": "TemplateName"}[
                rtype
            ]: rng.choice(["acme-", "team-", "x-"]) + f"resource-{n}",
        }
        if rtype == "WORKLOAD":
            summary["PermissionType"] = rng.choice(["READONLY", "CONTRIBUTOR"])
        summaries.append(summary)
        ancestries.append(OrgAncestry.found({"r-ab12", rng.choice([*allowed_ous, _ou(2000 + n)])}))

    env_rate = _rate(policy, summaries, ancestries, decisions, pipeline=False)
    tracemalloc.start()
    document = load_document(json.dumps(_document(allowed, denied, allowed_ous)), source="bench")
    document_bytes, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    doc_rate = _rate(document, summaries, ancestries, decisions, pipeline=False)
    pipeline_rate = _rate(document, summaries, ancestries, decisions, pipeline=True)
    return {
        "allowed_accounts": len(allowed),
        "allowed_ous": len(allowed_ous),
        "decisions": decisions,
        "decisions_per_second": env_rate,
        "policy_memory_bytes": policy_bytes,
        "document_rules": len(document.rules),
        "document_decisions_per_second": doc_rate,
        "document_pipeline_decisions_per_second": pipeline_rate,
        "document_memory_bytes": document_bytes,
    }


def _document(allowed: list[str], denied: list[str], ous: list[str]) -> dict[str, Any]:
    """200 rules over 10,000 accounts and 500 OUs, as a central parameter or a shipped file could hold."""
    rng = random.Random(11)
    type_sets = [["WORKLOAD"], ["LENS", "PROFILE"], ["WORKLOAD", "TEMPLATE"], ["LENS"], ["PROFILE", "TEMPLATE"]]
    rules: list[dict[str, Any]] = []
    for i in range(20):  # REJECT rules first in the file; their place does not matter to the decision
        rules.append({"id": f"deny-{i}", "action": "REJECT", "sharers": {"accounts": denied[i * 5 : i * 5 + 5]}})
    for i in range(180):
        rule: dict[str, Any] = {
            "id": f"allow-{i}",
            "action": "ACCEPT",
            "sharers": {"accounts": allowed[i::180], "ous": ous[i::180]},  # every account and OU, once
            "resource_types": type_sets[i % len(type_sets)],
            "permission_types": ["READONLY", "CONTRIBUTOR"] if i % 4 == 0 else ["READONLY"],
        }
        if i % 3 == 0:
            rule["resource_names"] = ["acme-*", "team-*"]
        rules.append(rule)
    rng.shuffle(rules)
    return {"version": 1, "non_matching_action": "IGNORE", "rules": rules}


def _rate(
    policy: Policy, summaries: list[dict[str, Any]], ancestries: list[OrgAncestry], decisions: int, *, pipeline: bool
) -> float:
    """Decisions per second: evaluate() alone on parsed invitations, or the whole pipeline per invitation
    (summary -> Invitation -> Decision -> the engine's decision record)."""
    parsed = [Invitation.from_summary(s) for s in summaries]
    start = time.perf_counter()
    done = 0
    while done < decisions:
        if pipeline:
            for summary, ancestry in zip(summaries, ancestries, strict=True):
                inv = Invitation.from_summary(summary)
                decision = evaluate(policy, inv, ancestry)
                Outcome(inv, decision, Result.LEFT_PENDING).record(policy.dry_run)
        else:
            for inv, ancestry in zip(parsed, ancestries, strict=True):
                evaluate(policy, inv, ancestry)
        done += len(summaries)
    return done / (time.perf_counter() - start)


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
