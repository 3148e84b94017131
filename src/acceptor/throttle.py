"""Client-side pacing and retry for an API whose rate limit is not published.

``AdaptiveRate`` is shared by every worker of a sweep: it sends freely until the service throttles,
then caps the request rate just below what was getting through and raises the cap again slowly
(additive increase, multiplicative decrease). The increase is a share of the rate itself (a fifth per
second by default), so that the same rules suit a limit of 5 requests/s and one of 100: a fixed step
that recovers quickly at 100/s overshoots a limit of 10/s several times a second.
``backoff_delay`` is capped exponential backoff with full jitter for the retries themselves.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable


def backoff_delay(attempt: int, *, base: float = 0.05, cap: float = 2.0, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based): full jitter over base * 2**attempt."""
    upper = min(cap, base * (2**attempt))
    return (rng or random).uniform(upper / 2, upper)


ANSWERED_WINDOW = 2.0  # seconds of answers that estimate what the service lets through


class AdaptiveRate:
    """A token bucket whose rate adapts to throttling. Thread-safe."""

    def __init__(
        self,
        *,
        decrease: float = 0.85,
        increase_per_second: float | None = None,
        increase_share: float = 0.2,
        min_increase: float = 0.25,
        min_rate: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._decrease = decrease
        self._increase = increase_per_second  # fixed requests/s per second, or None: a share of the rate
        self._increase_share = increase_share
        self._min_increase = min_increase
        self._min = min_rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._rate: float | None = None  # None: no throttling seen, no cap
        self._next_slot = 0.0
        self._last_cut = float("-inf")
        self._last_raise = 0.0
        self._sent: deque[float] = deque()
        self._answered: deque[float] = deque()  # requests the service let through (not throttled)
        self._answered_since: float | None = None

    @property
    def rate(self) -> float | None:
        return self._rate

    def acquire(self, max_wait: float = float("inf")) -> bool:
        """Wait for this caller's turn to send one request; False (and no turn taken) when that turn
        is more than ``max_wait`` seconds away."""
        with self._lock:
            now = self._clock()
            if self._rate is None:
                self._note_sent(now)
                return True
            slot = max(now, self._next_slot)
            if slot - now > max_wait:
                return False
            self._note_sent(now)
            self._next_slot = slot + 1.0 / self._rate
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return True

    def _note_sent(self, now: float) -> None:
        self._sent.append(now)
        while self._sent and self._sent[0] < now - 1.0:
            self._sent.popleft()

    def throttled(self) -> None:
        """The service said slow down: cap the rate just below what it was letting through.

        What it let through is the rate of answered (not throttled) requests over the last
        ``ANSWERED_WINDOW`` seconds; before any answer, the rate of requests sent in the last second.
        (The sent rate alone spirals down: after a burst of throttles many callers wait in backoff, so
        little is sent, and each cut would start from less.)"""
        with self._lock:
            now = self._clock()
            # In-flight requests of one burst come back throttled together: cut once per burst.
            if now - self._last_cut < 0.5:
                return
            through = self._answered_rate(now)
            if through is None:
                observed = max(len(self._sent), self._min)
                through = observed if self._rate is None else min(self._rate, observed)
            self._rate = max(self._min, through * self._decrease)
            self._last_cut = now
            self._last_raise = now

    def _answered_rate(self, now: float) -> float | None:
        while self._answered and self._answered[0] < now - ANSWERED_WINDOW:
            self._answered.popleft()
        if self._answered_since is None:
            return None
        span = min(ANSWERED_WINDOW, max(0.25, now - self._answered_since))
        return len(self._answered) / span

    def answered(self) -> None:
        """A request got an answer other than a throttle (an error included): the service let it through."""
        with self._lock:
            now = self._clock()
            if self._answered_since is None:
                self._answered_since = now
            self._answered.append(now)
            while self._answered and self._answered[0] < now - ANSWERED_WINDOW:
                self._answered.popleft()

    def succeeded(self) -> None:
        """Raise the cap slowly while requests get through."""
        self.answered()
        if self._rate is None:
            return
        with self._lock:
            if self._rate is None:
                return
            now = self._clock()
            step = self._increase
            if step is None:
                step = max(self._min_increase, self._increase_share * self._rate)
            self._rate += step * max(0.0, now - self._last_raise)
            self._last_raise = now
