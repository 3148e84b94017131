"""The organization-wide view: per account and region, what was accepted, rejected, left waiting for a
human (with the soonest expiry), failed, and when the last complete sweep ran.

An invitation expires 7 days after it was shared, and ``ListShareInvitations`` gives no timestamp, so its
expiry is taken from the hub's own records: the first decision event the hub holds for that invitation
(account, region, id), plus 7 days. A sweep re-decides a pending invitation every interval, so the first
event is the first sighting as long as the hub was running then; otherwise the true expiry is earlier than
shown (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from fleet.hub_log import Decision, Events, Run

INVITATION_LIFETIME = timedelta(days=7)
WAITING = frozenset({"left_pending", "for_principal"})  # left for a person by the policy, or theirs to answer


class Waiting(NamedTuple):
    account: str
    region: str
    share_invitation_id: str
    shared_by: str | None
    resource_type: str | None
    resource_name: str | None
    reason: str | None
    rule: str | None
    first_seen: datetime
    expires: datetime


class Row(NamedTuple):
    account: str
    region: str
    accepted: int
    rejected: int
    waiting: int
    soonest_expiry: datetime | None
    failed: int
    last_completed_run: datetime | None

    def as_json(self) -> dict[str, Any]:
        out = self._asdict()
        for key in ("soonest_expiry", "last_completed_run"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


def waiting(events: Events, now: datetime, interval: timedelta) -> list[Waiting]:
    """Invitations still waiting for a person, soonest expiry first.

    Still waiting: the latest event for it says so, and it was seen in the latest sweep of its account and
    region (its last sighting no older than one interval before that sweep finished), or within two
    intervals of ``now`` when no sweep is known. One that vanished was settled, revoked or expired."""
    first: dict[tuple[str, str, str], datetime] = {}
    latest: dict[tuple[str, str, str], Decision] = {}
    for d in events.decisions:
        key = (d.account, d.region, d.share_invitation_id)
        first.setdefault(key, d.time)
        latest[key] = d
    last_sweep = _last_runs(events.runs, sweeps_only=True)
    out = []
    for key, d in latest.items():
        if d.result not in WAITING:
            continue
        swept = last_sweep.get((d.account, d.region))
        horizon = swept - interval if swept else now - 2 * interval
        if d.time < horizon:
            continue
        seen = first[key]
        out.append(Waiting(*key, d.shared_by, d.resource_type, d.resource_name, d.reason, d.rule, seen,
                           seen + INVITATION_LIFETIME))  # fmt: skip
    out.sort(key=lambda w: (w.expires, w.account, w.region, w.share_invitation_id))
    return out


def expiring(events: Events, now: datetime, interval: timedelta, within: timedelta) -> list[Waiting]:
    """Waiting invitations that expire before ``now + within``, soonest first."""
    return [w for w in waiting(events, now, interval) if w.expires <= now + within]


def _last_runs(runs: Iterable[Run], *, sweeps_only: bool = False, complete_only: bool = False) -> dict[Any, datetime]:
    last: dict[tuple[str, str], datetime] = {}
    for r in runs:
        if sweeps_only and r.function != "sweep":
            continue
        if complete_only and not (r.complete and r.status == "ok"):
            continue
        key = (r.account, r.region)
        if key not in last or r.time > last[key]:
            last[key] = r.time
    return last


def table(events: Events, now: datetime, interval: timedelta) -> list[Row]:
    """One row per account and region that sent anything, sorted by account then region."""
    keys = {(d.account, d.region) for d in events.decisions} | {(r.account, r.region) for r in events.runs}
    latest: dict[tuple[str, str, str], Decision] = {}
    settled: dict[tuple[str, str], dict[str, set[str]]] = {k: {"accepted": set(), "rejected": set()} for k in keys}
    for d in events.decisions:
        latest[(d.account, d.region, d.share_invitation_id)] = d
        if d.result in ("accepted", "rejected"):
            settled[(d.account, d.region)][d.result].add(d.share_invitation_id)
    failed: dict[tuple[str, str], int] = dict.fromkeys(keys, 0)
    for (account, region, _), d in latest.items():
        if d.result == "failed":
            failed[(account, region)] += 1
    waits: dict[tuple[str, str], list[Waiting]] = {k: [] for k in keys}
    for w in waiting(events, now, interval):
        waits[(w.account, w.region)].append(w)
    completed = _last_runs(events.runs, sweeps_only=True, complete_only=True)
    return [
        Row(
            account,
            region,
            len(settled[(account, region)]["accepted"]),
            len(settled[(account, region)]["rejected"]),
            len(waits[(account, region)]),
            min((w.expires for w in waits[(account, region)]), default=None),
            failed[(account, region)],
            completed.get((account, region)),
        )
        for account, region in sorted(keys)
    ]


def silent(
    events: Events, now: datetime, interval: timedelta, accounts: Iterable[tuple[str, str]] = ()
) -> list[tuple[str, str]]:
    """Accounts and regions with no complete sweep in the last two intervals (of those heard from)."""
    completed = _last_runs(events.runs, sweeps_only=True, complete_only=True)
    keys = {(r.account, r.region) for r in events.runs} | {(d.account, d.region) for d in events.decisions}
    keys |= set(accounts)
    return sorted(k for k in keys if completed.get(k) is None or completed[k] < now - 2 * interval)


def failing_twice(events: Events) -> list[tuple[str, str]]:
    """Accounts and regions whose last two runs both ended failed or incomplete."""
    by_key: dict[tuple[str, str], list[Run]] = {}
    for r in events.runs:
        by_key.setdefault((r.account, r.region), []).append(r)
    out = []
    for key, runs in by_key.items():
        runs.sort(key=lambda r: r.time)
        if len(runs) >= 2 and all(r.status != "ok" for r in runs[-2:]):
            out.append(key)
    return sorted(out)
