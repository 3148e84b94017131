"""Adaptive concurrency: slow start to the cap, cuts on throttles once per round trip, additive recovery,
and never below what the pacing needs. Driven by a scripted clock; nothing here waits."""

from __future__ import annotations

import threading

import pytest

from acceptor.concurrency import ConcurrencyLimit, Gate


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_starts_at_one_and_doubles_each_round_trip_up_to_the_cap() -> None:
    # Given a limit with cap 32 that never saw a throttle
    limit = ConcurrencyLimit(32, clock=Clock())
    assert limit.limit == 1
    # When each round trip's requests all succeed
    seen = []
    for _ in range(7):
        for _ in range(limit.limit):
            limit.succeeded(0.25)
        seen.append(limit.limit)
    # Then the limit doubles per round trip and stops at the cap
    assert seen == [2, 4, 8, 16, 32, 32, 32]


def test_a_burst_of_throttles_cuts_once_per_round_trip() -> None:
    clock = Clock()
    limit = ConcurrencyLimit(64, clock=clock, decrease=0.5)
    for _ in range(31):
        limit.succeeded(0.1)
    assert limit.limit == 32
    # Given eight requests of one burst throttled within one round trip
    for _ in range(8):
        limit.throttled()
        clock.now += 0.01
    # Then the limit was cut once
    assert limit.limit == 16
    assert limit.cuts == 1 and limit.throttles == 8
    # And a throttle a round trip later cuts again
    clock.now += 0.2
    limit.throttled()
    assert limit.limit == 8 and limit.cuts == 2


def test_after_a_throttle_it_grows_by_one_per_round_trip() -> None:
    clock = Clock()
    limit = ConcurrencyLimit(64, clock=clock, decrease=0.5)
    for _ in range(19):
        limit.succeeded(0.1)
    assert limit.limit == 20
    limit.throttled()
    assert limit.limit == 10
    # A limit's worth of successes (one round trip) adds one, not ten
    for _ in range(10):
        limit.succeeded(0.1)
    assert limit.limit == 10
    for _ in range(11):
        limit.succeeded(0.1)
    assert limit.limit == 11


def test_never_below_one_nor_above_the_cap() -> None:
    clock = Clock()
    limit = ConcurrencyLimit(3, clock=clock, decrease=0.5)
    for _ in range(100):
        limit.succeeded(0.05)
    assert limit.limit == 3
    for _ in range(20):
        clock.now += 1.0
        limit.throttled()
    assert limit.limit == 1


def test_the_pacing_floor_keeps_enough_in_flight_for_the_paced_rate() -> None:
    # Given a client paced at 100 requests/s whose calls take 250 ms
    clock = Clock()
    limit = ConcurrencyLimit(64, clock=clock, decrease=0.5, paced_rate=lambda: 100.0)
    for _ in range(40):
        limit.succeeded(0.25)
    # When throttles cut the window far down
    for _ in range(6):
        clock.now += 1.0
        limit.throttled()
    # Then 25 requests (100/s x 0.25 s) may still be in flight
    assert limit.limit == 25


def test_pacing_floor_respects_the_cap() -> None:
    limit = ConcurrencyLimit(8, clock=Clock(), paced_rate=lambda: 100.0)
    limit.succeeded(0.25)
    assert limit.limit == 8


def test_latency_is_smoothed_and_junk_samples_are_ignored() -> None:
    limit = ConcurrencyLimit(8, clock=Clock())
    assert limit.latency is None
    limit.failed(0.1)
    assert limit.latency == pytest.approx(0.1)
    limit.succeeded(0.9)
    assert limit.latency == pytest.approx(0.1 + 0.125 * 0.8)
    before = limit.latency
    limit.failed(float("nan"))
    limit.failed(-1.0)
    limit.failed(float("inf"))
    assert limit.latency == before


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="cap must be at least 1, not 0"):
        ConcurrencyLimit(0)
    with pytest.raises(ValueError, match="decrease must be within"):
        ConcurrencyLimit(4, decrease=1.0)


def test_gate_admits_up_to_the_limit_and_reports_timeouts() -> None:
    limit = ConcurrencyLimit(4, clock=Clock())
    limit.succeeded(0.1)  # limit 2
    gate = Gate(limit)
    assert gate.enter(timeout=0) and gate.enter(timeout=0)
    # A third caller finds no room
    assert gate.enter(timeout=0) is False
    assert gate.in_flight == 2
    gate.leave()
    assert gate.enter(timeout=0)
    assert gate.most_in_flight == 2


def test_gate_takes_an_unlimited_timeout() -> None:
    limit = ConcurrencyLimit(2, clock=Clock())
    limit.succeeded(0.1)
    gate = Gate(limit)
    assert gate.enter(timeout=float("inf")) and gate.enter(timeout=None)
    assert gate.in_flight == 2


def test_gate_wakes_a_waiter_when_a_request_leaves() -> None:
    gate = Gate(ConcurrencyLimit(1, clock=Clock()))
    assert gate.enter()
    entered = threading.Event()

    def waiter() -> None:
        if gate.enter(timeout=30):
            entered.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    assert not entered.is_set()
    gate.leave()
    thread.join(timeout=30)
    assert entered.is_set()
