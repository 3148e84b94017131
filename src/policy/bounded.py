"""Hostile JSON with bounded nesting: data nested deeper than a limit is refused with an error naming the
limit, never a ``RecursionError`` that takes the whole run (or a whole batch) down with it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


class TooDeep(ValueError):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"is nested more than {limit} levels deep")


def deeper_than(data: Any, limit: int) -> bool:
    """Whether lists and objects nest more than ``limit`` levels (``[]`` is one). Iterative: any depth."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list | tuple):
            children = value
        else:
            continue
        if depth + 1 > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def load_json(text: str, limit: int, object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None) -> Any:
    """``json.loads`` that raises TooDeep (a ValueError) for data nested more than ``limit`` levels."""
    try:
        data = json.loads(text, object_pairs_hook=object_pairs_hook)
    except RecursionError:
        raise TooDeep(limit) from None
    if deeper_than(data, limit):
        raise TooDeep(limit)
    return data
