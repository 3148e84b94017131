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
from bench import burst, coldstart, policy_load, policy_speed, throughput
from bench import cpu as cpu_bench

MUTATION_SECTION = "## Mutation scores (`make mutation`)"


def template_memory_mb() -> int:
    """The functions' MemorySize in template.yaml (Globals)."""
    from tools.cfn_template import load_template

    template = load_template(Path(__file__).resolve().parent.parent / "template.yaml")
    return int(template["Globals"]["Function"]["MemorySize"])


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
    latencies = (0.020, 0.100, 0.250)
    slow_scale = 5.0
    fast = [throughput.sweep_once(invitations, lat, 100.0) for lat in latencies]
    strict = throughput.sweep_once(invitations, 0.100, 100.0, strict=True)
    slow = [throughput.sweep_once(invitations, lat, 10.0, scale=slow_scale) for lat in latencies]
    caps = [throughput.sweep_once(invitations, 0.250, 100.0, cap=cap) for cap in (8, 16)]
    cap = throughput.DEFAULTS["max_workers"]
    out("## 2. Sweep at real latencies (targets: 100 requests/s at most 1.15x the floor; 10 requests/s at most 1.05x)")
    out()
    out(
        f"{invitations} pending invitations from 40 sharers, 95% of them workloads (the hard case: one type's "
        "long listing) and the rest spread over lenses, profiles and templates; 10% injected 5xx errors; the "
        f"default configuration (`SweepConcurrency` {cap}: at most {cap} requests in flight, how many adapting to "
        "latency and throttling), every decision record written by the functions' Logger configuration. "
        f"The 10 requests/s runs are time-scaled {slow_scale:g}x (see below)."
    )
    out()
    out(
        "| latency | throttle | seconds | floor | ratio | target | API calls | list calls | injected 5xx | throttled "
        "| most in flight | accepted | rejected | deferred | failed | lost | wrong | verdict |"
    )
    out("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    sweep_ok = True
    for r, target in [*((r, 1.15) for r in fast), (strict, 1.15), *((r, 1.05) for r in slow)]:
        ok = (
            r["ratio_to_floor"] <= target
            and r["lost"] == 0
            and r["wrongly_decided"] == 0
            and (r["rps"] > 10 or (r["failed"] == 0 and r["decision_failures"] == 0))
        )
        sweep_ok = sweep_ok and ok
        label = f"{r['latency_ms']:.0f} ms" + (" (strict simulator)" if r["simulator"] == "strict" else "")
        scaled = f" (x{r['scale']:g})" if r["scale"] != 1 else ""
        out(
            f"| {label} | {r['rps']:.0f}/s{scaled} | {r['seconds']:.2f} | {r['floor_seconds']:.2f} | "
            f"{r['ratio_to_floor']:.3f}x | {target:.2f}x | {r['api_calls']} | {r['list_calls']} | "
            f"{r['injected_errors']} | {r['throttled']} | {r['most_in_flight']} | {r['accepted']} | {r['rejected']} | "
            f"{r['deferred']} | {r['failed']} | {r['lost']} | {r['wrongly_decided']} | {verdict(ok)} |"
        )
    out()
    out(
        "Floor: the API calls needed (every list page of each of the four resource types, listed explicitly, and "
        "one update per invitation) plus one retry per injected error, divided by the throttle rate. The "
        "simulator's token bucket starts full (one second of requests), so a run can finish slightly under the "
        "floor. API calls include throttled and failed attempts and the confirming listing of a type whose "
        "invitations were answered while it was paged (one empty page here). Failed counts updates and listings "
        "that failed (`DecisionFailures`); deferred, updates left for the next run (throttled past their retries, "
        "or out of time). Lost: an invitation still pending that the policy decides; wrong: a final status the "
        "policy did not ask for."
    )
    out()
    out(
        f"Time-scaled runs (marked x{slow_scale:g}): the simulator's latency and token bucket, the Lambda deadline "
        "and every wait of the client run on one clock that goes that many times faster than real time, and the "
        "seconds shown are that clock's. Only CPU is not scaled: each millisecond of it counts that many times, "
        "as on a slower CPU, which makes the run harder, not easier."
    )
    out()
    out(
        "The cap (`SweepConcurrency`), chosen by measurement: at 250 ms per call and 100 requests/s, 25 requests "
        f"must be in flight to send at the rate limit. Cap 8: {caps[0]['ratio_to_floor']:.3f}x the floor; cap 16: "
        f"{caps[1]['ratio_to_floor']:.3f}x; cap {cap} (the default): {fast[2]['ratio_to_floor']:.3f}x. The "
        "limit starts at 1 and rises as requests succeed, so a cap above what is needed costs nothing but idle "
        "threads."
    )
    out()
    out(f"Sweeps: {verdict(sweep_ok)} in every row.")
    out()

    bursts = burst.measure(invitations=invitations)
    j, rnd = bursts["jittered"], bursts["random"]
    out("## 3. Share-event burst (target: at most 1.1x one sweep's API calls, within 1.2x of the throttle floor)")
    out()
    out(
        f"{invitations} pending invitations of all four types in one account and their {invitations} share events, "
        f"in SQS batches of {burst.BATCH_SIZE} to {burst.CONCURRENCY} concurrent containers (each wired as the "
        f"function: its own client, pacing and adaptive concurrency); {burst.LATENCY_S * 1000:.0f} ms per call, "
        "100 requests/s, 10% 5xx. Messages reported as failed go back to the queue. API calls count list pages "
        "and updates, not injected errors or throttled requests."
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

    big = 4000 if args.quick else 20_000
    bl = throughput.backlog(big)
    out(
        "## 4. A backlog with the continuation (target: wall time at most 1.2x its floor, every invitation "
        "decided right, no run failed)"
    )
    out()
    out(
        f"{big:,} pending invitations (95% workloads), {bl['rps']:.0f} requests/s, {bl['latency_ms']:.0f} ms per "
        f"call, 10% 5xx, time-scaled {bl['scale']:g}x. One chain: the scheduled sweep and the continuations it "
        f"starts, each run with the function's default timeout ({bl['timeout_seconds']:.0f} s) and safety margin, "
        "one at a time under the lease, 1 s between a run's end and the next start (an asynchronous Invoke); the "
        "pacing and concurrency state carries over, as on a warm container."
    )
    out()
    out("| run | decided | deferred | failed | status | continued | stop reason |")
    out("|---|---|---|---|---|---|---|")
    for r in bl["runs"]:
        failed = f"{r['failed']} ({', '.join(r['failures'])})" if r["failed"] else "0"
        out(
            f"| {r['run']} | {r['decided']} | {r['deferred']} | {failed} | {r['status']} | "
            f"{'yes' if r['next'] else 'no'} | {r['stop'] or ''} |"
        )
    bl_ok = bl["ratio_to_floor"] <= 1.2 and bl["lost"] == 0 and bl["wrongly_decided"] == 0 and bl["failed_runs"] == 0
    out()
    out(
        f"Wall time {bl['seconds']:.0f} s against a floor of {bl['floor_seconds']:.0f} s: "
        f"{bl['ratio_to_floor']:.3f}x, {len(bl['runs'])} runs (the chain's bound is "
        f"{throughput.DEFAULTS['max_chain_runs']}, below the 16 invocations after which Lambda's recursive loop "
        f"detection stops a chain); {bl['api_calls']} API calls of which {bl['list_calls']} list calls; lost "
        f"{bl['lost']}, wrong {bl['wrongly_decided']}, failed runs {bl['failed_runs']}: {verdict(bl_ok)}."
    )
    out()

    cpu_figures = cpu_bench.measure(invitations)
    rec = cpu_figures["record"]
    memory = template_memory_mb()
    sizes = [cpu_bench.sizing(cpu_figures["own_cpu_ms_per_invitation"], mb) for mb in (256, 512, 1024, 1769)]
    chosen = cpu_bench.sizing(cpu_figures["own_cpu_ms_per_invitation"], memory)
    out("## 5. CPU per invitation and the decision record (reported against their floors)")
    out()
    out(
        f"A sweep of {invitations} invitations with no latency, throttle or errors (only CPU), the default "
        "configuration, every decision record written: "
        f"{cpu_figures['cpu_ms_per_invitation']:.2f} ms of CPU per invitation, against "
        f"{cpu_figures['floor_ms_per_call']:.2f} ms for a bare `UpdateShareInvitation` through botocore "
        f"({cpu_figures['ratio_to_floor']:.2f}x). Both include the in-process simulator answering; without it: "
        f"{cpu_figures['own_cpu_ms_per_invitation']:.2f} ms per invitation, {cpu_figures['own_floor_ms_per_call']:.2f} "
        f"ms per bare call ({cpu_figures['own_ratio_to_floor']:.2f}x). Lost {cpu_figures['lost']}, wrong "
        f"{cpu_figures['wrong']}."
    )
    out()
    out(
        f'One decision record, logged (`logger.info("invitation decided", extra=record)` with the functions\' '
        f"Logger configuration, to /dev/null): {rec['ours_us']:.0f} µs, against {rec['floor_us']:.1f} µs for "
        f"`json.dumps(record)` ({rec['ours_us'] / rec['floor_us']:.1f}x); with Powertools' default JSON functions "
        f"{rec['powertools_default_us']:.0f} µs. What is left is the `logging` machinery and Powertools' formatter."
    )
    out()
    out(
        "Sizing: a sweep at 100 requests/s sends about one update per invitation, so it needs its own CPU per "
        "invitation times 100 per second. Lambda gives a function CPU in proportion to its memory (1,769 MB is one "
        "vCPU); this machine's CPU stands in for Lambda's (arm64) here. Cost: arm64 at $0.0000133334 per GB-second "
        "and $0.20 per million requests, 10,000 invitations taking 100 s at 100 requests/s (10 times that, and "
        "10 times the cost, at 10 requests/s)."
    )
    out()
    out("| memory | vCPU share | vCPU needed at 100/s | headroom | cost per 10,000 invitations |")
    out("|---|---|---|---|---|")
    for z in sizes:
        out(
            f"| {z['memory_mb']} MB | {z['vcpu_share']:.2f} | {z['vcpu_needed']:.2f} | {z['headroom']:.1f}x | "
            f"${z['cost_per_10k_usd']:.4f} |"
        )
    out()
    out(
        f"The template's MemorySize: {memory} MB, {chosen['headroom']:.1f}x the CPU a sweep needs at 100 "
        f"requests/s ({verdict(chosen['headroom'] >= 2.0)}: at least 2x, so the sweep is not CPU-bound); "
        f"${chosen['cost_per_10k_usd']:.4f} per 10,000 invitations at 100 requests/s."
    )
    out()

    pol = policy_speed.measure(decisions=60_000 if args.quick else 300_000)
    out("## 6. Policy evaluation (target: at least 200,000 decisions/s)")
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
    raw = {
        "cold_start": cold,
        "sweep": {"100_per_second": fast, "strict": strict, "10_per_second": slow, "caps": caps},
        "burst": bursts,
        "backlog": bl,
        "cpu": cpu_figures,
        "sizing": sizes,
        "policy": pol,
    }
    out(json.dumps(raw, indent=2, default=str))
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
