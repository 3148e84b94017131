"""Faults on demand: latency per request, a per-(account, region) throttle, random 5xx errors."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Faults:
    """latency_s: added to every request; throttle_rps: token bucket per (account, region) holding one
    second of tokens (at least one), over it HTTP 429 ThrottlingException; error_rate: share of requests
    answered HTTP 500 InternalServerException (seeded, so runs repeat)."""

    latency_s: float = 0.0
    throttle_rps: float | None = None
    error_rate: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.latency_s < 0:
            raise ValueError(f"latency_s must be >= 0, not {self.latency_s}")
        if self.throttle_rps is not None and self.throttle_rps <= 0:
            raise ValueError(f"throttle_rps must be > 0, not {self.throttle_rps}")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"error_rate must be within 0..1, not {self.error_rate}")


class FaultInjector:
    """Decides, per request, whether it is throttled or fails. Thread-safe."""

    def __init__(self, faults: Faults, clock: Callable[[], float] = time.monotonic) -> None:
        self.faults = faults
        self._clock = clock
        self._rng = random.Random(faults.seed)
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # key -> (tokens, last refill)

    def throttled(self, account: str, region: str) -> bool:
        rate = self.faults.throttle_rps
        if rate is None:
            return False
        with self._lock:
            now = self._clock()
            capacity = max(rate, 1.0)  # below 1 rps the bucket still holds the one request it admits
            tokens, last = self._buckets.get((account, region), (capacity, now))
            tokens = min(capacity, tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[(account, region)] = (tokens, now)
                return True
            self._buckets[(account, region)] = (tokens - 1.0, now)
            return False

    def fails(self) -> bool:
        if self.faults.error_rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < self.faults.error_rate
