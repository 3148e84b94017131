"""Pages in, work out, at the same time: items are worked on as soon as their page is read.

Each source (one resource type's pages) is read on its own thread; its items go to a pool of workers
the moment its page arrives, so updates start with the first page of any type and reading the next
pages overlaps working on the previous ones. A source reads its next page only while fewer than
``ahead`` items wait for a worker: the reading stays just ahead of the work, so a run that runs out of
time has not spent its budget listing what it could not reach.

The pool's size is the most requests a run may have in flight (``SweepConcurrency``); how many are in
flight at a time is adapted per request by the Well-Architected adapter (``acceptor.concurrency``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Pipeline(Generic[T, R]):
    """One use: ``run`` reads every source and returns every result (in no particular order)."""

    def __init__(self, work: Callable[[T], R], *, workers: int, ahead: int, readers: int | None = None) -> None:
        self._work = work
        self._workers = max(1, workers)
        self._ahead = max(1, ahead)
        self._readers = threading.Semaphore(max(1, readers if readers is not None else self._workers))
        self._cond = threading.Condition()
        self._waiting = 0  # items handed over, not yet started by a worker
        self._results: list[R] = []
        self._error: BaseException | None = None
        self.most_waiting = 0

    def run(self, sources: Sequence[Iterable[Sequence[T]]]) -> list[R]:
        """Work every item of every source. One worker: everything on the calling thread, in order."""
        if self._workers == 1:
            return [self._work(item) for source in sources for page in source for item in page]
        with ThreadPoolExecutor(max_workers=self._workers) as pool:
            readers = [threading.Thread(target=self._read, args=(source, pool), daemon=True) for source in sources]
            for reader in readers:
                reader.start()
            for reader in readers:
                reader.join()
        # Every reader has handed over its items and the pool has finished them.
        if self._error is not None:
            raise self._error
        return self._results

    def _read(self, source: Iterable[Sequence[T]], pool: ThreadPoolExecutor) -> None:
        with self._readers:  # at most ``readers`` sources read at once (by default, as many as workers)
            self._read_all(source, pool)

    def _read_all(self, source: Iterable[Sequence[T]], pool: ThreadPoolExecutor) -> None:
        try:
            pages = iter(source)
            while True:
                with self._cond:  # read on only while the workers are nearly out of items
                    self._cond.wait_for(lambda: self._waiting < self._ahead)
                page = next(pages, None)
                if page is None:
                    return
                with self._cond:
                    self._waiting += len(page)
                    self.most_waiting = max(self.most_waiting, self._waiting)
                for item in page:
                    pool.submit(self._one, item)
        except BaseException as err:  # a source that raises stops only itself
            self._fail(err)

    def _one(self, item: T) -> None:
        with self._cond:
            self._waiting -= 1
            self._cond.notify_all()
        try:
            result = self._work(item)
        except BaseException as err:
            self._fail(err)
            return
        with self._cond:
            self._results.append(result)

    def _fail(self, err: BaseException) -> None:
        with self._cond:
            if self._error is None:
                self._error = err
