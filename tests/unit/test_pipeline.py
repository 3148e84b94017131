"""The pipeline: work starts with the first page, reading stays just ahead of the work, nothing is lost.
Events, not timings: a test that would hang fails on its events' (generous) timeouts instead."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import pytest

from acceptor.pipeline import Pipeline

WAIT = 30.0


def test_every_item_of_every_source_is_worked_once() -> None:
    sources = [[[f"{t}-{p}-{i}" for i in range(7)] for p in range(5)] for t in "ABCD"]
    pipeline: Pipeline[str, str] = Pipeline(str.upper, workers=8, ahead=10)
    results = pipeline.run(sources)
    assert sorted(results) == sorted(item.upper() for source in sources for page in source for item in page)


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
