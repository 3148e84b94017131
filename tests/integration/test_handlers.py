"""Both handlers against the simulator: every decision path, logs and metrics asserted."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from acceptor import runtime
from acceptor.settings import ConfigurationError
from handlers import share_event, sweep
from policy import OrgAncestry
from simulator import Simulator
from simulator.harness import LambdaContext
from simulator.sharers import RECIPIENT, World
from tests.support.clients import DenyingClient, RacingClient
from tests.support.handlers import DENIED, SCHEDULED, SECURITY, TRUSTED, UNKNOWN, captured, components, invoke

EVENTS = Path(__file__).resolve().parents[2] / "events"


def statuses(world: World) -> dict[str, str]:
    return {s.name: world.status(s) for s in world.shares}


@pytest.fixture
def mixed(world: World) -> World:
    world.workload(TRUSTED, "payments-api", "READONLY")
    world.workload(TRUSTED, "ledger", "CONTRIBUTOR")
    world.lens(TRUSTED, "platform-lens")
    world.template(TRUSTED, "standard-review")
    world.profile(SECURITY, "pci-profile")
    world.workload(UNKNOWN, "shadow-analytics", "READONLY")
    world.workload(DENIED, "vendor-portal", "READONLY")
    world.profile(DENIED, "vendor-profile")
    return world


def test_sweep_decides_every_path(sim: Simulator, mixed: World) -> None:
    run = invoke(sweep.lambda_handler, SCHEDULED, components(sim))
    assert statuses(mixed) == {
        "payments-api": "ACCEPTED",
        "ledger": "PENDING",
        "platform-lens": "ACCEPTED",
        "standard-review": "ACCEPTED",
        "pci-profile": "ACCEPTED",
        "shadow-analytics": "PENDING",
        "vendor-portal": "REJECTED",
        "vendor-profile": "REJECTED",
    }
    assert run.result["status"] == "ok"
    assert (run.result["accept"], run.result["reject"], run.result["ignore"], run.result["failed"]) == (4, 2, 2, 0)
    assert run.result["dry_run"] is False and run.result["complete"] is True
    reasons = {r["resource_name"]: (r["action"], r["reason"], r["result"]) for r in run.decisions}
    assert reasons["ledger"] == ("IGNORE", "permission_not_allowed", "left_pending")
    assert reasons["shadow-analytics"] == ("IGNORE", "source_not_allowed", "left_pending")
    assert reasons["vendor-portal"] == ("REJECT", "denied_account", "rejected")
    assert reasons["payments-api"] == ("ACCEPT", "allowed_account", "accepted")
    metrics = run.metrics
    assert metrics["InvitationsAccepted"] == 4
    assert metrics["InvitationsRejected"] == 2
    assert metrics["InvitationsIgnored"] == 2
    assert metrics["DecisionFailures"] == 0
    assert ["service"] in run.metric_dimensions()


def test_decision_record_has_every_field_and_the_correlation_id(sim: Simulator, world: World) -> None:
    share = world.workload(TRUSTED, "payments-api", "READONLY")
    run = invoke(sweep.lambda_handler, SCHEDULED, components(sim))
    [record] = run.decisions
    assert record["share_invitation_id"] == share.share_id
    assert record["shared_by"] == TRUSTED
    assert record["shared_with"] == RECIPIENT
    assert record["resource_type"] == "WORKLOAD"
    assert record["resource_name"] == "payments-api"
    assert record["resource_id"] == share.resource_id
    assert record["permission_type"] == "READONLY"
    assert record["reason_field"] == "SharedBy"
    assert TRUSTED in record["reason_detail"]
    assert record["dry_run"] is False
    assert record["correlation_id"] == "sweep-event-id"
    assert record["level"] == "INFO"
    finished = run.logs("sweep finished")
    assert finished and finished[0]["summary"]["accept"] == 1


def test_non_matching_reject(sim: Simulator, mixed: World) -> None:
    invoke(sweep.lambda_handler, SCHEDULED, components(sim, {"NON_MATCHING_ACTION": "REJECT"}))
    assert statuses(mixed)["ledger"] == "REJECTED"
    assert statuses(mixed)["shadow-analytics"] == "REJECTED"
    assert statuses(mixed)["payments-api"] == "ACCEPTED"


def test_resource_type_filter(sim: Simulator, mixed: World) -> None:
    run = invoke(sweep.lambda_handler, SCHEDULED, components(sim, {"ALLOWED_RESOURCE_TYPES": "WORKLOAD"}))
    assert statuses(mixed)["platform-lens"] == "PENDING"
    assert statuses(mixed)["payments-api"] == "ACCEPTED"
    lens = next(r for r in run.decisions if r["resource_name"] == "platform-lens")
    assert lens["reason"] == "resource_type_not_allowed"


def test_dry_run_changes_nothing_but_decides_logs_and_counts(sim: Simulator, mixed: World) -> None:
    sim.reset_stats()
    run = invoke(sweep.lambda_handler, SCHEDULED, components(sim, {"DRY_RUN": "true"}))
    assert set(statuses(mixed).values()) == {"PENDING"}
    assert sim.stats.get("UpdateShareInvitation", 0) == 0
    assert run.result["dry_run"] is True
    assert (run.result["accept"], run.result["reject"]) == (4, 2)
    assert {r["result"] for r in run.decisions} == {"dry_run", "left_pending"}
    assert all(r["dry_run"] is True for r in run.decisions)
    assert run.metrics["InvitationsAccepted"] == 4
    assert ["DryRun", "service"] in [sorted(d) for d in run.metric_dimensions()]


def test_pagination_over_more_than_fifty(sim: Simulator) -> None:
    sim.load_world(
        {
            "accounts": {
                TRUSTED: {
                    "workloads": [{"name": f"workload-{n:03d}", "shares": [{"with": RECIPIENT}]} for n in range(120)]
                }
            }
        }
    )
    sim.reset_stats()
    run = invoke(sweep.lambda_handler, SCHEDULED, components(sim))
    assert run.result["accept"] == 120
    # three workload pages, one empty page per other type, and one (empty) confirming page for workloads:
    # they were answered while being paged, which may shift pages where the service pages by offset
    assert sim.stats["ListShareInvitations"] == 3 + 3 + 1
    assert sim.stats["UpdateShareInvitation"] == 120
    wa = sim.client(account=RECIPIENT)
    assert wa.list_share_invitations()["ShareInvitationSummaries"] == []


def test_empty_account_sweeps_cleanly(sim: Simulator) -> None:
    run = invoke(sweep.lambda_handler, {}, components(sim))
    assert run.result["invitations"] == 0 and run.result["failed"] == 0


@pytest.mark.parametrize("race", ["accepted_elsewhere", "revoked", "expired"])
def test_invitation_settled_between_list_and_update(sim: Simulator, world: World, race: str) -> None:
    share = world.workload(TRUSTED, "payments-api", "READONLY")
    other = sim.client(account=RECIPIENT)

    def meanwhile(invitation_id: str) -> None:
        if race == "accepted_elsewhere":
            other.update_share_invitation(ShareInvitationId=invitation_id, ShareInvitationAction="ACCEPT")
        elif race == "revoked":
            sim.client(account=TRUSTED).delete_workload_share(
                WorkloadId=share.resource_id, ShareId=share.share_id, ClientRequestToken="t"
            )
        else:
            sim.advance(7 * 24 * 3600)

    client = RacingClient(sim.client(account=RECIPIENT), meanwhile)
    run = invoke(sweep.lambda_handler, SCHEDULED, components(sim, client=client))
    [record] = run.decisions
    assert record["result"] == "already_settled"
    # The strict simulator answers ValidationException for an expired invitation; a re-read shows it gone.
    assert record["error_code"] == ("ValidationException" if sim.strict and race == "expired" else "ConflictException")
    assert run.result["failed"] == 0
    assert run.metrics["InvitationsAlreadySettled"] == 1
    assert run.metrics["DecisionFailures"] == 0


def test_failed_update_fails_that_invitation_only(sim: Simulator, world: World) -> None:
    bad = world.workload(TRUSTED, "payments-api", "READONLY")
    good = world.lens(TRUSTED, "platform-lens")
    client = DenyingClient(sim.client(account=RECIPIENT), {bad.share_id})
    run = invoke(sweep.lambda_handler, SCHEDULED, components(sim, client=client))
    assert world.status(bad) == "PENDING" and world.status(good) == "ACCEPTED"
    assert run.result["failed"] == 1
    assert run.result["failures"] == [
        {"share_invitation_id": bad.share_id, "error_code": "AccessDeniedException", "error_message": "not authorized"}
    ]
    failed = run.logs("invitation update failed")
    assert failed[0]["level"] == "WARNING" and failed[0]["error_code"] == "AccessDeniedException"
    assert run.metrics["DecisionFailures"] == 1
    assert run.metrics["InvitationsAccepted"] == 1


class BrokenListClient(RacingClient):
    def list_share_invitations(self, **kwargs: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "no"}, "ResponseMetadata": {"HTTPStatusCode": 403}},
            "ListShareInvitations",
        )


def test_list_failure_decides_nothing_and_counts_a_failure(sim: Simulator, world: World) -> None:
    share = world.workload(TRUSTED, "payments-api", "READONLY")
    client = BrokenListClient(sim.client(account=RECIPIENT), lambda _id: None)
    run = invoke(sweep.lambda_handler, SCHEDULED, components(sim, client=client))
    assert world.status(share) == "PENDING"
    assert run.result["invitations"] == 0
    assert "AccessDeniedException" in run.result["list_error"]
    assert run.metrics["DecisionFailures"] == 4  # each resource type's listing failed
    assert run.result["status"] == "failed" and run.result["complete"] is False


# ---------------------------------------------------------------- share events


@pytest.mark.parametrize("kind", ["workload", "lens", "profile", "template"])
def test_share_event_decides_its_invitation_in_one_invocation(sim: Simulator, world: World, kind: str) -> None:
    other = world.workload(TRUSTED, "other-workload", "READONLY")
    share = {
        "workload": lambda: world.workload(TRUSTED, "payments-api", "READONLY"),
        "lens": lambda: world.lens(TRUSTED, "platform-lens"),
        "profile": lambda: world.profile(TRUSTED, "pci-profile"),
        "template": lambda: world.template(TRUSTED, "standard-review"),
    }[kind]()
    event = sim.events[-1]
    run = invoke(share_event.lambda_handler, event, components(sim))
    assert world.status(share) == "ACCEPTED"
    assert world.status(other) == "PENDING"  # an event decides only its own invitation
    assert run.result["share_invitation_id"] == share.share_id
    [record] = run.decisions
    assert record["correlation_id"] == event["id"]
    assert run.metrics["InvitationsAccepted"] == 1


def test_forged_event_cannot_get_an_unknown_sharer_accepted(sim: Simulator, world: World) -> None:
    world.workload(TRUSTED, "payments-api", "READONLY")
    forged = copy.deepcopy(sim.events[-1])
    unknown = world.workload(UNKNOWN, "shadow-analytics", "READONLY")
    forged["detail"]["responseElements"]["ShareId"] = unknown.share_id
    forged["detail"]["requestParameters"]["WorkloadId"] = unknown.resource_id
    run = invoke(share_event.lambda_handler, forged, components(sim))
    assert world.status(unknown) == "PENDING"
    [record] = run.decisions
    assert record["shared_by"] == UNKNOWN and record["action"] == "IGNORE"
    [warning] = run.logs("share event disagrees with the API; deciding on the API")
    assert warning["event_account"] == TRUSTED and warning["listed_shared_by"] == UNKNOWN
    rejecting = invoke(share_event.lambda_handler, forged, components(sim, {"NON_MATCHING_ACTION": "REJECT"}))
    assert world.status(unknown) == "REJECTED"  # decided on the API's sharer, by policy
    assert rejecting.decisions[0]["reason"] == "source_not_allowed"


def test_forged_event_for_a_denied_sharer_claiming_trust_is_rejected(sim: Simulator, world: World) -> None:
    denied = world.workload(DENIED, "vendor-portal", "READONLY")
    forged = copy.deepcopy(sim.events[-1])
    forged["account"] = TRUSTED
    forged["detail"]["userIdentity"]["accountId"] = TRUSTED
    invoke(share_event.lambda_handler, forged, components(sim))
    assert world.status(denied) == "REJECTED"


def test_share_event_for_an_invitation_not_listed_is_left_for_the_sweep(sim: Simulator) -> None:
    event = json.loads((EVENTS / "share-workload.json").read_text())
    sim.reset_stats()
    run = invoke(share_event.lambda_handler, event, components(sim))
    assert run.result["not_found"] == 1 and run.result["invitations"] == 0
    assert run.logs("invitation not listed; left for the sweep")
    assert run.metrics["InvitationsNotFound"] == 1
    assert sim.stats.get("UpdateShareInvitation", 0) == 0
    assert sim.stats["ListShareInvitations"] == 2  # looked twice: a new invitation may take a moment


def test_share_event_for_another_account_is_not_ours(sim: Simulator, world: World) -> None:
    share = world.workload(TRUSTED, "payments-api", "READONLY", to="666666666666")
    sim.reset_stats()
    run = invoke(share_event.lambda_handler, sim.events[-1], components(sim))
    assert run.result["status"] == "ignored" and run.result["reason"] == "other_account"
    assert run.metrics["ShareEventsIgnored"] == 1 and "InvalidEvents" not in run.metrics
    assert run.logs("share event names no invitation of this account; ignored")
    assert sim.stats.get("ListShareInvitations", 0) == 0  # nothing to look for
    assert world.status(share) == "PENDING"


def test_share_event_for_another_account_is_looked_up_when_our_account_is_unknown(
    sim: Simulator, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    share = world.workload(TRUSTED, "payments-api", "READONLY", to="666666666666")
    monkeypatch.setenv("AWS_SAM_LOCAL", "true")  # `sam local invoke`: the context's account is a placeholder
    run = invoke(share_event.lambda_handler, sim.events[-1], components(sim))
    assert run.result["not_found"] == 1  # our listing does not hold another account's invitation
    assert world.status(share) == "PENDING"


@pytest.mark.parametrize("name", ["malformed-share.json", "scheduled-sweep.json"])
def test_malformed_or_misrouted_events_change_nothing(sim: Simulator, world: World, name: str) -> None:
    share = world.workload(TRUSTED, "payments-api", "READONLY")
    sim.reset_stats()
    run = invoke(share_event.lambda_handler, json.loads((EVENTS / name).read_text()), components(sim))
    assert run.result["status"] == "invalid_event"
    assert run.result["reason"] in ("malformed_share_id", "unexpected_source")
    assert run.metrics["InvalidEvents"] == 1
    assert run.logs("invalid event; nothing changed")[0]["level"] == "ERROR"
    assert sim.stats == {}
    assert world.status(share) == "PENDING"


def test_sweep_refuses_share_events(sim: Simulator, world: World) -> None:
    world.workload(TRUSTED, "payments-api", "READONLY")
    sim.reset_stats()
    run = invoke(sweep.lambda_handler, sim.events[-1], components(sim))
    assert run.result["status"] == "invalid_event"
    assert sim.stats == {}


# ---------------------------------------------------------------- configuration


def test_invalid_configuration_stops_before_touching_anything(
    sim: Simulator, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    share = world.workload(TRUSTED, "payments-api", "READONLY")
    monkeypatch.setenv("ALLOWED_SOURCE_ACCOUNTS", "22222222222")
    monkeypatch.setenv("DRY_RUN", "maybe")
    runtime.reset()
    sim.reset_stats()
    with captured() as capture, pytest.raises(ConfigurationError) as err:
        sweep.lambda_handler(SCHEDULED, LambdaContext())
    assert "ALLOWED_SOURCE_ACCOUNTS: '22222222222'" in str(err.value)
    assert "DRY_RUN: 'maybe'" in str(err.value)
    [log] = capture.records("invalid configuration; no invitation was touched")
    assert len(log["problems"]) == 2
    assert sim.stats == {}
    assert world.status(share) == "PENDING"
    runtime.reset()


def test_ou_rules_without_a_role_are_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="ORGANIZATIONS_ROLE_ARN is empty"):
        components(Simulator(), {"ALLOWED_SOURCE_OUS": "ou-ab12-abcdefgh"})


# ---------------------------------------------------------------- OU rules through the engine


class FakeAncestry:
    def __init__(self, places: dict[str, OrgAncestry]) -> None:
        self.places = places
        self.lookups: list[str] = []

    def lookup(self, account_id: str, deadline: object = None) -> OrgAncestry:
        self.lookups.append(account_id)
        return self.places.get(account_id, OrgAncestry.failed("ListParents: ChildNotFoundException"))


OU_ENV = {
    "ALLOWED_SOURCE_ACCOUNTS": "",
    "ALLOWED_SOURCE_OUS": "ou-ab12-platform",
    "DENIED_SOURCE_OUS": "ou-ab12-vendorsx",
    "ORGANIZATIONS_ROLE_ARN": "arn:aws:iam::999999999999:role/lookup",
}


def test_ou_rules_decide_through_the_lookup_once_per_sharer(sim: Simulator, world: World) -> None:
    a = world.workload(TRUSTED, "payments-api", "READONLY")
    b = world.lens(TRUSTED, "platform-lens")
    c = world.workload(DENIED, "vendor-portal", "READONLY")
    d = world.workload(UNKNOWN, "shadow-analytics", "READONLY")
    ancestry = FakeAncestry(
        {
            TRUSTED: OrgAncestry.found({"r-ab12", "ou-ab12-platform"}),
            DENIED: OrgAncestry.found({"r-ab12", "ou-ab12-vendorsx"}),
        }
    )
    run = invoke(sweep.lambda_handler, SCHEDULED, components(sim, OU_ENV, ancestry=ancestry))
    assert [world.status(s) for s in (a, b, c, d)] == ["ACCEPTED", "ACCEPTED", "REJECTED", "PENDING"]
    assert sorted(ancestry.lookups) == sorted([TRUSTED, DENIED, UNKNOWN])
    unknown = next(r for r in run.decisions if r["shared_by"] == UNKNOWN)
    assert unknown["reason"] == "org_lookup_failed" and "ChildNotFoundException" in unknown["reason_detail"]
    assert run.result["org_lookup_failures"] == 1
    assert run.metrics["OrgLookupFailures"] == 1
    assert run.logs("organizations lookup failed")[0]["shared_by"] == UNKNOWN


# ---------------------------------------------------------------- re-opened shares


@pytest.mark.parametrize(("allowed", "after"), [("READONLY", "PENDING"), ("READONLY,CONTRIBUTOR", "ACCEPTED")])
def test_a_share_modified_after_acceptance_is_decided_again(
    sim: Simulator, world: World, allowed: str, after: str
) -> None:
    # Given a READONLY workload share the policy accepted
    share = world.workload(TRUSTED, "payments-api", "READONLY")
    comps = components(sim, {"ALLOWED_PERMISSION_TYPES": allowed})
    invoke(sweep.lambda_handler, SCHEDULED, comps)
    assert world.status(share) == "ACCEPTED"
    # When the sharer raises it to CONTRIBUTOR, the same invitation is pending again
    world.modify_workload_share(share, "CONTRIBUTOR")
    assert world.status(share) == "PENDING"
    # Then the next sweep decides it again, on the new permission
    run = invoke(sweep.lambda_handler, SCHEDULED, comps)
    [record] = run.decisions
    assert record["share_invitation_id"] == share.share_id and record["permission_type"] == "CONTRIBUTOR"
    assert world.status(share) == after
    if after == "PENDING":
        assert record["reason"] == "permission_not_allowed"


def test_a_validation_error_for_an_invitation_still_listed_is_a_failure(sim: Simulator, world: World) -> None:
    share = world.workload(TRUSTED, "payments-api", "READONLY")
    real = sim.client(account=RECIPIENT)

    class Refusing(RacingClient):
        def update_share_invitation(self, **kwargs: Any) -> Any:
            raise ClientError(
                {
                    "Error": {"Code": "ValidationException", "Message": "bad"},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                },
                "UpdateShareInvitation",
            )

    run = invoke(sweep.lambda_handler, SCHEDULED, components(sim, client=Refusing(real, None)))
    [record] = run.decisions
    assert record["result"] == "failed" and record["error_code"] == "ValidationException"
    assert world.status(share) == "PENDING" and run.metrics["DecisionFailures"] == 1


# ---------------------------------------------------------------- invitations addressed to a person


def test_an_invitation_addressed_to_an_iam_user_is_left_to_that_user(sim: Simulator, world: World) -> None:
    # Given shares to an IAM user of this account, from a trusted and from a denied sharer
    alice = f"arn:aws:iam::{RECIPIENT}:user/alice"
    trusted = world.workload(TRUSTED, "payments-api", "READONLY", to=alice)
    denied = world.workload(DENIED, "vendor-portal", "READONLY", to=alice)
    published: list[Any] = []

    class Digest:
        def notify(self, outcomes: list[Any], summary: Any, deadline: Any) -> None:
            published.extend(outcomes)

    comps = components(sim, {"NON_MATCHING_ACTION": "REJECT"}, notifier=Digest())
    sim.reset_stats()
    run = invoke(sweep.lambda_handler, SCHEDULED, comps)
    # Then neither is accepted nor rejected (the strict simulator would answer AccessDenied): they are alice's
    assert world.status(trusted) == "PENDING" and world.status(denied) == "PENDING"
    assert sim.stats.get("UpdateShareInvitation", 0) == 0
    assert {r["reason"] for r in run.decisions} == {"addressed_to_principal"}
    assert {r["result"] for r in run.decisions} == {"for_principal"}
    # And they are counted, but are no failure, raise no alarm and stay out of the digest
    assert run.metrics["InvitationsForPrincipals"] == 2
    assert run.metrics["DecisionFailures"] == 0 and run.metrics.get("InvitationsIgnored", 0) == 0
    assert run.result["status"] == "ok" and published == []
