"""The JSON functions the Powertools Logger uses (its documented ``json_serializer`` and
``json_deserializer`` parameters), cheaper than its defaults for the one line logged per decision.

- ``serialize``: one reused encoder with compact separators, ``default=str`` and no ASCII escaping, as
  Powertools' own, without circular-reference bookkeeping (a log record is a tree of plain values).
- ``deserialize``: Powertools tries to decode every string message as JSON; ours are short sentences,
  so a message that cannot be a JSON object or array is refused before the decoder (and its exception)
  runs. A message that starts like one is decoded as before.
"""

from __future__ import annotations

import json
from typing import Any

_ENCODER = json.JSONEncoder(separators=(",", ":"), default=str, ensure_ascii=False, check_circular=False)


def serialize(log: Any) -> str:
    return _ENCODER.encode(log)


def deserialize(text: Any) -> Any:
    if not isinstance(text, str | bytes | bytearray):
        raise TypeError(f"a {type(text).__name__} is not JSON text")
    head = text.lstrip()[:1]
    if head not in ("{", "[", b"{", b"["):
        raise ValueError("not a JSON object or array")
    return json.loads(text)
