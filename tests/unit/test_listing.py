"""The one reading of ListShareInvitations: types filled in, junk reported once, de-duplication, early stop."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from acceptor.deadline import Deadline
from acceptor.events import ShareHint, SharerHint
from acceptor.fanout import Threads, in_order
from acceptor.listing import Lister, asked_by, sent_by
from acceptor.outcomes import HintStatus, Outcome, Result, hint_status
from acceptor.wellarchitected import ListError
from policy import Invitation


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


def test_find_for_sharers_reads_their_types_to_the_end_and_keeps_only_their_invitations() -> None:
    other = "333333333333"
    source = Pages(
        {
            "WORKLOAD": [[summary(1)], [summary(2, SharedBy=other)], [summary(3, rtype=None)]],
            "LENS": [[summary(4, "LENS")], [summary(5, "LENS")]],
        }
    )
    found = Lister(source).find(
        {"WORKLOAD": {f"{2:032x}"}, "LENS": {f"{4:032x}"}}, sharers={"WORKLOAD": {"222222222222"}}
    )
    # WORKLOAD (a sharer's type) is read to its last page though its hinted id was on page two; LENS stops
    assert sorted(source.read) == [("LENS", 0), ("WORKLOAD", 0), ("WORKLOAD", 1), ("WORKLOAD", 2)]
    assert sorted(found.by_id) == [f"{n:032x}" for n in (1, 2, 3, 4)]  # 3: its type filled in, then matched
    assert Lister(Pages({"PROFILE": [[summary(6, "PROFILE")]]})).find({}, sharers={"PROFILE": {other}}).by_id == {}


def test_find_lists_a_sharers_type_again_only_while_none_of_its_invitations_is_listed() -> None:
    slept: list[float] = []
    source = Pages({"LENS": lambda n: [[summary(1, "LENS")]] if n >= 1 else [[]]})
    found = Lister(source).find({}, sharers={"LENS": {"222222222222"}}, attempts=3, sleep=slept.append)
    assert source.listings == ["LENS", "LENS"] and slept == [1.0] and list(found.by_id) == [f"{1:032x}"]


def test_what_hints_ask_for_and_which_listed_invitations_a_sharer_hint_covers() -> None:
    hints = [
        ShareHint(f"{1:032x}", "WORKLOAD", None, "CreateWorkloadShare", None),
        SharerHint("WORKLOAD", "222222222222", None, "CreateWorkloadShare"),
        SharerHint("LENS", "333333333333", None, "CreateLensShare"),
    ]
    assert asked_by(hints) == ({"WORKLOAD": {f"{1:032x}"}}, {"WORKLOAD": {"222222222222"}, "LENS": {"333333333333"}})
    mine = {"WORKLOAD": {"222222222222"}}
    assert sent_by(summary(1), mine) and not sent_by(summary(1, "LENS"), mine)
    assert not sent_by(summary(1, SharedBy="333333333333"), mine)
    assert not sent_by(summary(1, SharedBy=["222222222222"]), mine)  # unhashable junk: no match, no crash
    assert not sent_by(summary(1, rtype=None), mine) and not sent_by(summary(1, ShareResourceType=["x"]), mine)


def test_a_hints_status_from_the_outcomes_it_covers() -> None:
    def outcome(result: Result) -> Outcome:
        return Outcome(Invitation(None, None, None, None, None, None, None), None, result)

    done, failed = outcome(Result.ACCEPTED), outcome(Result.FAILED)
    assert hint_status([done], listing_failed=False) is HintStatus.DECIDED
    assert hint_status([done], listing_failed=True) is HintStatus.DECIDED  # an id hint seen before the failure
    assert hint_status([done], listing_failed=True, whole_type=True) is HintStatus.RETRY  # more may be unseen
    assert hint_status([done, failed], listing_failed=False, whole_type=True) is HintStatus.RETRY
    assert hint_status([done, outcome(Result.DEFERRED)], listing_failed=False) is HintStatus.RETRY
    assert hint_status([], listing_failed=False, whole_type=True) is HintStatus.NOT_FOUND
    assert hint_status([], listing_failed=True) is HintStatus.RETRY


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
