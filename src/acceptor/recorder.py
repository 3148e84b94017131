"""One run's records: each invitation's outcome logged and counted the moment it is known, the run's other
findings (failed listings, skipped items, failed lookups), the list of what needs a person, and the digest.

Every decision record is written to the log first, then handed to each extra sink (a callable taking the
record's dict, e.g. a decision-event publisher). A sink runs on the worker that made the decision, so it
must only buffer: a sink that raises is logged and never loses or changes the record.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from acceptor.deadline import Deadline
from acceptor.events import Hint, SharerHint
from acceptor.outcomes import Outcome, Result, Summary, Tally, text
from acceptor.wellarchitected import OUT_OF_TIME, ListError

DecisionSink = Callable[[dict[str, Any]], None]


class Log(Protocol):
    """What the recorder writes to: the Powertools ``Logger`` in the functions."""

    def info(self, msg: str, /, *, extra: dict[str, Any]) -> Any: ...

    def warning(self, msg: str, /, *, extra: dict[str, Any]) -> Any: ...


class NullLog:
    """A log that keeps nothing, given explicitly where no audit trail is wanted (benchmarks, tests)."""

    def info(self, msg: str, /, *, extra: dict[str, Any]) -> None:
        return None

    def warning(self, msg: str, /, *, extra: dict[str, Any]) -> None:
        return None


NULL_LOG = NullLog()


class Notifier(Protocol):
    def notify(self, outcomes: list[Outcome], summary: Summary, deadline: Deadline) -> None: ...


class Recorder:
    """Records one run into its ``summary``. Thread-safe: workers record as they finish."""

    def __init__(
        self,
        summary: Summary,
        log: Log,
        *,
        notifier: Notifier | None = None,
        sinks: Sequence[DecisionSink] = (),
    ) -> None:
        self.summary = summary
        self._log = log
        self._notifier = notifier
        self._sinks = tuple(sinks)
        self._attention: list[Outcome] = []
        self._lock = threading.Lock()

    def outcome(self, outcome: Outcome) -> None:
        """Count and log one invitation's outcome; keep it for the digest when it needs a person."""
        self.summary.add(outcome)
        if outcome.needs_attention:
            with self._lock:
                self._attention.append(outcome)
        if outcome.result is Result.DEFERRED:
            self._log.info(
                "invitation deferred to the next sweep",
                extra={
                    "share_invitation_id": text(outcome.invitation.share_invitation_id),
                    "reason_detail": outcome.error_message,
                },
            )
            return
        record = outcome.record(self.summary.dry_run)
        if outcome.result is Result.FAILED:
            self._log.warning("invitation update failed", extra=record)
        else:
            self._log.info("invitation decided", extra=record)
        for sink in self._sinks:
            try:
                sink(dict(record))
            except Exception as err:  # a sink never loses or changes a record
                self._log.warning("decision sink failed", extra={"error": f"{type(err).__name__}: {err}"})

    def junk(self, resource_type: str, item: Any) -> None:
        self.summary.tally(Tally.MALFORMED_ITEMS)
        self._log.warning(
            "listed item is not an object; skipped", extra={"resource_type": resource_type, "item": repr(item)[:200]}
        )

    def listing_failed(self, resource_type: str, error: ListError) -> None:
        self.summary.listing_failed(resource_type, error)
        if error.deferred:
            late = error.code == OUT_OF_TIME
            message = "listing stopped: out of time" if late else "listing stopped: still throttled"
            self._log.info(message, extra={"resource_type": resource_type, "error": str(error)})
        else:
            self._log.warning(
                "listing invitations failed",
                extra={"resource_type": resource_type, "error": str(error), "error_code": error.code},
            )

    def lookup_failed(self, sharer: str, error: str) -> None:
        self.summary.tally(Tally.ORG_LOOKUP_FAILURES)
        self._log.warning("organizations lookup failed", extra={"shared_by": sharer, "error": error})

    def not_found(self, hint: Hint) -> None:
        self.summary.tally(Tally.NOT_FOUND)
        where = {"resource_type": hint.resource_type, "event_name": hint.event_name}
        if isinstance(hint, SharerHint):
            message, named = "no invitation of this sharer listed; left for the sweep", {"shared_by": hint.sharer}
        else:
            message, named = "invitation not listed; left for the sweep", {"share_invitation_id": hint.invitation_id}
        self._log.info(message, extra={**named, **where})

    def sharer_hint(self, hint: SharerHint) -> None:
        """A share event without a share id: counted apart, never as an invalid event."""
        self.summary.tally(Tally.SHARE_EVENTS_BY_SHARER)
        self._log.info(
            "share event has no share id; deciding the sharer's pending invitations of its type",
            extra={
                "shared_by": hint.sharer,
                "resource_type": hint.resource_type,
                "event_name": hint.event_name,
                "event_id": hint.event_id,
            },
        )

    def disagreement(self, invitation_id: str, event_account: str, listed_shared_by: Any) -> None:
        self._log.warning(
            "share event disagrees with the API; deciding on the API",
            extra={
                "share_invitation_id": invitation_id,
                "event_account": event_account,
                "listed_shared_by": text(listed_shared_by),
            },
        )

    def digest(self, deadline: Deadline) -> None:
        """Send what needs a person in one notice. A failing notifier changes and hides no decision."""
        with self._lock:
            attention = list(self._attention)
        if not attention or self._notifier is None:
            return
        try:
            self._notifier.notify(attention, self.summary, deadline)
        except Exception as err:  # the digest never changes or hides a decision
            self._log.warning("notification not sent", extra={"error": f"{type(err).__name__}: {err}"})
