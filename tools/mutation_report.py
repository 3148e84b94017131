"""Scores of the last `make mutation` run, per module, read from mutmut's ``mutants/`` folder.

    python -m tools.mutation_report [MODULE]     # MODULE: src/policy, src/acceptor/events.py, ...

The score is killed / checked: a mutant that timed out counts as killed (the tests noticed), one with no
test or not checked yet does not. Every survivor is listed by name: ``mutmut show NAME`` prints its diff.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

MODULES = (
    "src/policy",
    "src/acceptor/events.py",
    "src/acceptor/engine.py",
    "src/acceptor/outcomes.py",
    "src/acceptor/listing.py",
    "src/acceptor/recorder.py",
    "src/acceptor/fanout.py",
)
KILLED = {1, 3, 36, 24, -24, 152, 255}  # mutmut's exit codes for killed and timed out
SURVIVED = {0}
NOT_CHECKED = {None}


def _module_files(root: Path, module: str) -> list[Path]:
    target = root / module
    if target.suffix == ".py":
        meta = target.with_name(target.name + ".meta")
        return [meta] if meta.is_file() else []
    return sorted(target.rglob("*.py.meta"))


def module_score(root: Path, module: str) -> tuple[Counter[str], list[str]]:
    """(counts by killed/survived/no tests/not checked, survivor names) of one module."""
    counts: Counter[str] = Counter()
    survivors: list[str] = []
    for meta in _module_files(root, module):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if code in KILLED:
                counts["killed"] += 1
            elif code in SURVIVED:
                counts["survived"] += 1
                survivors.append(name)
            elif code in NOT_CHECKED:
                counts["not checked"] += 1
            else:
                counts["other"] += 1  # no tests, suspicious, segfault: not killed
                survivors.append(name)
    return counts, sorted(survivors)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    modules = [arg.rstrip("/") for arg in args] or list(MODULES)
    root = Path("mutants")
    if not root.is_dir():
        print("mutation_report: no mutants/ folder: run `make mutation` first", file=sys.stderr)
        return 2
    print(f"{'module':<26} {'mutants':>7} {'killed':>7} {'survived':>8} {'other':>5} {'unchecked':>9} {'score':>7}")
    all_survivors: list[str] = []
    for module in modules:
        counts, survivors = module_score(root, module)
        total = sum(counts.values())
        if not total:
            print(f"mutation_report: no mutants recorded for {module!r}", file=sys.stderr)
            return 2
        checked = total - counts["not checked"]
        score = f"{100 * counts['killed'] / checked:.1f}%" if checked else "-"
        print(
            f"{module:<26} {total:>7} {counts['killed']:>7} {counts['survived']:>8} {counts['other']:>5} "
            f"{counts['not checked']:>9} {score:>7}"
        )
        all_survivors += survivors
    if all_survivors:
        print("\nsurvivors (`.venv/bin/mutmut show NAME` for the diff):")
        print("\n".join(f"  {name}" for name in all_survivors))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
