"""The orchestration: read the invitations, decide each with the policy, act on the decision, record it.

Handlers call ``Acceptor.sweep`` (every pending invitation) or ``Acceptor.handle_hints`` (the invitations
a batch of share events names, or whose type and sharer it names), each with the run's policy. Both
decide only on what ``ListShareInvitations`` returned (``listing``), stay inside the invocation's
``Deadline``, and record each outcome the moment it is known (``recorder``), on the worker that made it:
a crash, a timeout or a failing neighbour loses no record.

A sweep reads in passes (``sweep_reading``, at most ``SWEEP_PASSES``), each a pipeline that settles every
page as soon as it arrives; a type that shifted under its reader is listed again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, NamedTuple, Protocol

from acceptor.deadline import Deadline
from acceptor.events import Hint, ShareHint, SharerHint
from acceptor.fanout import Threads
from acceptor.listing import Lister, asked_by
from acceptor.organizations import ancestries_of
from acceptor.outcomes import HintResults, HintStatus, Outcome, Result, Summary, hint_status
from acceptor.recorder import DecisionSink, Log, Notifier, Recorder
from acceptor.sweep_reading import SweepReading
from acceptor.wellarchitected import ShareInvitations, UpdateStatus
from policy import RESOURCE_TYPES, Action, Decision, Invitation, OrgAncestry, Policy, Reason, evaluate


class AncestryLookup(Protocol):
    def lookup(self, account_id: str, deadline: Deadline | None = None) -> OrgAncestry: ...


_APPLIED = {Action.ACCEPT: Result.ACCEPTED, Action.REJECT: Result.REJECTED}
SWEEP_PASSES = 8  # under offset paging each pass finds about half of what the last one skipped


class _Run(NamedTuple):
    """What one run carries to every stage."""

    policy: Policy
    deadline: Deadline
    recorder: Recorder
    lister: Lister


class Acceptor:
    def __init__(
        self,
        invitations: ShareInvitations,
        *,
        log: Log,
        ancestry: AncestryLookup | None = None,
        notifier: Notifier | None = None,
        sinks: Sequence[DecisionSink] = (),
        max_workers: int = 4,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._wa = invitations
        self._ancestry = ancestry
        self._log = log
        self._notifier = notifier
        self._sinks = tuple(sinks)
        self._workers = max(1, max_workers)
        self._fan_out = Threads(max_workers)
        self._clock = clock
        self._sleep = sleep

    # -- entry points ---------------------------------------------------------------------------

    def sweep(self, policy: Policy, deadline: Deadline | None = None, summary: Summary | None = None) -> Summary:
        """Decide every pending invitation of every resource type, recording into ``summary`` as it goes."""
        run = self._start(policy, deadline, summary)
        lookup = (lambda items: self._ancestries(run, items)) if policy.uses_ous else None
        reading = SweepReading(run.lister, lookup=lookup, on_failure=run.recorder.listing_failed)
        settle = partial(self._recorded, run, ancestries=reading.ancestries)
        reading.read(RESOURCE_TYPES, settle, workers=self._workers, passes=SWEEP_PASSES, expired=run.deadline.expired)
        run.recorder.digest(run.deadline)
        return run.recorder.summary

    def handle_hints(
        self,
        policy: Policy,
        hints: Sequence[Hint],
        deadline: Deadline | None = None,
        summary: Summary | None = None,
        *,
        attempts: int = 1,
        wait_seconds: float = 1.0,
    ) -> HintResults:
        """Decide the invitations a batch of share events points at, as the API lists them.

        One listing per resource type the batch needs (paging stops once every hinted id of that type is
        seen, unless a sharer hint needs the whole type); when some id, or every invitation of a hinted
        sharer, is not listed yet and ``attempts`` > 1, its type is listed again after ``wait_seconds``.
        Whatever is not listed is left for the sweep.
        """
        run = self._start(policy, deadline, summary)
        for hint in hints:
            if isinstance(hint, SharerHint):
                run.recorder.sharer_hint(hint)
        ids, sharers = asked_by(hints)
        found = run.lister.find(ids, sharers=sharers, attempts=attempts, wait_seconds=wait_seconds, sleep=self._sleep)
        for hint in hints:
            listed = found.by_id.get(hint.key)
            if isinstance(hint, ShareHint) and listed and hint.claimed_sharer not in (None, listed.get("SharedBy")):
                run.recorder.disagreement(hint.invitation_id, str(hint.claimed_sharer), listed.get("SharedBy"))
        outcomes = self._settle_all(run, found.by_id)
        status: dict[str, HintStatus] = {}
        for hint in hints:
            if hint.key not in status:
                mine = [outcomes[i] for i in found.ids_for(hint) if i in outcomes]
                failed = hint.resource_type in found.errors
                status[hint.key] = hint_status(mine, listing_failed=failed, whole_type=isinstance(hint, SharerHint))
                if status[hint.key] is HintStatus.NOT_FOUND:
                    run.recorder.not_found(hint)
        run.recorder.digest(run.deadline)
        return HintResults(run.recorder.summary, status)

    def _start(self, policy: Policy, deadline: Deadline | None, summary: Summary | None) -> _Run:
        deadline = deadline or Deadline.unlimited(self._clock)
        summary = summary or Summary(dry_run=policy.dry_run)
        recorder = Recorder(summary, self._log, notifier=self._notifier, sinks=self._sinks)
        lister = Lister(
            self._wa, deadline, on_junk=recorder.junk, on_failure=recorder.listing_failed, fan_out=self._fan_out
        )
        return _Run(policy, deadline, recorder, lister)

    # -- the stages -------------------------------------------------------------------------------

    def _settle_all(self, run: _Run, by_id: dict[str, dict[str, Any]]) -> dict[str, Outcome]:
        """Settle each listed invitation (fanned out); each outcome is recorded by the worker that settled it."""
        items = list(by_id.values())
        outcomes = self._fan_out(partial(self._recorded, run, ancestries=self._ancestries(run, items)), items)
        return dict(zip(by_id, outcomes, strict=True))

    def _recorded(self, run: _Run, item: dict[str, Any], ancestries: Mapping[str, OrgAncestry]) -> Outcome:
        """Settle one item and record its outcome, on the worker that settled it."""
        outcome = self._settle(run, item, ancestries)
        run.recorder.outcome(outcome)
        return outcome

    def _ancestries(self, run: _Run, items: list[dict[str, Any]]) -> dict[str, OrgAncestry]:
        """Each sharer's place in the organization, looked up at most once per run (only for OU rules)."""
        if not run.policy.uses_ous:
            return {}
        ancestry, deadline = self._ancestry, run.deadline
        lookup = None if ancestry is None else (lambda sharer: ancestry.lookup(sharer, deadline))
        found = ancestries_of((item.get("SharedBy") for item in items), lookup, fan_out=self._fan_out)
        for sharer, answer in found.items():
            if answer.error and lookup is not None:  # no lookup configured is a setting, not a failed call
                run.recorder.lookup_failed(sharer, answer.error)
        return found

    def _settle(self, run: _Run, item: dict[str, Any], ancestries: Mapping[str, OrgAncestry]) -> Outcome:
        """One invitation's outcome: read, decide, act. Whatever goes wrong becomes its FAILED outcome."""
        inv, decision = _unreadable(item), None
        try:
            inv = Invitation.from_summary(item)
            if run.deadline.expired():
                return Outcome(inv, None, Result.DEFERRED)
            decision = _decide(run.policy, inv, ancestries)
            return self._act(run, inv, decision)
        except Exception as err:
            return Outcome(inv, decision, Result.FAILED, type(err).__name__, str(err))

    def _act(self, run: _Run, inv: Invitation, decision: Decision) -> Outcome:
        """Carry the decision out: the only place that updates an invitation."""
        if decision.action is Action.IGNORE:
            by_principal = decision.reason == Reason.ADDRESSED_TO_PRINCIPAL
            return Outcome(inv, decision, Result.FOR_PRINCIPAL if by_principal else Result.LEFT_PENDING)
        if run.policy.dry_run:
            return Outcome(inv, decision, Result.DRY_RUN)
        if not isinstance(inv.share_invitation_id, str):
            raise TypeError("the policy decided an invitation without a string id")
        update = self._wa.update(inv.share_invitation_id, decision.action.value, run.deadline)
        code, message = update.error_code, update.message
        if update.status is UpdateStatus.APPLIED:
            return Outcome(inv, decision, _APPLIED[decision.action])
        if update.status is UpdateStatus.APPLIED_ANSWER_LOST:
            return Outcome(inv, decision, _APPLIED[decision.action], code, message, answer_lost=True)
        if update.status is UpdateStatus.ALREADY_SETTLED:
            return Outcome(inv, decision, Result.ALREADY_SETTLED, code, message)
        if update.status in (UpdateStatus.NOT_SENT, UpdateStatus.THROTTLED, UpdateStatus.OUT_OF_TIME):
            # The budget ran out, or the service's rate limit worked as designed: the next run decides it,
            # nobody is paged.
            return Outcome(inv, decision, Result.DEFERRED, code, message)
        if (
            code == "ValidationException"
            and run.lister.still_listed(inv.share_invitation_id, str(inv.resource_type)) is False
        ):
            # What the service answers for an expired invitation is unverified; Validation is one guess.
            detail = f"{message} (no longer listed: settled, revoked or expired meanwhile)"
            return Outcome(inv, decision, Result.ALREADY_SETTLED, code, detail)
        return Outcome(inv, decision, Result.FAILED, code, message)


def _decide(policy: Policy, inv: Invitation, ancestries: Mapping[str, OrgAncestry]) -> Decision:
    """The policy's decision for one invitation (pure)."""
    sharer = inv.shared_by if isinstance(inv.shared_by, str) else ""
    return evaluate(policy, inv, ancestries.get(sharer) if policy.uses_ous else None)


def _unreadable(item: dict[str, Any]) -> Invitation:
    """What is recorded for an item the policy model could not even read."""
    inv_id = item.get("ShareInvitationId")
    return Invitation(inv_id if isinstance(inv_id, str) else None, None, None, None, None, None, None)
