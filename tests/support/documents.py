"""Editing JSON-shaped documents (events, policy documents) for a test, one value at a time."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any


def with_value(document: Any, path: Sequence[Any], value: Any) -> Any:
    """A deep copy of document with the value at path (keys and list indexes) replaced, or removed when
    value is ``...``."""
    edited = copy.deepcopy(document)
    node = edited
    for key in path[:-1]:
        node = node[key]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return edited
