"""tools.mutation_report: the scores `make mutation` prints, read from mutmut's mutants/ folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.mutation_report import main, module_score


def _meta(root: Path, source: str, codes: dict[str, int | None]) -> None:
    path = root / "mutants" / (source + ".meta")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"exit_code_by_key": codes}))


def test_scores_count_timeouts_as_killed_and_name_every_survivor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _meta(tmp_path, "src/policy/model.py", {"m.a__mutmut_1": 1, "m.a__mutmut_2": 0, "m.a__mutmut_3": 36})
    _meta(tmp_path, "src/policy/config.py", {"c.b__mutmut_1": 33, "c.b__mutmut_2": None})
    _meta(tmp_path, "src/acceptor/events.py", {"e.c__mutmut_1": 1})
    counts, survivors = module_score(tmp_path / "mutants", "src/policy")
    assert dict(counts) == {"killed": 2, "survived": 1, "other": 1, "not checked": 1}
    assert survivors == ["c.b__mutmut_1", "m.a__mutmut_2"]
    monkeypatch.chdir(tmp_path)
    assert main(["src/policy/", "src/acceptor/events.py"]) == 0
    out = capsys.readouterr().out
    assert "src/policy" in out and "50.0%" in out  # 2 killed of 4 checked
    assert "src/acceptor/events.py" in out and "100.0%" in out
    assert "  m.a__mutmut_2" in out and "  c.b__mutmut_1" in out


def test_a_module_without_results_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([]) == 2  # no mutants/ folder
    _meta(tmp_path, "src/acceptor/events.py", {"e.c__mutmut_1": 1})
    assert main(["src/acceptor/engine.py"]) == 2
