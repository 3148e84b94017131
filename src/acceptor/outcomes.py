"""What became of each invitation in a run, its decision record, and the run's typed summary."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, NamedTuple, overload

from acceptor.wellarchitected import ListError
from policy import Action, Decision, Invitation, Reason


class Result(StrEnum):
    """What became of one invitation in this run."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    LEFT_PENDING = "left_pending"  # the policy said IGNORE
    FOR_PRINCIPAL = "for_principal"  # addressed to an IAM user or role: theirs to answer, not ours
    DRY_RUN = "dry_run"  # the policy said ACCEPT or REJECT; dry run called nothing
    ALREADY_SETTLED = "already_settled"  # Conflict / ResourceNotFound: someone else settled it
    FAILED = "failed"  # the update failed; the invitation stays pending for the next sweep
    DEFERRED = "deferred"  # out of time; the next sweep decides it


class Tally(StrEnum):
    """The run's counts that are not one invitation's result."""

    NOT_FOUND = "not_found"  # hinted invitations not listed: left for the sweep
    ORG_LOOKUP_FAILURES = "org_lookup_failures"
    MALFORMED_ITEMS = "malformed_items"  # listed items that were not objects: skipped (each counted once)
    ANSWER_LOST = "answer_lost"  # applied updates whose answer was lost (the retry found them settled)
    IGNORED_EVENTS = "ignored_events"  # share events naming no invitation of ours (failed calls, other accounts)
    SHARE_EVENTS_BY_SHARER = "share_events_by_sharer"  # share events without a share id: type and sharer looked at
    INVALID_EVENTS = "invalid_events"


class Outcome(NamedTuple):
    invitation: Invitation
    decision: Decision | None
    result: Result
    error_code: str | None = None
    error_message: str | None = None
    answer_lost: bool = False  # applied by an attempt whose answer was lost (the retry found it settled)

    @property
    def needs_attention(self) -> bool:
        """Failed, or left pending by the policy itself (not for want of an Organizations answer)."""
        if self.result is Result.FAILED:
            return True
        return (
            self.result is Result.LEFT_PENDING
            and self.decision is not None
            and self.decision.reason != Reason.ORG_LOOKUP_FAILED
        )

    def record(self, dry_run: bool) -> dict[str, Any]:
        """The structured decision record logged for this invitation."""
        inv, dec = self.invitation, self.decision
        record: dict[str, Any] = {
            "share_invitation_id": inv.share_invitation_id,
            "shared_by": inv.shared_by,
            "shared_with": inv.shared_with,
            "resource_type": inv.resource_type,
            "resource_name": inv.resource_name,
            "resource_id": inv.resource_id,
            "permission_type": inv.permission_type,
            "action": dec.action.value if dec else None,
            "reason": dec.reason if dec else None,
            "reason_field": dec.field if dec else None,
            "reason_detail": dec.detail if dec else None,
            "rule": dec.rule if dec else None,
            "rule_id": dec.rule_id if dec else None,
            "result": self.result.value,
            "dry_run": dry_run,
        }
        if self.error_code:
            record["error_code"] = self.error_code
            record["error_message"] = self.error_message
        if self.answer_lost:
            record["answer_lost"] = True
        return record


class HintStatus(StrEnum):
    """What became of an invitation a share event named."""

    DECIDED = "decided"  # an outcome other than failed/deferred: nothing to retry
    NOT_FOUND = "not_found"  # listed types did not hold it: left for the sweep
    RETRY = "retry"  # listing or update failed, or out of time: worth delivering again


_RETRY_RESULTS = frozenset({Result.FAILED, Result.DEFERRED})


def hint_status(outcomes: Sequence[Outcome], *, listing_failed: bool, whole_type: bool = False) -> HintStatus:
    """What became of a hint, from the outcomes of the invitations it covers: worth delivering again (one
    failed or was deferred, or its type's listing failed before any was seen, or at all when the hint
    needs the ``whole_type``, as a sharer hint does), decided, or nothing listed for it."""
    if any(o.result in _RETRY_RESULTS for o in outcomes) or (listing_failed and (whole_type or not outcomes)):
        return HintStatus.RETRY
    return HintStatus.DECIDED if outcomes else HintStatus.NOT_FOUND


def text(value: Any) -> str | None:
    """A listed value as it may be logged: strings and None as they are, anything else shown."""
    return value if isinstance(value, str) or value is None else repr(value)


class Summary:
    """What one invocation did; returned by the handlers as JSON. Thread-safe."""

    def __init__(self, dry_run: bool) -> None:
        self.dry_run = dry_run
        self.invitations = 0
        self.failures: list[dict[str, str | None]] = []
        self.complete = True
        self.list_errors: dict[str, str] = {}  # resource type -> why its listing failed
        self.not_listed: list[str] = []  # resource types not (fully) listed for want of time
        self._results: Counter[Result] = Counter()
        self._actions: Counter[Action] = Counter()
        self._tallies: Counter[Tally] = Counter()
        self._lock = threading.Lock()

    def add(self, outcome: Outcome) -> None:
        with self._lock:
            self.invitations += 1
            self._results[outcome.result] += 1
            if outcome.decision is not None:
                self._actions[outcome.decision.action] += 1
            if outcome.answer_lost:
                self._tallies[Tally.ANSWER_LOST] += 1
            if outcome.result is Result.FAILED:
                self.failures.append(
                    {
                        "share_invitation_id": text(outcome.invitation.share_invitation_id),
                        "error_code": outcome.error_code,
                        "error_message": outcome.error_message,
                    }
                )
            if outcome.result is Result.DEFERRED:
                self.complete = False

    def listing_failed(self, resource_type: str, error: ListError) -> None:
        with self._lock:
            self.complete = False
            if error.deferred:
                self.not_listed.append(resource_type)
            else:
                self.list_errors[resource_type] = str(error)

    def tally(self, what: Tally, n: int = 1) -> None:
        with self._lock:
            self._tallies[what] += n

    @overload
    def count_of(self, what: Result) -> int: ...
    @overload
    def count_of(self, what: Action) -> int: ...
    @overload
    def count_of(self, what: Tally) -> int: ...
    def count_of(self, what: Result | Action | Tally) -> int:
        """Invitations with this result, decisions with this action, or this tally."""
        with self._lock:
            if isinstance(what, Result):
                return self._results[what]
            if isinstance(what, Action):
                return self._actions[what]
            return self._tallies[what]

    @property
    def list_error(self) -> str | None:
        """Every failed listing in one line (None when all succeeded)."""
        if not self.list_errors:
            return None
        return "; ".join(f"{rtype}: {err}" for rtype, err in sorted(self.list_errors.items()))

    @property
    def failed(self) -> int:
        return len(self.failures) + len(self.list_errors)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "complete": self.complete,
            "invitations": self.invitations,
            # What was applied (in dry run: what would be); a decision deferred or failed is not counted here.
            "accept": self.count_of(Action.ACCEPT) if self.dry_run else self.count_of(Result.ACCEPTED),
            "reject": self.count_of(Action.REJECT) if self.dry_run else self.count_of(Result.REJECTED),
            "ignore": self.count_of(Action.IGNORE),
            "deferred": self.count_of(Result.DEFERRED),
            "results": {r.value: self.count_of(r) for r in Result if self.count_of(r)},
            "failed": self.failed,
            "failures": self.failures,
            "not_found": self.count_of(Tally.NOT_FOUND),
            "list_error": self.list_error,
            "not_listed": sorted(self.not_listed),
            "org_lookup_failures": self.count_of(Tally.ORG_LOOKUP_FAILURES),
            "malformed_items": self.count_of(Tally.MALFORMED_ITEMS),
            "answer_lost": self.count_of(Tally.ANSWER_LOST),
            "ignored_events": self.count_of(Tally.IGNORED_EVENTS),
            "share_events_by_sharer": self.count_of(Tally.SHARE_EVENTS_BY_SHARER),
            "invalid_events": self.count_of(Tally.INVALID_EVENTS),
        }


class HintResults(NamedTuple):
    summary: Summary
    status: dict[str, HintStatus]  # hint.key (invitation id, or TYPE/sharer) -> what became of it
