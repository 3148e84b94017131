"""The pipeline: work starts with the first page, reading stays just ahead of the work, nothing is lost.
Events, not timings: a test that would hang fails on its events' (generous) timeouts instead."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

import pytest

from acceptor.pipeline import Pipeline

WAIT = 30.0


def test_every_item_of_every_source_is_worked_once() -> None:
    sources = [[[f"{t}-{p}-{i}" for i in range(7)] for p in range(5)] for t in "ABCD"]
    pipeline: Pipeline[str, str] = Pipeline(str.upper, workers=8, ahead=10)
    results = pipeline.run(sources)
    assert sorted(results) == sorted(item.upper() for source in sources for page in source for item in page)


def test_after_a_run_nothing_waits_and_a_run_with_nothing_to_read_had_nothing_waiting() -> None:
    pipeline: Pipeline[int, int] = Pipeline(lambda i: i, workers=3, ahead=4)
    assert sorted(pipeline.run([[[1, 2], [3]], [[4, 5, 6]]])) == [1, 2, 3, 4, 5, 6]
    assert pipeline._waiting == 0
    idle: Pipeline[int, int] = Pipeline(lambda i: i, workers=3, ahead=4)
    assert idle.run([]) == [] and idle.most_waiting == 0


def test_work_starts_before_the_second_page_is_read() -> None:
    # Given a source whose second page can only be read once an item of the first page was worked on
    first_worked = threading.Event()

    def source() -> Iterator[list[int]]:
        yield [1, 2]
        assert first_worked.wait(WAIT), "no item was worked on while the listing went on"
        yield [3]

    def work(item: int) -> int:
        first_worked.set()
        return item

    # When the pipeline runs, then it completes: the work did not wait for the whole listing
    assert sorted(Pipeline(work, workers=2, ahead=100).run([source()])) == [1, 2, 3]


def test_a_page_is_read_only_while_fewer_than_ahead_items_wait() -> None:
    # Given one worker held until released, and a source of many pages that notes, at each read, how many
    # items were waiting for a worker
    release = threading.Semaphore(0)
    waiting_at_read: list[int] = []
    pipeline: Pipeline[int, int]

    def source() -> Iterator[list[int]]:
        for p in range(6):
            waiting_at_read.append(pipeline._waiting)
            yield [p * 10 + i for i in range(5)]

    def work(item: int) -> int:
        assert release.acquire(timeout=WAIT)
        return item

    pipeline = Pipeline(work, workers=1, ahead=5)
    runner = threading.Thread(target=lambda: pipeline.run([source()]))
    runner.start()
    for _ in range(30):
        release.release()
    runner.join(WAIT)
    assert not runner.is_alive()
    # Then every page was read, each only while fewer than five items waited
    assert len(waiting_at_read) == 6
    assert all(w < 5 for w in waiting_at_read), waiting_at_read
    assert pipeline.most_waiting < 5 + 5


def test_a_failing_source_stops_only_itself() -> None:
    def broken() -> Iterator[list[int]]:
        yield [1]
        raise RuntimeError("listing broke")

    pipeline: Pipeline[int, int] = Pipeline(lambda i: i, workers=2, ahead=10)
    with pytest.raises(RuntimeError, match="listing broke"):
        pipeline.run([broken(), iter([[2, 3]])])
    # The other source's items and the page read before the failure were still worked
    assert sorted(pipeline._results) == [1, 2, 3]


def test_a_failing_work_item_is_raised_after_the_rest_finished() -> None:
    done: list[int] = []

    def work(item: int) -> int:
        if item == 2:
            raise ValueError("bad item 2")
        done.append(item)
        return item

    with pytest.raises(ValueError, match="bad item 2"):
        Pipeline(work, workers=3, ahead=10).run([[[1, 2, 3]], [[4]]])
    assert sorted(done) == [1, 3, 4]


def test_one_worker_works_in_order_on_the_calling_thread() -> None:
    threads: set[int] = set()
    order: list[int] = []

    def work(item: int) -> int:
        threads.add(threading.get_ident())
        order.append(item)
        return item

    assert Pipeline(work, workers=1, ahead=1).run([[[1, 2], [3]], [[4]]]) == [1, 2, 3, 4]
    assert threads == {threading.get_ident()} and order == [1, 2, 3, 4]


def test_no_more_sources_are_read_at_once_than_readers() -> None:
    reading = [0, 0]
    lock = threading.Lock()
    barrier = threading.Barrier(2, timeout=WAIT)

    def source(n: int) -> Iterator[list[int]]:
        with lock:
            reading[0] += 1
            reading[1] = max(reading)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()  # two sources at once must be possible...
        yield [n]
        with lock:
            reading[0] -= 1

    results = Pipeline(lambda i: i, workers=8, ahead=10, readers=2).run([source(n) for n in range(4)])
    assert sorted(results) == [0, 1, 2, 3]
    assert reading[1] == 2  # ...and never more


class _WatchedCondition(threading.Condition):
    """A condition that tells, each time a reader waits on it, whether the workers are all busy."""

    def __init__(self, workers_busy: Callable[[], bool], blocked: threading.Event) -> None:
        super().__init__()
        self._workers_busy = workers_busy
        self._blocked = blocked

    def wait(self, timeout: float | None = None) -> bool:
        if self._workers_busy():  # every worker held: no item will start, this reader waits for good
            self._blocked.set()
        return super().wait(timeout)


@pytest.mark.parametrize("ahead", [1, 3])
def test_with_every_worker_held_the_reading_stops_once_ahead_items_wait(ahead: int) -> None:
    # Given two workers held until released, and a source of one-item pages that counts its reads
    workers, pages = 2, 12
    release, settled = threading.Event(), threading.Event()
    started, read = [0], [0]
    pipeline: Pipeline[int, int] = Pipeline(lambda i: i, workers=workers, ahead=ahead)

    def work(item: int) -> int:
        with pipeline._cond:
            started[0] += 1
            pipeline._cond.notify_all()  # a reader that waits now sees the workers busy
        assert release.wait(WAIT)
        return item

    def source() -> Iterator[list[int]]:
        for p in range(pages):
            read[0] += 1
            yield [p]
        settled.set()  # read to the end: the reading never stopped

    pipeline._work = work
    pipeline._cond = _WatchedCondition(lambda: started[0] == workers, settled)
    results: list[int] = []
    runner = threading.Thread(target=lambda: results.extend(pipeline.run([source()])), daemon=True)
    runner.start()
    assert settled.wait(WAIT)
    # Then the reading stopped with the workers' items and ``ahead`` more read, not one page further
    read_when_stopped, most = read[0], pipeline.most_waiting
    release.set()
    runner.join(WAIT)
    assert not runner.is_alive()
    assert read_when_stopped == workers + ahead
    assert most == ahead
    assert sorted(results) == list(range(pages)) and pipeline._waiting == 0


def test_with_one_reader_no_other_source_is_read_at_the_same_time() -> None:
    # While a source is read, its reader holds the only permit: another source could not start
    permits_left: list[bool] = []
    pipeline: Pipeline[int, int] = Pipeline(lambda i: i, workers=4, ahead=10, readers=1)

    def source(n: int) -> Iterator[list[int]]:
        got = pipeline._readers.acquire(blocking=False)
        if got:
            pipeline._readers.release()
        permits_left.append(got)
        yield [n]

    assert sorted(pipeline.run([source(n) for n in range(3)])) == [0, 1, 2]
    assert permits_left == [False, False, False]
