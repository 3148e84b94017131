"""docs/architecture.md names every module of src/ with its job."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_module_of_src_is_in_the_architecture_table() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = {cell for row in re.findall(r"^\| (`src/[^|]+) \|", doc, re.M) for cell in re.findall(r"`([^`]+)`", row)}
    modules = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "src").rglob("*")
        if path.suffix in (".py", ".json") and path.name != "__init__.py" and "__pycache__" not in path.parts
    }
    assert modules - table == set(), "modules missing from docs/architecture.md"
    assert table - modules == set(), "docs/architecture.md names modules that do not exist"
