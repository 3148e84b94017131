"""A sweep's reading: passes repeated while a type shifts, each invitation settled once, the read-ahead.
A scripted lister (one listing per pass) and one worker: everything in order on the calling thread."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest

import acceptor.sweep_reading as sweep_reading
from acceptor.listing import Lister
from acceptor.outcomes import Outcome, Result
from acceptor.pipeline import Pipeline
from acceptor.sweep_reading import SweepReading
from acceptor.wellarchitected import OUT_OF_TIME, PAGE_SIZE, ListError

Item = dict[str, Any]


class ScriptedLister:
    """Each call to ``pages(type)`` gives that type's next scripted listing (a list of pages)."""

    def __init__(self, listings: dict[str, list[list[list[Item]]]]) -> None:
        self._listings = listings
        self.calls: list[str] = []

    def pages(self, rtype: str) -> Iterator[list[Item]]:
        self.calls.append(rtype)
        yield from self._listings[rtype].pop(0)


def item(inv_id: str | None, rtype: str = "WORKLOAD") -> Item:
    found: Item = {"ShareResourceType": rtype}
    if inv_id is not None:
        found["ShareInvitationId"] = inv_id
    return found


class Settler:
    """Accepts the ids it is given (they leave the listing), leaves every other item pending."""

    def __init__(self, *accept: str) -> None:
        self._accept = set(accept)
        self.settled: list[str | None] = []

    def __call__(self, found: Item) -> Outcome:
        inv_id = found.get("ShareInvitationId")
        self.settled.append(inv_id)
        result = Result.ACCEPTED if inv_id in self._accept else Result.LEFT_PENDING
        return cast(Outcome, SimpleNamespace(result=result))


def reading(lister: ScriptedLister, failures: list[tuple[str, Exception]]) -> SweepReading:
    return SweepReading(cast(Lister, lister), lookup=None, on_failure=lambda rtype, err: failures.append((rtype, err)))


def test_an_answer_between_two_page_reads_lists_the_type_again_and_settles_only_what_is_new() -> None:
    # Given a type whose first page holds one invitation that is accepted before its second page is read
    lister = ScriptedLister(
        {
            "WORKLOAD": [
                [[item(None), item("a")], [item("b")]],
                [[item(None), item("a"), item("b"), item("c")]],  # shifted: c was not seen by the first pass
            ]
        }
    )
    settle = Settler("a")
    failures: list[tuple[str, Exception]] = []
    # When it is read with two passes
    reading(lister, failures).read(["WORKLOAD"], settle, workers=1, passes=2, expired=lambda: False)
    # Then it is listed again, and only what the first pass did not see is settled, past what it saw
    assert lister.calls == ["WORKLOAD", "WORKLOAD"]
    assert settle.settled == [None, "a", "b", "c"]
    assert failures == []


def test_an_id_seen_twice_in_one_page_is_settled_once_and_the_rest_of_the_page_still_is() -> None:
    lister = ScriptedLister({"WORKLOAD": [[[item("a"), item("a"), item("b")]]]})
    settle = Settler()
    failures: list[tuple[str, Exception]] = []
    reading(lister, failures).read(["WORKLOAD"], settle, workers=1, passes=3, expired=lambda: False)
    assert settle.settled == ["a", "b"]
    assert lister.calls == ["WORKLOAD"]  # nothing left the listing: no second pass


def test_a_type_still_shifting_after_the_last_pass_is_reported_as_out_of_time() -> None:
    lister = ScriptedLister({"WORKLOAD": [[[item("a1")], [item("a2")]], [[item("b1")], [item("b2")]]]})
    settle = Settler("a1", "b1")
    failures: list[tuple[str, Exception]] = []
    reading(lister, failures).read(["WORKLOAD"], settle, workers=1, passes=2, expired=lambda: False)
    assert lister.calls == ["WORKLOAD", "WORKLOAD"]
    assert [rtype for rtype, _ in failures] == ["WORKLOAD"]
    error = failures[0][1]
    assert isinstance(error, ListError) and error.code == OUT_OF_TIME and error.deferred
    assert str(error) == ("ListShareInvitations failed: OutOfTime: listed 2 times and still shifting under the reader")


def test_no_further_pass_once_the_time_is_up() -> None:
    # Given a type that shifts under the reader, and a deadline that has expired during the first pass
    lister = ScriptedLister({"WORKLOAD": [[[item("a1")], [item("a2")]], [[item("b1")]]]})
    settle = Settler("a1")
    failures: list[tuple[str, Exception]] = []
    reading(lister, failures).read(["WORKLOAD"], settle, workers=1, passes=2, expired=lambda: True)
    # Then it is not listed again, and not reported: the time ran out, the next run reads it
    assert lister.calls == ["WORKLOAD"]
    assert settle.settled == ["a1", "a2"]
    assert failures == []


@pytest.mark.parametrize(("workers", "ahead"), [(2, PAGE_SIZE), (40, 80)])
def test_the_reading_runs_a_page_or_twice_the_workers_ahead_whichever_is_more(
    monkeypatch: pytest.MonkeyPatch, workers: int, ahead: int
) -> None:
    made: list[int] = []

    class Recording(Pipeline[Item, Outcome]):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            made.append(kwargs["ahead"])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(sweep_reading, "Pipeline", Recording)
    lister = ScriptedLister({"WORKLOAD": [[[item("a")]]]})
    settle = Settler()
    failures: list[tuple[str, Exception]] = []
    reading(lister, failures).read(["WORKLOAD"], settle, workers=workers, passes=2, expired=lambda: False)
    assert made == [ahead] and settle.settled == ["a"]


def test_an_answer_before_a_types_first_read_counts_as_shifting_it() -> None:
    # Given an invitation of type LENS listed (and accepted) under WORKLOAD before LENS's first page is read
    lister = ScriptedLister(
        {
            "WORKLOAD": [[[item("x", rtype="LENS")]]],
            "LENS": [[[item("l1")]], [[item("l1"), item("l2")]]],
        }
    )
    settle = Settler("x")
    failures: list[tuple[str, Exception]] = []
    reading(lister, failures).read(["WORKLOAD", "LENS"], settle, workers=1, passes=2, expired=lambda: False)
    # Then LENS may have shifted before its first page: it is listed again, WORKLOAD is not
    assert lister.calls == ["WORKLOAD", "LENS", "LENS"]
    assert settle.settled == ["x", "l1", "l2"]
    assert failures == []
