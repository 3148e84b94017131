"""Reading the Makefile in tests."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def makefile_recipe(target: str) -> str:
    """The rule for target: its line and its recipe, up to the next line that does not start with a blank."""
    text = (ROOT / "Makefile").read_text()
    start = re.search(rf"^{target}:.*$", text, re.MULTILINE)
    assert start
    end = re.search(r"^\S", text[start.end() + 1 :], re.MULTILINE)
    return text[start.start() : start.end() + 1 + (end.start() if end else len(text))]
