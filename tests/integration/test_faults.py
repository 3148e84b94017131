"""Faults: throttling storms, 5xx errors, latency, races between an event and a sweep, running out
of time. Whatever happens, nothing is decided against the policy, every pending invitation is
eventually decided, and the metrics count what happened."""

from __future__ import annotations

import threading
import time
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from acceptor.events import InvalidEvent, parse_sweep_event
from handlers import share_event, sweep
from policy import OrgAncestry
from simulator import Faults, Simulator
from simulator.harness import LambdaContext
from tests.support.handlers import (
    DENIED,
    EXPECTED,
    SCHEDULED,
    TRUSTED,
    UNKNOWN,
    Run,
    captured,
    components,
    invoke,
    seed,
)


def check_policy_held(sim: Simulator, owners: dict[str, str], *, all_decided: bool) -> None:
    for share_id, sharer in owners.items():
        status = sim.share_status(share_id)
        if all_decided or status != "PENDING":
            assert status == EXPECTED[sharer], (share_id, sharer, status)


def total(runs: list[Run], metric: str) -> float:
    return sum(r.metrics.get(metric, 0) for r in runs)


def test_throttling_storm_backs_off_and_decides_everything(sim: Simulator) -> None:
    owners = seed(sim, 30)
    sim.faults = Faults(throttle_rps=40)
    comps = components(sim, {"MAX_WORKERS": "8"}, sleep=time.sleep)
    run = invoke(sweep.lambda_handler, SCHEDULED, comps)
    check_policy_held(sim, owners, all_decided=True)
    assert run.result["failed"] == 0
    assert sim.stats["throttled"] > 0
    assert run.metrics["InvitationsAccepted"] == 30 and run.metrics["InvitationsRejected"] == 30
    assert comps.acceptor._wa._rate.rate is not None  # the client learned to pace itself


def test_server_errors_are_retried_and_nothing_is_lost(sim: Simulator) -> None:
    owners = seed(sim, 15)
    sim.faults = Faults(error_rate=0.35, seed=11)
    comps = components(sim, {"MAX_WORKERS": "4"}, sleep=time.sleep)
    runs = []
    for _ in range(4):  # the next sweep retries what failed
        runs.append(invoke(sweep.lambda_handler, SCHEDULED, comps))
        check_policy_held(sim, owners, all_decided=False)
        if all(sim.share_status(s) != "PENDING" for s, o in owners.items() if o != UNKNOWN):
            break
    check_policy_held(sim, owners, all_decided=True)
    assert sim.stats["injected_errors"] > 0
    statuses = [sim.share_status(s) for s in owners]
    assert total(runs, "InvitationsAccepted") == statuses.count("ACCEPTED")
    assert total(runs, "InvitationsRejected") == statuses.count("REJECTED")
    assert total(runs, "DecisionFailures") == sum(r.result["failed"] for r in runs)


def test_latency_does_not_change_decisions(sim: Simulator) -> None:
    owners = seed(sim, 5)
    sim.faults = Faults(latency_s=0.01)
    invoke(sweep.lambda_handler, SCHEDULED, components(sim))
    check_policy_held(sim, owners, all_decided=True)


def test_event_and_sweep_racing_for_one_invitation(sim: Simulator) -> None:
    owners = seed(sim, 1)
    trusted = next(s for s, o in owners.items() if o == TRUSTED)
    event = next(e for e in sim.events if e["detail"]["responseElements"]["ShareId"] == trusted)
    sim.faults = Faults(latency_s=0.02)
    comps = components(sim)
    results: dict[str, Any] = {}

    def run(name: str, handler: Any, ev: Any) -> None:
        results[name] = handler(ev, LambdaContext(), components=comps)

    threads = [
        threading.Thread(target=run, args=("event", share_event.lambda_handler, event)),
        threading.Thread(target=run, args=("sweep", sweep.lambda_handler, SCHEDULED)),
    ]
    # One capture around both threads: the logger's stream and sys.stdout are process-wide.
    with captured() as capture:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sim.share_status(trusted) == "ACCEPTED"
    decided = capture.records("invitation decided") + capture.records("invitation update failed")
    records = [r for r in decided if r["share_invitation_id"] == trusted]
    assert [r["result"] for r in records].count("accepted") == 1
    assert all(r["result"] in ("accepted", "already_settled") for r in records)
    assert set(results) == {"event", "sweep"}
    assert all(result["failed"] == 0 for result in results.values())
    check_policy_held(sim, owners, all_decided=True)


def test_a_sweep_out_of_time_stops_cleanly_and_the_next_finishes(sim: Simulator) -> None:
    owners = seed(sim, 10)
    sim.faults = Faults(latency_s=0.05)
    comps = components(sim, {"MAX_WORKERS": "1", "SAFETY_MARGIN_SECONDS": "1"})
    # 2.5 s of work; no update starts with less than the shortest attempt (1.5 s) left: about 15 get done.
    short = invoke(sweep.lambda_handler, SCHEDULED, comps, LambdaContext(remaining_ms=3_500))
    assert short.result["complete"] is False
    deferred = short.result["results"]["deferred"]
    assert 0 < deferred < 30
    assert short.metrics["InvitationsDeferred"] == deferred
    assert short.logs("invitation deferred to the next sweep")
    check_policy_held(sim, owners, all_decided=False)
    full = invoke(sweep.lambda_handler, SCHEDULED, comps)
    assert full.result["complete"] is True
    check_policy_held(sim, owners, all_decided=True)


class FlakyAncestry:
    def __init__(self) -> None:
        self.calls = 0

    def lookup(self, account_id: str, deadline: object = None) -> OrgAncestry:
        self.calls += 1
        if self.calls <= 3:
            return OrgAncestry.failed("ListParents: TooManyRequestsException: rate exceeded")
        return OrgAncestry.found({"r-ab12", "ou-ab12-platform"} if account_id == UNKNOWN else {"r-ab12"})


def test_organizations_failures_leave_pending_until_a_lookup_succeeds(sim: Simulator) -> None:
    owners = seed(sim, 2)
    env = {"ALLOWED_SOURCE_OUS": "ou-ab12-platform", "ORGANIZATIONS_ROLE_ARN": "arn:aws:iam::999999999999:role/x"}
    comps = components(sim, env, ancestry=FlakyAncestry())
    first = invoke(sweep.lambda_handler, SCHEDULED, comps)
    unknown = [s for s, o in owners.items() if o == UNKNOWN]
    assert all(sim.share_status(s) == "PENDING" for s in unknown)
    assert first.metrics["OrgLookupFailures"] == 3
    assert all(sim.share_status(s) == "ACCEPTED" for s, o in owners.items() if o == TRUSTED)  # account rule
    assert all(sim.share_status(s) == "REJECTED" for s, o in owners.items() if o == DENIED)
    invoke(sweep.lambda_handler, SCHEDULED, comps)
    assert all(sim.share_status(s) == "ACCEPTED" for s in unknown)  # now known to be below the allowed OU


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
share_like = st.fixed_dictionaries(
    {
        "source": st.sampled_from(["aws.wellarchitected", "aws.events", "evil"]),
        "detail-type": st.sampled_from(["AWS API Call via CloudTrail", "Scheduled Event"]),
        "detail": st.fixed_dictionaries(
            {
                "eventName": st.sampled_from(["CreateWorkloadShare", "DeleteWorkloadShare", "x"]),
                "responseElements": st.one_of(json_values, st.fixed_dictionaries({"ShareId": st.text(max_size=40)})),
            }
        ),
    }
)


_fuzz_world: dict[str, Any] = {}


def _fuzz_setup() -> tuple[Simulator, dict[str, str], Any]:
    """One world for every example: events never change it, so it stays all pending."""
    if not _fuzz_world:
        sim = Simulator()
        _fuzz_world.update(sim=sim, owners=seed(sim, 1), comps=components(sim))
    return _fuzz_world["sim"], _fuzz_world["owners"], _fuzz_world["comps"]


def _is_sweep_request(event: Any) -> bool:
    try:
        parse_sweep_event(event)
    except InvalidEvent:
        return False
    return True


@settings(max_examples=80, deadline=None)
@given(st.one_of(json_values, share_like))
def test_fuzzed_events_change_nothing(event: Any) -> None:
    sim, owners, comps = _fuzz_setup()
    before = sim.stats.get("UpdateShareInvitation", 0)
    run = invoke(share_event.lambda_handler, event, comps)
    assert run.result["status"] in ("invalid_event", "ignored", "ok")
    if run.result["status"] == "invalid_event":
        assert run.metrics["InvalidEvents"] == 1
    if not _is_sweep_request(event):  # a scheduled event or {} is a legitimate sweep
        assert invoke(sweep.lambda_handler, event, comps).result["status"] == "invalid_event"
    assert sim.stats.get("UpdateShareInvitation", 0) == before
    assert all(sim.share_status(s) == "PENDING" for s in owners)


def test_a_second_capture_refuses_instead_of_stealing_output() -> None:
    # Given a capture running (the logger's stream and stdout are swapped process-wide)
    with captured() as outer:
        # When another capture starts, in this thread or another
        errors: list[BaseException] = []

        def start_another() -> None:
            try:
                with captured():
                    pass
            except RuntimeError as err:
                errors.append(err)

        thread = threading.Thread(target=start_another)
        thread.start()
        thread.join()
        # Then it raises and names the fix, and the first capture still receives the output
        assert len(errors) == 1 and "wrap one capture around concurrent handlers" in str(errors[0])
        print("still mine")
    assert "still mine" in outer.stdout.getvalue()
    with captured():  # and once the first has ended, a new one may start
        pass
