"""Loading the 10,000-account policy document (bench/policy_speed.py's 200 rules, about 200 KB) from S3
and from a file, through the functions' own ``PolicySource``.

- cold: a new container's first run: GetObject, read and parse (S3 under moto, in-process), against
  reading and parsing the same document from a file shipped with the function;
- warm revalidation: a run after the cache period when the object has not changed: one conditional
  GetObject answered 304, nothing downloaded, nothing parsed;
- within the cache period: no call at all.

moto answers in-process, in well under a millisecond; real S3 answers in tens to hundreds. So every S3
figure is also given with a fixed ``RTT_MS`` added to each request (a ``before-send`` hook sleeps it),
the low end of the 100-250 ms the project plans AWS calls at.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tools  # noqa: F401  (puts src/ on sys.path when run alone)
from acceptor.policy_source import PolicySource
from bench.policy_speed import _document, _ou
from policy import load_policy

BUCKET = "bench-policy"
KEY = "wa-share-acceptor/policy.json"
URI = f"s3://{BUCKET}/{KEY}"
RTT_MS = 100.0


def benchmark_document() -> str:
    """The 10,000 accounts, 500 OUs and 200 rules of bench/policy_speed.py, as JSON."""
    allowed = [f"{100000000000 + i * 7:012d}" for i in range(10_000)]
    denied = [f"{900000000000 + i:012d}" for i in range(100)]
    return json.dumps(_document(allowed, denied, [_ou(i) for i in range(500)]))


def _median_ms(run: Callable[[], Any], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


class _Counter:
    """GetObject requests and the bytes of their bodies, seen at the client; optionally a fixed delay."""

    def __init__(self, client: Any) -> None:
        self.requests = 0
        self.delay = 0.0
        client.meta.events.register("before-send.s3.GetObject", self._send)

    def _send(self, **_: Any) -> None:
        self.requests += 1
        if self.delay:
            time.sleep(self.delay)


def measure(rounds: int = 15, warm_rounds: int = 50) -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    text = benchmark_document()
    env_policy = load_policy({"DRY_RUN": "false"})
    with tempfile.TemporaryDirectory() as tmp, mock_aws():
        Path(tmp, "policy.json").write_text(text, encoding="utf-8")
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        client.put_object(Bucket=BUCKET, Key=KEY, Body=text.encode())
        counter = _Counter(client)

        def from_file() -> Any:
            return PolicySource(env_policy, policy_file="policy.json", code_dir=Path(tmp), organizations=True).current()

        def cold() -> PolicySource:
            source = PolicySource(env_policy, s3_uri=URI, cache_seconds=0, s3_client=client, organizations=True)
            source.current()
            return source

        from_file()  # imports and page cache warm, as in a container that has already imported everything
        requests_before = counter.requests
        first = cold()
        cold_requests = counter.requests - requests_before
        cold_bytes = first.s3_transfers.bytes
        # One load of each per round, in turn, so that whatever else the machine runs weighs on all alike;
        # the ratio is the median of the per-round ratios.
        file_samples, cold_samples = [], []
        for _ in range(rounds):
            file_samples.append(_median_ms(from_file, 1))
            cold_samples.append(_median_ms(cold, 1))
        file_ms, cold_ms = statistics.median(file_samples), statistics.median(cold_samples)
        ratio = statistics.median(c / f for c, f in zip(cold_samples, file_samples, strict=True))
        counter.delay = RTT_MS / 1000
        cold_rtt_ms = _median_ms(cold, max(3, rounds // 3))
        counter.delay = 0.0

        # A warm container after the cache period (cache_seconds=0: every run revalidates).
        warm = cold()
        before = warm.s3_transfers
        requests_before = counter.requests
        warm_ms = _median_ms(warm.current, warm_rounds)
        after = warm.s3_transfers
        warm_requests = (counter.requests - requests_before) / warm_rounds
        warm_bytes = (after.bytes - before.bytes) / warm_rounds
        counter.delay = RTT_MS / 1000
        warm_rtt_ms = _median_ms(warm.current, max(3, rounds // 3))
        counter.delay = 0.0

        # Within the cache period: Powertools' cache answers.
        cached = PolicySource(env_policy, s3_uri=URI, cache_seconds=300, s3_client=client, organizations=True)
        cached.current()
        requests_before = counter.requests
        cached_ms = _median_ms(cached.current, warm_rounds)
        cached_requests = (counter.requests - requests_before) / warm_rounds

    return {
        "document_bytes": len(text.encode()),
        "rules": 200,
        "accounts": 10_000,
        "rounds": rounds,
        "file_read_and_parse_ms": file_ms,
        "s3_cold_ms": cold_ms,
        "s3_cold_requests": cold_requests,
        "s3_cold_bytes": cold_bytes,
        "s3_cold_ratio_to_file": ratio,
        "rtt_ms": RTT_MS,
        "s3_cold_with_rtt_ms": cold_rtt_ms,
        "warm_revalidation_ms": warm_ms,
        "warm_revalidation_with_rtt_ms": warm_rtt_ms,
        "warm_revalidation_requests": warm_requests,
        "warm_revalidation_bytes": warm_bytes,
        "warm_revalidation_not_modified": after.not_modified - before.not_modified,
        "warm_runs": warm_rounds,
        "within_cache_ms": cached_ms,
        "within_cache_requests": cached_requests,
    }


def report(result: dict[str, Any], out: Callable[[str], None]) -> None:
    """The section of `make bench` (docs/benchmarks.md)."""
    r = result
    out("## Policy documents in S3 (the 10,000-account document)")
    out("")
    out(
        f"The document of section 4 ({r['accounts']:,} accounts, 500 OUs, {r['rules']} rules, "
        f"{r['document_bytes'] / 1000:.0f} KB of JSON) read through the functions' `PolicySource`: from a file "
        f"shipped with the function, and from S3 (moto, in-process; medians of {r['rounds']} rounds of one load "
        "of each, in turn; the ratio is the median of the per-round ratios)."
    )
    out("")
    out(f"| load | GetObject calls | bytes downloaded | ms (moto) | ms with a {r['rtt_ms']:.0f} ms round trip |")
    out("|---|---|---|---|---|")
    out(f"| file: read and parse | 0 | - | {r['file_read_and_parse_ms']:.1f} | - |")
    out(
        f"| S3 cold: GetObject, read and parse | {r['s3_cold_requests']} | {r['s3_cold_bytes']:,} "
        f"| {r['s3_cold_ms']:.1f} "
        f"({r['s3_cold_ratio_to_file']:.2f}x the file) | {r['s3_cold_with_rtt_ms']:.1f} |"
    )
    out(
        f"| S3 warm, after the cache period, unchanged: conditional GetObject, 304 | "
        f"{r['warm_revalidation_requests']:.0f} | {r['warm_revalidation_bytes']:.0f} | "
        f"{r['warm_revalidation_ms']:.2f} | {r['warm_revalidation_with_rtt_ms']:.1f} |"
    )
    out(f"| S3 warm, within the cache period | {r['within_cache_requests']:.0f} | 0 | {r['within_cache_ms']:.3f} | - |")
    out("")
    out(
        f"Cold load from S3: {r['s3_cold_ms']:.1f} ms in-process, {r['s3_cold_ratio_to_file']:.2f}x reading the same "
        f"document from a file; with a {r['rtt_ms']:.0f} ms round trip, {r['s3_cold_with_rtt_ms']:.0f} ms. A warm "
        f"revalidation costs {r['warm_revalidation_requests']:.0f} call, {r['warm_revalidation_bytes']:.0f} bytes and "
        f"no parse ({r['warm_revalidation_not_modified']} of {r['warm_runs']} runs answered 304): "
        f"{r['warm_revalidation_ms']:.2f} ms in-process, {r['warm_revalidation_with_rtt_ms']:.0f} ms with the round "
        "trip. Within the cache period (PolicyCacheSeconds, 300 s by default) no call is made."
    )
    out("")


if __name__ == "__main__":
    figures = measure()
    report(figures, print)
    print(json.dumps(figures, indent=2))
