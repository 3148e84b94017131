"""Run one piece of work over many items on a bounded number of threads: the engine's only thread pool."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class FanOut(Protocol):
    def __call__(self, work: Callable[[T], R], items: Sequence[T]) -> list[R]: ...


def in_order(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """Every item on the calling thread, one after the other."""
    return [work(item) for item in items]


class Threads:
    """``work`` over ``items`` on at most ``workers`` threads, results in the items' order. A single item,
    or a single worker, runs on the calling thread. ``work`` is expected not to raise: the first
    exception raised is re-raised once every item has been tried."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)

    def __call__(self, work: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if self.workers == 1 or len(items) <= 1:
            return in_order(work, items)
        with ThreadPoolExecutor(max_workers=min(self.workers, len(items))) as pool:
            return list(pool.map(work, items))
