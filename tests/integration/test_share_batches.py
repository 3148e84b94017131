"""Share events in SQS batches: one listing per resource type a batch needs, one update per decided
invitation, per-message failures reported so that only those messages come back."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from handlers import share_event
from policy import RESOURCE_TYPES
from simulator import Simulator
from simulator.sharers import RECIPIENT, Share, World
from tests.support.handlers import DENIED, SECURITY, TRUSTED, UNKNOWN, components, invoke, sqs_batch
from tests.support.routed import routed_event

ROOT = Path(__file__).resolve().parents[2]


def failures(result: dict[str, Any]) -> list[str]:
    return sorted(item["itemIdentifier"] for item in result["batchItemFailures"])


def test_a_batch_of_mixed_types_costs_one_listing_per_type_and_one_update_per_decision(
    sim: Simulator, world: World
) -> None:
    shares = [world.workload(TRUSTED, f"w-{n}", "READONLY") for n in range(60)]  # two pages
    shares += [world.lens(TRUSTED, "platform-lens"), world.profile(DENIED, "vendor-profile")]
    shares.append(world.workload(UNKNOWN, "shadow", "READONLY"))
    events = [e for e in sim.events if e["detail"]["responseElements"]["ShareId"] in {s.share_id for s in shares}]
    sim.reset_stats()
    run = invoke(share_event.lambda_handler, sqs_batch(events), components(sim))
    assert run.result == {"batchItemFailures": []}
    statuses = [world.status(s) for s in shares]
    assert statuses[:61] == ["ACCEPTED"] * 61 and statuses[61:] == ["REJECTED", "PENDING"]
    # WORKLOAD: two pages; LENS and PROFILE: one page each; no TEMPLATE listing (no template in the batch)
    assert sim.stats["ListShareInvitations"] == 4
    assert sim.stats["UpdateShareInvitation"] == 62  # the unknown sharer's invitation is left pending
    assert run.metrics["InvitationsAccepted"] == 61 and run.metrics["InvitationsRejected"] == 1
    assert len(run.decisions) == 63


def test_paging_stops_once_every_hinted_id_is_found(sim: Simulator, world: World) -> None:
    shares = [world.workload(TRUSTED, f"w-{n:03d}", "READONLY") for n in range(120)]
    first_page = [e for e in sim.events if e["detail"]["responseElements"]["ShareId"] == shares[3].share_id]
    sim.reset_stats()
    invoke(share_event.lambda_handler, sqs_batch(first_page), components(sim))
    assert sim.stats["ListShareInvitations"] == 1 and world.status(shares[3]) == "ACCEPTED"


def test_only_the_messages_whose_invitations_could_not_be_decided_come_back(sim: Simulator, world: World) -> None:
    workload = world.workload(TRUSTED, "payments-api", "READONLY")
    lens = world.lens(TRUSTED, "platform-lens")
    events = list(sim.events)
    failed_call = copy.deepcopy(events[0])
    failed_call["detail"]["errorCode"] = "ValidationException"
    other = copy.deepcopy(events[0])
    other["detail"]["requestParameters"]["SharedWith"] = "999999999999"
    never_listed = copy.deepcopy(events[0])
    never_listed["detail"]["responseElements"]["ShareId"] = "f" * 32
    batch = sqs_batch([*events, failed_call, other, never_listed, "{not json", {"source": "forged"}])
    real = sim.client(account=RECIPIENT)

    class LensListingDown:
        meta = real.meta

        def list_share_invitations(self, **params: Any) -> Any:
            if params["ShareResourceType"] == "LENS":
                raise ClientError(
                    {"Error": {"Code": "AccessDeniedException"}, "ResponseMetadata": {"HTTPStatusCode": 403}}, "List"
                )
            return real.list_share_invitations(**params)

        def update_share_invitation(self, **params: Any) -> Any:
            return real.update_share_invitation(**params)

    run = invoke(share_event.lambda_handler, batch, components(sim, client=LensListingDown()))
    # Only the lens message is retried: its listing failed. The rest are done or not worth retrying.
    assert failures(run.result) == ["m-0001"]
    assert world.status(workload) == "ACCEPTED" and world.status(lens) == "PENDING"
    assert run.metrics["ShareEventsIgnored"] == 2  # the failed call and the share for another account
    assert run.metrics["InvalidEvents"] == 2  # the body that is not JSON and the forged event
    assert run.metrics["InvitationsNotFound"] == 1  # never listed: left for the sweep, not retried
    assert run.metrics["DecisionFailures"] == 1
    batch_log = run.logs("share event batch handled")[0]
    assert batch_log["messages"] == 7 and batch_log["retried_messages"] == ["m-0001"]


def test_a_batch_where_everything_fails_reports_every_message_without_raising(sim: Simulator, world: World) -> None:
    world.workload(TRUSTED, "payments-api", "READONLY")
    world.workload(TRUSTED, "ledger", "READONLY")
    real = sim.client(account=RECIPIENT)

    class UpdatesDown:
        meta = real.meta

        def list_share_invitations(self, **params: Any) -> Any:
            return real.list_share_invitations(**params)

        def update_share_invitation(self, **params: Any) -> Any:
            raise ClientError(
                {"Error": {"Code": "AccessDeniedException"}, "ResponseMetadata": {"HTTPStatusCode": 403}}, "Update"
            )

    run = invoke(share_event.lambda_handler, sqs_batch(list(sim.events)), components(sim, client=UpdatesDown()))
    assert failures(run.result) == ["m-0000", "m-0001"]
    assert run.metrics["DecisionFailures"] == 2


def test_duplicate_deliveries_in_one_batch_decide_once(sim: Simulator, world: World) -> None:
    share = world.workload(TRUSTED, "payments-api", "READONLY")
    sim.reset_stats()
    run = invoke(share_event.lambda_handler, sqs_batch([sim.events[-1]] * 3), components(sim))
    assert run.result == {"batchItemFailures": []}
    assert sim.stats["UpdateShareInvitation"] == 1 and world.status(share) == "ACCEPTED"


def test_the_sample_batch_decides_every_type_on_the_example_world() -> None:
    sim = Simulator()
    sim.load_world(ROOT / "simulator" / "worlds" / "example.json")
    batch = json.loads((ROOT / "events" / "share-batch.json").read_text())
    run = invoke(share_event.lambda_handler, batch, components(sim))
    assert run.result == {"batchItemFailures": []}
    decided = {r["share_invitation_id"]: r["resource_type"] for r in run.decisions}
    assert sorted(decided.values()) == ["LENS", "PROFILE", "TEMPLATE", "WORKLOAD"]
    assert run.metrics["ShareEventsIgnored"] == 1  # the failed call in the sample


def test_a_record_without_a_message_id_fails_alone(sim: Simulator, world: World) -> None:
    # Given a batch whose first record has no messageId, next to a valid message and one that must come back
    workload = world.workload(TRUSTED, "payments-api", "READONLY")
    lens = world.lens(TRUSTED, "platform-lens")
    batch = sqs_batch([sim.events[0], sim.events[1], sim.events[0]])
    del batch["Records"][2]["messageId"]
    real = sim.client(account=RECIPIENT)

    class LensUpdatesDown:
        meta = real.meta

        def list_share_invitations(self, **params: Any) -> Any:
            return real.list_share_invitations(**params)

        def update_share_invitation(self, **params: Any) -> Any:
            if params["ShareInvitationId"] == lens.share_id:
                raise ClientError(
                    {"Error": {"Code": "AccessDeniedException"}, "ResponseMetadata": {"HTTPStatusCode": 403}}, "U"
                )
            return real.update_share_invitation(**params)

    # When the batch is handled
    run = invoke(share_event.lambda_handler, batch, components(sim, client=LensUpdatesDown()))
    # Then the valid messages are decided, the one to retry is named, and the record without an id is only
    # counted as invalid (it cannot be named to SQS): the batch is not one invalid event
    assert run.result == {"batchItemFailures": [{"itemIdentifier": "m-0001"}]}
    assert world.status(workload) == "ACCEPTED" and world.status(lens) == "PENDING"
    assert run.metrics["InvalidEvents"] == 1 and run.metrics["DecisionFailures"] == 1
    [invalid] = run.logs("invalid event; nothing changed")
    assert invalid["invalid_reason"] == "missing_message_id" and invalid.get("message_id") is None
    assert invalid["error"] == "SQS record 2 has no messageId"
    assert run.logs("share event batch handled")[0]["retried_messages"] == ["m-0001"]


def test_a_message_nested_too_deep_fails_alone(sim: Simulator, world: World) -> None:
    share = world.workload(TRUSTED, "payments-api", "READONLY")
    batch = sqs_batch(["[" * 100_000 + "]" * 100_000, sim.events[-1]])
    run = invoke(share_event.lambda_handler, batch, components(sim))
    assert run.result == {"batchItemFailures": []} and world.status(share) == "ACCEPTED"
    [invalid] = run.logs("invalid event; nothing changed")
    assert invalid["message_id"] == "m-0000" and "nested more than" in invalid["error"]


# -- share events without a share id: a hint for their resource type and sharer ----------------------------


def _without_share_id(sim: Simulator, share_id: str) -> dict[str, Any]:
    """The simulator's share event for ``share_id``, as a CloudTrail record without ``ShareId`` would be."""
    [event] = [e for e in sim.events if e["detail"]["responseElements"].get("ShareId") == share_id]
    event = copy.deepcopy(event)
    del event["detail"]["responseElements"]["ShareId"]
    return event


def _shares_of_every_type(world: World) -> dict[tuple[str, str], list[Share]]:
    """Two shares of each type from each of two allowed sharers: a sweep would accept all sixteen."""
    make = {
        "WORKLOAD": lambda sharer, name: world.workload(sharer, name, "READONLY"),
        "LENS": world.lens,
        "PROFILE": world.profile,
        "TEMPLATE": world.template,
    }
    return {
        (rtype, sharer): [make[rtype](sharer, f"{rtype.lower()}-{sharer[:3]}-{n}") for n in range(2)]
        for rtype in RESOURCE_TYPES
        for sharer in (TRUSTED, SECURITY)
    }


@pytest.mark.parametrize("rtype", RESOURCE_TYPES)
def test_a_share_event_without_a_share_id_decides_that_sharers_invitations_of_its_type_and_no_others(
    sim: Simulator, world: World, rtype: str
) -> None:
    shares = _shares_of_every_type(world)
    event = _without_share_id(sim, shares[(rtype, TRUSTED)][0].share_id)
    sim.reset_stats()
    run = invoke(share_event.lambda_handler, sqs_batch([event]), components(sim))
    assert run.result == {"batchItemFailures": []}
    assert (sim.stats["ListShareInvitations"], sim.stats["UpdateShareInvitation"]) == (1, 2)  # one listing
    for (listed_type, sharer), group in shares.items():
        expected = "ACCEPTED" if (listed_type, sharer) == (rtype, TRUSTED) else "PENDING"
        assert [world.status(s) for s in group] == [expected, expected], (listed_type, sharer)
    assert run.metrics["ShareEventsBySharer"] == 1 and run.metrics["InvitationsAccepted"] == 2
    assert run.metrics.get("InvalidEvents", 0) == 0 and run.metrics["InvitationsNotFound"] == 0
    [hinted] = run.logs("share event has no share id; deciding the sharer's pending invitations of its type")
    assert hinted["level"] == "INFO" and (hinted["shared_by"], hinted["resource_type"]) == (TRUSTED, rtype)
    assert run.logs("share event batch handled")[0]["summary"]["share_events_by_sharer"] == 1


def test_a_share_event_without_a_share_id_invoked_alone_names_its_type_and_sharer(sim: Simulator, world: World) -> None:
    mine = [world.lens(TRUSTED, "platform-lens"), world.lens(TRUSTED, "security-lens")]
    theirs = world.lens(SECURITY, "data-lens")
    run = invoke(share_event.lambda_handler, _without_share_id(sim, mine[0].share_id), components(sim))
    assert run.result["status"] == "ok" and run.result["share_events_by_sharer"] == 1
    assert (run.result["resource_type"], run.result["shared_by"]) == ("LENS", TRUSTED)
    assert "share_invitation_id" not in run.result and run.result["invalid_events"] == 0
    assert [world.status(s) for s in mine] == ["ACCEPTED", "ACCEPTED"] and world.status(theirs) == "PENDING"
    assert run.metrics["ShareEventsBySharer"] == 1 and run.metrics.get("InvalidEvents", 0) == 0


def test_a_failed_listing_of_a_sharer_hints_type_fails_its_message_only(sim: Simulator, world: World) -> None:
    workload = world.workload(TRUSTED, "payments-api", "READONLY")
    lenses = [world.lens(TRUSTED, "platform-lens"), world.lens(SECURITY, "data-lens")]
    no_id_workload = world.workload(SECURITY, "ledger", "READONLY")
    real = sim.client(account=RECIPIENT)

    class LensListingDown:
        meta = real.meta

        def list_share_invitations(self, **params: Any) -> Any:
            if params["ShareResourceType"] == "LENS":
                raise ClientError(
                    {"Error": {"Code": "AccessDeniedException"}, "ResponseMetadata": {"HTTPStatusCode": 403}}, "List"
                )
            return real.list_share_invitations(**params)

        def update_share_invitation(self, **params: Any) -> Any:
            return real.update_share_invitation(**params)

    events = [e for e in sim.events if e["detail"]["responseElements"]["ShareId"] == workload.share_id]
    events += [_without_share_id(sim, lenses[0].share_id), _without_share_id(sim, no_id_workload.share_id)]
    sim.reset_stats()
    run = invoke(share_event.lambda_handler, sqs_batch(events), components(sim, client=LensListingDown()))
    # The lens listing failed: that message comes back. The workload id hint and the workload sharer hint
    # share one listing, and both are done.
    assert failures(run.result) == ["m-0001"]
    assert (sim.stats["ListShareInvitations"], sim.stats["UpdateShareInvitation"]) == (1, 2)  # lens: refused
    assert world.status(workload) == "ACCEPTED" and world.status(no_id_workload) == "ACCEPTED"
    assert [world.status(s) for s in lenses] == ["PENDING", "PENDING"]
    assert run.metrics["ShareEventsBySharer"] == 2 and run.metrics["DecisionFailures"] == 1
    assert run.metrics.get("InvalidEvents", 0) == 0


def test_a_present_but_malformed_share_id_is_an_invalid_event_that_changes_nothing(
    sim: Simulator, world: World
) -> None:
    share = world.workload(TRUSTED, "payments-api", "READONLY")
    event = copy.deepcopy(sim.events[-1])
    event["detail"]["responseElements"]["ShareId"] = share.share_id.upper()
    sim.reset_stats()
    run = invoke(share_event.lambda_handler, sqs_batch([event]), components(sim))
    assert run.result == {"batchItemFailures": []}  # not worth delivering again
    assert run.metrics["InvalidEvents"] == 1 and run.metrics["ShareEventsBySharer"] == 0
    assert sim.stats == {} and world.status(share) == "PENDING"


# -- the events of a sharer's router, alone and mixed with CloudTrail's -------------------------------------


def _cloudtrail(sim: Simulator, share: Share) -> dict[str, Any]:
    """The simulator's CloudTrail event for ``share``'s Create*Share call."""
    [event] = [e for e in sim.events if (e["detail"]["responseElements"] or {}).get("ShareId") == share.share_id]
    return copy.deepcopy(event)


def test_a_batch_mixing_cloudtrail_and_routed_events_decides_the_right_invitations(
    sim: Simulator, world: World
) -> None:
    # Given shares of every type, some announced by CloudTrail events, some by a sharer's router
    by_cloudtrail = world.workload(TRUSTED, "payments-api", "READONLY")
    by_router = world.lens(TRUSTED, "platform-lens")
    denied = world.profile(DENIED, "vendor-profile")
    unknown = world.template(UNKNOWN, "shadow-template")
    both = world.workload(TRUSTED, "ledger", "READONLY")  # announced twice, once by each
    hinted = [world.workload(SECURITY, f"security-{n}", "READONLY") for n in range(2)]  # routed without ShareId
    not_hinted = world.lens(SECURITY, "data-lens")  # same sharer, another type: left for the sweep
    elsewhere = world.workload(TRUSTED, "elsewhere", "READONLY", to="999999999999")
    without_id = routed_event(_cloudtrail(sim, hinted[0]))
    del without_id["detail"]["responseElements"]
    forged = routed_event(_cloudtrail(sim, by_router))
    forged["detail"]["sharedBy"] = SECURITY  # the event's account (EventBridge's) says TRUSTED
    events = [
        _cloudtrail(sim, by_cloudtrail),
        routed_event(_cloudtrail(sim, by_router)),
        routed_event(_cloudtrail(sim, denied)),
        routed_event(_cloudtrail(sim, unknown)),
        _cloudtrail(sim, both),
        routed_event(_cloudtrail(sim, both)),
        without_id,
        routed_event(_cloudtrail(sim, elsewhere)),  # sharedWithAccount 999999999999: not ours
        forged,
    ]
    assert [e["source"] for e in events].count("wa-share-acceptor.router") == 7
    sim.reset_stats()

    # When the acceptor handles them in one SQS batch
    run = invoke(share_event.lambda_handler, sqs_batch(events), components(sim))

    # Then each invitation is decided by the policy, once, whichever kind of event announced it
    assert run.result == {"batchItemFailures": []}
    assert [world.status(s) for s in (by_cloudtrail, by_router, both, *hinted)] == ["ACCEPTED"] * 5
    assert (world.status(denied), world.status(unknown), world.status(not_hinted)) == ("REJECTED", "PENDING", "PENDING")
    assert world.status(elsewhere) == "PENDING"  # another account's invitation: never listed here
    assert sim.stats["UpdateShareInvitation"] == 6  # five accepted, one rejected; ledger once
    assert run.metrics["InvitationsAccepted"] == 5 and run.metrics["InvitationsRejected"] == 1
    assert run.metrics["ShareEventsBySharer"] == 1
    assert run.metrics["ShareEventsIgnored"] == 1  # the share for another account
    assert run.metrics["InvalidEvents"] == 1  # sharedBy contradicts the event's account
    [invalid] = run.logs("invalid event; nothing changed")
    assert (invalid["invalid_reason"], invalid["message_id"]) == ("conflicting_sharer", "m-0008")
    [ignored] = run.logs("share event names no invitation of this account; ignored")
    assert (ignored["reason"], ignored["message_id"]) == ("other_account", "m-0007")


def test_a_routed_event_invoked_alone_decides_its_invitation(sim: Simulator, world: World) -> None:
    lens = world.lens(TRUSTED, "platform-lens")
    other = world.lens(TRUSTED, "security-lens")
    event = routed_event(_cloudtrail(sim, lens))
    run = invoke(share_event.lambda_handler, event, components(sim))
    assert run.result["status"] == "ok" and run.result["share_invitation_id"] == lens.share_id
    assert (world.status(lens), world.status(other)) == ("ACCEPTED", "PENDING")
    del event["detail"]["responseElements"]  # without a ShareId: the sharer's pending lenses
    run = invoke(share_event.lambda_handler, event, components(sim))
    assert (run.result["resource_type"], run.result["shared_by"]) == ("LENS", TRUSTED)
    assert world.status(other) == "ACCEPTED"


def test_the_routed_samples_decide_on_the_example_world() -> None:
    sim = Simulator()
    sim.load_world(ROOT / "simulator" / "worlds" / "example.json")
    routed = json.loads((ROOT / "events" / "routed-share.json").read_text())
    run = invoke(share_event.lambda_handler, routed, components(sim))
    assert run.result["status"] == "ok" and run.result["share_invitation_id"] == "b2c3d4e5f60718293a4b5c6d7e8f90a1"
    [decided] = run.decisions
    assert (decided["share_invitation_id"], decided["resource_type"]) == ("b2c3d4e5f60718293a4b5c6d7e8f90a1", "LENS")
    no_id = json.loads((ROOT / "events" / "routed-share-no-shareid.json").read_text())
    run = invoke(share_event.lambda_handler, no_id, components(sim))
    assert (run.result["resource_type"], run.result["shared_by"]) == ("WORKLOAD", TRUSTED)
    assert run.result["share_events_by_sharer"] == 1 and run.result["invalid_events"] == 0
