"""Cold start: import a handler module and create its clients, against the floor
`import boto3; boto3.client("wellarchitected")`, each in fresh interpreters, interleaved."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FLOOR = """
import time
t = time.perf_counter()
import boto3
boto3.client("wellarchitected")
print(time.perf_counter() - t)
"""

HANDLER = """
import sys, time
sys.path.insert(0, {src!r})
t = time.perf_counter()
import handlers.{module}
from acceptor import runtime
runtime.components()
print(time.perf_counter() - t)
"""

ENV = {
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x",
    "AWS_SECRET_ACCESS_KEY": "x", "AWS_EC2_METADATA_DISABLED": "true",
    "ALLOWED_SOURCE_ACCOUNTS": "222222222222", "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench", "POWERTOOLS_SERVICE_NAME": "bench",
}


def _run(code: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))} | ENV
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def artifact_size() -> int | None:
    """Bytes of the built SweepFunction (after `make build`), or None when it was not built."""
    build = ROOT / ".aws-sam" / "build" / "SweepFunction"
    if not build.is_dir():
        return None
    return sum(p.stat().st_size for p in build.rglob("*") if p.is_file())


def measure(rounds: int = 15) -> dict[str, object]:
    """Median seconds per variant; the variants run interleaved so machine noise hits all alike."""
    src = str(ROOT / "src")
    samples: dict[str, list[float]] = {"floor": [], "sweep": [], "share_event": []}
    _run(FLOOR)  # warm the OS file cache once
    for _ in range(rounds):
        samples["floor"].append(_run(FLOOR))
        samples["sweep"].append(_run(HANDLER.format(src=src, module="sweep")))
        samples["share_event"].append(_run(HANDLER.format(src=src, module="share_event")))
    medians = {k: statistics.median(v) for k, v in samples.items()}
    return {
        "rounds": rounds,
        "median_seconds": medians,
        "ratio": {k: medians[k] / medians["floor"] for k in ("sweep", "share_event")},
        "artifact_bytes": artifact_size(),
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
