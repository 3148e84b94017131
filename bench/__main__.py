"""`make bench`: every benchmark in one run, each printed as a ratio against its target.

Benchmarks are not tests: they never fail on a slow machine. `--output FILE` also writes the
report as Markdown (docs/benchmarks.md is made this way).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

import tools  # noqa: F401  (puts src/ on sys.path)
from bench import burst, coldstart, policy_load, policy_speed, sweep

MUTATION_SECTION = "## Mutation scores (`make mutation`)"


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--output", help="also write the report as Markdown to this file")
    parser.add_argument("--quick", action="store_true", help="smaller runs (for a smoke check)")
    args = parser.parse_args(argv)

    lines: list[str] = []

    def out(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    out(f"# Benchmarks ({datetime.now(UTC):%Y-%m-%d}, Python {platform.python_version()}, {platform.machine()})")
    out()
    out("Command: `make bench` (`.venv/bin/python -m bench`).")
    out()

    cold = coldstart.measure(rounds=5 if args.quick else 40)
    out("## 1. Cold start (target: at most 1.10x the floor)")
    out()
    wall, cpu = cold["median_seconds"], cold["median_cpu_seconds"]
    out(
        f"Floor `import boto3; boto3.client('wellarchitected')`: {cpu['floor'] * 1000:.0f} ms CPU, "
        f"{wall['floor'] * 1000:.0f} ms wall clock (medians of {cold['rounds']} fresh interpreters each, "
        f"in rounds of one run per variant in shuffled order; ratios are medians of per-round ratios; "
        f"importing from the {cold['from']}"
        f"{' with precompiled bytecode' if cold['compiled'] else ''}). The verdict uses CPU time; the wall-clock "
        "ratio is shown for reference and moves with whatever else the machine runs."
    )
    out()
    out("| handler | import + clients (CPU) | ratio to floor | wall clock | wall ratio | verdict |")
    out("|---|---|---|---|---|---|")
    for name in ("sweep", "share_event"):
        ratio, wall_ratio = cold["ratio"][name], cold["wall_ratio"][name]
        out(
            f"| {name} | {cpu[name] * 1000:.0f} ms | {ratio:.3f}x | {wall[name] * 1000:.0f} ms | {wall_ratio:.3f}x "
            f"| {verdict(ratio <= 1.10)} |"
        )
    size = cold["artifact_bytes"]
    out()
    out(
        "What the handlers add over the floor: Powertools Logger and Metrics and the acceptor's own modules "
        "(about 30 ms of imports on this machine, `python -X importtime`). Two things keep the rest down: "
        "`make build` precompiles the artifact's bytecode (Lambda cannot write `__pycache__`; this helps "
        "the floor alike), and `runtime.components()` calls `gc.freeze()` before and after building the "
        "clients, so the collector stops rescanning everything the imports allocated (without it the ratio "
        "measured about 1.2x)."
    )
    out()
    out(
        f"Built artifact (`.aws-sam/build/SweepFunction`): {size / 1e6:.1f} MB unzipped"
        if size
        else "Built artifact: run `make build` first to measure its size."
    )
    out()

    invitations = 400 if args.quick else 2000
    result = sweep.measure(invitations=invitations)
    c, st, b = result["concurrent"], result["strict"], result["one_at_a_time"]
    out("## 2. Sweep (target: within 1.15x of the floor, nothing lost or wrongly decided)")
    out()
    out(
        f"{invitations} pending invitations from 40 sharers; simulator latency 20 ms/call, throttle "
        f"100 requests/s, 10% injected 5xx errors."
    )
    out()
    out("| run | seconds | floor | ratio | API calls | per invitation | injected 5xx | throttled | lost | wrong |")
    out("|---|---|---|---|---|---|---|---|---|---|")
    for label, r in (
        (f"{c['workers']} workers", c),
        (f"{st['workers']} workers, strict simulator", st),
        ("one at a time", b),
    ):
        out(
            f"| {label} | {r['seconds']:.2f} | {r['floor_seconds']:.2f} | {r['ratio_to_floor']:.3f}x | "
            f"{r['api_calls']} | {r['api_calls_per_invitation']:.3f} | {r['injected_errors']} | {r['throttled']} | "
            f"{r['lost']} | {r['wrongly_decided']} |"
        )
    ok = all(r["ratio_to_floor"] <= 1.15 and r["lost"] == 0 and r["wrongly_decided"] == 0 for r in (c, st))
    out()
    out(
        "Floor: the API calls needed (list pages of each of the four resource types, listed explicitly, and one "
        "update per invitation) plus one retry per injected "
        "error, divided by the throttle rate. The simulator's token bucket starts full (one second of "
        "requests), so a short run can finish slightly under the floor. Lost: an invitation still pending "
        "that the policy decides; wrong: a final status the policy did not ask for."
    )
    out()
    out(
        f"Concurrent sweep: {c['ratio_to_floor']:.3f}x the floor (strict simulator: {st['ratio_to_floor']:.3f}x), "
        f"{verdict(ok)}; "
        f"{c['speedup_vs_one_at_a_time']:.2f}x faster than one call at a time."
    )
    out()

    bursts = burst.measure(invitations=invitations)
    j, rnd = bursts["jittered"], bursts["random"]
    out("## 3. Share-event burst (target: at most 1.1x one sweep's API calls, within 1.2x of the throttle floor)")
    out()
    out(
        f"{invitations} pending invitations of all four types in one account and their {invitations} share events, "
        f"in SQS batches of {burst.BATCH_SIZE} to {burst.CONCURRENCY} concurrent containers (each with its own client "
        "and pacing); same latency, throttle and 5xx rate as the sweep. Messages reported as failed go back to the "
        "queue. API calls count list pages and updates, not injected errors or throttled requests."
    )
    out()
    out(
        "| delivery order | seconds | floor | ratio | API calls | one sweep | calls ratio | list calls | batches "
        "| redelivered | lost | wrong |"
    )
    out("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in (j, rnd):
        out(
            f"| {r['order']} | {r['seconds']:.2f} | {r['floor_seconds']:.2f} | {r['ratio_to_floor']:.3f}x | "
            f"{r['api_calls']} | {r['one_sweep_calls']} | {r['calls_ratio_to_sweep']:.3f}x | {r['list_calls']} | "
            f"{r['batches']} | {r['redelivered_messages']} | {r['lost']} | {r['wrongly_decided']} |"
        )
    burst_ok = (
        j["calls_ratio_to_sweep"] <= 1.1 and j["ratio_to_floor"] <= 1.2 and j["lost"] == 0 and j["wrongly_decided"] == 0
    )
    out()
    out(
        "Jittered: the order sent, each message moved by up to one batch (a standard queue's best-effort order). "
        "A batch lists each type it names and stops paging once every id it holds is found; decided invitations "
        "leave the listing, so the next batch finds its ids on the first pages. Random: no order at all, the worst "
        "case a standard queue allows (reported, not the target): a batch's ids are spread over every page."
    )
    out()
    out(
        f"Burst (jittered): {j['calls_ratio_to_sweep']:.3f}x one sweep's calls and {j['ratio_to_floor']:.3f}x the "
        f"throttle floor, {verdict(burst_ok)}; random order: {rnd['calls_ratio_to_sweep']:.3f}x the calls."
    )
    out()

    pol = policy_speed.measure(decisions=60_000 if args.quick else 300_000)
    out("## 4. Policy evaluation (target: at least 200,000 decisions/s)")
    out()
    out(
        f"The eight variables with {pol['allowed_accounts']} allowed accounts and {pol['allowed_ous']} allowed OUs: "
        f"{pol['decisions_per_second']:,.0f} decisions/s over {pol['decisions']:,} decisions, "
        f"{pol['decisions_per_second'] / 200_000:.2f}x the target ({verdict(pol['decisions_per_second'] >= 200_000)}); "
        f"the parsed policy holds {pol['policy_memory_bytes'] / 1e6:.2f} MB."
    )
    out()
    out(
        f"A document of {pol['document_rules']} rules over the same accounts and OUs (some rules with name "
        f"patterns): {pol['document_decisions_per_second']:,.0f} decisions/s for `evaluate` alone; "
        f"{pol['document_pipeline_decisions_per_second']:,.0f} decisions/s for the whole pipeline, from a listed "
        "summary to the logged decision record (`Invitation.from_summary`, `evaluate`, the record); "
        f"the compiled document holds {pol['document_memory_bytes'] / 1e6:.2f} MB. `evaluate` looks only at the "
        "rules that name the sharer or one of its OUs (indexes built once per policy). Such a document is about "
        "200 KB: it fits a file shipped with the function, not an SSM parameter (8 KB in the advanced tier)."
    )
    out()
    policy_load.report(policy_load.measure(rounds=5 if args.quick else 15), out)

    out("<details><summary>raw figures</summary>")
    out()
    out("```json")
    out(json.dumps({"cold_start": cold, "sweep": result, "burst": bursts, "policy": pol}, indent=2, default=str))
    out("```")
    out("</details>")
    if args.output:
        report = "\n".join(lines) + "\n"
        path = Path(args.output)
        kept = path.read_text(encoding="utf-8") if path.is_file() else ""
        if MUTATION_SECTION in kept:  # `make mutation` keeps its scores at the end of the same file
            report += "\n" + kept[kept.index(MUTATION_SECTION) :]
        path.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
