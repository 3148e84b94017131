"""The core: read invitations from the API, decide each with the policy, act, record.

Handlers call ``Acceptor.sweep`` (every pending invitation) or ``Acceptor.handle_hint`` (one invitation
named by a share event). Both decide only on what ``ListShareInvitations`` returned.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from acceptor.events import ShareHint
from acceptor.wellarchitected import ListError, ShareInvitations, UpdateStatus
from policy import Action, Decision, Invitation, OrgAncestry, Policy, Reason, evaluate


class Result(StrEnum):
    """What became of one invitation in this run."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    LEFT_PENDING = "left_pending"  # the policy said IGNORE
    DRY_RUN = "dry_run"  # the policy said ACCEPT or REJECT; dry run called nothing
    ALREADY_SETTLED = "already_settled"  # Conflict / ResourceNotFound: someone else settled it
    FAILED = "failed"  # the update failed; the invitation stays pending for the next sweep
    DEFERRED = "deferred"  # out of time; the next sweep decides it


class AncestryLookup(Protocol):
    def lookup(self, account_id: str) -> OrgAncestry: ...


class Notifier(Protocol):
    def notify(self, outcomes: list[Outcome], summary: Summary) -> None: ...


class Outcome(NamedTuple):
    invitation: Invitation
    decision: Decision | None
    result: Result
    error_code: str | None = None
    error_message: str | None = None

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
            "result": self.result.value,
            "dry_run": dry_run,
        }
        if self.error_code:
            record["error_code"] = self.error_code
            record["error_message"] = self.error_message
        return record


class Summary:
    """What one invocation did; returned by the handlers as JSON."""

    def __init__(self, dry_run: bool) -> None:
        self.dry_run = dry_run
        self.invitations = 0
        self.actions: Counter[str] = Counter()
        self.results: Counter[str] = Counter()
        self.failures: list[dict[str, str | None]] = []
        self.complete = True
        self.not_found = 0
        self.list_error: str | None = None
        self.org_lookup_failures = 0

    def add(self, outcome: Outcome) -> None:
        self.invitations += 1
        self.results[outcome.result.value] += 1
        if outcome.decision is not None:
            self.actions[outcome.decision.action.value] += 1
        if outcome.result is Result.FAILED:
            self.failures.append(
                {
                    "share_invitation_id": outcome.invitation.share_invitation_id,
                    "error_code": outcome.error_code,
                    "error_message": outcome.error_message,
                }
            )
        if outcome.result is Result.DEFERRED:
            self.complete = False

    @property
    def failed(self) -> int:
        return len(self.failures) + (1 if self.list_error else 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "complete": self.complete,
            "invitations": self.invitations,
            "accept": self.actions[Action.ACCEPT.value],
            "reject": self.actions[Action.REJECT.value],
            "ignore": self.actions[Action.IGNORE.value],
            "results": {r.value: self.results[r.value] for r in Result if self.results[r.value]},
            "failed": self.failed,
            "failures": self.failures,
            "not_found": self.not_found,
            "list_error": self.list_error,
            "org_lookup_failures": self.org_lookup_failures,
        }


class Acceptor:
    def __init__(
        self,
        policy: Policy,
        invitations: ShareInvitations,
        *,
        ancestry: AncestryLookup | None = None,
        log: Any = None,
        notifier: Notifier | None = None,
        max_workers: int = 4,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy
        self._wa = invitations
        self._ancestry = ancestry
        self._log = log
        self._notifier = notifier
        self._workers = max(1, max_workers)
        self._clock = clock
        self._sleep = sleep

    # -- entry points ---------------------------------------------------------------------------

    def sweep(self, deadline: float | None = None) -> Summary:
        """Decide every pending invitation. ``deadline`` is a ``clock()`` value to stop before."""
        summary = Summary(dry_run=self.policy.dry_run)
        pending: dict[str, dict[str, Any]] = {}
        unnamed: list[dict[str, Any]] = []
        try:
            # List everything first: answering invitations while paging could shift later pages.
            for page in self._wa.pages():
                for item in page:
                    inv_id = item.get("ShareInvitationId")
                    if isinstance(inv_id, str):
                        pending.setdefault(inv_id, item)
                    else:
                        unnamed.append(item)
                if self._out_of_time(deadline):
                    summary.complete = False
                    break
        except ListError as err:
            summary.list_error = str(err)
            self._warn("listing invitations failed", error=str(err), error_code=err.code)
        self._process([*pending.values(), *unnamed], summary, deadline)
        return summary

    def handle_hint(self, hint: ShareHint, *, attempts: int = 2, wait_seconds: float = 1.0) -> Summary:
        """Decide the one invitation a share event points at, as the API lists it."""
        summary = Summary(dry_run=self.policy.dry_run)
        found: dict[str, Any] | None = None
        try:
            for attempt in range(attempts):
                found = self._find(hint)
                if found is not None or attempt == attempts - 1:
                    break
                self._sleep(wait_seconds)  # a new invitation may take a moment to be listed
        except ListError as err:
            summary.list_error = str(err)
            self._warn(
                "listing invitations failed",
                error=str(err),
                error_code=err.code,
                share_invitation_id=hint.invitation_id,
            )
            return summary
        if found is None:
            summary.not_found = 1
            self._info(
                "invitation not listed; left for the sweep",
                share_invitation_id=hint.invitation_id,
                resource_type=hint.resource_type,
                event_name=hint.event_name,
            )
            return summary
        listed_sharer = found.get("SharedBy")
        if hint.claimed_sharer and hint.claimed_sharer != listed_sharer:
            self._warn(
                "share event disagrees with the API; deciding on the API",
                share_invitation_id=hint.invitation_id,
                event_account=hint.claimed_sharer,
                listed_shared_by=listed_sharer,
            )
        self._process([found], summary, None)
        return summary

    # -- internals ------------------------------------------------------------------------------

    def _find(self, hint: ShareHint) -> dict[str, Any] | None:
        for page in self._wa.pages(hint.resource_type):
            for item in page:
                if item.get("ShareInvitationId") == hint.invitation_id:
                    return item
        return None

    def _out_of_time(self, deadline: float | None) -> bool:
        return deadline is not None and self._clock() >= deadline

    def _process(self, items: list[dict[str, Any]], summary: Summary, deadline: float | None) -> None:
        invitations = [Invitation.from_summary(item) for item in items]
        ancestries = self._resolve_sharers(invitations, summary)
        if self._workers == 1 or len(invitations) <= 1:
            outcomes: Iterable[Outcome] = [self._decide_and_act(i, ancestries, deadline) for i in invitations]
        else:
            with ThreadPoolExecutor(max_workers=self._workers) as pool:
                outcomes = list(pool.map(lambda i: self._decide_and_act(i, ancestries, deadline), invitations))
        to_notify: list[Outcome] = []
        for outcome in outcomes:
            summary.add(outcome)
            self._record(outcome)
            if outcome.needs_attention:
                to_notify.append(outcome)
        if to_notify and self._notifier is not None:
            self._notifier.notify(to_notify, summary)

    def _resolve_sharers(self, invitations: list[Invitation], summary: Summary) -> dict[str, OrgAncestry]:
        """Each sharer's place in the organization, looked up at most once per run."""
        if not self.policy.uses_ous:
            return {}
        sharers = sorted({i.shared_by for i in invitations if i.shared_by})
        if self._ancestry is None:
            return {s: OrgAncestry.failed("no Organizations lookup configured") for s in sharers}
        lookup = self._ancestry.lookup
        if self._workers > 1 and len(sharers) > 1:
            with ThreadPoolExecutor(max_workers=self._workers) as pool:
                found = dict(zip(sharers, pool.map(lookup, sharers), strict=True))
        else:
            found = {s: lookup(s) for s in sharers}
        for sharer, ancestry in found.items():
            if ancestry.error:
                summary.org_lookup_failures += 1
                self._warn("organizations lookup failed", shared_by=sharer, error=ancestry.error)
        return found

    def _decide_and_act(self, inv: Invitation, ancestries: dict[str, OrgAncestry], deadline: float | None) -> Outcome:
        if self._out_of_time(deadline):
            return Outcome(inv, None, Result.DEFERRED)
        ancestry = ancestries.get(inv.shared_by or "") if self.policy.uses_ous else None
        decision = evaluate(self.policy, inv, ancestry)
        if decision.action is Action.IGNORE:
            return Outcome(inv, decision, Result.LEFT_PENDING)
        if self.policy.dry_run:
            return Outcome(inv, decision, Result.DRY_RUN)
        assert inv.share_invitation_id is not None  # evaluate ignores invitations without an id
        update = self._wa.update(inv.share_invitation_id, decision.action.value)
        if update.status is UpdateStatus.APPLIED:
            result = Result.ACCEPTED if decision.action is Action.ACCEPT else Result.REJECTED
            return Outcome(inv, decision, result)
        if update.status is UpdateStatus.ALREADY_SETTLED:
            return Outcome(inv, decision, Result.ALREADY_SETTLED, update.error_code, update.message)
        return Outcome(inv, decision, Result.FAILED, update.error_code, update.message)

    def _record(self, outcome: Outcome) -> None:
        if outcome.result is Result.DEFERRED:
            self._info(
                "invitation deferred to the next sweep", share_invitation_id=outcome.invitation.share_invitation_id
            )
            return
        record = outcome.record(self.policy.dry_run)
        if outcome.result is Result.FAILED:
            self._warn("invitation update failed", **record)
        else:
            self._info("invitation decided", **record)

    def _info(self, message: str, **fields: Any) -> None:
        if self._log is not None:
            self._log.info(message, extra=fields)

    def _warn(self, message: str, **fields: Any) -> None:
        if self._log is not None:
            self._log.warning(message, extra=fields)
