"""The core engine, fast: ``Acceptor`` against a scripted adapter (exact calls, every update status) and
against the in-process simulator (the real adapter, no latency). Every input is built inside its test."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from acceptor.deadline import Deadline
from acceptor.engine import Acceptor
from acceptor.events import ShareHint, SharerHint
from acceptor.outcomes import HintStatus, Outcome, Result, Summary, Tally, text
from acceptor.recorder import NULL_LOG
from acceptor.wellarchitected import (
    OUT_OF_TIME,
    SDK_CONFIG,
    ListError,
    ShareInvitations,
    UpdateResult,
    UpdateStatus,
    min_attempt_seconds,
)
from policy import Action, Decision, Invitation, NonMatchingAction, OrgAncestry, Policy, Reason
from simulator import Simulator
from simulator.sharers import RECIPIENT, World

TRUSTED, OTHER, DENIED = "222222222222", "333333333333", "555555555555"
OU = "ou-ab12-abcdefgh"


def inv_id(n: int) -> str:
    return f"{n:032x}"


def item(n: int, sharer: str = TRUSTED, rtype: str | None = "WORKLOAD", **extra: Any) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "ShareInvitationId": inv_id(n),
        "SharedBy": sharer,
        "SharedWith": RECIPIENT,
        "PermissionType": "READONLY",
        "WorkloadName": f"workload-{n}",
        "WorkloadId": f"w{n}",
    }
    if rtype is not None:
        summary["ShareResourceType"] = rtype
    return summary | extra


def hint(n: int, rtype: str = "WORKLOAD", claimed: str | None = None) -> ShareHint:
    return ShareHint(inv_id(n), rtype, f"event-{n}", "CreateWorkloadShare", claimed)


def by_sharer(sharer: str = TRUSTED, rtype: str = "WORKLOAD") -> SharerHint:
    return SharerHint(rtype, sharer, f"event-{rtype}-{sharer}", f"Create{rtype.title()}Share")


def allow(**fields: Any) -> Policy:
    fields.setdefault("allowed_accounts", frozenset({TRUSTED}))
    return Policy.allowlist(**fields)


class Log:
    """Collects (level, message, fields) like the Powertools logger's ``info``/``warning`` with ``extra``."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def info(self, message: str, extra: dict[str, Any]) -> None:
        self.lines.append(("info", message, extra))

    def warning(self, message: str, extra: dict[str, Any]) -> None:
        self.lines.append(("warning", message, extra))

    def find(self, message: str) -> list[tuple[str, dict[str, Any]]]:
        return [(level, fields) for level, msg, fields in self.lines if msg == message]


class FakeWA:
    """A scripted ShareInvitations: per type, the pages of each listing (a list, or a function of the listing's
    number), an optional error after them; per id, the answer to an update. Records every call and its thread."""

    def __init__(
        self,
        pages: dict[str, Any] | None = None,
        errors: dict[str, Any] | None = None,
        updates: dict[str, UpdateResult | Exception] | None = None,
    ) -> None:
        self._pages = pages or {}
        self._errors = errors or {}
        self._updates = updates or {}
        self.listings: list[str] = []
        self.pages_read: list[tuple[str, int]] = []
        self.updated: list[tuple[str, str]] = []
        self.threads: set[int] = set()
        self.deadlines: list[Deadline | None] = []
        self.in_flight = self.most_in_flight = 0
        self.hold = 0.0  # seconds each update takes
        self._lock = threading.Lock()

    def pages(self, rtype: str, deadline: Deadline | None = None) -> Iterator[list[Any]]:
        with self._lock:
            self.threads.add(threading.get_ident())
            self.listings.append(rtype)
            self.deadlines.append(deadline)
            number = self.listings.count(rtype) - 1
        script = self._pages.get(rtype, [[]])
        for index, page in enumerate(script(number) if callable(script) else script):
            with self._lock:
                self.pages_read.append((rtype, index))
            yield page
        error = self._errors.get(rtype)
        error = error(number) if callable(error) else error
        if error is not None:
            raise error

    def update(self, share_invitation_id: str, action: str, deadline: Deadline | None = None) -> UpdateResult:
        with self._lock:
            self.threads.add(threading.get_ident())
            self.updated.append((share_invitation_id, action))
            self.deadlines.append(deadline)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        if self.hold:
            time.sleep(self.hold)
        with self._lock:
            self.in_flight -= 1
        answer = self._updates.get(share_invitation_id, UpdateResult(UpdateStatus.APPLIED))
        if isinstance(answer, Exception):
            raise answer
        return answer


class Ancestry:
    def __init__(self, answers: dict[str, OrgAncestry | Exception]) -> None:
        self.answers = answers
        self.asked: list[str] = []
        self.deadlines: list[Deadline | None] = []
        self.threads: set[int] = set()
        self._lock = threading.Lock()

    def lookup(self, account_id: str, deadline: Deadline | None = None) -> OrgAncestry:
        with self._lock:
            self.asked.append(account_id)
            self.deadlines.append(deadline)
            self.threads.add(threading.get_ident())
        answer = self.answers[account_id]
        if isinstance(answer, Exception):
            raise answer
        return answer


class Notifier:
    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[tuple[list[Outcome], Summary]] = []
        self.deadlines: list[Deadline] = []
        self.error = error

    def notify(self, outcomes: list[Outcome], summary: Summary, deadline: Deadline) -> None:
        self.calls.append((list(outcomes), summary))
        self.deadlines.append(deadline)
        if self.error is not None:
            raise self.error


def results(summary: Summary) -> dict[str, int]:
    return summary.to_dict()["results"]


# -- Outcome, Summary -------------------------------------------------------------------------------


def _inv(n: int = 1) -> Invitation:
    return Invitation.from_summary(item(n))


def test_needs_attention_is_failed_or_left_pending_by_the_policy_itself() -> None:
    pending = Decision(Action.IGNORE, Reason.SOURCE_NOT_ALLOWED, "SharedBy", "no rule")
    lookup_failed = Decision(Action.IGNORE, Reason.ORG_LOOKUP_FAILED, "SharedBy", "lookup failed")
    accepted = Decision(Action.ACCEPT, Reason.ALLOWED_ACCOUNT, "SharedBy", "named")
    assert Outcome(_inv(), accepted, Result.FAILED, "X", "boom").needs_attention
    assert Outcome(_inv(), None, Result.FAILED, "X", "boom").needs_attention
    assert Outcome(_inv(), pending, Result.LEFT_PENDING).needs_attention
    assert not Outcome(_inv(), lookup_failed, Result.LEFT_PENDING).needs_attention
    assert not Outcome(_inv(), None, Result.LEFT_PENDING).needs_attention
    assert not Outcome(_inv(), accepted, Result.ACCEPTED).needs_attention
    assert not Outcome(_inv(), pending, Result.FOR_PRINCIPAL).needs_attention
    assert not Outcome(_inv(), accepted, Result.DEFERRED).needs_attention


def test_the_decision_record_holds_every_field() -> None:
    decision = Decision(Action.ACCEPT, Reason.ALLOWED_ACCOUNT, "SharedBy", "sharer is named", 0, "allowed")
    record = Outcome(_inv(7), decision, Result.ACCEPTED).record(dry_run=False)
    assert record == {
        "share_invitation_id": inv_id(7),
        "shared_by": TRUSTED,
        "shared_with": RECIPIENT,
        "resource_type": "WORKLOAD",
        "resource_name": "workload-7",
        "resource_id": "w7",
        "permission_type": "READONLY",
        "action": "ACCEPT",
        "reason": "allowed_account",
        "reason_field": "SharedBy",
        "reason_detail": "sharer is named",
        "rule": 0,
        "rule_id": "allowed",
        "result": "accepted",
        "dry_run": False,
    }
    failed = Outcome(_inv(7), None, Result.FAILED, "TypeError", "bad").record(dry_run=True)
    assert failed["action"] is failed["reason"] is failed["reason_field"] is failed["reason_detail"] is None
    assert failed["rule"] is failed["rule_id"] is None
    assert (failed["result"], failed["dry_run"]) == ("failed", True)
    assert (failed["error_code"], failed["error_message"]) == ("TypeError", "bad")
    assert "answer_lost" not in failed and "error_code" not in record and "error_message" not in record
    lost = Outcome(_inv(7), decision, Result.ACCEPTED, "ConflictException", "settled", answer_lost=True)
    assert lost.record(dry_run=False)["answer_lost"] is True
    assert lost.record(dry_run=False)["error_code"] == "ConflictException"


def test_summary_counts_and_shapes() -> None:
    summary = Summary(dry_run=False)
    accept = Decision(Action.ACCEPT, Reason.ALLOWED_ACCOUNT)
    ignore = Decision(Action.IGNORE, Reason.SOURCE_NOT_ALLOWED)
    summary.add(Outcome(_inv(1), accept, Result.ACCEPTED))
    summary.add(Outcome(_inv(2), accept, Result.ACCEPTED, "ConflictException", "lost", answer_lost=True))
    summary.add(Outcome(_inv(5), accept, Result.ACCEPTED, "ConflictException", "lost", answer_lost=True))
    summary.add(Outcome(_inv(3), ignore, Result.LEFT_PENDING))
    summary.add(Outcome(Invitation(12345, None, None, None, None, None, None), None, Result.FAILED, "E", "m"))  # type: ignore[arg-type]
    assert summary.complete is True
    summary.add(Outcome(_inv(4), None, Result.DEFERRED))
    assert summary.complete is False
    summary.listing_failed("LENS", ListError("AccessDenied", "no"))
    summary.listing_failed("PROFILE", ListError(OUT_OF_TIME, "late"))
    summary.listing_failed("TEMPLATE", ListError("Throttling", "slow"))
    summary.tally(Tally.NOT_FOUND)
    summary.tally(Tally.MALFORMED_ITEMS, 3)
    summary.tally(Tally.SHARE_EVENTS_BY_SHARER, 2)
    assert summary.to_dict() == {
        "dry_run": False,
        "complete": False,
        "invitations": 6,
        "accept": 3,
        "reject": 0,
        "ignore": 1,
        "deferred": 1,
        "results": {"accepted": 3, "left_pending": 1, "failed": 1, "deferred": 1},
        "failed": 2,  # a throttled listing is deferred, not failed: the next run lists that type
        "failures": [{"share_invitation_id": "12345", "error_code": "E", "error_message": "m"}],
        "not_found": 1,
        "list_error": "LENS: ListShareInvitations failed: AccessDenied: no",
        "not_listed": ["PROFILE", "TEMPLATE"],
        "org_lookup_failures": 0,
        "malformed_items": 3,
        "answer_lost": 2,
        "ignored_events": 0,
        "share_events_by_sharer": 2,
        "invalid_events": 0,
    }
    only_late = Summary(dry_run=True)
    only_late.listing_failed("LENS", ListError(OUT_OF_TIME, "late"))
    assert only_late.list_error is None and only_late.failed == 0 and not only_late.complete
    assert only_late.to_dict()["dry_run"] is True


def test_text_keeps_strings_and_none_and_shows_the_rest() -> None:
    assert text("abc") == "abc"
    assert text(None) is None
    assert text(["a"]) == "['a']"


# -- sweep -------------------------------------------------------------------------------------------


def test_sweep_lists_every_type_and_decides_each_invitation() -> None:
    wa = FakeWA(
        pages={
            "WORKLOAD": [[item(1)], [item(2, sharer=DENIED)]],
            "LENS": [[item(3, rtype=None)]],  # the type it was listed for is filled in
            "TEMPLATE": [[item(4, sharer=OTHER, rtype="TEMPLATE")]],
        }
    )
    log = Log()
    summary = Acceptor(wa, log=log).sweep(allow(denied_accounts=frozenset({DENIED})))
    assert sorted(set(wa.listings)) == ["LENS", "PROFILE", "TEMPLATE", "WORKLOAD"]
    # An invitation of WORKLOAD was answered between its two pages (the sweep is a pipeline): whether that
    # shifted the second page is unknown, so WORKLOAD alone is listed again, and that pass finds nothing new.
    assert sorted(wa.listings) == ["LENS", "PROFILE", "TEMPLATE", "WORKLOAD", "WORKLOAD"]
    assert sorted(wa.updated) == [(inv_id(1), "ACCEPT"), (inv_id(2), "REJECT"), (inv_id(3), "ACCEPT")]
    assert results(summary) == {"accepted": 2, "rejected": 1, "left_pending": 1}
    assert summary.invitations == 4 and summary.complete
    decided = {fields["share_invitation_id"]: fields for level, fields in log.find("invitation decided")}
    assert decided[inv_id(3)]["resource_type"] == "LENS"
    assert decided[inv_id(4)]["result"] == "left_pending" and decided[inv_id(4)]["reason"] == "source_not_allowed"
    assert all(level == "info" for level, _ in log.find("invitation decided"))


def test_sweep_takes_the_first_of_duplicate_ids_and_still_decides_items_without_an_id() -> None:
    first = item(1)
    again = item(1, rtype="LENS", PermissionType="CONTRIBUTOR")
    unnamed = item(9)
    del unnamed["ShareInvitationId"]
    wa = FakeWA(pages={"WORKLOAD": [[first, unnamed]], "LENS": [[again]]})
    log = Log()
    summary = Acceptor(wa, log=log, max_workers=1).sweep(allow())
    assert wa.updated == [(inv_id(1), "ACCEPT")]
    assert summary.invitations == 2
    assert results(summary) == {"accepted": 1, "left_pending": 1}
    pending = [f for _, f in log.find("invitation decided") if f["result"] == "left_pending"]
    assert pending[0]["share_invitation_id"] is None and pending[0]["reason"] == "missing_input"


def test_listed_items_that_are_not_objects_are_counted_and_skipped() -> None:
    wa = FakeWA(pages={"WORKLOAD": [["junk", item(1), 7]]})
    log = Log()
    summary = Acceptor(wa, log=log).sweep(allow())
    assert summary.count_of(Tally.MALFORMED_ITEMS) == 2 and summary.invitations == 1
    warned = log.find("listed item is not an object; skipped")
    assert [(level, fields) for level, fields in warned] == [
        ("warning", {"resource_type": "WORKLOAD", "item": "'junk'"}),
        ("warning", {"resource_type": "WORKLOAD", "item": "7"}),
    ]
    long = FakeWA(pages={"WORKLOAD": [["x" * 500]]})
    Acceptor(long, log=log).sweep(allow())
    assert log.find("listed item is not an object; skipped")[-1][1]["item"] == repr("x" * 500)[:200]


def test_a_junk_item_is_counted_once_however_often_its_page_is_listed_again() -> None:
    # Given a hinted invitation not listed yet, on a page that also holds a junk item
    wa = FakeWA(pages={"WORKLOAD": lambda n: [["junk", item(1)]] if n == 2 else [["junk"]]})
    log = Log()
    # When the page is listed three times (the event path's re-listing)
    found = Acceptor(wa, log=log, sleep=lambda _s: None).handle_hints(allow(), [hint(1)], attempts=3)
    # Then the junk is counted and logged once
    assert wa.listings == ["WORKLOAD"] * 3 and found.status == {inv_id(1): HintStatus.DECIDED}
    assert found.summary.count_of(Tally.MALFORMED_ITEMS) == 1
    assert len(log.find("listed item is not an object; skipped")) == 1


def test_a_failed_listing_is_reported_and_the_other_types_are_still_acted_on() -> None:
    wa = FakeWA(
        pages={"WORKLOAD": [[item(1)]], "LENS": [[item(2, rtype="LENS")]]},
        errors={"LENS": ListError("AccessDeniedException", "no"), "PROFILE": ListError(OUT_OF_TIME, "late")},
    )
    log = Log()
    summary = Acceptor(wa, log=log).sweep(allow())
    assert sorted(wa.updated) == [(inv_id(1), "ACCEPT"), (inv_id(2), "ACCEPT")]  # what was read is acted on
    assert not summary.complete
    assert summary.list_errors == {"LENS": "ListShareInvitations failed: AccessDeniedException: no"}
    assert summary.not_listed == ["PROFILE"]
    assert log.find("listing invitations failed") == [
        (
            "warning",
            {
                "resource_type": "LENS",
                "error": "ListShareInvitations failed: AccessDeniedException: no",
                "error_code": "AccessDeniedException",
            },
        )
    ]
    assert log.find("listing stopped: out of time") == [
        ("info", {"resource_type": "PROFILE", "error": "ListShareInvitations failed: OutOfTime: late"})
    ]


def test_the_summary_given_is_the_one_filled_and_dry_run_comes_from_the_policy() -> None:
    given = Summary(dry_run=False)
    assert Acceptor(FakeWA(pages={"WORKLOAD": [[item(1)]]}), log=NULL_LOG).sweep(allow(), summary=given) is given
    assert given.invitations == 1
    dry = FakeWA(pages={"WORKLOAD": [[item(1)]]})
    summary = Acceptor(dry, log=NULL_LOG).sweep(allow(dry_run=True))
    assert summary.dry_run is True and dry.updated == [] and results(summary) == {"dry_run": 1}
    assert summary.to_dict()["accept"] == 1  # dry run keeps the decision


def test_one_worker_does_everything_on_the_calling_thread() -> None:
    wa = FakeWA(pages={t: [[item(n, rtype=t)]] for n, t in enumerate(("WORKLOAD", "LENS", "PROFILE"), 1)})
    Acceptor(wa, max_workers=1, log=NULL_LOG).sweep(allow())
    assert wa.threads == {threading.get_ident()}
    assert wa.listings == ["WORKLOAD", "LENS", "PROFILE", "TEMPLATE"]  # in order, one after the other
    assert len(wa.updated) == 3
    zero = FakeWA(pages={"WORKLOAD": [[item(1), item(2)]]})
    Acceptor(zero, max_workers=0, log=NULL_LOG).sweep(allow())  # taken as one
    assert zero.threads == {threading.get_ident()} and len(zero.updated) == 2


def test_several_workers_list_and_update_concurrently() -> None:
    barrier = threading.Barrier(2, timeout=5)

    class Concurrent(FakeWA):
        def update(self, share_invitation_id: str, action: str, deadline: Deadline | None = None) -> UpdateResult:
            barrier.wait()  # both updates must be under way at once
            return super().update(share_invitation_id, action, deadline)

    wa = Concurrent(pages={"WORKLOAD": [[item(1), item(2)]]})
    summary = Acceptor(wa, max_workers=2, log=NULL_LOG).sweep(allow())
    assert results(summary) == {"accepted": 2}
    assert threading.get_ident() not in wa.threads


def test_a_single_hinted_invitation_is_decided_on_the_calling_thread() -> None:
    # (A sweep is a pipeline: with several workers its pages are decided by the pool, whatever their size.)
    class Lonely(FakeWA):
        def update(self, share_invitation_id: str, action: str, deadline: Deadline | None = None) -> UpdateResult:
            self.update_thread = threading.get_ident()
            return super().update(share_invitation_id, action, deadline)

    wa = Lonely(pages={"WORKLOAD": [[item(1)]]})
    Acceptor(wa, max_workers=4, log=NULL_LOG).handle_hints(allow(), [hint(1)])
    assert wa.update_thread == threading.get_ident()


# -- the update's outcome ------------------------------------------------------------------------------


def _one(answer: UpdateResult | Exception, sharer: str = TRUSTED, **kwargs: Any) -> tuple[Summary, Log, FakeWA]:
    wa = FakeWA(pages={"WORKLOAD": [[item(1, sharer=sharer)]]}, updates={inv_id(1): answer}, **kwargs)
    log = Log()
    summary = Acceptor(wa, log=log).sweep(allow(denied_accounts=frozenset({DENIED})))
    action = Action.REJECT if sharer == DENIED else Action.ACCEPT
    assert summary.count_of(action) == 1  # whatever became of the update, the decision is kept and counted
    applied = summary.count_of(Result.REJECTED if action is Action.REJECT else Result.ACCEPTED)
    assert summary.to_dict()[action.value.lower()] == applied  # the summary's count: only what was applied
    return summary, log, wa


def test_applied_updates_count_as_accepted_or_rejected() -> None:
    summary, _, _ = _one(UpdateResult(UpdateStatus.APPLIED))
    assert results(summary) == {"accepted": 1}
    summary, log, _ = _one(UpdateResult(UpdateStatus.APPLIED), sharer=DENIED)
    assert results(summary) == {"rejected": 1}
    assert log.find("invitation decided")[0][1]["action"] == "REJECT"


def test_an_answer_lost_update_counts_as_applied_and_says_so() -> None:
    summary, log, _ = _one(UpdateResult(UpdateStatus.APPLIED_ANSWER_LOST, "ConflictException", "already accepted"))
    assert results(summary) == {"accepted": 1} and summary.count_of(Tally.ANSWER_LOST) == 1
    fields = log.find("invitation decided")[0][1]
    assert (fields["answer_lost"], fields["error_code"], fields["error_message"]) == (
        True,
        "ConflictException",
        "already accepted",
    )
    summary, _, _ = _one(UpdateResult(UpdateStatus.APPLIED_ANSWER_LOST, "ConflictException", "x"), sharer=DENIED)
    assert results(summary) == {"rejected": 1}


def test_an_update_settled_elsewhere_or_not_sent_is_not_a_failure() -> None:
    summary, log, _ = _one(UpdateResult(UpdateStatus.ALREADY_SETTLED, "ConflictException", "settled"))
    assert results(summary) == {"already_settled": 1} and summary.failed == 0
    fields = log.find("invitation decided")[0][1]
    assert (fields["error_code"], fields["error_message"]) == ("ConflictException", "settled")
    summary, log, _ = _one(UpdateResult(UpdateStatus.NOT_SENT, OUT_OF_TIME, "no time to send"))
    assert results(summary) == {"deferred": 1} and not summary.complete
    assert log.find("invitation deferred to the next sweep") == [
        ("info", {"share_invitation_id": inv_id(1), "reason_detail": "no time to send"})
    ]
    assert log.find("invitation decided") == []


def test_a_failed_update_is_a_failure_with_its_code_logged_as_a_warning() -> None:
    notifier = Notifier()
    wa = FakeWA(
        pages={"WORKLOAD": [[item(1)]]},
        updates={inv_id(1): UpdateResult(UpdateStatus.FAILED, "AccessDeniedException", "denied")},
    )
    log = Log()
    summary = Acceptor(wa, log=log, notifier=notifier).sweep(allow())
    assert summary.failures == [
        {"share_invitation_id": inv_id(1), "error_code": "AccessDeniedException", "error_message": "denied"}
    ]
    [(level, fields)] = log.find("invitation update failed")
    assert level == "warning" and fields["result"] == "failed" and fields["error_code"] == "AccessDeniedException"
    [(outcomes, given)] = notifier.calls
    assert [o.result for o in outcomes] == [Result.FAILED] and given is summary


def test_an_update_that_raises_is_recorded_as_failed_with_the_error_type() -> None:
    summary, log, _ = _one(RuntimeError("adapter broke"))
    assert summary.failures == [
        {"share_invitation_id": inv_id(1), "error_code": "RuntimeError", "error_message": "adapter broke"}
    ]
    fields = log.find("invitation update failed")[0][1]
    assert fields["action"] == "ACCEPT" and fields["reason"] == "allowed_account"  # the decision is kept


def test_a_validation_error_for_an_invitation_no_longer_listed_counts_as_settled() -> None:
    gone = UpdateResult(UpdateStatus.FAILED, "ValidationException", "invalid invitation")
    wa = FakeWA(pages={"WORKLOAD": lambda n: [[item(1)]] if n == 0 else [[item(2, sharer=OTHER)]]})
    wa._updates = {inv_id(1): gone}
    log = Log()
    summary = Acceptor(wa, log=log).sweep(allow())
    assert results(summary) == {"already_settled": 1}  # the second listing holds another invitation only
    assert summary.count_of(Action.ACCEPT) == 1 and summary.to_dict()["accept"] == 0  # decided, not applied here
    fields = next(f for _, f in log.find("invitation decided") if f["share_invitation_id"] == inv_id(1))
    assert fields["error_code"] == "ValidationException"
    assert fields["error_message"] == "invalid invitation (no longer listed: settled, revoked or expired meanwhile)"
    assert wa.listings.count("WORKLOAD") == 2


def test_a_validation_error_for_an_invitation_still_listed_or_unknown_stays_a_failure() -> None:
    invalid = UpdateResult(UpdateStatus.FAILED, "ValidationException", "invalid")
    summary, _, wa = _one(invalid)  # listed again: still there
    assert results(summary) == {"failed": 1} and wa.listings.count("WORKLOAD") == 2
    summary, _, _ = _one(invalid, errors={"WORKLOAD": ListError("Throttling", "slow")})
    assert results(summary) == {"failed": 1}  # the second listing failed too: nothing proves it is gone
    other = UpdateResult(UpdateStatus.FAILED, "InternalServerException", "oops")
    summary, _, wa = _one(other)
    assert results(summary) == {"failed": 1} and wa.listings.count("WORKLOAD") == 1


def test_a_second_listing_with_junk_items_still_finds_the_invitation() -> None:
    invalid = UpdateResult(UpdateStatus.FAILED, "ValidationException", "invalid")
    wa = FakeWA(
        pages={"WORKLOAD": lambda n: [[item(1)]] if n == 0 else [["junk", {"ShareInvitationId": 5}], [item(1)]]},
        updates={inv_id(1): invalid},
    )
    summary = Acceptor(wa, log=NULL_LOG).sweep(allow())
    assert results(summary) == {"failed": 1}


def test_an_expired_deadline_defers_every_invitation() -> None:
    now = [0.0]
    deadline = Deadline(10.0, 20.0, lambda: now[0])

    class Late(FakeWA):
        def pages(self, rtype: str, deadline: Deadline | None = None) -> Iterator[list[Any]]:
            for page in super().pages(rtype, deadline):
                now[0] = 11.0  # reading the page used up the time
                yield page

    wa = Late(pages={"WORKLOAD": [[item(1), item(2)]]})
    log = Log()
    summary = Acceptor(wa, log=log, max_workers=1).sweep(allow(), deadline)
    assert wa.updated == [] and results(summary) == {"deferred": 2} and not summary.complete
    assert log.find("invitation deferred to the next sweep")[0] == (
        "info",
        {"share_invitation_id": inv_id(1), "reason_detail": None},
    )


def test_ignored_invitations_are_left_pending_or_for_their_principal() -> None:
    to_principal = item(2, SharedWith=f"arn:aws:iam::{RECIPIENT}:user/alice")
    wa = FakeWA(pages={"WORKLOAD": [[item(1, sharer=OTHER), to_principal]]})
    notifier = Notifier()
    summary = Acceptor(wa, notifier=notifier, log=NULL_LOG).sweep(allow())
    assert results(summary) == {"left_pending": 1, "for_principal": 1} and wa.updated == []
    [(outcomes, _)] = notifier.calls
    assert [o.invitation.share_invitation_id for o in outcomes] == [inv_id(1)]  # only what the policy left


def test_reject_by_non_matching_action_is_applied() -> None:
    wa = FakeWA(pages={"WORKLOAD": [[item(1, sharer=OTHER)]]})
    summary = Acceptor(wa, log=NULL_LOG).sweep(allow(non_matching_action=NonMatchingAction.REJECT))
    assert wa.updated == [(inv_id(1), "REJECT")] and results(summary) == {"rejected": 1}


def test_an_invitation_whose_id_is_not_a_string_is_never_updated() -> None:
    wa = FakeWA(pages={"WORKLOAD": [[item(1, ShareInvitationId=7)]]})
    log = Log()
    summary = Acceptor(wa, log=log).sweep(allow())
    assert wa.updated == [] and results(summary) == {"left_pending": 1}
    assert log.find("invitation decided")[0][1]["share_invitation_id"] is None


# -- notification ------------------------------------------------------------------------------------


def test_no_digest_when_nothing_needs_attention_or_no_notifier() -> None:
    notifier = Notifier()
    Acceptor(FakeWA(pages={"WORKLOAD": [[item(1)]]}), notifier=notifier, log=NULL_LOG).sweep(allow())
    assert notifier.calls == []
    Acceptor(FakeWA(pages={"WORKLOAD": [[item(1, sharer=OTHER)]]}), log=NULL_LOG).sweep(
        allow()
    )  # no notifier: no error


def test_a_failing_digest_is_logged_and_changes_no_decision() -> None:
    notifier = Notifier(error=RuntimeError("sns down"))
    wa = FakeWA(pages={"WORKLOAD": [[item(1, sharer=OTHER)], [item(2)]]})
    log = Log()
    summary = Acceptor(wa, log=log, notifier=notifier).sweep(allow())
    assert len(notifier.calls) == 1 and results(summary) == {"left_pending": 1, "accepted": 1}
    assert log.find("notification not sent") == [("warning", {"error": "RuntimeError: sns down"})]


# -- organizations ------------------------------------------------------------------------------------


def test_no_lookup_when_the_policy_names_no_ou() -> None:
    ancestry = Ancestry({})
    wa = FakeWA(pages={"WORKLOAD": [[item(1), item(2, sharer=OTHER)]]})
    summary = Acceptor(wa, ancestry=ancestry, log=NULL_LOG).sweep(allow())
    assert ancestry.asked == [] and summary.count_of(Tally.ORG_LOOKUP_FAILURES) == 0


def test_each_well_formed_sharer_is_looked_up_once_and_its_ous_decide() -> None:
    ancestry = Ancestry(
        {
            TRUSTED: OrgAncestry.found({"r-abcd"}),
            OTHER: OrgAncestry.found({OU, "r-abcd"}),
            DENIED: OrgAncestry.found({"r-abcd"}),
        }
    )
    pages = [[item(1), item(2, sharer=OTHER), item(3, sharer=OTHER), item(4, sharer="12"), item(5, sharer=DENIED)]]
    wa = FakeWA(pages={"WORKLOAD": pages})
    log = Log()
    policy = allow(allowed_ous=frozenset({OU}), denied_accounts=frozenset({DENIED}))
    summary = Acceptor(wa, ancestry=ancestry, log=log).sweep(policy)
    assert sorted(ancestry.asked) == [TRUSTED, OTHER, DENIED]
    assert sorted(wa.updated) == [
        (inv_id(n), a) for n, a in ((1, "ACCEPT"), (2, "ACCEPT"), (3, "ACCEPT"), (5, "REJECT"))
    ]
    reasons = {f["share_invitation_id"]: f["reason"] for _, f in log.find("invitation decided")}
    assert reasons[inv_id(2)] == "allowed_ou" and reasons[inv_id(4)] == "invalid_input"
    assert summary.count_of(Tally.ORG_LOOKUP_FAILURES) == 0 and log.find("organizations lookup failed") == []


@pytest.mark.parametrize("workers", [1, 4])
def test_failed_lookups_leave_ou_decisions_pending_and_are_counted(workers: int) -> None:
    ancestry = Ancestry({TRUSTED: OrgAncestry.failed("AccessDenied"), OTHER: RuntimeError("boom")})
    wa = FakeWA(pages={"WORKLOAD": [[item(1, sharer=OTHER), item(2, sharer=TRUSTED)]]})
    log = Log()
    notifier = Notifier()
    policy = allow(allowed_accounts=frozenset(), allowed_ous=frozenset({OU}))
    summary = Acceptor(wa, ancestry=ancestry, log=log, max_workers=workers, notifier=notifier).sweep(policy)
    assert wa.updated == [] and results(summary) == {"left_pending": 2}
    assert summary.count_of(Tally.ORG_LOOKUP_FAILURES) == 2
    failed = sorted((level, f["shared_by"], f["error"]) for level, f in log.find("organizations lookup failed"))
    assert failed == [
        ("warning", TRUSTED, "AccessDenied"),
        ("warning", OTHER, "organizations lookup raised RuntimeError: boom"),
    ]
    reasons = {f["reason"] for _, f in log.find("invitation decided")}
    assert reasons == {"org_lookup_failed"}
    assert notifier.calls == []  # left pending for want of an answer: not the policy's doing


def test_without_a_lookup_configured_every_ou_decision_waits() -> None:
    wa = FakeWA(pages={"WORKLOAD": [[item(1, sharer=OTHER)], [item(2)]]})
    log = Log()
    policy = allow(allowed_ous=frozenset({OU}))
    summary = Acceptor(wa, log=log).sweep(policy)
    assert results(summary) == {"left_pending": 1, "accepted": 1} and wa.updated == [(inv_id(2), "ACCEPT")]
    [pending] = [f for _, f in log.find("invitation decided") if f["result"] == "left_pending"]
    assert pending["reason"] == "org_lookup_failed"
    assert pending["reason_detail"].endswith(": no Organizations lookup configured")
    assert summary.count_of(Tally.ORG_LOOKUP_FAILURES) == 0  # a configuration, not a failed call: counted nowhere


def test_lookups_run_concurrently_with_several_workers() -> None:
    barrier = threading.Barrier(2, timeout=5)

    class Slow(Ancestry):
        def lookup(self, account_id: str, deadline: Deadline | None = None) -> OrgAncestry:
            barrier.wait()
            return super().lookup(account_id, deadline)

    ancestry = Slow({TRUSTED: OrgAncestry.found({OU}), OTHER: OrgAncestry.found({OU})})
    wa = FakeWA(pages={"WORKLOAD": [[item(1), item(2, sharer=OTHER)]]})
    policy = allow(allowed_accounts=frozenset(), allowed_ous=frozenset({OU}))
    summary = Acceptor(wa, ancestry=ancestry, max_workers=2, log=NULL_LOG).sweep(policy)
    assert results(summary) == {"accepted": 2}


# -- hints --------------------------------------------------------------------------------------------


def test_hints_list_only_their_types_and_stop_paging_once_every_id_is_seen() -> None:
    wa = FakeWA(
        pages={
            "WORKLOAD": [[item(1)], [item(2)], [item(3)]],
            "LENS": [[item(4, rtype="LENS")]],
        }
    )
    found = Acceptor(wa, log=NULL_LOG).handle_hints(allow(), [hint(1), hint(2)])
    assert wa.listings == ["WORKLOAD"]
    assert wa.pages_read == [("WORKLOAD", 0), ("WORKLOAD", 1)]  # the third page is never read
    assert found.status == {inv_id(1): HintStatus.DECIDED, inv_id(2): HintStatus.DECIDED}
    assert sorted(wa.updated) == [(inv_id(1), "ACCEPT"), (inv_id(2), "ACCEPT")]


def test_concurrent_listings_also_stop_paging_once_every_hinted_id_is_seen() -> None:
    wa = FakeWA(
        pages={
            "WORKLOAD": [[item(1)], [item(3)]],
            "LENS": [[item(2, rtype="LENS")], [item(4, rtype="LENS")]],
        }
    )
    found = Acceptor(wa, max_workers=4, log=NULL_LOG).handle_hints(allow(), [hint(1), hint(2, "LENS")])
    assert sorted(wa.pages_read) == [("LENS", 0), ("WORKLOAD", 0)]
    assert set(found.status.values()) == {HintStatus.DECIDED}


def test_only_hinted_invitations_are_decided_even_when_listed_alongside() -> None:
    wa = FakeWA(pages={"WORKLOAD": [[item(1), item(3)]], "LENS": [[item(2, rtype="LENS")]]})
    found = Acceptor(wa, log=NULL_LOG).handle_hints(allow(), [hint(1), hint(2, "LENS")])
    assert sorted(wa.listings) == ["LENS", "WORKLOAD"]
    assert sorted(wa.updated) == [(inv_id(1), "ACCEPT"), (inv_id(2), "ACCEPT")]
    assert found.summary.invitations == 2


def test_a_hinted_id_listed_under_another_type_still_counts() -> None:
    wa = FakeWA(pages={"WORKLOAD": [[item(1), item(2, rtype="LENS")]], "LENS": [[]]})
    log = Log()
    found = Acceptor(wa, max_workers=1, log=log).handle_hints(allow(), [hint(1), hint(2, "LENS")])
    assert found.status == {inv_id(1): HintStatus.DECIDED, inv_id(2): HintStatus.DECIDED}
    types = {f["share_invitation_id"]: f["resource_type"] for _, f in log.find("invitation decided")}
    assert types == {inv_id(1): "WORKLOAD", inv_id(2): "LENS"}  # the type the item names is kept
    assert sorted(wa.updated) == [(inv_id(1), "ACCEPT"), (inv_id(2), "ACCEPT")]


def test_an_unlisted_hint_is_looked_for_again_after_the_wait_then_left_for_the_sweep() -> None:
    slept: list[float] = []
    wa = FakeWA(pages={"WORKLOAD": lambda n: [[item(1)]] if n >= 2 else [[]]})
    acceptor = Acceptor(wa, sleep=slept.append, log=NULL_LOG)
    found = acceptor.handle_hints(allow(), [hint(1)], attempts=3, wait_seconds=2.5)
    assert slept == [2.5, 2.5] and wa.listings == ["WORKLOAD"] * 3
    assert found.status == {inv_id(1): HintStatus.DECIDED}
    assert wa.updated == [(inv_id(1), "ACCEPT")]

    log = Log()
    never = FakeWA()
    found = Acceptor(never, log=log, sleep=slept.append).handle_hints(allow(), [hint(1), hint(1), hint(2)], attempts=2)
    assert never.listings == ["WORKLOAD", "WORKLOAD"] and slept[-1] == 1.0
    assert found.status == {inv_id(1): HintStatus.NOT_FOUND, inv_id(2): HintStatus.NOT_FOUND}
    assert found.summary.count_of(Tally.NOT_FOUND) == 2
    assert log.find("invitation not listed; left for the sweep")[0] == (
        "info",
        {"share_invitation_id": inv_id(1), "resource_type": "WORKLOAD", "event_name": "CreateWorkloadShare"},
    )
    once = FakeWA()
    Acceptor(once, log=NULL_LOG).handle_hints(allow(), [hint(1)], attempts=0)
    assert once.listings == ["WORKLOAD"]  # at least one listing
    default = FakeWA()
    Acceptor(default, sleep=slept.append, log=NULL_LOG).handle_hints(allow(), [hint(1)])
    assert default.listings == ["WORKLOAD"]  # one attempt unless asked for more
    waits = FakeWA()
    del slept[:]
    Acceptor(waits, sleep=slept.append, log=NULL_LOG).handle_hints(allow(), [hint(1)], attempts=2)
    assert slept == [1.0]  # one second between attempts unless told


def test_no_wait_for_another_listing_when_the_time_left_is_too_short() -> None:
    slept: list[float] = []
    now = [0.0]
    wait = 2.0
    wa = FakeWA()
    work = wait + min_attempt_seconds()
    fits = Deadline(work - 0.01, work + 5, lambda: now[0])
    found = Acceptor(wa, sleep=slept.append, log=NULL_LOG).handle_hints(
        allow(), [hint(1)], fits, attempts=3, wait_seconds=wait
    )
    assert slept == [] and wa.listings == ["WORKLOAD"]
    assert found.status == {inv_id(1): HintStatus.NOT_FOUND} and found.summary.count_of(Tally.NOT_FOUND) == 1
    exact = Deadline(work, work + 5, lambda: now[0])
    wa = FakeWA()
    Acceptor(wa, sleep=slept.append, log=NULL_LOG).handle_hints(
        allow(), [hint(1)], exact, attempts=2, wait_seconds=wait
    )
    assert slept == [wait] and wa.listings == ["WORKLOAD", "WORKLOAD"]


def test_a_failed_listing_makes_its_hints_worth_retrying_and_is_not_listed_again() -> None:
    slept: list[float] = []
    wa = FakeWA(
        pages={"LENS": lambda n: [[]] if n == 0 else [[item(2, rtype="LENS")]]},
        errors={"WORKLOAD": ListError("Throttling", "slow")},
    )
    found = Acceptor(wa, sleep=slept.append, max_workers=1, log=NULL_LOG).handle_hints(
        allow(), [hint(1), hint(2, "LENS")], attempts=3
    )
    assert wa.listings == ["LENS", "WORKLOAD", "LENS"]
    assert found.status == {inv_id(1): HintStatus.RETRY, inv_id(2): HintStatus.DECIDED}
    assert found.summary.count_of(Tally.NOT_FOUND) == 0


def test_failed_or_deferred_updates_are_worth_retrying() -> None:
    wa = FakeWA(
        pages={"WORKLOAD": [[item(1), item(2), item(3, sharer=OTHER)]]},
        updates={
            inv_id(1): UpdateResult(UpdateStatus.FAILED, "InternalServerException", "x"),
            inv_id(2): UpdateResult(UpdateStatus.NOT_SENT, OUT_OF_TIME, "late"),
        },
    )
    found = Acceptor(wa, log=NULL_LOG).handle_hints(allow(), [hint(1), hint(2), hint(3)])
    assert found.status == {
        inv_id(1): HintStatus.RETRY,
        inv_id(2): HintStatus.RETRY,
        inv_id(3): HintStatus.DECIDED,
    }


# -- sharer hints: a share event without a share id ------------------------------------------------------


def test_a_sharer_hint_decides_every_listed_invitation_of_its_type_from_its_sharer_and_no_other() -> None:
    # Given three pages of workloads from two sharers, and a lens from the hinted sharer
    wa = FakeWA(
        pages={
            "WORKLOAD": [[item(1), item(2, sharer=OTHER)], [item(3, rtype=None)], [item(4), item(5, sharer=DENIED)]],
            "LENS": [[item(6, rtype="LENS")]],
        }
    )
    log = Log()
    policy = allow(denied_accounts=frozenset({DENIED}))
    # When a workload share event without a share id names TRUSTED as its sharer
    found = Acceptor(wa, max_workers=1, log=log).handle_hints(policy, [by_sharer(TRUSTED)])
    # Then the workload type alone is listed, to its last page, and only TRUSTED's workloads are decided
    assert wa.listings == ["WORKLOAD"] and wa.pages_read == [("WORKLOAD", 0), ("WORKLOAD", 1), ("WORKLOAD", 2)]
    assert wa.updated == [(inv_id(1), "ACCEPT"), (inv_id(3), "ACCEPT"), (inv_id(4), "ACCEPT")]
    assert found.status == {f"WORKLOAD/{TRUSTED}": HintStatus.DECIDED}
    assert found.summary.invitations == 3 and found.summary.count_of(Tally.SHARE_EVENTS_BY_SHARER) == 1
    assert found.summary.count_of(Tally.INVALID_EVENTS) == 0 and found.summary.count_of(Tally.NOT_FOUND) == 0
    assert log.find("share event has no share id; deciding the sharer's pending invitations of its type") == [
        (
            "info",
            {
                "shared_by": TRUSTED,
                "resource_type": "WORKLOAD",
                "event_name": "CreateWorkloadShare",
                "event_id": f"event-WORKLOAD-{TRUSTED}",
            },
        )
    ]


def test_the_policy_not_the_event_decides_a_sharer_hints_invitations() -> None:
    # The event's sharer only selects: a denied sharer's invitations are rejected, an unknown one's left
    wa = FakeWA(pages={"WORKLOAD": [[item(1, sharer=DENIED), item(2, sharer=OTHER), item(3)]]})
    policy = allow(denied_accounts=frozenset({DENIED}))
    found = Acceptor(wa, max_workers=1, log=NULL_LOG).handle_hints(policy, [by_sharer(DENIED), by_sharer(OTHER)])
    assert wa.updated == [(inv_id(1), "REJECT")]
    assert results(found.summary) == {"rejected": 1, "left_pending": 1}
    assert found.status == {f"WORKLOAD/{DENIED}": HintStatus.DECIDED, f"WORKLOAD/{OTHER}": HintStatus.DECIDED}
    assert wa.listings == ["WORKLOAD"]  # two sharers of one type: one listing


def test_a_sharer_hint_shares_its_types_listing_with_id_hints_and_reads_it_to_the_end() -> None:
    wa = FakeWA(
        pages={
            "WORKLOAD": [[item(1)], [item(2, sharer=OTHER)], [item(3, sharer=OTHER)]],
            "LENS": [[item(4, rtype="LENS")], [item(5, rtype="LENS")]],
        }
    )
    found = Acceptor(wa, max_workers=1, log=NULL_LOG).handle_hints(
        allow(allowed_accounts=frozenset({TRUSTED, OTHER})), [hint(1), by_sharer(OTHER), hint(4, "LENS")]
    )
    # One listing per type; WORKLOAD read to the end for the sharer although the hinted id was on page one;
    # LENS, with only an id hint, stops on the page that holds it
    assert sorted(wa.listings) == ["LENS", "WORKLOAD"]
    assert sorted(wa.pages_read) == [("LENS", 0), ("WORKLOAD", 0), ("WORKLOAD", 1), ("WORKLOAD", 2)]
    assert sorted(wa.updated) == [(inv_id(n), "ACCEPT") for n in (1, 2, 3, 4)]
    assert found.status == {
        inv_id(1): HintStatus.DECIDED,
        f"WORKLOAD/{OTHER}": HintStatus.DECIDED,
        inv_id(4): HintStatus.DECIDED,
    }


def test_a_sharer_hint_is_type_bound_even_when_the_api_reports_another_type() -> None:
    # An item the WORKLOAD listing reports as a LENS is not a WORKLOAD of the sharer
    wa = FakeWA(pages={"WORKLOAD": [[item(1, rtype="LENS"), item(2), item(3, SharedBy=["x"]), item(4, SharedBy=None)]]})
    found = Acceptor(wa, max_workers=1, log=NULL_LOG).handle_hints(allow(), [by_sharer(TRUSTED)])
    assert wa.updated == [(inv_id(2), "ACCEPT")] and found.summary.invitations == 1


def test_a_sharer_with_nothing_listed_is_looked_for_again_then_left_for_the_sweep() -> None:
    slept: list[float] = []
    later = FakeWA(pages={"LENS": lambda n: [[item(1, rtype="LENS")]] if n >= 1 else [[item(2, OTHER, "LENS")]]})
    found = Acceptor(later, sleep=slept.append, log=NULL_LOG).handle_hints(
        allow(), [by_sharer(TRUSTED, "LENS")], attempts=3, wait_seconds=2.0
    )
    assert later.listings == ["LENS", "LENS"] and slept == [2.0]
    assert later.updated == [(inv_id(1), "ACCEPT")] and found.status == {f"LENS/{TRUSTED}": HintStatus.DECIDED}

    log = Log()
    never = FakeWA(pages={"LENS": [[item(2, OTHER, "LENS")]]})
    found = Acceptor(never, sleep=slept.append, log=log).handle_hints(
        allow(), [by_sharer(TRUSTED, "LENS"), by_sharer(TRUSTED, "LENS")], attempts=2
    )
    assert never.listings == ["LENS", "LENS"] and never.updated == []
    assert found.status == {f"LENS/{TRUSTED}": HintStatus.NOT_FOUND}
    assert found.summary.count_of(Tally.NOT_FOUND) == 1 and found.summary.count_of(Tally.SHARE_EVENTS_BY_SHARER) == 2
    assert log.find("no invitation of this sharer listed; left for the sweep") == [
        ("info", {"shared_by": TRUSTED, "resource_type": "LENS", "event_name": "CreateLensShare"})
    ]


def test_a_sharer_hint_whose_listing_broke_off_is_worth_retrying_though_some_were_decided() -> None:
    # Page one holds one of the sharer's invitations, then the listing fails: more may be on later pages
    wa = FakeWA(pages={"WORKLOAD": [[item(1)]], "LENS": [[]]}, errors={"WORKLOAD": ListError("Throttling", "slow")})
    found = Acceptor(wa, sleep=lambda _s: None, max_workers=1, log=NULL_LOG).handle_hints(
        allow(), [by_sharer(TRUSTED), by_sharer(TRUSTED, "LENS")], attempts=3
    )
    assert wa.updated == [(inv_id(1), "ACCEPT")]
    assert wa.listings.count("WORKLOAD") == 1  # a failed listing is not listed again
    assert found.status == {f"WORKLOAD/{TRUSTED}": HintStatus.RETRY, f"LENS/{TRUSTED}": HintStatus.NOT_FOUND}
    assert found.summary.count_of(Tally.NOT_FOUND) == 1  # only the lens


def test_a_sharer_hint_with_a_failed_or_deferred_update_is_worth_retrying() -> None:
    for answer in (
        UpdateResult(UpdateStatus.FAILED, "InternalServerException", "x"),
        UpdateResult(UpdateStatus.NOT_SENT, OUT_OF_TIME, "late"),
    ):
        wa = FakeWA(pages={"WORKLOAD": [[item(1), item(2)]]}, updates={inv_id(2): answer})
        found = Acceptor(wa, log=NULL_LOG).handle_hints(allow(), [by_sharer(TRUSTED), hint(1)])
        assert found.status == {f"WORKLOAD/{TRUSTED}": HintStatus.RETRY, inv_id(1): HintStatus.DECIDED}


def test_a_claimed_sharer_that_disagrees_with_the_api_is_logged_and_the_api_decides() -> None:
    wa = FakeWA(pages={"WORKLOAD": [[item(1, sharer=OTHER), item(2), item(3, SharedBy=["x"])]]})
    log = Log()
    found = Acceptor(wa, log=log).handle_hints(
        allow(),
        [hint(1, claimed=TRUSTED), hint(2, claimed=TRUSTED), hint(3, claimed=TRUSTED), hint(4, claimed=TRUSTED)],
    )
    assert wa.updated == [(inv_id(2), "ACCEPT")]
    warned = log.find("share event disagrees with the API; deciding on the API")
    assert warned == [
        (
            "warning",
            {"share_invitation_id": inv_id(1), "event_account": TRUSTED, "listed_shared_by": OTHER},
        ),
        (
            "warning",
            {"share_invitation_id": inv_id(3), "event_account": TRUSTED, "listed_shared_by": "['x']"},
        ),
    ]
    assert found.status[inv_id(4)] is HintStatus.NOT_FOUND
    assert Acceptor(FakeWA(pages={"WORKLOAD": [[item(1)]]}), log=log).handle_hints(allow(), [hint(1)]).status
    assert len(log.find("share event disagrees with the API; deciding on the API")) == 2  # no claim: no warning


def test_hints_fill_the_summary_given_and_notify_what_needs_attention() -> None:
    given = Summary(dry_run=False)
    notifier = Notifier()
    wa = FakeWA(pages={"WORKLOAD": [[item(1, sharer=OTHER)]]})
    found = Acceptor(wa, notifier=notifier, log=NULL_LOG).handle_hints(allow(), [hint(1)], summary=given)
    assert found.summary is given and given.invitations == 1
    assert [o.result for o in notifier.calls[0][0]] == [Result.LEFT_PENDING] and notifier.calls[0][1] is given
    dry = Acceptor(FakeWA(pages={"WORKLOAD": [[item(1)]]}), log=NULL_LOG).handle_hints(allow(dry_run=True), [hint(1)])
    assert dry.summary.dry_run is True and results(dry.summary) == {"dry_run": 1}


# -- the real adapter on the in-process simulator ------------------------------------------------------


@pytest.fixture
def world() -> World:
    return World(Simulator())


def _adapter(world: World) -> ShareInvitations:
    return ShareInvitations(world.sim.client(account=RECIPIENT, config=SDK_CONFIG), sleep=lambda _s: None)


def test_a_sweep_on_the_simulator_answers_every_type(world: World) -> None:
    shares = [
        world.workload(TRUSTED, "payments", "READONLY"),
        world.workload(TRUSTED, "ledger", "CONTRIBUTOR"),
        world.lens(TRUSTED, "security-lens"),
        world.profile(DENIED, "profile-one"),
        world.template(OTHER, "template-one"),
    ]
    log = Log()
    summary = Acceptor(_adapter(world), log=log).sweep(allow(denied_accounts=frozenset({DENIED})))
    assert [world.status(s) for s in shares] == ["ACCEPTED", "PENDING", "ACCEPTED", "REJECTED", "PENDING"]
    assert results(summary) == {"accepted": 2, "rejected": 1, "left_pending": 2}
    reasons = sorted(f["reason"] for _, f in log.find("invitation decided"))
    assert reasons == [
        "allowed_account",
        "allowed_account",
        "denied_account",
        "permission_not_allowed",
        "source_not_allowed",
    ]


def test_hints_on_the_simulator_decide_what_the_api_lists(world: World) -> None:
    lens = world.lens(TRUSTED, "security-lens")
    other = world.workload(TRUSTED, "payments", "READONLY")
    acceptor = Acceptor(_adapter(world), log=NULL_LOG)
    found = acceptor.handle_hints(allow(), [hint(0, "LENS")._replace(invitation_id=lens.share_id), hint(99)])
    assert found.status == {lens.share_id: HintStatus.DECIDED, inv_id(99): HintStatus.NOT_FOUND}
    assert world.status(lens) == "ACCEPTED" and world.status(other) == "PENDING"


def test_a_sharer_hint_on_the_simulator_decides_that_sharers_invitations_of_its_type_only(world: World) -> None:
    mine = [world.workload(TRUSTED, "payments", "READONLY"), world.workload(TRUSTED, "ledger", "READONLY")]
    others = [world.workload(OTHER, "shadow", "READONLY"), world.lens(TRUSTED, "security-lens")]
    found = Acceptor(_adapter(world), log=NULL_LOG).handle_hints(
        allow(allowed_accounts=frozenset({TRUSTED, OTHER})), [by_sharer(TRUSTED)]
    )
    assert found.status == {f"WORKLOAD/{TRUSTED}": HintStatus.DECIDED}
    assert [world.status(s) for s in mine] == ["ACCEPTED", "ACCEPTED"]
    assert [world.status(s) for s in others] == ["PENDING", "PENDING"]


# -- the time budget reaches every call; workers are bounded; nothing raised escapes ---------------------


def test_the_deadline_given_reaches_every_listing_update_lookup_and_the_digest() -> None:
    deadline = Deadline.within(900.0)
    invalid = UpdateResult(UpdateStatus.FAILED, "ValidationException", "invalid")
    wa = FakeWA(pages={"WORKLOAD": [[item(1), item(2, sharer=OTHER)]]}, updates={inv_id(1): invalid})
    ancestry = Ancestry({TRUSTED: OrgAncestry.found({"r-abcd"}), OTHER: OrgAncestry.found({"r-abcd"})})
    notifier = Notifier()
    policy = allow(allowed_ous=frozenset({OU}))
    Acceptor(wa, ancestry=ancestry, notifier=notifier, log=NULL_LOG).sweep(policy, deadline)
    assert len(wa.deadlines) == 6  # four listings, one update, the listing that checks the failed update
    assert all(d is deadline for d in wa.deadlines)
    assert len(ancestry.deadlines) == 2 and all(d is deadline for d in ancestry.deadlines)
    assert notifier.deadlines == [deadline]

    wa = FakeWA(pages={"WORKLOAD": [[item(1), item(2, sharer=OTHER)]]})
    notifier = Notifier()
    Acceptor(wa, notifier=notifier, log=NULL_LOG).handle_hints(allow(), [hint(1), hint(2)], deadline)
    assert len(wa.deadlines) == 2 and all(d is deadline for d in wa.deadlines)
    assert notifier.deadlines == [deadline]


def test_no_more_updates_at_once_than_workers() -> None:
    wa = FakeWA(pages={"WORKLOAD": [[item(n) for n in range(1, 7)]]})
    wa.hold = 0.02
    Acceptor(wa, max_workers=2, log=NULL_LOG).sweep(allow())
    assert len(wa.updated) == 6 and wa.most_in_flight <= 2
    wa = FakeWA(pages={"WORKLOAD": [[item(n) for n in range(1, 7)]]})
    wa.hold = 0.02
    Acceptor(wa, log=NULL_LOG).sweep(allow())
    assert len(wa.updated) == 6 and wa.most_in_flight <= 4  # four workers unless told


def test_no_more_listings_or_lookups_at_once_than_workers() -> None:
    in_flight = [0, 0]
    lock = threading.Lock()

    def held(call: Any) -> Any:
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight)
        time.sleep(0.02)
        with lock:
            in_flight[0] -= 1
        return call()

    class SlowList(FakeWA):
        def pages(self, rtype: str, deadline: Deadline | None = None) -> Iterator[list[Any]]:
            return held(lambda: super(SlowList, self).pages(rtype, deadline))

    Acceptor(SlowList(), max_workers=2, log=NULL_LOG).sweep(allow())
    assert in_flight[1] == 2  # four types, two at a time

    in_flight[1] = 0
    sharers = [f"{n:012d}" for n in range(1, 7)]

    class SlowLookup(Ancestry):
        def lookup(self, account_id: str, deadline: Deadline | None = None) -> OrgAncestry:
            return held(lambda: super(SlowLookup, self).lookup(account_id, deadline))

    ancestry = SlowLookup(dict.fromkeys(sharers, OrgAncestry.found({OU})))
    wa = FakeWA(pages={"WORKLOAD": [[item(n, sharer=s) for n, s in enumerate(sharers, 1)]]})
    policy = allow(allowed_accounts=frozenset(), allowed_ous=frozenset({OU}))
    summary = Acceptor(wa, ancestry=ancestry, max_workers=2, log=NULL_LOG).sweep(policy)
    assert results(summary) == {"accepted": 6} and in_flight[1] == 2


def test_listings_run_on_workers_only_when_there_are_several_types() -> None:
    wa = FakeWA()
    Acceptor(wa, max_workers=4, log=NULL_LOG).handle_hints(allow(), [hint(1)])
    assert wa.threads == {threading.get_ident()}
    barrier = threading.Barrier(2, timeout=5)

    class Together(FakeWA):
        def pages(self, rtype: str, deadline: Deadline | None = None) -> Iterator[list[Any]]:
            barrier.wait()  # both listings must be under way at once
            return super().pages(rtype, deadline)

    wa = Together()
    found = Acceptor(wa, max_workers=4, log=NULL_LOG).handle_hints(allow(), [hint(1), hint(2, "LENS")])
    assert sorted(wa.listings) == ["LENS", "WORKLOAD"] and threading.get_ident() not in wa.threads
    assert set(found.status.values()) == {HintStatus.NOT_FOUND}


def test_lookups_run_on_the_calling_thread_with_one_worker_or_one_sharer() -> None:
    policy = allow(allowed_accounts=frozenset(), allowed_ous=frozenset({OU}))
    ancestry = Ancestry({TRUSTED: OrgAncestry.found({OU}), OTHER: OrgAncestry.found({OU})})
    wa = FakeWA(pages={"WORKLOAD": [[item(1), item(2, sharer=OTHER)]]})
    Acceptor(wa, ancestry=ancestry, max_workers=1, log=NULL_LOG).sweep(policy)
    assert ancestry.threads == {threading.get_ident()} and len(ancestry.asked) == 2
    ancestry = Ancestry({TRUSTED: OrgAncestry.found({OU})})
    wa = FakeWA(pages={"WORKLOAD": [[item(1), item(2)]]})
    Acceptor(wa, ancestry=ancestry, max_workers=4, log=NULL_LOG).handle_hints(policy, [hint(1), hint(2)])
    assert ancestry.threads == {threading.get_ident()} and ancestry.asked == [TRUSTED]
    # A sweep (a pipeline) looks each sharer up once, on the thread reading the page that names it
    ancestry = Ancestry({TRUSTED: OrgAncestry.found({OU})})
    wa = FakeWA(pages={"WORKLOAD": [[item(1)], [item(2)]]})
    Acceptor(wa, ancestry=ancestry, max_workers=4, log=NULL_LOG).sweep(policy)
    assert ancestry.asked == [TRUSTED]


def test_a_crash_while_reading_or_deciding_one_invitation_fails_only_that_one(monkeypatch: pytest.MonkeyPatch) -> None:
    import acceptor.engine as engine

    real_evaluate, real_read = engine.evaluate, Invitation.from_summary

    def evaluate(policy: Policy, inv: Invitation, ancestry: OrgAncestry | None = None) -> Decision:
        if inv.share_invitation_id == inv_id(1):
            raise ZeroDivisionError("policy bug")
        return real_evaluate(policy, inv, ancestry)

    def read(summary: object) -> Invitation:
        if isinstance(summary, dict) and summary.get("ShareInvitationId") in (inv_id(2), 7):
            raise KeyError("model bug")
        return real_read(summary)

    monkeypatch.setattr(engine, "evaluate", evaluate)
    monkeypatch.setattr(Invitation, "from_summary", staticmethod(read))
    wa = FakeWA(pages={"WORKLOAD": [[item(1), item(2), item(3), item(4, ShareInvitationId=7)]]})
    log = Log()
    summary = Acceptor(wa, log=log, max_workers=1).sweep(allow())
    assert wa.updated == [(inv_id(3), "ACCEPT")]
    assert summary.failures == [
        {"share_invitation_id": inv_id(1), "error_code": "ZeroDivisionError", "error_message": "policy bug"},
        {"share_invitation_id": inv_id(2), "error_code": "KeyError", "error_message": "'model bug'"},
        {"share_invitation_id": None, "error_code": "KeyError", "error_message": "'model bug'"},
    ]
    assert summary.to_dict()["accept"] == 1  # no decision is counted for those that failed
    failed = log.find("invitation update failed")
    assert [f["action"] for _, f in failed] == [None, None, None]
    assert failed[1][1]["shared_by"] is None  # unreadable: only its id is known


def test_a_decision_for_an_id_that_is_not_a_string_is_never_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    import acceptor.engine as engine

    monkeypatch.setattr(engine, "evaluate", lambda *_a: Decision(Action.ACCEPT, Reason.ALLOWED_ACCOUNT))
    wa = FakeWA(pages={"WORKLOAD": [[item(1, ShareInvitationId=7)]]})
    summary = Acceptor(wa, log=NULL_LOG).sweep(allow())
    assert wa.updated == []
    assert summary.failures == [
        {
            "share_invitation_id": None,
            "error_code": "TypeError",
            "error_message": "the policy decided an invitation without a string id",
        }
    ]


def test_a_validation_error_is_settled_only_when_a_complete_listing_of_a_known_type_lacks_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import acceptor.engine as engine

    invalid = UpdateResult(UpdateStatus.FAILED, "ValidationException", "invalid")
    failing_second = FakeWA(
        pages={"WORKLOAD": lambda n: [[item(1)]] if n == 0 else [[]]},
        errors={"WORKLOAD": lambda n: ListError("Throttling", "slow") if n else None},
        updates={inv_id(1): invalid},
    )
    assert results(Acceptor(failing_second, log=NULL_LOG).sweep(allow())) == {"failed": 1}
    monkeypatch.setattr(engine, "evaluate", lambda *_a: Decision(Action.ACCEPT, Reason.ALLOWED_ACCOUNT))
    unknown_type = FakeWA(pages={"WORKLOAD": [[item(1, rtype="BOGUS")]]}, updates={inv_id(1): invalid})
    assert results(Acceptor(unknown_type, log=NULL_LOG).sweep(allow())) == {"failed": 1}
    assert unknown_type.listings.count("BOGUS") == 0


def test_one_acceptor_decides_each_run_with_the_policy_it_is_given() -> None:
    # Given one acceptor (one container) and the listing of a pending invitation from OTHER
    wa = FakeWA(pages={"WORKLOAD": lambda _n: [[item(1, sharer=OTHER)]]})
    log = Log()
    acceptor = Acceptor(wa, log=log)
    # When runs get different policies, each decides with its own, sweep and hints alike
    assert results(acceptor.sweep(allow())) == {"left_pending": 1}
    run_policy = allow(allowed_accounts=frozenset({OTHER}), dry_run=True)
    summary = acceptor.sweep(run_policy)
    assert results(summary) == {"dry_run": 1} and summary.dry_run is True and wa.updated == []
    assert log.find("invitation decided")[-1][1]["dry_run"] is True
    found = acceptor.handle_hints(run_policy.with_dry_run(False), [hint(1)])
    assert found.status == {inv_id(1): HintStatus.DECIDED} and wa.updated == [(inv_id(1), "ACCEPT")]
    assert found.summary.dry_run is False
    assert acceptor.handle_hints(run_policy, [hint(1)]).summary.dry_run is True


def test_the_policy_given_for_a_run_decides_whether_its_sharers_are_looked_up() -> None:
    ancestry = Ancestry({OTHER: OrgAncestry.found({OU})})
    wa = FakeWA(pages={"WORKLOAD": lambda _n: [[item(1, sharer=OTHER)]]})
    acceptor = Acceptor(wa, ancestry=ancestry, log=NULL_LOG)
    assert results(acceptor.sweep(allow())) == {"left_pending": 1} and ancestry.asked == []
    ou_policy = allow(allowed_accounts=frozenset(), allowed_ous=frozenset({OU}))
    summary = acceptor.sweep(ou_policy)
    assert ancestry.asked == [OTHER] and results(summary) == {"accepted": 1}


def test_logged_records_say_whether_the_run_is_dry() -> None:
    for dry_run in (False, True):
        log = Log()
        Acceptor(FakeWA(pages={"WORKLOAD": [[item(1)]]}), log=log).sweep(allow(dry_run=dry_run))
        assert log.find("invitation decided")[0][1]["dry_run"] is dry_run


def test_every_decision_record_reaches_the_extra_sinks_after_its_log_line() -> None:
    # Given an acceptor with a sink, over three invitations: accepted, left pending, failed
    log = Log()
    seen: list[tuple[int, dict[str, Any]]] = []
    wa = FakeWA(
        pages={"WORKLOAD": [[item(1), item(2, sharer=OTHER), item(3)]]},
        updates={inv_id(3): UpdateResult(UpdateStatus.FAILED, "AccessDeniedException", "denied")},
    )
    acceptor = Acceptor(wa, log=log, sinks=[lambda record: seen.append((len(log.lines), record))], max_workers=1)
    # When it sweeps
    acceptor.sweep(allow())
    # Then each sink call follows the record's own log line and carries the same record
    logged = [fields for _, msg, fields in log.lines if msg in ("invitation decided", "invitation update failed")]
    assert [record for _, record in seen] == logged
    assert [n for n, _ in seen] == [1, 2, 3]
    assert [record["result"] for _, record in seen] == ["accepted", "left_pending", "failed"]


# -- throughput: the pipeline, shifting pages, throttling ---------------------------------------------


class OffsetPaged(FakeWA):
    """A listing whose NextToken is an offset into what is pending now (the pessimistic reading): an
    invitation answered between two reads shifts the later pages, so a reader that ignored it would
    skip invitations."""

    def __init__(self, ids: list[int], page_size: int = 2) -> None:
        super().__init__()
        self.pending = [item(n) for n in ids]
        self.page_size = page_size

    def pages(self, rtype: str, deadline: Deadline | None = None) -> Iterator[list[Any]]:
        with self._lock:
            self.listings.append(rtype)
        if rtype != "WORKLOAD":
            yield []
            return
        offset = 0
        while True:
            with self._lock:  # the answer and its NextToken are both made at the read
                page = [dict(i) for i in self.pending[offset : offset + self.page_size]]
                more = offset + self.page_size < len(self.pending)
            yield page
            if not more:
                return
            offset += self.page_size

    def update(self, share_invitation_id: str, action: str, deadline: Deadline | None = None) -> UpdateResult:
        answer = super().update(share_invitation_id, action, deadline)
        with self._lock:
            self.pending = [i for i in self.pending if i["ShareInvitationId"] != share_invitation_id]
        return answer


@pytest.mark.parametrize("workers", [1, 4])
def test_a_listing_that_shifts_while_answering_loses_no_invitation(workers: int) -> None:
    # Given ten pending invitations listed two per page by offset, answered as they are read
    wa = OffsetPaged(list(range(1, 11)))
    summary = Acceptor(wa, max_workers=workers, log=NULL_LOG).sweep(allow())
    # Then every one is decided once: the shifted type was listed again until a pass found nothing new
    assert sorted(i for i, _ in wa.updated) == [inv_id(n) for n in range(1, 11)]
    assert results(summary) == {"accepted": 10} and summary.complete
    assert wa.pending == []
    assert 2 <= wa.listings.count("WORKLOAD") <= 5 and wa.listings.count("LENS") == 1


def test_a_listing_still_shifting_after_the_last_pass_leaves_the_run_incomplete() -> None:
    import acceptor.engine as engine

    wa = OffsetPaged(list(range(1, 41)))
    summary = Acceptor(wa, max_workers=1, log=NULL_LOG).sweep(allow(), Deadline.unlimited())
    assert results(summary) == {"accepted": 40}
    # With one pass allowed, the skipped invitations are left for the next run, and the run says so
    wa = OffsetPaged(list(range(1, 11)))
    original = engine.SWEEP_PASSES
    engine.SWEEP_PASSES = 1
    try:
        summary = Acceptor(wa, max_workers=1, log=NULL_LOG).sweep(allow())
    finally:
        engine.SWEEP_PASSES = original
    assert results(summary) == {"accepted": 6} and len(wa.pending) == 4  # pages 1-2, 5-6 and 9-10
    assert summary.not_listed == ["WORKLOAD"] and not summary.complete and summary.failed == 0


def test_updates_start_before_the_listing_of_a_type_ends() -> None:
    # Given a type whose second page can only be read once an invitation of the first was updated
    updated = threading.Event()

    class Waiting(FakeWA):
        def pages(self, rtype: str, deadline: Deadline | None = None) -> Iterator[list[Any]]:
            if rtype != "WORKLOAD":
                yield []
                return
            yield [item(1), item(2)]
            assert updated.wait(30), "no update was sent while the listing went on"
            yield [item(3)]

        def update(self, share_invitation_id: str, action: str, deadline: Deadline | None = None) -> UpdateResult:
            updated.set()
            return super().update(share_invitation_id, action, deadline)

    wa = Waiting()
    summary = Acceptor(wa, max_workers=4, log=NULL_LOG).sweep(allow())
    assert results(summary) == {"accepted": 3}


def test_an_update_throttled_past_its_retries_is_deferred_not_failed() -> None:
    # Given an update the service kept throttling until its retries (or the time) ran out
    throttled = UpdateResult(UpdateStatus.THROTTLED, "ThrottlingException", "Rate exceeded (still throttled ...)")
    wa = FakeWA(pages={"WORKLOAD": [[item(1), item(2)]]}, updates={inv_id(2): throttled})
    log = Log()
    summary = Acceptor(wa, log=log, max_workers=1).sweep(allow())
    # Then it is deferred: counted apart, no failure, and the run is incomplete (the next run decides it)
    assert results(summary) == {"accepted": 1, "deferred": 1}
    assert summary.failed == 0 and summary.failures == [] and not summary.complete
    assert log.find("invitation deferred to the next sweep") == [
        ("info", {"share_invitation_id": inv_id(2), "reason_detail": "Rate exceeded (still throttled ...)"})
    ]
    # And a hinted invitation throttled so is worth delivering again
    wa = FakeWA(pages={"WORKLOAD": [[item(2)]]}, updates={inv_id(2): throttled})
    found = Acceptor(wa, log=NULL_LOG).handle_hints(allow(), [hint(2)])
    assert found.status == {inv_id(2): HintStatus.RETRY} and found.summary.failed == 0


def test_an_update_out_of_time_for_its_retry_is_deferred_not_failed() -> None:
    unfinished = UpdateResult(UpdateStatus.OUT_OF_TIME, "InternalServerException", "oops (no time left to retry)")
    wa = FakeWA(pages={"WORKLOAD": [[item(1)]]}, updates={inv_id(1): unfinished})
    summary = Acceptor(wa, log=NULL_LOG).sweep(allow())
    assert results(summary) == {"deferred": 1} and summary.failed == 0 and not summary.complete


def test_a_listing_throttled_past_its_retries_is_left_for_the_next_run_not_failed() -> None:
    throttled = ListError("ThrottlingException", "Rate exceeded")
    wa = FakeWA(pages={"WORKLOAD": [[item(1)]]}, errors={"LENS": throttled})
    log = Log()
    summary = Acceptor(wa, log=log).sweep(allow())
    assert summary.failed == 0 and summary.list_errors == {} and summary.not_listed == ["LENS"]
    assert not summary.complete and results(summary) == {"accepted": 1}
    assert log.find("listing stopped: still throttled")[0][1]["resource_type"] == "LENS"
