"""OU rules through AWS Organizations (moto's Organizations and STS), alone and through the sweep."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber
from moto import mock_aws

from acceptor.organizations import MAX_ATTEMPTS, OrgAncestryResolver
from handlers import share_event, sweep
from simulator import Simulator
from simulator.sharers import World
from tests.support.handlers import SCHEDULED, components, invoke

ROLE = "arn:aws:iam::123456789012:role/wa-share-acceptor-org-lookup"  # moto's management account


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@dataclass
class Org:
    client: Any
    root: str
    security: str
    tooling: str  # below security
    vendors: str
    tooling_a: str
    tooling_b: str
    vendor: str
    at_root: str

    def move(self, account: str, source: str, destination: str) -> None:
        self.client.move_account(AccountId=account, SourceParentId=source, DestinationParentId=destination)


@pytest.fixture
def org() -> Iterator[Org]:
    with mock_aws():
        client = boto3.client("organizations")
        client.create_organization(FeatureSet="ALL")
        root = client.list_roots()["Roots"][0]["Id"]

        def ou(parent: str, name: str) -> str:
            return str(client.create_organizational_unit(ParentId=parent, Name=name)["OrganizationalUnit"]["Id"])

        def account(name: str, parent: str) -> str:
            status = client.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
            if parent != root:
                client.move_account(AccountId=status["AccountId"], SourceParentId=root, DestinationParentId=parent)
            return str(status["AccountId"])

        security = ou(root, "Security")
        tooling = ou(security, "Tooling")
        vendors = ou(root, "Vendors")
        yield Org(
            client,
            root,
            security,
            tooling,
            vendors,
            account("tool-a", tooling),
            account("tool-b", tooling),
            account("vendor", vendors),
            account("loose", root),
        )


def resolver(clock: Clock | None = None, **kwargs: Any) -> OrgAncestryResolver:
    return OrgAncestryResolver(ROLE, sts_client=boto3.client("sts"), ttl_seconds=900, clock=clock or Clock(), **kwargs)


# ---------------------------------------------------------------- the resolver alone


def test_nested_ous_and_the_root_are_all_ancestors(org: Org) -> None:
    r = resolver()
    assert r.lookup(org.tooling_a).ancestors == {org.tooling, org.security, org.root}
    assert r.lookup(org.vendor).ancestors == {org.vendors, org.root}
    assert r.lookup(org.at_root).ancestors == {org.root}


def test_cache_shares_the_walk_and_assumes_the_role_once(org: Org) -> None:
    r = resolver()
    r.lookup(org.tooling_a)
    assert r.calls == {"AssumeRole": 1, "ListParents": 3}  # account, Tooling, Security
    r.lookup(org.tooling_b)
    assert r.calls["ListParents"] == 4  # only the account itself: Tooling's parents are cached
    r.lookup(org.tooling_a)
    r.lookup(org.tooling_b)
    assert r.calls == {"AssumeRole": 1, "ListParents": 4}


def test_a_moved_account_is_seen_after_the_cache_lifetime(org: Org) -> None:
    clock = Clock()
    r = resolver(clock)
    assert org.vendors in (r.lookup(org.vendor).ancestors or set())
    org.move(org.vendor, org.vendors, org.tooling)
    clock.t += 899
    assert r.lookup(org.vendor).ancestors == {org.vendors, org.root}  # still cached
    clock.t += 2
    assert r.lookup(org.vendor).ancestors == {org.tooling, org.security, org.root}


def test_credentials_are_refreshed_before_they_expire(org: Org) -> None:
    now = [datetime.now(UTC)]
    clock = Clock()
    r = resolver(clock, now=lambda: now[0])
    r.lookup(org.vendor)
    now[0] += timedelta(minutes=50)  # moto's credentials last an hour; refresh 5 minutes before
    clock.t += 1000
    r.lookup(org.vendor)
    assert r.calls["AssumeRole"] == 1
    now[0] += timedelta(minutes=6)
    clock.t += 1000
    assert r.lookup(org.at_root).ancestors == {org.root}  # one ListParents call, on new credentials
    assert r.calls["AssumeRole"] == 2


def test_an_account_outside_the_organization_is_a_failed_lookup(org: Org) -> None:
    found = resolver().lookup("999999999999")
    assert found.ancestors is None
    assert found.error is not None and "ListParents for 999999999999" in found.error
    assert "AccountNotFoundException" in found.error or "ChildNotFoundException" in found.error


def _stubbed_organizations(errors: list[tuple[str, int]]) -> tuple[Any, Stubber]:
    client = boto3.client("organizations")
    stubber = Stubber(client)
    for code, status in errors:
        stubber.add_client_error(
            "list_parents", service_error_code=code, service_message=f"{code} here", http_status_code=status
        )
    stubber.activate()
    return client, stubber


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("AccessDeniedException", 403),
        ("TooManyRequestsException", 429),
        ("AWSOrganizationsNotInUseException", 400),
        ("ServiceException", 500),
    ],
)
def test_each_listparents_failure_names_the_call_and_is_not_cached(org: Org, code: str, status: int) -> None:
    retried = code in ("TooManyRequestsException", "ServiceException")  # retried while time allows
    stubbed, stubber = _stubbed_organizations([(code, status)] * (MAX_ATTEMPTS if retried else 1))
    real: list[Any] = []

    def factory(credentials: dict[str, str]) -> Any:
        if not real:
            real.append(None)
            return stubbed
        return boto3.client(
            "organizations",
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )

    r = resolver(organizations_client_factory=factory)
    failed = r.lookup(org.vendor)
    assert failed.ancestors is None and failed.error is not None
    assert f"organizations:ListParents for {org.vendor} failed: {code}" in failed.error
    stubber.assert_no_pending_responses()
    # The failure was not cached, and the client still works for the next lookup of the same account.
    r._client = None  # a new client (the real one) on next use
    assert r.lookup(org.vendor).ancestors == {org.vendors, org.root}


def test_assume_role_denied_is_a_failed_lookup_naming_the_role(org: Org) -> None:
    sts = boto3.client("sts")
    stubber = Stubber(sts)
    stubber.add_client_error(
        "assume_role",
        service_error_code="AccessDenied",
        service_message="not authorized to perform sts:AssumeRole",
        http_status_code=403,
    )
    stubber.activate()
    r = OrgAncestryResolver(ROLE, sts_client=sts, clock=Clock())
    failed = r.lookup(org.vendor)
    assert failed.error is not None
    assert failed.error.startswith(f"sts:AssumeRole on {ROLE} (for sharer {org.vendor}) failed: AccessDenied")
    assert r.calls == {"AssumeRole": 1}


def test_unreachable_endpoint_is_a_failed_lookup(org: Org) -> None:
    class Unreachable:
        def list_parents(self, **_: Any) -> Any:
            raise EndpointConnectionError(endpoint_url="https://organizations.us-east-1.amazonaws.com")

    found = resolver(organizations_client_factory=lambda _c: Unreachable()).lookup(org.vendor)
    assert found.error is not None and "EndpointConnectionError" in found.error


def test_malformed_answers_and_cycles_fail_closed(org: Org) -> None:
    class Answers:
        def __init__(self, parents: list[Any]) -> None:
            self.parents = parents

        def list_parents(self, **_: Any) -> Any:
            return {"Parents": self.parents}

    for parents, expected in (
        ([], "returned 0 parents"),
        ([{"Id": "ou-ab12-abcdefgh", "Type": "ACCOUNT"}], "parent type 'ACCOUNT'"),
        ([{"Id": "ou-ab12-abcdefgh", "Type": "ORGANIZATIONAL_UNIT"}], "no root within"),
    ):
        found = resolver(organizations_client_factory=lambda _c, p=parents: Answers(p)).lookup(org.vendor)
        assert found.error is not None and expected in found.error, (parents, found)


# ---------------------------------------------------------------- through the sweep and the event handler

OU_ENV = {"ALLOWED_SOURCE_ACCOUNTS": "", "ORGANIZATIONS_ROLE_ARN": ROLE}


def _world(sim: Simulator, org: Org) -> tuple[World, dict[str, str]]:
    world = World(sim)
    shares = {
        "tooling_a": world.workload(org.tooling_a, "tooling-a-app", "READONLY"),
        "tooling_b": world.lens(org.tooling_b, "tooling-lens"),
        "vendor": world.workload(org.vendor, "vendor-app", "READONLY"),
        "loose": world.profile(org.at_root, "loose-profile"),
    }
    return world, shares


def test_ou_policy_end_to_end_and_organizations_calls_per_sweep(org: Org) -> None:
    sim = Simulator()
    world, shares = _world(sim, org)
    env = {**OU_ENV, "ALLOWED_SOURCE_OUS": org.security, "DENIED_SOURCE_OUS": org.vendors}
    comps = components(sim, env, sts_client=boto3.client("sts"))
    run = invoke(sweep.lambda_handler, SCHEDULED, comps)
    assert {k: world.status(v) for k, v in shares.items()} == {
        "tooling_a": "ACCEPTED",
        "tooling_b": "ACCEPTED",
        "vendor": "REJECTED",
        "loose": "PENDING",
    }
    reasons = {r["shared_by"]: r["reason"] for r in run.decisions}
    assert reasons == {
        org.tooling_a: "allowed_ou",
        org.tooling_b: "allowed_ou",
        org.vendor: "denied_ou",
        org.at_root: "source_not_allowed",
    }
    resolver_calls = comps.acceptor._ancestry.calls  # type: ignore[union-attr]
    # One call per distinct node below the root: 4 sharers + Tooling, Security and Vendors.
    assert resolver_calls == {"AssumeRole": 1, "ListParents": 7}
    world.workload(org.tooling_a, "second-app", "READONLY")
    invoke(sweep.lambda_handler, SCHEDULED, comps)
    assert resolver_calls == {"AssumeRole": 1, "ListParents": 7}  # within the cache lifetime: no new calls


def test_deny_by_ou_beats_allow_by_account(org: Org) -> None:
    sim = Simulator()
    world, shares = _world(sim, org)
    env = {**OU_ENV, "ALLOWED_SOURCE_ACCOUNTS": org.vendor, "DENIED_SOURCE_OUS": org.vendors}
    run = invoke(sweep.lambda_handler, SCHEDULED, components(sim, env, sts_client=boto3.client("sts")))
    assert world.status(shares["vendor"]) == "REJECTED"
    assert next(r for r in run.decisions if r["shared_by"] == org.vendor)["reason"] == "denied_ou"


def test_lookup_failure_fails_closed_but_an_account_rule_still_rejects(org: Org) -> None:
    sim = Simulator()
    world, shares = _world(sim, org)
    sts = boto3.client("sts")
    stubber = Stubber(sts)
    stubber.add_client_error("assume_role", service_error_code="AccessDenied", http_status_code=403)
    stubber.activate()
    env = {
        **OU_ENV,
        "ALLOWED_SOURCE_ACCOUNTS": org.tooling_a,
        "DENIED_SOURCE_ACCOUNTS": org.vendor,
        "ALLOWED_SOURCE_OUS": org.security,
    }
    run = invoke(sweep.lambda_handler, SCHEDULED, components(sim, env, sts_client=sts))
    statuses = {k: world.status(v) for k, v in shares.items()}
    # The allowed account is accepted on its own; the denied account is rejected on its own; the OU rule
    # cannot be decided for the others, so they stay pending.
    assert statuses == {
        "tooling_a": "ACCEPTED",
        "tooling_b": "PENDING",
        "vendor": "REJECTED",
        "loose": "PENDING",
    }
    pending = [r for r in run.decisions if r["action"] == "IGNORE"]
    assert {r["reason"] for r in pending} == {"org_lookup_failed"}
    assert all("sts:AssumeRole" in r["reason_detail"] for r in pending)
    assert run.metrics["OrgLookupFailures"] >= 2


def test_share_event_end_to_end_with_an_ou_rule(org: Org) -> None:
    """A sharer creates a share; its recorded event reaches the handler, which decides it in one call."""
    sim = Simulator()
    share_id = World(sim).workload(org.tooling_a, "tooling-service", "READONLY").share_id
    event = sim.events[-1]
    assert event["detail"]["responseElements"]["ShareId"] == share_id
    comps = components(sim, {**OU_ENV, "ALLOWED_SOURCE_OUS": org.security}, sts_client=boto3.client("sts"))
    run = invoke(share_event.lambda_handler, event, comps)
    assert run.result["status"] == "ok" and run.result["accept"] == 1 and run.result["invitations"] == 1
    assert sim.share_status(share_id) == "ACCEPTED"
    assert run.decisions[0]["reason"] == "allowed_ou"
