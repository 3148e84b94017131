"""The core: read invitations from the API, decide each with the policy, act, record.

Handlers call ``Acceptor.sweep`` (every pending invitation) or ``Acceptor.handle_hints`` (the invitations
named by a batch of share events). Both decide only on what ``ListShareInvitations`` returned, listing
each resource type explicitly, and both stay inside the invocation's ``Deadline``.

Each decision is recorded (logged and counted in the summary) the moment its outcome is known, by the
worker that made it: a crash, a timeout or a failing neighbour loses no record.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from acceptor.deadline import Deadline
from acceptor.events import ShareHint
from acceptor.wellarchitected import (
    OUT_OF_TIME,
    RESOURCE_TYPES,
    ListError,
    ShareInvitations,
    UpdateStatus,
    min_attempt_seconds,
)
from policy import Action, Decision, Invitation, OrgAncestry, Policy, Reason, evaluate

_ACCOUNT = re.compile(r"[0-9]{12}")  # only well-formed sharers are looked up (evaluate refuses the rest)


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


class AncestryLookup(Protocol):
    def lookup(self, account_id: str, deadline: Deadline | None = None) -> OrgAncestry: ...


class Notifier(Protocol):
    def notify(self, outcomes: list[Outcome], summary: Summary, deadline: Deadline) -> None: ...


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


class Summary:
    """What one invocation did; returned by the handlers as JSON. Thread-safe."""

    def __init__(self, dry_run: bool) -> None:
        self.dry_run = dry_run
        self.invitations = 0
        self.actions: Counter[str] = Counter()
        self.results: Counter[str] = Counter()
        self.failures: list[dict[str, str | None]] = []
        self.complete = True
        self.not_found = 0
        self.list_errors: dict[str, str] = {}  # resource type -> why its listing failed
        self.not_listed: list[str] = []  # resource types not (fully) listed for want of time
        self.org_lookup_failures = 0
        self.malformed_items = 0  # listed items that were not objects: skipped
        self.answer_lost = 0
        self.ignored_events = 0  # share events naming no invitation of ours (failed calls, other accounts)
        self.invalid_events = 0
        self._lock = threading.Lock()

    def add(self, outcome: Outcome) -> None:
        with self._lock:
            self.invitations += 1
            self.results[outcome.result.value] += 1
            if outcome.decision is not None:
                self.actions[outcome.decision.action.value] += 1
            if outcome.answer_lost:
                self.answer_lost += 1
            if outcome.result is Result.FAILED:
                self.failures.append(
                    {
                        "share_invitation_id": _text(outcome.invitation.share_invitation_id),
                        "error_code": outcome.error_code,
                        "error_message": outcome.error_message,
                    }
                )
            if outcome.result is Result.DEFERRED:
                self.complete = False

    def listing_failed(self, resource_type: str, error: ListError) -> None:
        with self._lock:
            self.complete = False
            if error.code == OUT_OF_TIME:
                self.not_listed.append(resource_type)
            else:
                self.list_errors[resource_type] = str(error)

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

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
            "accept": self.actions[Action.ACCEPT.value],
            "reject": self.actions[Action.REJECT.value],
            "ignore": self.actions[Action.IGNORE.value],
            "results": {r.value: self.results[r.value] for r in Result if self.results[r.value]},
            "failed": self.failed,
            "failures": self.failures,
            "not_found": self.not_found,
            "list_error": self.list_error,
            "not_listed": sorted(self.not_listed),
            "org_lookup_failures": self.org_lookup_failures,
            "malformed_items": self.malformed_items,
            "answer_lost": self.answer_lost,
            "ignored_events": self.ignored_events,
            "invalid_events": self.invalid_events,
        }


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) or value is None else repr(value)


class Listing(NamedTuple):
    """Pending invitations as listed: by id (first seen wins), and items without a usable id."""

    by_id: dict[str, dict[str, Any]]
    unnamed: list[dict[str, Any]]
    failed_types: frozenset[str]


class HintStatus(StrEnum):
    DECIDED = "decided"  # an outcome other than failed/deferred: nothing to retry
    NOT_FOUND = "not_found"  # listed types did not hold it: left for the sweep
    RETRY = "retry"  # listing or update failed, or out of time: worth delivering again


class HintResults(NamedTuple):
    summary: Summary
    status: dict[str, HintStatus]  # invitation id -> what became of it


_RETRY_RESULTS = frozenset({Result.FAILED, Result.DEFERRED})


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

    def sweep(
        self, deadline: Deadline | None = None, summary: Summary | None = None, policy: Policy | None = None
    ) -> Summary:
        """Decide every pending invitation of every resource type, recording into ``summary`` as it goes.
        ``policy`` is this run's (the acceptor's own when None)."""
        policy = policy or self.policy
        deadline = deadline or Deadline.unlimited(self._clock)
        summary = summary or Summary(dry_run=policy.dry_run)
        # List everything first: answering invitations while paging could shift later pages. Whatever was
        # read is acted on even when another type's listing failed: each summary stands on its own.
        listing = self._list(RESOURCE_TYPES, summary, deadline)
        attention: list[Outcome] = []
        self._process(policy, [*listing.by_id.values(), *listing.unnamed], summary, deadline, attention)
        self._notify(attention, summary, deadline)
        return summary

    def handle_hints(
        self,
        hints: Sequence[ShareHint],
        deadline: Deadline | None = None,
        summary: Summary | None = None,
        *,
        policy: Policy | None = None,
        attempts: int = 1,
        wait_seconds: float = 1.0,
    ) -> HintResults:
        """Decide the invitations a batch of share events points at, as the API lists them.

        One listing per resource type the batch needs (paging stops once every hinted id of that type is
        seen); when some id is not listed yet and ``attempts`` > 1, its type is listed again after
        ``wait_seconds``. Ids never listed are left for the sweep.
        """
        policy = policy or self.policy
        deadline = deadline or Deadline.unlimited(self._clock)
        summary = summary or Summary(dry_run=policy.dry_run)
        wanted: dict[str, set[str]] = {}
        for hint in hints:
            wanted.setdefault(hint.resource_type, set()).add(hint.invitation_id)
        hinted = {hint.invitation_id for hint in hints}
        found: dict[str, dict[str, Any]] = {}
        failed_types: set[str] = set()
        for attempt in range(max(1, attempts)):
            missing = {rtype: ids - found.keys() for rtype, ids in wanted.items() if rtype not in failed_types}
            missing = {rtype: ids for rtype, ids in missing.items() if ids}
            if not missing:
                break
            if attempt > 0:
                if deadline.left() < wait_seconds + min_attempt_seconds():
                    break
                self._sleep(wait_seconds)  # a new invitation may take a moment to be listed
            listing = self._list(sorted(missing), summary, deadline, wanted=missing)
            failed_types |= listing.failed_types
            # An id listed under another type than the event named still counts: the API is authoritative.
            found.update({i: item for i, item in listing.by_id.items() if i in hinted})
        for hint in hints:
            listed = found.get(hint.invitation_id)
            if listed is not None and hint.claimed_sharer and hint.claimed_sharer != listed.get("SharedBy"):
                self._warn(
                    "share event disagrees with the API; deciding on the API",
                    share_invitation_id=hint.invitation_id,
                    event_account=hint.claimed_sharer,
                    listed_shared_by=_text(listed.get("SharedBy")),
                )
        attention: list[Outcome] = []
        outcomes = self._process(policy, list(found.values()), summary, deadline, attention)
        status: dict[str, HintStatus] = {}
        for hint in hints:
            if hint.invitation_id in status:
                continue
            outcome = outcomes.get(hint.invitation_id)
            if outcome is not None:
                status[hint.invitation_id] = (
                    HintStatus.RETRY if outcome.result in _RETRY_RESULTS else HintStatus.DECIDED
                )
            elif hint.resource_type in failed_types:
                status[hint.invitation_id] = HintStatus.RETRY
            else:
                status[hint.invitation_id] = HintStatus.NOT_FOUND
                summary.count("not_found")
                self._info(
                    "invitation not listed; left for the sweep",
                    share_invitation_id=hint.invitation_id,
                    resource_type=hint.resource_type,
                    event_name=hint.event_name,
                )
        self._notify(attention, summary, deadline)
        return HintResults(summary, status)

    # -- listing --------------------------------------------------------------------------------

    def _list(
        self,
        types: Sequence[str],
        summary: Summary,
        deadline: Deadline,
        wanted: dict[str, set[str]] | None = None,
    ) -> Listing:
        """List each type explicitly (concurrently), de-duplicated by invitation id."""
        if self._workers > 1 and len(types) > 1:
            with ThreadPoolExecutor(max_workers=min(self._workers, len(types))) as pool:
                per_type = list(pool.map(lambda t: self._list_type(t, summary, deadline, wanted), types))
        else:
            per_type = [self._list_type(t, summary, deadline, wanted) for t in types]
        by_id: dict[str, dict[str, Any]] = {}
        unnamed: list[dict[str, Any]] = []
        failed: set[str] = set()
        for rtype, (items, ok) in zip(types, per_type, strict=True):
            if not ok:
                failed.add(rtype)
            for item in items:
                inv_id = item.get("ShareInvitationId")
                if isinstance(inv_id, str):
                    by_id.setdefault(inv_id, item)
                else:
                    unnamed.append(item)
        return Listing(by_id, unnamed, frozenset(failed))

    def _list_type(
        self, rtype: str, summary: Summary, deadline: Deadline, wanted: dict[str, set[str]] | None
    ) -> tuple[list[dict[str, Any]], bool]:
        """(items, listed to the end or to every wanted id) for one resource type."""
        items: list[dict[str, Any]] = []
        still_wanted = set(wanted[rtype]) if wanted is not None else None
        try:
            for page in self._wa.pages(rtype, deadline):
                for item in page:
                    if not isinstance(item, dict):
                        summary.count("malformed_items")
                        self._warn("listed item is not an object; skipped", resource_type=rtype, item=repr(item)[:200])
                        continue
                    if item.get("ShareResourceType") is None:
                        item = {**item, "ShareResourceType": rtype}  # listed for the type that was asked
                    items.append(item)
                    if still_wanted is not None:
                        still_wanted.discard(item.get("ShareInvitationId"))
                if still_wanted is not None and not still_wanted:
                    break  # every hinted id of this type is found: the rest of the pages are not needed
        except ListError as err:
            summary.listing_failed(rtype, err)
            if err.code == OUT_OF_TIME:
                self._info("listing stopped: out of time", resource_type=rtype, error=str(err))
            else:
                self._warn("listing invitations failed", resource_type=rtype, error=str(err), error_code=err.code)
            return items, False
        return items, True

    # -- deciding -------------------------------------------------------------------------------

    def _process(
        self,
        policy: Policy,
        items: list[dict[str, Any]],
        summary: Summary,
        deadline: Deadline,
        attention: list[Outcome],
    ) -> dict[str, Outcome]:
        """Decide and act on each item; every outcome is recorded as soon as it is known."""
        ancestries = self._resolve_sharers(policy, (item.get("SharedBy") for item in items), summary, deadline)
        outcomes: dict[str, Outcome] = {}

        def work(item: dict[str, Any]) -> None:
            outcome = self._decide_and_act(policy, item, ancestries, deadline)
            self._record(outcome, summary, attention)
            inv_id = item.get("ShareInvitationId")
            if isinstance(inv_id, str):
                outcomes[inv_id] = outcome

        if self._workers == 1 or len(items) <= 1:
            for item in items:
                work(item)
        else:
            with ThreadPoolExecutor(max_workers=self._workers) as pool:
                for future in [pool.submit(work, item) for item in items]:
                    future.result()
        return outcomes

    def _resolve_sharers(
        self, policy: Policy, listed_sharers: Iterable[Any], summary: Summary, deadline: Deadline
    ) -> dict[str, OrgAncestry]:
        """Each sharer's place in the organization, looked up at most once per run."""
        if not policy.uses_ous:
            return {}
        sharers = sorted({s for s in listed_sharers if isinstance(s, str) and _ACCOUNT.fullmatch(s)})
        if self._ancestry is None:
            return {s: OrgAncestry.failed("no Organizations lookup configured") for s in sharers}
        ancestry = self._ancestry

        def lookup(sharer: str) -> OrgAncestry:
            try:
                return ancestry.lookup(sharer, deadline)
            except Exception as err:  # a lookup must never stop the run: OU rules stay undecided
                return OrgAncestry.failed(f"organizations lookup raised {type(err).__name__}: {err}")

        if self._workers > 1 and len(sharers) > 1:
            with ThreadPoolExecutor(max_workers=self._workers) as pool:
                found = dict(zip(sharers, pool.map(lookup, sharers), strict=True))
        else:
            found = {s: lookup(s) for s in sharers}
        for sharer, result in found.items():
            if result.error:
                summary.count("org_lookup_failures")
                self._warn("organizations lookup failed", shared_by=sharer, error=result.error)
        return found

    def _decide_and_act(
        self, policy: Policy, item: dict[str, Any], ancestries: dict[str, OrgAncestry], deadline: Deadline
    ) -> Outcome:
        """One invitation's outcome. Whatever goes wrong becomes its FAILED outcome; nothing is raised."""
        decision: Decision | None = None
        inv = _unreadable(item)
        try:
            inv = Invitation.from_summary(item)
            if deadline.expired():
                return Outcome(inv, None, Result.DEFERRED)
            sharer = inv.shared_by if isinstance(inv.shared_by, str) else ""
            ancestry = ancestries.get(sharer) if policy.uses_ous else None
            decision = evaluate(policy, inv, ancestry)
            if decision.action is Action.IGNORE:
                pending = (
                    Result.FOR_PRINCIPAL if decision.reason == Reason.ADDRESSED_TO_PRINCIPAL else Result.LEFT_PENDING
                )
                return Outcome(inv, decision, pending)
            if policy.dry_run:
                return Outcome(inv, decision, Result.DRY_RUN)
            if not isinstance(inv.share_invitation_id, str):
                raise TypeError("the policy decided an invitation without a string id")
            update = self._wa.update(inv.share_invitation_id, decision.action.value, deadline)
        except Exception as err:
            return Outcome(inv, decision, Result.FAILED, type(err).__name__, str(err))
        applied = Result.ACCEPTED if decision.action is Action.ACCEPT else Result.REJECTED
        if update.status is UpdateStatus.APPLIED:
            return Outcome(inv, decision, applied)
        if update.status is UpdateStatus.APPLIED_ANSWER_LOST:
            return Outcome(inv, decision, applied, update.error_code, update.message, answer_lost=True)
        if update.status is UpdateStatus.ALREADY_SETTLED:
            return Outcome(inv, decision, Result.ALREADY_SETTLED, update.error_code, update.message)
        if update.status is UpdateStatus.NOT_SENT:
            return Outcome(inv, decision, Result.DEFERRED, update.error_code, update.message)
        if update.error_code == "ValidationException" and self._no_longer_listed(inv, deadline):
            # What the service answers for an expired invitation is unverified; Validation is one guess.
            detail = f"{update.message} (no longer listed: settled, revoked or expired meanwhile)"
            return Outcome(inv, decision, Result.ALREADY_SETTLED, update.error_code, detail)
        return Outcome(inv, decision, Result.FAILED, update.error_code, update.message)

    def _no_longer_listed(self, inv: Invitation, deadline: Deadline) -> bool:
        """True only when a complete listing of the invitation's type no longer holds it."""
        if inv.resource_type not in RESOURCE_TYPES:
            return False
        try:
            for page in self._wa.pages(str(inv.resource_type), deadline):
                if any(isinstance(i, dict) and i.get("ShareInvitationId") == inv.share_invitation_id for i in page):
                    return False
        except ListError:
            return False
        return True

    def _record(self, outcome: Outcome, summary: Summary, attention: list[Outcome]) -> None:
        summary.add(outcome)
        if outcome.needs_attention:
            with summary._lock:
                attention.append(outcome)
        if outcome.result is Result.DEFERRED:
            self._info(
                "invitation deferred to the next sweep",
                share_invitation_id=_text(outcome.invitation.share_invitation_id),
                reason_detail=outcome.error_message,
            )
            return
        record = outcome.record(summary.dry_run)
        if outcome.result is Result.FAILED:
            self._warn("invitation update failed", **record)
        else:
            self._info("invitation decided", **record)

    def _notify(self, attention: list[Outcome], summary: Summary, deadline: Deadline) -> None:
        if not attention or self._notifier is None:
            return
        try:
            self._notifier.notify(attention, summary, deadline)
        except Exception as err:  # the digest never changes or hides a decision
            self._warn("notification not sent", error=f"{type(err).__name__}: {err}")

    def _info(self, message: str, **fields: Any) -> None:
        if self._log is not None:
            self._log.info(message, extra=fields)

    def _warn(self, message: str, **fields: Any) -> None:
        if self._log is not None:
            self._log.warning(message, extra=fields)


def _unreadable(item: dict[str, Any]) -> Invitation:
    """What is recorded for an item the policy model could not even read."""
    inv_id = item.get("ShareInvitationId")
    return Invitation(inv_id if isinstance(inv_id, str) else None, None, None, None, None, None, None)
