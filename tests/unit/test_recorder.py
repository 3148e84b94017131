"""One run's records: logged and counted at once, then handed to the extra sinks; the digest; the null log."""

from __future__ import annotations

from typing import Any

from acceptor.deadline import Deadline
from acceptor.events import ShareHint, SharerHint
from acceptor.organizations import ancestries_of
from acceptor.outcomes import Outcome, Result, Summary, Tally
from acceptor.recorder import NULL_LOG, Recorder
from acceptor.wellarchitected import OUT_OF_TIME, ListError
from policy import Action, Decision, Invitation, OrgAncestry, Reason

ACCEPTED = Decision(Action.ACCEPT, Reason.ALLOWED_ACCOUNT)
LEFT = Decision(Action.IGNORE, Reason.SOURCE_NOT_ALLOWED)


def inv(n: int) -> Invitation:
    return Invitation(f"{n:032x}", "222222222222", "111111111111", "WORKLOAD", "w", "w1", "READONLY")


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def info(self, msg: str, /, *, extra: dict[str, Any]) -> None:
        self.lines.append(("info", msg, extra))

    def warning(self, msg: str, /, *, extra: dict[str, Any]) -> None:
        self.lines.append(("warning", msg, extra))


class Notifier:
    def __init__(self, error: Exception | None = None) -> None:
        self.sent: list[list[Outcome]] = []
        self.error = error

    def notify(self, outcomes: list[Outcome], summary: Summary, deadline: Deadline) -> None:
        self.sent.append(outcomes)
        if self.error:
            raise self.error


def test_each_decision_is_logged_then_handed_to_every_sink() -> None:
    # Given a recorder with two sinks, the first of which fails
    log = Log()
    order: list[str] = []

    def broken(record: dict[str, Any]) -> None:
        order.append(f"broken {len(log.lines)}")
        record["result"] = "tampered"
        raise RuntimeError("bus down")

    kept: list[dict[str, Any]] = []

    def keep(record: dict[str, Any]) -> None:
        order.append(f"keep {len(log.lines)}")
        kept.append(record)

    recorder = Recorder(Summary(dry_run=False), log, sinks=[broken, keep])
    # When an outcome is recorded
    recorder.outcome(Outcome(inv(1), ACCEPTED, Result.ACCEPTED))
    # Then the log line comes first, each sink gets the record, and a failing sink changes nothing
    assert order == ["broken 1", "keep 2"]  # after the log write (and the broken sink's warning)
    (level, message, fields), warned = log.lines[0], log.lines[1]
    assert (level, message, fields["result"]) == ("info", "invitation decided", "accepted")
    assert warned == ("warning", "decision sink failed", {"error": "RuntimeError: bus down"})
    assert kept == [Outcome(inv(1), ACCEPTED, Result.ACCEPTED).record(dry_run=False)]
    assert recorder.summary.count_of(Result.ACCEPTED) == 1


def test_deferred_outcomes_are_logged_apart_and_reach_no_sink() -> None:
    log, kept = Log(), []
    recorder = Recorder(Summary(dry_run=True), log, sinks=[kept.append])
    recorder.outcome(Outcome(inv(1), None, Result.DEFERRED, OUT_OF_TIME, "late"))
    recorder.outcome(Outcome(inv(2), None, Result.FAILED, "E", "m"))
    assert [(lv, msg) for lv, msg, _ in log.lines] == [
        ("info", "invitation deferred to the next sweep"),
        ("warning", "invitation update failed"),
    ]
    assert log.lines[0][2] == {"share_invitation_id": f"{1:032x}", "reason_detail": "late"}
    assert [r["result"] for r in kept] == ["failed"] and kept[0]["dry_run"] is True


def test_the_digest_holds_what_needs_a_person_and_a_failing_one_is_logged() -> None:
    notifier, log = Notifier(), Log()
    recorder = Recorder(Summary(dry_run=False), log, notifier=notifier)
    recorder.digest(Deadline.within(30))
    assert notifier.sent == []  # nothing needs a person: nothing sent
    recorder.outcome(Outcome(inv(1), ACCEPTED, Result.ACCEPTED))
    recorder.outcome(Outcome(inv(2), LEFT, Result.LEFT_PENDING))
    recorder.digest(Deadline.within(30))
    assert [[o.invitation.share_invitation_id for o in sent] for sent in notifier.sent] == [[f"{2:032x}"]]
    failing = Recorder(Summary(dry_run=False), log, notifier=Notifier(RuntimeError("sns down")))
    failing.outcome(Outcome(inv(3), None, Result.FAILED, "E", "m"))
    failing.digest(Deadline.within(30))
    assert log.lines[-1] == ("warning", "notification not sent", {"error": "RuntimeError: sns down"})
    Recorder(Summary(dry_run=False), NULL_LOG).digest(Deadline.within(30))  # no notifier: nothing to do


def test_the_runs_other_findings_are_counted_and_logged() -> None:
    log = Log()
    recorder = Recorder(Summary(dry_run=False), log)
    recorder.junk("LENS", "x" * 300)
    recorder.listing_failed("WORKLOAD", ListError("AccessDeniedException", "no"))
    recorder.listing_failed("PROFILE", ListError(OUT_OF_TIME, "late"))
    recorder.lookup_failed("222222222222", "AccessDenied")
    recorder.not_found(ShareHint(f"{1:032x}", "LENS", None, "CreateLensShare", None))
    recorder.disagreement(f"{1:032x}", "222222222222", ["x"])
    summary = recorder.summary
    assert summary.count_of(Tally.MALFORMED_ITEMS) == 1 and summary.count_of(Tally.ORG_LOOKUP_FAILURES) == 1
    assert summary.count_of(Tally.NOT_FOUND) == 1 and summary.not_listed == ["PROFILE"]
    assert list(summary.list_errors) == ["WORKLOAD"] and not summary.complete
    assert [(lv, msg) for lv, msg, _ in log.lines] == [
        ("warning", "listed item is not an object; skipped"),
        ("warning", "listing invitations failed"),
        ("info", "listing stopped: out of time"),
        ("warning", "organizations lookup failed"),
        ("info", "invitation not listed; left for the sweep"),
        ("warning", "share event disagrees with the API; deciding on the API"),
    ]
    assert log.lines[0][2]["item"] == repr("x" * 300)[:200]
    assert log.lines[-1][2]["listed_shared_by"] == "['x']"


def test_the_null_log_keeps_nothing_and_raises_nothing() -> None:
    recorder = Recorder(Summary(dry_run=False), NULL_LOG)
    recorder.outcome(Outcome(inv(1), ACCEPTED, Result.ACCEPTED))
    recorder.junk("LENS", 1)
    assert recorder.summary.invitations == 1


def test_ancestries_of_looks_up_each_well_formed_sharer_once() -> None:
    asked: list[str] = []

    def lookup(account: str) -> OrgAncestry:
        asked.append(account)
        if account == "333333333333":
            raise RuntimeError("boom")
        return OrgAncestry.found({"r-abcd"})

    fullwidth = "\uff12" * 12  # digits, but not ASCII ones
    sharers = ["222222222222", "222222222222", "333333333333", "12", None, 7, fullwidth, "222222222222\n"]
    found = ancestries_of(sharers, lookup)
    assert asked == ["222222222222", "333333333333"]
    assert found == {
        "222222222222": OrgAncestry.found({"r-abcd"}),
        "333333333333": OrgAncestry.failed("organizations lookup raised RuntimeError: boom"),
    }
    assert ancestries_of(["222222222222"], None, missing="no role") == {"222222222222": OrgAncestry.failed("no role")}
    assert ancestries_of(["222222222222"], None)["222222222222"].error == "no Organizations lookup configured"
    used: list[int] = []

    def fan_out(work: Any, items: Any) -> list[Any]:
        used.append(len(items))
        return [work(i) for i in items]

    ancestries_of(["222222222222", "444444444444"], lookup, fan_out=fan_out)
    assert used == [2]


def test_a_sharer_hint_is_counted_apart_and_logged_at_info_never_as_invalid() -> None:
    log = Log()
    recorder = Recorder(Summary(dry_run=False), log)
    hint = SharerHint("LENS", "222222222222", "event-1", "CreateLensShare")
    recorder.sharer_hint(hint)
    recorder.not_found(hint)
    summary = recorder.summary
    assert summary.count_of(Tally.SHARE_EVENTS_BY_SHARER) == 1 and summary.count_of(Tally.NOT_FOUND) == 1
    assert summary.count_of(Tally.INVALID_EVENTS) == 0
    assert summary.to_dict()["share_events_by_sharer"] == 1
    where = {"shared_by": "222222222222", "resource_type": "LENS", "event_name": "CreateLensShare"}
    assert log.lines == [
        (
            "info",
            "share event has no share id; deciding the sharer's pending invitations of its type",
            {**where, "event_id": "event-1"},
        ),
        ("info", "no invitation of this sharer listed; left for the sweep", where),
    ]


def test_the_summary_shows_every_tally() -> None:
    summary = Summary(dry_run=False)
    for n, tally in enumerate(Tally, 1):
        summary.tally(tally, n)
    shown = summary.to_dict()
    assert {tally.value: shown[tally.value] for tally in Tally} == {t.value: n for n, t in enumerate(Tally, 1)}
    assert all(summary.count_of(t) == n for n, t in enumerate(Tally, 1))
