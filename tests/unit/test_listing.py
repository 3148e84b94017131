"""The one reading of ListShareInvitations: types filled in, junk reported once, de-duplication, early stop."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from acceptor.deadline import Deadline
from acceptor.fanout import Threads, in_order
from acceptor.listing import Lister
from acceptor.wellarchitected import ListError


def summary(n: int, rtype: str | None = "WORKLOAD", **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"ShareInvitationId": f"{n:032x}", "SharedBy": "222222222222"}
    if rtype is not None:
        item["ShareResourceType"] = rtype
    return item | extra


class Pages:
    """Per type, the pages of each listing (a list, or a function of the listing's number) and an error."""

    def __init__(self, pages: dict[str, Any], errors: dict[str, ListError] | None = None) -> None:
        self._pages = pages
        self._errors = errors or {}
        self.listings: list[str] = []
        self.read: list[tuple[str, int]] = []
        self.deadlines: list[Deadline | None] = []

    def pages(self, resource_type: str, deadline: Deadline | None = None) -> Iterator[list[Any]]:
        self.listings.append(resource_type)
        self.deadlines.append(deadline)
        script = self._pages.get(resource_type, [[]])
        number = self.listings.count(resource_type) - 1
        for index, page in enumerate(script(number) if callable(script) else script):
            self.read.append((resource_type, index))
            yield page
        if resource_type in self._errors:
            raise self._errors[resource_type]


def reports() -> tuple[list[tuple[str, Any]], Callable[[str, Any], None]]:
    seen: list[tuple[str, Any]] = []
    return seen, lambda rtype, what: seen.append((rtype, what))


def test_pages_give_each_summary_its_type_and_skip_and_report_junk() -> None:
    junk, on_junk = reports()
    source = Pages({"LENS": [[summary(1, None), "junk", summary(2, "WORKLOAD")], [7]]})
    deadline = Deadline.within(60)
    pages = list(Lister(source, deadline, on_junk=on_junk).pages("LENS"))
    assert pages == [[summary(1, "LENS"), summary(2, "WORKLOAD")], []]  # a type the item names is kept
    assert junk == [("LENS", "junk"), ("LENS", 7)]
    assert source.deadlines == [deadline]


def test_junk_is_reported_once_however_often_it_is_listed_again() -> None:
    # Given a page holding the same junk twice, listed three times in one run
    junk, on_junk = reports()
    lister = Lister(Pages({"WORKLOAD": [["x", "x", 5]], "LENS": [["x"]]}), on_junk=on_junk)
    for _ in range(3):
        lister.read(["WORKLOAD"])
    # Then each junk item is reported once; the same junk under another type is another item
    assert junk == [("WORKLOAD", "x"), ("WORKLOAD", "x"), ("WORKLOAD", 5)]
    lister.read(["LENS"])
    assert junk[-1] == ("LENS", "x")
    # And a re-listing that shows more of it reports only the extra one
    more = Lister(Pages({"WORKLOAD": lambda n: [["x"] * (n + 1)]}), on_junk=on_junk)
    del junk[:]
    for _ in range(3):
        more.read(["WORKLOAD"])
    assert junk == [("WORKLOAD", "x")] * 3


def test_read_keeps_the_first_of_duplicate_ids_and_items_without_one() -> None:
    unnamed = summary(9)
    del unnamed["ShareInvitationId"]
    odd_id = summary(8, ShareInvitationId=8)
    source = Pages({"WORKLOAD": [[summary(1), unnamed]], "LENS": [[summary(1, "LENS"), odd_id]]})
    listed = Lister(source).read()
    assert source.listings == ["WORKLOAD", "LENS", "PROFILE", "TEMPLATE"]
    assert listed.by_id == {f"{1:032x}": summary(1)}
    assert listed.unnamed == [unnamed, odd_id] and listed.errors == {}
    assert listed.items == [summary(1), unnamed, odd_id]


def test_a_failed_listing_keeps_what_was_read_and_is_reported_once() -> None:
    failures, on_failure = reports()
    error = ListError("AccessDeniedException", "no")
    source = Pages({"WORKLOAD": [[summary(1)]], "LENS": [[summary(2, "LENS")]]}, errors={"LENS": error})
    listed = Lister(source, on_failure=on_failure).read(["WORKLOAD", "LENS"])
    assert listed.errors == {"LENS": error} and failures == [("LENS", error)]
    assert sorted(listed.by_id) == [f"{1:032x}", f"{2:032x}"]


def test_paging_stops_once_every_wanted_id_of_the_type_is_seen() -> None:
    source = Pages({"WORKLOAD": [[summary(1)], [summary(2)], [summary(3)]]})
    listed = Lister(source).read(["WORKLOAD"], wanted={"WORKLOAD": {f"{1:032x}", f"{2:032x}"}})
    assert source.read == [("WORKLOAD", 0), ("WORKLOAD", 1)]
    assert sorted(listed.by_id) == [f"{1:032x}", f"{2:032x}"]


def test_find_lists_again_after_the_wait_only_what_is_missing() -> None:
    slept: list[float] = []
    source = Pages({"WORKLOAD": lambda n: [[summary(1)]] if n else [[]], "LENS": [[summary(2, "LENS")]]})
    wanted = {"WORKLOAD": {f"{1:032x}"}, "LENS": {f"{2:032x}"}}
    found = Lister(source).find(wanted, attempts=3, wait_seconds=0.5, sleep=slept.append)
    assert source.listings == ["LENS", "WORKLOAD", "WORKLOAD"] and slept == [0.5]
    assert sorted(found.by_id) == [f"{1:032x}", f"{2:032x}"]


def test_find_keeps_only_hinted_ids_and_does_not_relist_a_failed_type() -> None:
    slept: list[float] = []
    error = ListError("Throttling", "slow")
    source = Pages({"WORKLOAD": [[summary(1), summary(3)]]}, errors={"LENS": error})
    found = Lister(source).find(
        {"WORKLOAD": {f"{1:032x}", f"{4:032x}"}, "LENS": {f"{2:032x}"}}, attempts=2, sleep=slept.append
    )
    assert list(found.by_id) == [f"{1:032x}"] and found.errors == {"LENS": error}
    assert source.listings == ["LENS", "WORKLOAD", "WORKLOAD"] and slept == [1.0]
    assert Lister(Pages({})).find({}) == ({}, [], {})


def test_still_listed_is_true_false_or_unknown() -> None:
    invitation = f"{1:032x}"
    assert Lister(Pages({"WORKLOAD": [["junk"], [summary(1)]]})).still_listed(invitation, "WORKLOAD") is True
    assert Lister(Pages({"WORKLOAD": [[summary(2)]]})).still_listed(invitation, "WORKLOAD") is False
    failing = Pages({"WORKLOAD": [[]]}, errors={"WORKLOAD": ListError("Throttling", "slow")})
    failures, on_failure = reports()
    assert Lister(failing, on_failure=on_failure).still_listed(invitation, "WORKLOAD") is None
    assert failures == []  # not a failed listing of the run: only "unknown"
    bogus = Pages({})
    assert Lister(bogus).still_listed(invitation, "BOGUS") is None and bogus.listings == []


def test_fan_out_keeps_the_order_and_uses_threads_only_when_it_helps() -> None:
    caller = threading.get_ident()
    threads: set[int] = set()

    def work(n: int) -> int:
        threads.add(threading.get_ident())
        return n * 2

    assert in_order(work, [1, 2, 3]) == [2, 4, 6] and threads == {caller}
    assert Threads(1)(work, [1, 2, 3]) == [2, 4, 6] and threads == {caller}
    assert Threads(4)(work, [5]) == [10] and threads == {caller}
    assert Threads(0).workers == 1
    barrier = threading.Barrier(2, timeout=5)

    def together(n: int) -> int:
        barrier.wait()
        return work(n)

    threads.clear()
    assert Threads(2)(together, [1, 2]) == [2, 4] and caller not in threads and len(threads) == 2


def test_other_junk_in_a_relisting_is_reported_and_find_lists_once_unless_asked() -> None:
    junk, on_junk = reports()
    source = Pages({"WORKLOAD": lambda n: [["x"]] if n == 0 else [["y", "x"]]})
    lister = Lister(source, on_junk=on_junk)
    lister.read(["WORKLOAD"])
    lister.read(["WORKLOAD"])
    assert junk == [("WORKLOAD", "x"), ("WORKLOAD", "y")]  # y is new, x was seen
    once = Pages({"WORKLOAD": [[]]})
    found = Lister(once).find({"WORKLOAD": {f"{1:032x}"}}, sleep=lambda _s: None)
    assert once.listings == ["WORKLOAD"] and found.by_id == {}
