"""Client-side pacing: free until throttled, then capped below the observed rate, then recovering."""

from __future__ import annotations

import random

from acceptor.throttle import AdaptiveRate, backoff_delay


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_no_cap_until_throttled() -> None:
    t = FakeTime()
    rate = AdaptiveRate(clock=t.clock, sleep=t.sleep)
    for _ in range(500):
        rate.acquire()
    assert rate.rate is None
    assert t.slept == []


def test_throttle_caps_below_observed_rate_and_paces() -> None:
    t = FakeTime()
    rate = AdaptiveRate(clock=t.clock, sleep=t.sleep, decrease=0.8)
    for _ in range(100):  # 100 requests within one second
        rate.acquire()
        t.now += 0.005
    rate.throttled()
    assert rate.rate is not None
    assert 70 <= rate.rate <= 81
    start = t.now
    for _ in range(40):
        rate.acquire()
    # 40 requests at ~80/s take about half a second of waiting
    assert 0.4 <= t.now - start <= 0.6


def test_one_burst_of_throttles_cuts_once() -> None:
    t = FakeTime()
    rate = AdaptiveRate(clock=t.clock, sleep=t.sleep, decrease=0.5)
    for _ in range(50):
        rate.acquire()
    rate.throttled()
    first = rate.rate
    rate.throttled()
    rate.throttled()
    assert rate.rate == first
    t.now += 1.0
    rate.throttled()
    assert rate.rate is not None and first is not None and rate.rate < first


def test_success_raises_the_cap_over_time() -> None:
    t = FakeTime()
    rate = AdaptiveRate(clock=t.clock, sleep=t.sleep, increase_per_second=5.0)
    for _ in range(20):
        rate.acquire()
    rate.throttled()
    before = rate.rate
    t.now += 2.0
    rate.succeeded()
    assert before is not None and rate.rate is not None
    assert abs(rate.rate - (before + 10.0)) < 1e-6


def test_rate_never_below_minimum() -> None:
    t = FakeTime()
    rate = AdaptiveRate(clock=t.clock, sleep=t.sleep, min_rate=2.0, decrease=0.1)
    for _ in range(5):
        rate.throttled()
        t.now += 1.0
    assert rate.rate == 2.0


def test_backoff_grows_and_is_capped() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(n, base=0.1, cap=1.0, rng=rng) for n in range(1, 8)]
    assert 0.1 <= delays[0] <= 0.2
    assert all(d <= 1.0 for d in delays)
    assert delays[-1] >= 0.5


def test_by_default_the_cap_rises_by_a_share_of_itself() -> None:
    # Given a client capped near 10 requests/s and another near 100
    for observed in (10, 100):
        t = FakeTime()
        rate = AdaptiveRate(clock=t.clock, sleep=t.sleep, decrease=0.5)
        for _ in range(observed * 2):
            rate.acquire()
            t.now += 0.5 / observed
        rate.throttled()
        before = rate.rate
        assert before == observed  # half of the 2 x observed requests sent in the last second
        # When a second passes with requests getting through
        t.now += 1.0
        rate.succeeded()
        # Then each rises by a fifth of its own rate: 1/s and 10/s
        assert rate.rate is not None and before is not None
        assert abs(rate.rate - before * 1.2) < 1e-6


def test_a_tiny_rate_still_rises() -> None:
    t = FakeTime()
    rate = AdaptiveRate(clock=t.clock, sleep=t.sleep, min_rate=1.0, decrease=0.1)
    rate.acquire()
    rate.throttled()
    assert rate.rate == 1.0
    t.now += 4.0
    rate.succeeded()
    assert rate.rate == 2.0  # at least 0.25 requests/s per second


def test_a_throttle_cuts_below_what_the_service_let_through_not_below_what_was_sent() -> None:
    # Given 10 requests/s answered for two seconds, then a second in which few were sent (callers backing off)
    t = FakeTime()
    rate = AdaptiveRate(clock=t.clock, sleep=t.sleep, decrease=0.9)
    for _ in range(20):
        rate.acquire()
        rate.succeeded()
        t.now += 0.1
    rate.throttled()
    assert rate.rate is not None and 8.0 <= rate.rate <= 9.0  # 0.9 x the about 10/s let through
    t.now += 1.0
    rate.acquire()  # one request sent in the last second
    for _ in range(10):
        rate.answered()  # errors count as let through: they were not throttled
        t.now += 0.1
    rate.throttled()
    # Then the cap follows the answers (about 5/s over the window), not the one request sent
    assert rate.rate is not None and rate.rate > 4.0
