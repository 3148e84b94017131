"""How many requests a run keeps in flight: adapted to the measured latency and to throttling.

``ConcurrencyLimit`` decides a number; it never sleeps and reads time only from its injected clock, so
its rules are tested with scripted clocks. ``Gate`` holds callers back while the limit is reached.

The rules, as TCP's congestion window follows them:
- start at ``initial`` (1) and, while the service never throttled, add one for every request that
  succeeds (the limit doubles each round trip: "slow start"), up to ``cap``;
- a throttle cuts the limit to ``decrease`` times itself, at most once per measured round trip (the
  requests of one burst come back throttled together), and ends slow start;
- after that, add one per round trip (a limit's worth of successes): additive increase;
- never below what the pacing needs: when the client paces itself at ``r`` requests/s and a request
  takes ``t`` seconds, ``r x t`` requests must be in flight to send at that rate (Little's law), so a cut
  never starves the pacer, whatever the latency.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

# A smoothed round trip weighs each new sample this much (as TCP's SRTT does).
_LATENCY_WEIGHT = 0.125


class ConcurrencyLimit:
    """The number of requests allowed in flight. Thread-safe; pure apart from its injected clock."""

    def __init__(
        self,
        cap: int,
        *,
        initial: int = 1,
        decrease: float = 0.7,
        clock: Callable[[], float] = time.monotonic,
        paced_rate: Callable[[], float | None] = lambda: None,
    ) -> None:
        if cap < 1:
            raise ValueError(f"cap must be at least 1, not {cap}")
        if not 0.0 < decrease < 1.0:
            raise ValueError(f"decrease must be within (0, 1), not {decrease}")
        self.cap = cap
        self._window = float(min(max(1, initial), cap))
        self._decrease = decrease
        self._clock = clock
        self._paced_rate = paced_rate
        self._slow_start = True
        self._latency: float | None = None  # smoothed seconds per request
        self._last_cut = -math.inf
        self._lock = threading.Lock()
        self.throttles = 0  # throttled answers seen
        self.cuts = 0  # times the limit was cut

    @property
    def latency(self) -> float | None:
        return self._latency

    @property
    def limit(self) -> int:
        """Requests allowed in flight now: at least 1, at most ``cap``."""
        with self._lock:
            return self._limit()

    def _limit(self) -> int:
        window = int(self._window)
        rate = self._paced_rate()
        if rate is not None and self._latency is not None:
            window = max(window, math.ceil(rate * self._latency))
        return max(1, min(self.cap, window))

    def succeeded(self, seconds: float) -> None:
        """A request got its answer after ``seconds``: learn the latency, raise the limit."""
        with self._lock:
            self._sample(seconds)
            if self._slow_start:
                self._window += 1.0
            else:
                self._window += 1.0 / max(1.0, self._window)  # one per round trip
            self._window = min(self._window, float(self.cap))

    def throttled(self, seconds: float | None = None) -> None:
        """The service said slow down: cut the limit, once per round trip."""
        with self._lock:
            self.throttles += 1
            if seconds is not None:
                self._sample(seconds)
            now = self._clock()
            self._slow_start = False
            if now - self._last_cut < (self._latency or 0.0):
                return  # the same burst: already cut
            self._window = max(1.0, self._window * self._decrease)
            self._last_cut = now
            self.cuts += 1

    def failed(self, seconds: float) -> None:
        """An answer that says nothing about load (an error, a 5xx): only its latency counts."""
        with self._lock:
            self._sample(seconds)

    def _sample(self, seconds: float) -> None:
        if not seconds >= 0.0 or seconds == math.inf:
            return
        if self._latency is None:
            self._latency = seconds
        else:
            self._latency += _LATENCY_WEIGHT * (seconds - self._latency)


class Gate:
    """Admits at most ``limit.limit`` callers at once; the rest wait. Thread-safe."""

    def __init__(self, limit: ConcurrencyLimit) -> None:
        self.limit = limit
        self._cond = threading.Condition()
        self._in_flight = 0
        self.most_in_flight = 0

    def enter(self, timeout: float | None = None) -> bool:
        """Wait for room (False when ``timeout`` seconds pass first; None or infinity: no limit)."""
        if timeout is not None and not timeout < math.inf:
            timeout = None
        with self._cond:
            ok = self._cond.wait_for(lambda: self._in_flight < self.limit.limit, timeout)
            if not ok:
                return False
            self._in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self._in_flight)
            return True

    def leave(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._cond.notify_all()

    @property
    def in_flight(self) -> int:
        with self._cond:
            return self._in_flight
