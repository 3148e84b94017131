"""A local AWS Well-Architected sharing service (a development tool, never deployed)."""

from simulator.core import Simulator
from simulator.faults import Faults
from simulator.inprocess import attach
from simulator.server import serve

__all__ = ["Faults", "Simulator", "attach", "serve"]
