"""One time budget for a whole invocation: every call, retry, wait, lookup and notification fits in it.

``Deadline.work`` is when deciding stops (the Lambda timeout less the safety margin); ``Deadline.hard``
is when the handler must have returned (the Lambda timeout less a small reserve for flushing logs and
metrics). The digest may use the time between the two; nothing else may.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import NamedTuple

# Flushing the EMF metrics and the summary log line after the last call.
RETURN_RESERVE_SECONDS = 1.0


class Deadline(NamedTuple):
    work: float = math.inf  # clock() value after which no new work starts
    hard: float = math.inf  # clock() value by which the handler returns
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def unlimited(cls, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(math.inf, math.inf, clock)

    @classmethod
    def within(cls, seconds: float, margin: float = 0.0, clock: Callable[[], float] = time.monotonic) -> Deadline:
        """A budget of ``seconds`` from now: work stops ``margin`` seconds before the end."""
        now = clock()
        hard = now + max(0.0, seconds - RETURN_RESERVE_SECONDS)
        return cls(min(hard, now + max(0.0, seconds - margin)), hard, clock)

    def left(self) -> float:
        """Seconds until work must stop (may be negative; ``inf`` when unlimited)."""
        return self.work - self.clock()

    def left_hard(self) -> float:
        return self.hard - self.clock()

    def expired(self) -> bool:
        return self.clock() >= self.work

    @property
    def limited(self) -> bool:
        return self.work != math.inf
