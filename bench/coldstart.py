"""Cold start: import a handler module and create its clients, against the floor
`import boto3; boto3.client("wellarchitected")`, each in fresh interpreters, interleaved.

When `make build` has run, both sides import from the built artifact alone (`python -S`, the
artifact as the only path besides the standard library, no bytecode written), as in Lambda;
otherwise from `src/` and `.venv`.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
from pathlib import Path
from typing import TypedDict

ROOT = Path(__file__).resolve().parent.parent

# Each child prints wall-clock and CPU seconds (user + system of this process) of the measured part.
FLOOR = """
import time
t, c = time.perf_counter(), time.process_time()
import boto3
boto3.client("wellarchitected")
print(time.perf_counter() - t, time.process_time() - c)
"""

HANDLER = """
import time
t, c = time.perf_counter(), time.process_time()
import handlers.{module}
from acceptor import runtime
runtime.components()
print(time.perf_counter() - t, time.process_time() - c)
"""

ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "x",
    "AWS_SECRET_ACCESS_KEY": "x",
    "AWS_EC2_METADATA_DISABLED": "true",
    "ALLOWED_SOURCE_ACCOUNTS": "222222222222",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    "POWERTOOLS_SERVICE_NAME": "bench",
}


BUILD = ROOT / ".aws-sam" / "build" / "SweepFunction"


def _run(code: str, built: bool) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "PYTHON"))} | ENV
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # /var/task is read-only
    if built:
        env["PYTHONPATH"] = str(BUILD)
        argv = [sys.executable, "-S", "-c", code]
    else:
        env["PYTHONPATH"] = str(ROOT / "src")
        argv = [sys.executable, "-c", code]
    out = subprocess.run(argv, capture_output=True, text=True, env=env, check=True)
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def artifact_size() -> int | None:
    """Bytes of the built SweepFunction (after `make build`), or None when it was not built."""
    if not BUILD.is_dir():
        return None
    return sum(p.stat().st_size for p in BUILD.rglob("*") if p.is_file())


# What measure() returns ("from" is a keyword, hence the functional form).
ColdStart = TypedDict(
    "ColdStart",
    {
        "rounds": int,
        "from": str,
        "compiled": bool,
        "median_seconds": dict[str, float],
        "median_cpu_seconds": dict[str, float],
        "ratio": dict[str, float],
        "wall_ratio": dict[str, float],
        "artifact_bytes": int | None,
    },
)


def measure(rounds: int = 40, seed: int = 1) -> ColdStart:
    """Medians over ``rounds`` rounds; each round runs every variant once, in a shuffled order.

    The ratio is the median of per-round ratios (handler / floor of the same round), so a slow phase
    of the machine hits both sides of a ratio alike. The verdict uses CPU time: on a shared machine,
    wall clock mostly measures the neighbours.
    """
    built = (BUILD / "handlers" / "sweep.py").is_file()
    variants = {
        "floor": FLOOR,
        "sweep": HANDLER.format(module="sweep"),
        "share_event": HANDLER.format(module="share_event"),
    }
    wall: dict[str, list[float]] = {k: [] for k in variants}
    cpu: dict[str, list[float]] = {k: [] for k in variants}
    order = list(variants)
    rng = random.Random(seed)
    _run(FLOOR, built)  # warm the OS file cache once
    for _ in range(rounds):
        rng.shuffle(order)
        for name in order:
            w, c = _run(variants[name], built)
            wall[name].append(w)
            cpu[name].append(c)

    def paired(samples: dict[str, list[float]], name: str) -> float:
        return statistics.median(h / f for h, f in zip(samples[name], samples["floor"], strict=True))

    handlers = ("sweep", "share_event")
    return {
        "rounds": rounds,
        "from": "built artifact" if built else "src and .venv",
        "compiled": built and any(BUILD.glob("handlers/__pycache__/*.pyc")),
        "median_seconds": {k: statistics.median(v) for k, v in wall.items()},
        "median_cpu_seconds": {k: statistics.median(v) for k, v in cpu.items()},
        "ratio": {k: paired(cpu, k) for k in handlers},
        "wall_ratio": {k: paired(wall, k) for k in handlers},
        "artifact_bytes": artifact_size(),
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
