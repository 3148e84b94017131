"""Fixtures for running the handlers against the simulator. Helpers live in tests/support/handlers.py."""

from __future__ import annotations

import pytest

from simulator import Simulator
from simulator.sharers import World


@pytest.fixture(params=[False, True], ids=["default", "strict"])
def sim(request: pytest.FixtureRequest) -> Simulator:
    """Every handler, fault and tool test runs twice: on the default simulator, and on the strict one,
    which gives each unverified behaviour of the real service its most pessimistic form."""
    return Simulator(strict=request.param)


@pytest.fixture
def world(sim: Simulator) -> World:
    return World(sim)
