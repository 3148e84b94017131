"""The Well-Architected simulator, black box: real boto3 clients against it, in-process (botocore's
before-send hook) and over HTTP (the loopback server), plus its world files and its command line."""

from __future__ import annotations

import contextlib
import functools
import json
import re
import selectors
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

from simulator import Faults, Simulator, serve

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_WORLD = ROOT / "simulator" / "worlds" / "example.json"
SHARER, RECIPIENT, OTHER = "222222222222", "111111111111", "333333333333"
DEFAULT_ACCOUNT = "123456789012"
HEX32 = re.compile(r"[0-9a-f]{32}")
WEEK = 7 * 24 * 3600
NO_RETRIES = Config(retries={"total_max_attempts": 1})
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy


@pytest.fixture(scope="module", autouse=True)
def _shared_botocore_loader() -> Iterator[None]:
    """Each boto3 Session re-reads the service model from disk (~0.1 s); one shared loader keeps the
    many clients these tests create cheap. Nothing else about the clients changes."""
    loader = botocore.loaders.create_loader()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", lambda *_args, **_kwargs: loader)
        yield


# --------------------------------------------------------------------------- the two modes
@functools.cache
def session(account: str, region: str, principal: str | None = None) -> boto3.session.Session:
    """The caller's credentials: the access key id is the account, a principal ARN travels as the session
    token; kept, since sessions are slow to make."""
    return boto3.session.Session(
        aws_access_key_id=account, aws_secret_access_key="x", aws_session_token=principal, region_name=region
    )


class Env:
    """One simulator reached in-process (url None) or over HTTP; admin calls go the same way."""

    def __init__(self, sim: Simulator, url: str | None) -> None:
        self.sim, self.url = sim, url

    @property
    def mode(self) -> str:
        return "http" if self.url else "inprocess"

    @property
    def strict(self) -> bool:
        return self.sim.strict

    def make(self, account: str, region: str = "us-east-1", principal: str | None = None, **client_kwargs: Any) -> Any:
        if self.url is None:
            return self.sim.client(account, region, principal, **client_kwargs)
        return session(account, region, principal).client("wellarchitected", endpoint_url=self.url, **client_kwargs)

    def raw(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        """A request no SDK would send (unsigned, unknown route)."""
        if self.url is None:
            status, out_headers, body = self.sim.handle(method, path, "", headers, b"")
            return status, {k.lower(): v for k, v in out_headers.items()}, json.loads(body)
        request = urllib.request.Request(self.url + path, method=method, headers=headers)
        try:
            with OPENER.open(request, timeout=10) as resp:
                return resp.status, {k.lower(): v for k, v in resp.headers.items()}, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, {k.lower(): v for k, v in err.headers.items()}, json.loads(err.read())

    def admin(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """The /_sim/ endpoints: Simulator.admin in-process, the HTTP server's routes over HTTP."""
        data = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
        if self.url is None:
            status, payload = self.sim.admin(method, path, data)
            return status, json.loads(json.dumps(payload, default=str))
        request = urllib.request.Request(self.url + path, data=data or None, method=method)
        try:
            with OPENER.open(request, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def advance(self, seconds: float) -> None:
        if self.url is None:
            self.sim.advance(seconds)
        else:
            status, body = self.admin("POST", "/_sim/advance", {"seconds": seconds})
            assert status == 200, body

    def events(self) -> list[dict[str, Any]]:
        if self.url is None:
            return self.sim.events
        status, body = self.admin("GET", "/_sim/events")
        assert status == 200, body
        return body

    def set_faults(self, **fields: Any) -> None:
        if self.url is None:
            self.sim.faults = Faults(**fields)
        else:
            status, body = self.admin("POST", "/_sim/faults", fields)
            assert status == 200, body

    def load_world(self, world: dict[str, Any]) -> dict[str, str]:
        if self.url is None:
            return self.sim.load_world(world)
        status, body = self.admin("POST", "/_sim/world", world)
        assert status == 200, body
        return body


@contextlib.contextmanager
def open_env(mode: str, strict: bool = False) -> Iterator[Env]:
    sim = Simulator(strict=strict)
    if mode == "inprocess":
        yield Env(sim, None)
        return
    server, thread = serve(sim)
    assert server.RequestHandlerClass.disable_nagle_algorithm  # type: ignore[attr-defined]  # else ~40 ms a request
    try:
        yield Env(sim, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        stop(server, thread)


@pytest.fixture(params=["inprocess", "http"])
def env(request: pytest.FixtureRequest) -> Iterator[Env]:
    with open_env(request.param) as opened:
        yield opened


@pytest.fixture(
    params=[("inprocess", False), ("http", False), ("inprocess", True), ("http", True)],
    ids=["inprocess-default", "http-default", "inprocess-strict", "http-strict"],
)
def both(request: pytest.FixtureRequest) -> Iterator[Env]:
    """Both simulator modes (default and strict), each in-process and over HTTP."""
    mode, strict = request.param
    with open_env(mode, strict) as opened:
        yield opened


def stop(server: Any, thread: threading.Thread) -> None:
    """server.shutdown(), without waiting out serve_forever's 0.5 s poll: a connection wakes it."""
    stopper = threading.Thread(target=server.shutdown, daemon=True)
    stopper.start()
    while stopper.is_alive():
        with contextlib.suppress(OSError):
            socket.create_connection(server.server_address[:2], timeout=1).close()
        stopper.join(0.01)
    server.server_close()
    thread.join(timeout=5)
    assert not thread.is_alive()


@pytest.fixture
def make(env: Env) -> Callable[..., Any]:
    """make(account, region="us-east-1", **client_kwargs): a wellarchitected client in env's mode."""
    return env.make


# --------------------------------------------------------------------------- resource kinds
@dataclass(frozen=True)
class Kind:
    type: str  # ShareResourceType
    ident: str  # the request member naming the resource
    id_member: str  # in ShareInvitationSummary and the ShareInvitation of UpdateShareInvitation
    echoed: str | None  # what Create*Share returns besides ShareId

    @property
    def noun(self) -> str:  # create_<noun>_share, list_<noun>_shares, delete_<noun>_share
        return self.type.lower()

    @property
    def name_member(self) -> str:  # WorkloadName, ... in ShareInvitationSummary
        return f"{self.type.capitalize()}Name"

    @property
    def prefix(self) -> str:  # the ListShareInvitations name filter
        return f"{self.type.capitalize()}NamePrefix"

    @property
    def summaries(self) -> str:  # the List*Shares member
        return f"{self.type.capitalize()}ShareSummaries"


KINDS = [
    Kind("WORKLOAD", ident="WorkloadId", id_member="WorkloadId", echoed="WorkloadId"),
    Kind("LENS", ident="LensAlias", id_member="LensArn", echoed=None),
    Kind("PROFILE", ident="ProfileArn", id_member="ProfileArn", echoed="ProfileArn"),
    Kind("TEMPLATE", ident="TemplateArn", id_member="TemplateArn", echoed="TemplateArn"),
]
BY_TYPE = {k.type: k for k in KINDS}
WORKLOAD = BY_TYPE["WORKLOAD"]
kinds = pytest.mark.parametrize("kind", KINDS, ids=[k.type.lower() for k in KINDS])


def create(client: Any, kind: Kind, name: str) -> str:
    """Create a resource; returns what its shares are addressed by (workload id, lens/profile/template ARN)."""
    if kind.type == "WORKLOAD":
        return client.create_workload(
            WorkloadName=name,
            Description="a workload",
            Environment="PRODUCTION",
            Lenses=["wellarchitected"],
            AwsRegions=[client.meta.region_name],
            ReviewOwner="owner",
        )["WorkloadId"]
    if kind.type == "LENS":
        return client.import_lens(JSONString=json.dumps({"name": name, "pillars": []}))["LensArn"]
    if kind.type == "PROFILE":
        return client.create_profile(ProfileName=name, ProfileDescription="a profile", ProfileQuestions=[])[
            "ProfileArn"
        ]
    return client.create_review_template(TemplateName=name, Description="a template", Lenses=["wellarchitected"])[
        "TemplateArn"
    ]


def share(client: Any, kind: Kind, ident: str, shared_with: str, permission: str = "READONLY") -> dict[str, Any]:
    params = {kind.ident: ident, "SharedWith": shared_with}
    if kind.type == "WORKLOAD":
        params["PermissionType"] = permission
    return getattr(client, f"create_{kind.noun}_share")(**params)


def list_shares(client: Any, kind: Kind, ident: str, **params: Any) -> dict[str, Any]:
    return getattr(client, f"list_{kind.noun}_shares")(**{kind.ident: ident}, **params)


def statuses(client: Any, kind: Kind, ident: str) -> dict[str, str]:
    return {s["ShareId"]: s["Status"] for s in list_shares(client, kind, ident)[kind.summaries]}


def delete_share(client: Any, kind: Kind, ident: str, share_id: str) -> dict[str, Any]:
    return getattr(client, f"delete_{kind.noun}_share")(**{kind.ident: ident, "ShareId": share_id})


def all_pages(client: Any, **params: Any) -> list[list[dict[str, Any]]]:
    """Every page of ListShareInvitations: the paginator if botocore has one, else a NextToken loop."""
    if client.can_paginate("list_share_invitations"):
        paginator = client.get_paginator("list_share_invitations")
        return [page["ShareInvitationSummaries"] for page in paginator.paginate(**params)]
    pages, token = [], None
    while True:
        page = client.list_share_invitations(**params, **({"NextToken": token} if token else {}))
        pages.append(page["ShareInvitationSummaries"])
        token = page.get("NextToken")
        if not token:
            return pages
        assert len(pages) < 100, "NextToken never ends"


def invitations(client: Any, **params: Any) -> list[dict[str, Any]]:
    return [summary for page in all_pages(client, **params) for summary in page]


def invitation_ids(client: Any, **params: Any) -> list[str]:
    return [s["ShareInvitationId"] for s in invitations(client, **params)]


def raises(code: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    assert info.value.response["Error"]["Code"] == code, info.value.response
    return info.value


def rejected_as_invalid(call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Refused either by botocore before sending, or by the simulator with ValidationException."""
    with pytest.raises((ParamValidationError, ClientError)) as info:
        call(*args, **kwargs)
    if isinstance(info.value, ClientError):
        assert info.value.response["Error"]["Code"] == "ValidationException", info.value.response
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def update(client: Any, invitation_id: str, action: str) -> dict[str, Any]:
    return client.update_share_invitation(ShareInvitationId=invitation_id, ShareInvitationAction=action)


def world_of_workloads(count: int, recipient: str = RECIPIENT) -> dict[str, Any]:
    return {
        "accounts": {
            SHARER: {"workloads": [{"name": f"app-{n:03d}", "shares": [{"with": recipient}]} for n in range(count)]}
        }
    }


# --------------------------------------------------------------------------- resources
def test_create_resources_in_the_callers_account_and_region(make: Callable[..., Any]) -> None:
    client = make(SHARER, "eu-west-1")
    workload = client.create_workload(
        WorkloadName="payments",
        Description="a workload",
        Environment="PRODUCTION",
        Lenses=["wellarchitected"],
        AwsRegions=["eu-west-1"],
        ReviewOwner="owner",
    )
    assert HEX32.fullmatch(workload["WorkloadId"])
    assert workload["WorkloadArn"] == f"arn:aws:wellarchitected:eu-west-1:{SHARER}:workload/{workload['WorkloadId']}"
    lens = client.import_lens(JSONString=json.dumps({"name": "platform-lens"}))
    assert re.fullmatch(rf"arn:aws:wellarchitected:eu-west-1:{SHARER}:lens/[0-9a-f]{{32}}", lens["LensArn"])
    assert lens["Status"] == "COMPLETE"
    profile = client.create_profile(ProfileName="pci", ProfileDescription="a profile", ProfileQuestions=[])
    assert re.fullmatch(rf"arn:aws:wellarchitected:eu-west-1:{SHARER}:profile/[0-9a-f]{{32}}", profile["ProfileArn"])
    assert profile["ProfileVersion"]
    template = client.create_review_template(TemplateName="standard", Description="d-t", Lenses=["wellarchitected"])
    assert re.fullmatch(
        rf"arn:aws:wellarchitected:eu-west-1:{SHARER}:review-template/[0-9a-f]{{32}}", template["TemplateArn"]
    )
    assert len({workload["WorkloadId"], lens["LensArn"], profile["ProfileArn"], template["TemplateArn"]}) == 4


def test_resource_errors(make: Callable[..., Any]) -> None:
    client = make(SHARER)
    create(client, WORKLOAD, "payments")
    err = raises("ConflictException", create, client, WORKLOAD, "payments")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert err.response["ResourceId"] == "payments" and err.response["ResourceType"] == "WORKLOAD"
    create(make(SHARER, "eu-west-1"), WORKLOAD, "payments")  # names are per region
    raises("ValidationException", client.import_lens, JSONString="not a lens")
    raises("ValidationException", client.import_lens, JSONString=json.dumps({"pillars": []}))


# --------------------------------------------------------------------------- sharing
@kinds
def test_create_share_invites_the_recipient_in_the_same_region(make: Callable[..., Any], kind: Kind) -> None:
    sharer, recipient = make(SHARER), make(RECIPIENT)
    ident = create(sharer, kind, f"{kind.noun}-shared")
    response = share(sharer, kind, ident, RECIPIENT)
    share_id = response["ShareId"]
    assert HEX32.fullmatch(share_id)
    if kind.echoed:
        assert response[kind.echoed] == ident

    [summary] = invitations(recipient)
    expected = {
        "ShareInvitationId": share_id,
        "SharedBy": SHARER,
        "SharedWith": RECIPIENT,
        "ShareResourceType": kind.type,
        kind.name_member: f"{kind.noun}-shared",
        kind.id_member: ident,
    }
    if kind.type == "WORKLOAD":
        expected["PermissionType"] = "READONLY"
    assert summary == expected
    assert statuses(sharer, kind, ident) == {share_id: "PENDING"}

    assert invitations(make(RECIPIENT, "eu-west-1")) == []  # regional
    assert invitations(make(OTHER)) == []
    assert invitations(sharer) == []
    err = raises("ConflictException", share, sharer, kind, ident, RECIPIENT)
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_workload_share_carries_its_permission(make: Callable[..., Any]) -> None:
    sharer = make(SHARER)
    ident = create(sharer, WORKLOAD, "payments")
    share(sharer, WORKLOAD, ident, RECIPIENT, permission="CONTRIBUTOR")
    assert [s["PermissionType"] for s in invitations(make(RECIPIENT))] == ["CONTRIBUTOR"]
    assert [s["PermissionType"] for s in list_shares(sharer, WORKLOAD, ident)["WorkloadShareSummaries"]] == [
        "CONTRIBUTOR"
    ]


def test_share_with_an_iam_role_invites_its_account(make: Callable[..., Any]) -> None:
    sharer = make(SHARER)
    role = f"arn:aws:iam::{RECIPIENT}:role/Reviewer"
    share_id = share(sharer, WORKLOAD, create(sharer, WORKLOAD, "payments"), role)["ShareId"]
    assert [(s["ShareInvitationId"], s["SharedWith"]) for s in invitations(make(RECIPIENT))] == [(share_id, role)]


@pytest.mark.parametrize("principal", ["o-abcdefghij", "ou-ab12-abcdefgh"])
def test_share_with_an_organization_or_ou_sends_no_invitation(
    env: Env, make: Callable[..., Any], principal: str
) -> None:
    sharer = make(SHARER)
    ident = create(sharer, WORKLOAD, "payments")
    share_id = share(sharer, WORKLOAD, ident, principal)["ShareId"]
    assert [s["SharedWith"] for s in list_shares(sharer, WORKLOAD, ident)["WorkloadShareSummaries"]] == [principal]
    assert statuses(sharer, WORKLOAD, ident) == {share_id: "ASSOCIATING"}
    for account in (RECIPIENT, OTHER, SHARER, DEFAULT_ACCOUNT):
        assert invitations(make(account)) == []
    env.advance(59)
    assert statuses(sharer, WORKLOAD, ident) == {share_id: "ASSOCIATING"}
    env.advance(1)
    assert statuses(sharer, WORKLOAD, ident) == {share_id: "ASSOCIATED"}
    assert list_shares(sharer, WORKLOAD, ident, Status="ASSOCIATED")["WorkloadShareSummaries"][0]["ShareId"] == share_id
    raises("ConflictException", share, sharer, WORKLOAD, ident, principal)  # still associated: no second share
    env.advance(WEEK)
    assert statuses(sharer, WORKLOAD, ident) == {share_id: "ASSOCIATED"}  # associations never expire
    assert invitations(make(RECIPIENT)) == []


@kinds
def test_share_with_own_account_is_invalid(make: Callable[..., Any], kind: Kind) -> None:
    sharer = make(SHARER)
    ident = create(sharer, kind, f"{kind.noun}-own")
    raises("ValidationException", share, sharer, kind, ident, SHARER)
    raises("ValidationException", share, sharer, kind, ident, f"arn:aws:iam::{SHARER}:role/Me")
    assert list_shares(sharer, kind, ident)[kind.summaries] == []


def test_share_errors(make: Callable[..., Any]) -> None:
    sharer = make(SHARER)
    ident = create(sharer, WORKLOAD, "payments")
    raises("ValidationException", share, sharer, WORKLOAD, ident, "not-a-principal")
    err = raises("ResourceNotFoundException", share, sharer, WORKLOAD, "0" * 32, RECIPIENT)
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    raises("ResourceNotFoundException", share, make(OTHER), WORKLOAD, ident, RECIPIENT)  # not the owner
    raises("ResourceNotFoundException", share, make(SHARER, "eu-west-1"), WORKLOAD, ident, RECIPIENT)
    assert invitations(make(RECIPIENT)) == []


def test_a_settled_share_can_be_made_again(make: Callable[..., Any]) -> None:
    sharer, recipient = make(SHARER), make(RECIPIENT)
    ident = create(sharer, WORKLOAD, "payments")
    first = share(sharer, WORKLOAD, ident, RECIPIENT)["ShareId"]
    update(recipient, first, "REJECT")
    second = share(sharer, WORKLOAD, ident, RECIPIENT)["ShareId"]
    assert second != first
    assert invitation_ids(recipient) == [second]


# --------------------------------------------------------------------------- List*Shares, Delete*Share
@kinds
def test_list_shares_filters_by_status_and_pages(make: Callable[..., Any], kind: Kind) -> None:
    sharer = make(SHARER)
    ident = create(sharer, kind, f"{kind.noun}-many")
    recipients = [f"10000000000{n}" for n in range(5)]
    ids = [share(sharer, kind, ident, account)["ShareId"] for account in recipients]
    update(make(recipients[0]), ids[0], "ACCEPT")
    update(make(recipients[1]), ids[1], "REJECT")

    def with_status(status: str) -> list[str]:
        return [s["ShareId"] for s in list_shares(sharer, kind, ident, Status=status)[kind.summaries]]

    assert with_status("ACCEPTED") == [ids[0]]
    assert with_status("REJECTED") == [ids[1]]
    assert with_status("PENDING") == ids[2:]
    assert with_status("REVOKED") == []

    first = list_shares(sharer, kind, ident, MaxResults=2)
    assert [s["ShareId"] for s in first[kind.summaries]] == ids[:2]
    seen, token = [], None
    while True:
        page = list_shares(sharer, kind, ident, MaxResults=2, **({"NextToken": token} if token else {}))
        assert len(page[kind.summaries]) <= 2
        seen += [s["ShareId"] for s in page[kind.summaries]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == ids
    assert [s["SharedWith"] for s in list_shares(sharer, kind, ident)[kind.summaries]] == recipients
    raises("ValidationException", list_shares, sharer, kind, ident, MaxResults=51)
    raises("ValidationException", list_shares, sharer, kind, ident, NextToken="bm90LWEtdG9rZW4")


@kinds
def test_delete_share_revokes_the_invitation(make: Callable[..., Any], kind: Kind) -> None:
    sharer, recipient = make(SHARER), make(RECIPIENT)
    ident = create(sharer, kind, f"{kind.noun}-revoked")
    share_id = share(sharer, kind, ident, RECIPIENT)["ShareId"]
    other = share(sharer, kind, ident, OTHER)["ShareId"]
    delete_share(sharer, kind, ident, share_id)

    assert invitations(recipient) == []
    assert invitation_ids(make(OTHER)) == [other]
    assert statuses(sharer, kind, ident) == {share_id: "REVOKED", other: "PENDING"}
    err = raises("ConflictException", update, recipient, share_id, "ACCEPT")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    raises("ConflictException", delete_share, sharer, kind, ident, share_id)
    raises("ResourceNotFoundException", delete_share, sharer, kind, ident, "f" * 32)


def test_delete_an_accepted_share_revokes_it(make: Callable[..., Any]) -> None:
    sharer, recipient = make(SHARER), make(RECIPIENT)
    ident = create(sharer, WORKLOAD, "payments")
    share_id = share(sharer, WORKLOAD, ident, RECIPIENT)["ShareId"]
    update(recipient, share_id, "ACCEPT")
    delete_share(sharer, WORKLOAD, ident, share_id)
    assert statuses(sharer, WORKLOAD, ident) == {share_id: "REVOKED"}


# --------------------------------------------------------------------------- ListShareInvitations
def test_list_invitations_filters(make: Callable[..., Any]) -> None:
    sharer, recipient = make(SHARER), make(RECIPIENT)
    names = {
        "WORKLOAD": ["alpha-app", "beta-app"],
        "LENS": ["alpha-lens", "beta-lens"],
        "PROFILE": ["alpha-profile", "beta-profile"],
        "TEMPLATE": ["alpha-template", "beta-template"],
    }
    for kind in KINDS:
        for name in names[kind.type]:
            share(sharer, kind, create(sharer, kind, name), RECIPIENT)
    assert len(invitations(recipient)) == 8

    for kind in KINDS:
        of_type = invitations(recipient, ShareResourceType=kind.type)
        assert sorted(s[kind.name_member] for s in of_type) == names[kind.type]
        assert {s["ShareResourceType"] for s in of_type} == {kind.type}
        alpha = invitations(recipient, ShareResourceType=kind.type, **{kind.prefix: "alpha"})
        assert [s[kind.name_member] for s in alpha] == [names[kind.type][0]]
        assert invitations(recipient, ShareResourceType=kind.type, **{kind.prefix: "gamma"}) == []
    rejected_as_invalid(recipient.list_share_invitations, ShareResourceType="DATASET")


def test_list_invitations_max_results_bounds(make: Callable[..., Any]) -> None:
    sharer, recipient = make(SHARER), make(RECIPIENT)
    ids = [share(sharer, WORKLOAD, create(sharer, WORKLOAD, f"app-{n}"), RECIPIENT)["ShareId"] for n in range(3)]
    one = recipient.list_share_invitations(MaxResults=1)
    assert [s["ShareInvitationId"] for s in one["ShareInvitationSummaries"]] == ids[:1]
    assert one["NextToken"]
    fifty = recipient.list_share_invitations(MaxResults=50)
    assert [s["ShareInvitationId"] for s in fifty["ShareInvitationSummaries"]] == ids
    assert "NextToken" not in fifty
    rejected_as_invalid(recipient.list_share_invitations, MaxResults=0)
    rejected_as_invalid(recipient.list_share_invitations, MaxResults=51)
    unchecked = make(RECIPIENT, config=Config(parameter_validation=False))
    for bad in (0, 51, -1):  # the simulator enforces the range itself too
        raises("ValidationException", unchecked.list_share_invitations, MaxResults=bad)
    raises("ValidationException", recipient.list_share_invitations, NextToken="bm90LWEtdG9rZW4")


def test_list_invitations_pages_over_fifty(env: Env, make: Callable[..., Any]) -> None:
    created = env.load_world(world_of_workloads(120))
    recipient = make(RECIPIENT)
    pages = all_pages(recipient)
    assert [len(page) for page in pages] == [50, 50, 20]
    ids = [s["ShareInvitationId"] for page in pages for s in page]
    assert len(set(ids)) == 120 and set(ids) == set(created)
    assert [s["WorkloadName"] for page in pages for s in page] == [f"app-{n:03d}" for n in range(120)]
    assert sum(len(page) for page in all_pages(recipient, MaxResults=7)) == 120


def test_deciding_invitations_between_pages_skips_none(env: Env, make: Callable[..., Any]) -> None:
    env.load_world(world_of_workloads(30))
    recipient = make(RECIPIENT)
    everything = invitation_ids(recipient)
    first = recipient.list_share_invitations(MaxResults=10)
    for summary in first["ShareInvitationSummaries"]:
        update(recipient, summary["ShareInvitationId"], "ACCEPT")
    second = recipient.list_share_invitations(MaxResults=10, NextToken=first["NextToken"])
    assert [s["ShareInvitationId"] for s in second["ShareInvitationSummaries"]] == everything[10:20]


# --------------------------------------------------------------------------- UpdateShareInvitation
@kinds
def test_accept_marks_the_share_accepted(make: Callable[..., Any], kind: Kind) -> None:
    sharer, recipient = make(SHARER), make(RECIPIENT)
    ident = create(sharer, kind, f"{kind.noun}-accepted")
    share_id = share(sharer, kind, ident, RECIPIENT)["ShareId"]
    invitation = update(recipient, share_id, "ACCEPT")["ShareInvitation"]
    assert invitation["ShareInvitationId"] == share_id
    assert invitation["ShareResourceType"] == kind.type
    assert invitation[kind.id_member] == ident
    assert statuses(sharer, kind, ident) == {share_id: "ACCEPTED"}
    assert invitations(recipient) == []
    for action in ("ACCEPT", "REJECT"):
        err = raises("ConflictException", update, recipient, share_id, action)
        assert err.response["ResourceId"] == share_id


def test_reject_marks_the_share_rejected(make: Callable[..., Any]) -> None:
    sharer, recipient = make(SHARER), make(RECIPIENT)
    ident = create(sharer, WORKLOAD, "payments")
    share_id = share(sharer, WORKLOAD, ident, RECIPIENT)["ShareId"]
    kept = share(sharer, WORKLOAD, create(sharer, WORKLOAD, "ledger"), RECIPIENT)["ShareId"]
    assert update(recipient, share_id, "REJECT")["ShareInvitation"]["ShareInvitationId"] == share_id
    assert statuses(sharer, WORKLOAD, ident) == {share_id: "REJECTED"}
    assert invitation_ids(recipient) == [kept]
    raises("ConflictException", update, recipient, share_id, "REJECT")
    raises("ConflictException", update, recipient, share_id, "ACCEPT")


def test_update_errors(make: Callable[..., Any]) -> None:
    sharer, recipient = make(SHARER), make(RECIPIENT)
    share_id = share(sharer, WORKLOAD, create(sharer, WORKLOAD, "payments"), RECIPIENT)["ShareId"]
    err = raises("ResourceNotFoundException", update, recipient, "0123456789abcdef0123456789abcdef", "ACCEPT")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    raises("ResourceNotFoundException", update, make(OTHER), share_id, "ACCEPT")  # not its invitation
    raises("ResourceNotFoundException", update, make(RECIPIENT, "eu-west-1"), share_id, "ACCEPT")
    raises("ResourceNotFoundException", update, sharer, share_id, "ACCEPT")
    for malformed in ("not-an-id", share_id.upper(), share_id[:-1]):
        err = raises("ValidationException", update, recipient, malformed, "ACCEPT")
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    rejected_as_invalid(update, recipient, share_id, "MAYBE")
    assert invitation_ids(recipient) == [share_id]  # nothing above decided it
    assert update(recipient, share_id, "ACCEPT")["ShareInvitation"]["ShareInvitationId"] == share_id


def test_invitations_expire_after_seven_days(env: Env, make: Callable[..., Any]) -> None:
    sharer, recipient = make(SHARER), make(RECIPIENT)
    ident = create(sharer, WORKLOAD, "payments")
    share_id = share(sharer, WORKLOAD, ident, RECIPIENT)["ShareId"]
    env.advance(WEEK - 60)
    assert invitation_ids(recipient) == [share_id]
    env.advance(61)
    assert invitations(recipient) == []
    assert statuses(sharer, WORKLOAD, ident) == {share_id: "EXPIRED"}
    assert env.sim.share_status(share_id) == "EXPIRED"
    raises("ConflictException", update, recipient, share_id, "ACCEPT")
    again = share(sharer, WORKLOAD, ident, RECIPIENT)["ShareId"]
    assert invitation_ids(recipient) == [again]


# --------------------------------------------------------------------------- the caller
def test_caller_account_is_a_twelve_digit_access_key_else_the_default(make: Callable[..., Any]) -> None:
    anonymous = make("AKIAIOSFODNN7EXAMPLE")
    ident = create(anonymous, WORKLOAD, "payments")
    share(anonymous, WORKLOAD, ident, RECIPIENT)
    assert [s["SharedBy"] for s in invitations(make(RECIPIENT))] == [DEFAULT_ACCOUNT]
    assert list_shares(make(DEFAULT_ACCOUNT), WORKLOAD, ident)["WorkloadId"] == ident
    raises("ResourceNotFoundException", list_shares, make(SHARER), WORKLOAD, ident)


def test_caller_region_is_the_signatures(make: Callable[..., Any]) -> None:
    sydney = make(SHARER, "ap-southeast-2")
    arn = create(sydney, BY_TYPE["PROFILE"], "pci")
    assert arn.startswith(f"arn:aws:wellarchitected:ap-southeast-2:{SHARER}:profile/")
    share(sydney, BY_TYPE["PROFILE"], arn, RECIPIENT)
    assert len(invitations(make(RECIPIENT, "ap-southeast-2"))) == 1
    assert invitations(make(RECIPIENT)) == []


def test_unsigned_and_unknown_requests(env: Env) -> None:
    status, headers, body = env.raw("GET", "/shareInvitations", {})
    assert (status, headers["x-amzn-errortype"]) == (403, "AccessDeniedException") and body["Message"]
    signed = {
        "Authorization": f"AWS4-HMAC-SHA256 Credential={RECIPIENT}/20260101/us-east-1/wellarchitected/"
        "aws4_request, SignedHeaders=host, Signature=0"
    }
    status, headers, body = env.raw("GET", "/shareInvitations", signed)
    assert (status, body) == (200, {"ShareInvitationSummaries": []})
    status, headers, body = env.raw("GET", "/no/such/route", signed)
    assert (status, headers["x-amzn-errortype"]) == (404, "UnknownOperationException")


# --------------------------------------------------------------------------- events
def key_tree(value: Any) -> Any:
    """The structure of a JSON value with every leaf replaced by None: keys only."""
    if isinstance(value, dict):
        return {key: key_tree(item) for key, item in value.items()}
    if isinstance(value, list):
        return [key_tree(item) for item in value]
    return None


@kinds
def test_create_share_records_a_cloudtrail_event(env: Env, make: Callable[..., Any], kind: Kind) -> None:
    sharer = make(SHARER, "eu-central-1")
    ident = create(sharer, kind, f"{kind.noun}-evented")
    assert env.events() == []  # only shares are recorded
    share_id = share(sharer, kind, ident, RECIPIENT)["ShareId"]
    [event] = env.events()
    assert event["source"] == "aws.wellarchitected"
    assert event["detail-type"] == "AWS API Call via CloudTrail"
    assert (event["account"], event["region"]) == (SHARER, "eu-central-1")
    detail = event["detail"]
    assert detail["eventSource"] == "wellarchitected.amazonaws.com"
    assert detail["eventName"] == f"Create{kind.noun.capitalize()}Share"
    assert detail["awsRegion"] == "eu-central-1"
    assert detail["recipientAccountId"] == SHARER
    assert detail["userIdentity"]["accountId"] == SHARER and detail["userIdentity"]["type"]
    request = detail["requestParameters"]
    assert request[kind.ident] == ident and request["SharedWith"] == RECIPIENT
    assert request["ClientRequestToken"]
    assert request.get("PermissionType") == ("READONLY" if kind.type == "WORKLOAD" else None)
    assert detail["responseElements"]["ShareId"] == share_id
    if kind.echoed:
        assert detail["responseElements"][kind.echoed] == ident


@kinds
def test_event_has_the_structure_of_the_sample(env: Env, make: Callable[..., Any], kind: Kind) -> None:
    sample = json.loads((ROOT / "events" / f"share-{kind.noun}.json").read_text(encoding="utf-8"))
    sharer = make(SHARER)
    share(sharer, kind, create(sharer, kind, f"{kind.noun}-sample"), RECIPIENT)
    [event] = env.events()
    assert key_tree(event) == key_tree(sample)
    assert event["detail"]["eventName"] == sample["detail"]["eventName"]


def test_failed_share_records_no_event(env: Env, make: Callable[..., Any]) -> None:
    sharer = make(SHARER)
    ident = create(sharer, WORKLOAD, "payments")
    raises("ValidationException", share, sharer, WORKLOAD, ident, SHARER)
    raises("ResourceNotFoundException", share, sharer, WORKLOAD, "0" * 32, RECIPIENT)
    assert env.events() == []


# --------------------------------------------------------------------------- faults
def test_latency_is_added_to_every_request(env: Env, make: Callable[..., Any]) -> None:
    client = make(RECIPIENT)
    env.set_faults(latency_s=0.05)
    for _ in range(2):
        started = time.perf_counter()
        client.list_share_invitations()
        assert time.perf_counter() - started >= 0.05


def test_throttling_per_account_and_region(env: Env, make: Callable[..., Any]) -> None:
    env.set_faults(throttle_rps=2)
    client = make(RECIPIENT, config=NO_RETRIES)
    client.list_share_invitations()
    client.list_share_invitations()
    err = raises("ThrottlingException", client.list_share_invitations)
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    make(OTHER, config=NO_RETRIES).list_share_invitations()  # buckets are per account...
    make(RECIPIENT, "eu-west-1", config=NO_RETRIES).list_share_invitations()  # ...and region
    time.sleep(0.55)  # one token back at 2 per second
    client.list_share_invitations()
    assert env.sim.stats["throttled"] == 1


def test_throttle_below_one_request_per_second_still_admits_one(env: Env, make: Callable[..., Any]) -> None:
    env.set_faults(throttle_rps=0.5)
    client = make(RECIPIENT, config=NO_RETRIES)
    client.list_share_invitations()
    raises("ThrottlingException", client.list_share_invitations)


def test_error_rate_one_fails_everything(env: Env, make: Callable[..., Any]) -> None:
    env.set_faults(error_rate=1.0)
    client = make(RECIPIENT, config=NO_RETRIES)
    for call in (client.list_share_invitations, lambda: update(client, "0" * 32, "ACCEPT")):
        err = raises("InternalServerException", call)
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert env.sim.stats["injected_errors"] == 2
    env.set_faults()
    assert client.list_share_invitations()["ShareInvitationSummaries"] == []


def test_seeded_error_rate_is_reproducible(env: Env, make: Callable[..., Any]) -> None:
    client = make(RECIPIENT, config=NO_RETRIES)

    def outcomes(seed: int) -> str:
        env.set_faults(error_rate=0.5, seed=seed)
        result = ""
        for _ in range(24):
            try:
                client.list_share_invitations()
                result += "."
            except ClientError as err:
                assert err.response["Error"]["Code"] == "InternalServerException"
                result += "x"
        return result

    first = outcomes(7)
    assert "x" in first and "." in first
    assert outcomes(7) == first
    assert outcomes(8) != first


# --------------------------------------------------------------------------- admin endpoints
def test_admin_stats(env: Env, make: Callable[..., Any]) -> None:
    client = make(RECIPIENT)
    for _ in range(3):
        client.list_share_invitations()
    create(make(SHARER), WORKLOAD, "payments")
    status, stats = env.admin("GET", "/_sim/stats")
    assert status == 200
    assert stats == {"total": 4, "ListShareInvitations": 3, "CreateWorkload": 1}


def test_admin_faults(env: Env, make: Callable[..., Any]) -> None:
    client = make(RECIPIENT, config=NO_RETRIES)
    status, body = env.admin("POST", "/_sim/faults", {"error_rate": 1.0, "seed": 3})
    assert status == 200
    assert body == {"faults": {"latency_s": 0.0, "throttle_rps": None, "error_rate": 1.0, "seed": 3}}
    raises("InternalServerException", client.list_share_invitations)
    for bad, named in (
        ({"bogus": 1}, "bogus"),
        ({"error_rate": 2}, "error_rate"),
        ({"latency_s": -1}, "latency_s"),
        ({"throttle_rps": 0}, "throttle_rps"),
    ):
        status, body = env.admin("POST", "/_sim/faults", bad)
        assert status == 400 and named in body["Message"], (bad, body)
    raises("InternalServerException", client.list_share_invitations)  # a rejected change changes nothing
    assert env.admin("POST", "/_sim/faults", {})[0] == 200
    client.list_share_invitations()


def test_admin_world_and_advance(env: Env, make: Callable[..., Any]) -> None:
    status, created = env.admin("POST", "/_sim/world", world_of_workloads(2))
    assert status == 200 and sorted(created.values()) == ["app-000", "app-001"]
    recipient = make(RECIPIENT)
    assert set(invitation_ids(recipient)) == set(created)
    status, body = env.admin("POST", "/_sim/advance", {"seconds": WEEK})
    assert status == 200 and "now" in body
    assert invitations(recipient) == []
    status, body = env.admin("POST", "/_sim/world", {"accounts": {"12345": {}}})
    assert status == 400 and "12345" in body["Message"]


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("GET", "/_sim/nothing", None, 404),
        ("POST", "/_sim/stats", None, 404),
        ("GET", "/_sim/advance", None, 404),
        ("POST", "/_sim/advance", b"not json", 400),
        ("POST", "/_sim/advance", {}, 400),
        ("POST", "/_sim/advance", {"seconds": "soon"}, 400),
        ("POST", "/_sim/advance", {"seconds": -5}, 400),
        ("POST", "/_sim/faults", [1, 2], 400),
        ("POST", "/_sim/world", {"accounts": []}, 400),
    ],
)
def test_admin_bad_requests(env: Env, method: str, path: str, body: Any, expected: int) -> None:
    status, payload = env.admin(method, path, body)
    assert status == expected
    assert payload["Message"]
    assert env.sim.stats == {}  # admin calls are not API calls


# --------------------------------------------------------------------------- worlds
def expected_pending(world: dict[str, Any], recipient: str) -> dict[str, str]:
    """{resource name: share id or ""} of the shares a world leaves PENDING for recipient."""
    pending = {}
    for sections in world["accounts"].values():
        for resources in sections.values():
            for resource in resources:
                for spec in resource.get("shares", []):
                    if spec["with"] == recipient and spec.get("status", "PENDING") == "PENDING":
                        pending[resource["name"]] = spec.get("share_id", "")
    return pending


def test_example_world_loads(env: Env, make: Callable[..., Any]) -> None:
    world = json.loads(EXAMPLE_WORLD.read_text(encoding="utf-8"))
    created = env.load_world(world)
    assert len(created) == sum(
        len(r.get("shares", [])) for s in world["accounts"].values() for rs in s.values() for r in rs
    )
    pending = expected_pending(world, RECIPIENT)
    assert pending, "the example world should leave invitations pending"
    summaries = invitations(make(RECIPIENT, world.get("region", "us-east-1")))
    names = {
        s.get("WorkloadName") or s.get("LensName") or s.get("ProfileName") or s.get("TemplateName"): s
        for s in summaries
    }
    assert set(names) == set(pending)
    for name, share_id in pending.items():
        assert created[names[name]["ShareInvitationId"]] == name
        if share_id:
            assert names[name]["ShareInvitationId"] == share_id
    assert {s["SharedBy"] for s in summaries} <= set(world["accounts"])


def test_world_statuses_and_fixed_ids(env: Env, make: Callable[..., Any]) -> None:
    wid, sid = "ab" * 16, "cd" * 16
    created = env.load_world(
        {
            "region": "eu-west-1",
            "accounts": {
                SHARER: {
                    "workloads": [
                        {
                            "name": "fixed",
                            "id": wid,
                            "shares": [
                                {"with": RECIPIENT, "share_id": sid, "permission": "CONTRIBUTOR"},
                                {"with": OTHER, "status": "ACCEPTED"},
                                {"with": "444444444444", "status": "REJECTED"},
                                {"with": "555555555555", "status": "REVOKED"},
                            ],
                        }
                    ]
                }
            },
        }
    )
    assert created[sid] == "fixed" and len(created) == 4
    shares = list_shares(make(SHARER, "eu-west-1"), WORKLOAD, wid)["WorkloadShareSummaries"]
    assert [(s["SharedWith"], s["Status"]) for s in shares] == [
        (RECIPIENT, "PENDING"),
        (OTHER, "ACCEPTED"),
        ("444444444444", "REJECTED"),
        ("555555555555", "REVOKED"),
    ]
    [summary] = invitations(make(RECIPIENT, "eu-west-1"))
    assert (summary["ShareInvitationId"], summary["WorkloadId"], summary["PermissionType"]) == (sid, wid, "CONTRIBUTOR")
    events = env.events()
    assert len(events) == 4 and events[0]["detail"]["responseElements"]["ShareId"] == sid
    for account in (OTHER, "444444444444", "555555555555"):
        assert invitations(make(account, "eu-west-1")) == []


def test_example_world_file_loads_by_path() -> None:
    for path in (EXAMPLE_WORLD, str(EXAMPLE_WORLD)):
        sim = Simulator()
        created = sim.load_world(path)
        assert created and all(HEX32.fullmatch(share_id) for share_id in created)
        assert len(sim.events) == len(created)  # one Create*Share event per share


@pytest.mark.parametrize(
    ("world", "problem"),
    [
        ({"accounts": {"1234": {}}}, r"account '1234' is not 12 digits"),
        ({"accounts": {SHARER: {"datasets": []}}}, r"unknown sections \['datasets'\]"),
        ({"accounts": {SHARER: {"lenses": [{"name": "lens-1", "id": "XYZ"}]}}}, r"id 'XYZ' is not 32 hex"),
        (
            {
                "accounts": {
                    SHARER: {"workloads": [{"name": "app-1", "shares": [{"with": RECIPIENT, "status": "MAYBE"}]}]}
                }
            },
            r"status 'MAYBE'",
        ),
        (
            {
                "accounts": {
                    SHARER: {
                        "workloads": [
                            {
                                "name": "app-1",
                                "shares": [
                                    {"with": RECIPIENT, "share_id": "ab" * 16},
                                    {"with": OTHER, "share_id": "ab" * 16},
                                ],
                            }
                        ]
                    }
                }
            },
            r"share_id 'abab.*' .*is taken",
        ),
        (
            {
                "accounts": {
                    SHARER: {"workloads": [{"name": "app-1", "shares": [{"with": RECIPIENT, "share_id": "short"}]}]}
                }
            },
            r"share_id 'short'",
        ),
        ({"accounts": {SHARER: {"profiles": [{"name": "profile-1", "shares": [{"with": SHARER}]}]}}}, r"own account"),
        ({"accounts": []}, r"'accounts' object"),
        ({"accounts": {SHARER: {"workloads": [{"name": "w"}]}}}, r"name 'w' is not a string of 3 to 100"),
        ({"accounts": {SHARER: {"lenses": [{"name": "lens-1", "id": 7}]}}}, r"id 7 is not 32 hex"),
        ({"accounts": {SHARER: {"lenses": [{"id": "ab" * 16}]}}}, r"malformed world: KeyError"),
    ],
)
def test_bad_worlds_are_refused_with_the_problem_named(world: Any, problem: str) -> None:
    sim = Simulator()
    with pytest.raises(ValueError, match=problem):
        sim.load_world(world)
    assert not sim.service.state.resources and not sim.service.state.shares and not sim.events  # all or nothing


def test_a_world_failing_part_way_leaves_the_earlier_state_untouched() -> None:
    sim = Simulator()
    sim.load_world({"accounts": {SHARER: {"workloads": [{"name": "kept-app", "shares": [{"with": RECIPIENT}]}]}}})
    before = (dict(sim.service.state.shares), len(sim.events))
    broken = {"accounts": {OTHER: {"workloads": [{"name": "new-app", "shares": [{"with": RECIPIENT}]}]}, "x": {}}}
    with pytest.raises(ValueError, match="account 'x' is not 12 digits"):
        sim.load_world(broken)
    assert (dict(sim.service.state.shares), len(sim.events)) == before


def test_world_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "world.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError):
        Simulator().load_world(path)


# --------------------------------------------------------------------------- command line
def _readline(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise AssertionError(f"no output from the simulator within {timeout} s")
    return proc.stdout.readline()


@contextlib.contextmanager
def _cli(*flags: str) -> Iterator[str]:
    """`python -m simulator --port 0 <flags>` running; yields its first line of output, then stops it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", "0", *flags],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield _readline(proc, 30)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        assert proc.stdout and proc.stderr
        proc.stdout.close()
        proc.stderr.close()


def test_cli_serves_a_world() -> None:
    world = json.loads(EXAMPLE_WORLD.read_text(encoding="utf-8"))
    with _cli("--world", str(EXAMPLE_WORLD)) as line:
        found = re.search(r"listening on (http://127\.0\.0\.1:(\d+))", line)
        assert found, line
        session = boto3.session.Session(
            aws_access_key_id=RECIPIENT, aws_secret_access_key="x", region_name=world.get("region", "us-east-1")
        )
        client = session.client("wellarchitected", endpoint_url=found.group(1), config=NO_RETRIES)
        names = {
            s.get("WorkloadName") or s.get("LensName") or s.get("ProfileName") or s.get("TemplateName")
            for s in invitations(client)
        }
        assert names == set(expected_pending(world, RECIPIENT))


def test_cli_refuses_a_missing_world() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "simulator", "--port", "0", "--world", "/nonexistent"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "simulator:" in result.stderr and "/nonexistent" in result.stderr
    assert "listening" not in result.stdout


# --------------------------------------------------------------------------- default and strict
ROLE = f"arn:aws:iam::{RECIPIENT}:role/Reviewer"
ALICE = f"arn:aws:iam::{RECIPIENT}:user/alice"
OWN_ROLE = f"arn:aws:iam::{RECIPIENT}:role/Simulator"  # what a plain 12-digit key id calls as


def share_every_kind(sharer: Any, shared_with: str = RECIPIENT) -> dict[str, str]:
    """One share of each type with shared_with; returns {type: share id}."""
    return {
        kind.type: share(sharer, kind, create(sharer, kind, f"{kind.noun}-{shared_with[-4:]}"), shared_with)["ShareId"]
        for kind in KINDS
    }


def test_untyped_listing_is_every_type_by_default_and_workloads_only_when_strict(both: Env) -> None:
    ids = share_every_kind(both.make(SHARER))
    recipient = both.make(RECIPIENT)
    untyped = invitations(recipient)
    if both.strict:
        assert [s["ShareInvitationId"] for s in untyped] == [ids["WORKLOAD"]]
        assert "WorkloadId" in untyped[0] and "ShareResourceType" not in untyped[0]
    else:
        assert [(s["ShareInvitationId"], s["ShareResourceType"]) for s in untyped] == [
            (ids[k.type], k.type) for k in KINDS
        ]
    for kind in KINDS:  # asking for the type finds every invitation in both modes
        [summary] = invitations(recipient, ShareResourceType=kind.type)
        assert summary["ShareInvitationId"] == ids[kind.type] and kind.id_member in summary
        assert summary.get("ShareResourceType") == (None if both.strict else kind.type)


@pytest.mark.parametrize("addressee", [ROLE, ALICE], ids=["role", "user"])
def test_invitation_for_a_principal_is_answered_only_by_it_when_strict(both: Env, addressee: str) -> None:
    sharer = both.make(SHARER)
    ident = create(sharer, WORKLOAD, "payments")
    share_id = share(sharer, WORKLOAD, ident, addressee)["ShareId"]
    account_role = both.make(RECIPIENT)
    [summary] = invitations(account_role)  # listed to every caller of the account in both modes
    assert summary["SharedWith"] == addressee
    if both.strict:
        for stranger in (account_role, both.make(RECIPIENT, principal=f"arn:aws:iam::{RECIPIENT}:user/bob")):
            err = raises("AccessDeniedException", update, stranger, share_id, "ACCEPT")
            assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 403
            assert addressee in err.response["Error"]["Message"]
        assert statuses(sharer, WORKLOAD, ident) == {share_id: "PENDING"}  # nothing changed
        assert invitation_ids(account_role) == [share_id]
        answerer = both.make(RECIPIENT, principal=addressee)
    else:
        answerer = account_role
    assert update(answerer, share_id, "ACCEPT")["ShareInvitation"]["ShareInvitationId"] == share_id
    assert statuses(sharer, WORKLOAD, ident) == {share_id: "ACCEPTED"}


def test_access_key_id_with_a_user_name_calls_as_that_user(both: Env) -> None:
    sharer = both.make(SHARER)
    share_id = share(sharer, WORKLOAD, create(sharer, WORKLOAD, "payments"), ALICE)["ShareId"]
    alice = both.make(f"{RECIPIENT}-alice")  # the key id form: <account>-<user name>
    assert invitation_ids(alice) == [share_id]  # her account's invitations
    assert update(alice, share_id, "REJECT")["ShareInvitation"]["ShareInvitationId"] == share_id


def test_plain_account_key_is_the_accounts_simulator_role(both: Env) -> None:
    sharer = both.make(SHARER)
    share_id = share(sharer, WORKLOAD, create(sharer, WORKLOAD, "payments"), OWN_ROLE)["ShareId"]
    update(both.make(RECIPIENT), share_id, "ACCEPT")  # in strict mode too: it is the addressee


def test_bad_principals_are_refused(env: Env) -> None:
    with pytest.raises(ValueError, match="'arn:aws:iam::222222222222:user/x' is not an IAM user or role ARN of"):
        env.sim.client(RECIPIENT, principal=f"arn:aws:iam::{SHARER}:user/x")
    with pytest.raises(ValueError, match="'alice'"):
        env.sim.client(RECIPIENT, principal="alice")
    for token, problem in (
        ("arn:aws:iam::111111111111:group/admins", "is not an IAM user or role ARN"),
        (f"arn:aws:iam::{SHARER}:role/Elsewhere", "outside account 111111111111"),
        ("arn:aws:iam::1111111111111:user/x", "is not an IAM user or role ARN"),
    ):
        signed = {
            "Authorization": f"AWS4-HMAC-SHA256 Credential={RECIPIENT}/20260101/us-east-1/wellarchitected/"
            "aws4_request, SignedHeaders=host, Signature=0",
            "X-Amz-Security-Token": token,
        }
        status, headers, body = env.raw("GET", "/shareInvitations", signed)
        assert (status, headers["x-amzn-errortype"]) == (403, "AccessDeniedException"), body
        assert problem in body["Message"]


def test_session_token_principal_sets_the_account_for_an_anonymous_key(env: Env) -> None:
    sharer = env.make(SHARER)
    share_id = share(sharer, WORKLOAD, create(sharer, WORKLOAD, "payments"), RECIPIENT)["ShareId"]
    signed = {
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/wellarchitected/"
        "aws4_request, SignedHeaders=host, Signature=0",
        "X-Amz-Security-Token": ROLE,
    }
    status, _headers, body = env.raw("GET", "/shareInvitations", signed)
    assert status == 200 and [s["ShareInvitationId"] for s in body["ShareInvitationSummaries"]] == [share_id]


def test_updating_an_expired_invitation(both: Env) -> None:
    sharer, recipient = both.make(SHARER), both.make(RECIPIENT)
    share_id = share(sharer, WORKLOAD, create(sharer, WORKLOAD, "payments"), RECIPIENT)["ShareId"]
    both.advance(WEEK)
    err = raises("ValidationException" if both.strict else "ConflictException", update, recipient, share_id, "ACCEPT")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == (400 if both.strict else 409)
    assert share_id in err.response["Error"]["Message"]
    # an invitation settled otherwise is a ConflictException in both modes
    second = share(sharer, WORKLOAD, create(sharer, WORKLOAD, "ledger"), RECIPIENT)["ShareId"]
    update(recipient, second, "ACCEPT")
    raises("ConflictException", update, recipient, second, "REJECT")


def update_workload_share(client: Any, ident: str, share_id: str, permission: str) -> dict[str, Any]:
    return client.update_workload_share(WorkloadId=ident, ShareId=share_id, PermissionType=permission)


def test_modifying_an_accepted_workload_share_reopens_it(both: Env) -> None:
    sharer, recipient = both.make(SHARER), both.make(RECIPIENT)
    ident = create(sharer, WORKLOAD, "payments")
    share_id = share(sharer, WORKLOAD, ident, RECIPIENT, permission="READONLY")["ShareId"]
    both.advance(5 * 24 * 3600)
    update(recipient, share_id, "ACCEPT")
    assert invitations(recipient, ShareResourceType="WORKLOAD") == []

    answer = update_workload_share(sharer, ident, share_id, "CONTRIBUTOR")

    assert answer["WorkloadId"] == ident
    assert answer["WorkloadShare"] == {
        "ShareId": share_id,
        "SharedBy": SHARER,
        "SharedWith": RECIPIENT,
        "PermissionType": "CONTRIBUTOR",
        "Status": "PENDING",
        "WorkloadName": "payments",
        "WorkloadId": ident,
    }
    [summary] = invitations(recipient, ShareResourceType="WORKLOAD")  # the same invitation id, again pending
    assert (summary["ShareInvitationId"], summary["PermissionType"]) == (share_id, "CONTRIBUTOR")
    assert list_shares(sharer, WORKLOAD, ident)["WorkloadShareSummaries"][0]["PermissionType"] == "CONTRIBUTOR"
    both.advance(6 * 24 * 3600)  # 11 days after the share, 6 after the change: a new 7-day window
    assert statuses(sharer, WORKLOAD, ident) == {share_id: "PENDING"}
    both.advance(24 * 3600)
    assert statuses(sharer, WORKLOAD, ident) == {share_id: "EXPIRED"}
    assert invitations(recipient, ShareResourceType="WORKLOAD") == []


def test_modifying_a_pending_workload_share_restarts_its_window(both: Env) -> None:
    sharer, recipient = both.make(SHARER), both.make(RECIPIENT)
    ident = create(sharer, WORKLOAD, "payments")
    share_id = share(sharer, WORKLOAD, ident, RECIPIENT)["ShareId"]
    both.advance(6 * 24 * 3600)
    assert update_workload_share(sharer, ident, share_id, "CONTRIBUTOR")["WorkloadShare"]["Status"] == "PENDING"
    both.advance(2 * 24 * 3600)
    assert invitation_ids(recipient, ShareResourceType="WORKLOAD") == [share_id]
    assert update(recipient, share_id, "ACCEPT")["ShareInvitation"]["WorkloadId"] == ident


def test_modifying_a_workload_share_records_an_event(both: Env) -> None:
    sharer = both.make(SHARER, "eu-west-1")
    ident = create(sharer, WORKLOAD, "payments")
    share_id = share(sharer, WORKLOAD, ident, RECIPIENT)["ShareId"]
    answer = update_workload_share(sharer, ident, share_id, "CONTRIBUTOR")
    created, modified = both.events()
    assert created["detail"]["eventName"] == "CreateWorkloadShare"
    assert modified["detail"]["eventName"] == "UpdateWorkloadShare"
    assert (modified["account"], modified["region"]) == (SHARER, "eu-west-1")
    assert modified["detail"]["requestParameters"] == {
        "WorkloadId": ident,
        "ShareId": share_id,
        "PermissionType": "CONTRIBUTOR",
    }
    assert modified["detail"]["responseElements"] == {k: v for k, v in answer.items() if k != "ResponseMetadata"}


def test_modifying_workload_shares_that_cannot_change(both: Env) -> None:
    sharer, recipient = both.make(SHARER), both.make(RECIPIENT)
    ident = create(sharer, WORKLOAD, "payments")
    rejected = share(sharer, WORKLOAD, ident, RECIPIENT)["ShareId"]
    update(recipient, rejected, "REJECT")
    revoked = share(sharer, WORKLOAD, ident, OTHER)["ShareId"]
    delete_share(sharer, WORKLOAD, ident, revoked)
    expired = share(sharer, WORKLOAD, ident, "444444444444")["ShareId"]
    both.advance(WEEK)
    for share_id, status in ((rejected, "REJECTED"), (revoked, "REVOKED"), (expired, "EXPIRED")):
        err = raises("ConflictException", update_workload_share, sharer, ident, share_id, "CONTRIBUTOR")
        assert status in err.response["Error"]["Message"]
    raises("ResourceNotFoundException", update_workload_share, sharer, ident, "f" * 32, "READONLY")
    raises("ResourceNotFoundException", update_workload_share, both.make(OTHER), ident, rejected, "READONLY")
    rejected_as_invalid(update_workload_share, sharer, ident, rejected, "OWNER")
    assert statuses(sharer, WORKLOAD, ident) == {rejected: "REJECTED", revoked: "REVOKED", expired: "EXPIRED"}
    assert [e["detail"]["eventName"] for e in both.events()].count("UpdateWorkloadShare") == 0


def test_modifying_an_organization_share_keeps_its_association(both: Env) -> None:
    sharer = both.make(SHARER)
    ident = create(sharer, WORKLOAD, "payments")
    share_id = share(sharer, WORKLOAD, ident, "ou-ab12-abcdefgh")["ShareId"]
    both.advance(60)
    answer = update_workload_share(sharer, ident, share_id, "CONTRIBUTOR")["WorkloadShare"]
    assert (answer["Status"], answer["PermissionType"]) == ("ASSOCIATED", "CONTRIBUTOR")
    assert invitations(both.make(RECIPIENT)) == []


def test_organization_share_statuses_from_a_world(both: Env) -> None:
    created = both.load_world(
        {
            "accounts": {
                SHARER: {
                    "workloads": [
                        {"name": "failed-app", "shares": [{"with": "o-abcdefghij", "status": "FAILED"}]},
                        {"name": "fresh-app", "shares": [{"with": "o-abcdefghij"}]},
                        {"name": "stuck-app", "shares": [{"with": "ou-ab12-abcdefgh", "status": "ASSOCIATING"}]},
                    ]
                }
            }
        }
    )
    by_name = {name: share_id for share_id, name in created.items()}
    both.advance(3600)
    for name, expected in (("failed-app", "FAILED"), ("fresh-app", "ASSOCIATED"), ("stuck-app", "ASSOCIATING")):
        assert both.sim.share_status(by_name[name]) == expected
    sharer = both.make(SHARER)
    ident = both.sim.service.state.shares[by_name["failed-app"]].resource.rid
    assert (
        list_shares(sharer, WORKLOAD, ident, Status="FAILED")["WorkloadShareSummaries"][0]["ShareId"]
        == (by_name["failed-app"])
    )
    # a failed association does not block sharing again
    assert share(sharer, WORKLOAD, ident, "o-abcdefghij")["ShareId"] != by_name["failed-app"]


@pytest.mark.parametrize(
    "status", ["PENDING", "ACCEPTED", "EXPIRED", "bogus"], ids=["pending", "accepted", "expired", "bogus"]
)
def test_a_world_refuses_invitation_statuses_for_an_organization_share(status: str) -> None:
    world = {
        "accounts": {SHARER: {"workloads": [{"name": "app", "shares": [{"with": "o-abcdefghij", "status": status}]}]}}
    }
    with pytest.raises(ValueError, match=f"organization share status '{status}' is not ASSOCIATING"):
        Simulator().load_world(world)


def test_a_world_gives_each_share_the_status_it_names() -> None:
    # Given a world with an explicit PENDING invitation, a REVOKED one and a REVOKED organization share
    sim = Simulator()
    created = sim.load_world(
        {
            "accounts": {
                SHARER: {
                    "workloads": [
                        {"name": "pending-app", "shares": [{"with": RECIPIENT, "status": "PENDING"}]},
                        {"name": "revoked-app", "shares": [{"with": RECIPIENT, "status": "REVOKED"}]},
                        {"name": "org-app", "shares": [{"with": "o-abcdefghij", "status": "REVOKED"}]},
                    ]
                }
            }
        }
    )
    # Then each share reads as named, and only the pending one is an invitation
    by_name = {name: sim.share_status(share_id) for share_id, name in created.items()}
    assert by_name == {"pending-app": "PENDING", "revoked-app": "REVOKED", "org-app": "REVOKED"}
    [summary] = sim.client(account=RECIPIENT).list_share_invitations(ShareResourceType="WORKLOAD")[
        "ShareInvitationSummaries"
    ]
    assert summary["WorkloadName"] == "pending-app"
    with pytest.raises(KeyError, match="no share " + "f" * 32):
        sim.share_status("f" * 32)


def test_a_world_refuses_association_statuses_for_an_account_share() -> None:
    world = {
        "accounts": {SHARER: {"workloads": [{"name": "app", "shares": [{"with": RECIPIENT, "status": "FAILED"}]}]}}
    }
    with pytest.raises(ValueError, match="share status 'FAILED' is not PENDING"):
        Simulator().load_world(world)


@kinds
def test_a_retried_create_share_with_the_same_token_returns_the_original(both: Env, kind: Kind) -> None:
    sharer = both.make(SHARER)
    ident = create(sharer, kind, f"{kind.noun}-retried")
    params = {kind.ident: ident, "SharedWith": RECIPIENT, "ClientRequestToken": "token-0001"}
    if kind.type == "WORKLOAD":
        params["PermissionType"] = "READONLY"
    call = getattr(sharer, f"create_{kind.noun}_share")
    first = call(**params)
    again = call(**params)
    assert {k: v for k, v in again.items() if k != "ResponseMetadata"} == {
        k: v for k, v in first.items() if k != "ResponseMetadata"
    }
    assert list(statuses(sharer, kind, ident)) == [first["ShareId"]]
    assert len(both.events()) == 1  # one share, one CloudTrail record
    assert invitation_ids(both.make(RECIPIENT), ShareResourceType=kind.type) == [first["ShareId"]]
    # the same token with other parameters is refused and creates nothing
    err = raises("ConflictException", call, **(params | {"SharedWith": OTHER}))
    assert "token-0001" in err.response["Error"]["Message"]
    # a new token is a new request: the share exists, so it conflicts
    raises("ConflictException", call, **(params | {"ClientRequestToken": "token-0002"}))
    # another caller's token is its own, even if equal: here a second caller of the same account
    raises(
        "ConflictException",
        getattr(both.make(SHARER, principal=f"arn:aws:iam::{SHARER}:user/carol"), f"create_{kind.noun}_share"),
        **params,
    )
    assert len(both.events()) == 1 and list(statuses(sharer, kind, ident)) == [first["ShareId"]]


def test_a_retry_answers_the_original_even_after_the_share_changed(both: Env) -> None:
    sharer, recipient = both.make(SHARER), both.make(RECIPIENT)
    ident = create(sharer, WORKLOAD, "payments")
    params = {"WorkloadId": ident, "SharedWith": RECIPIENT, "PermissionType": "READONLY", "ClientRequestToken": "t-1"}
    share_id = sharer.create_workload_share(**params)["ShareId"]
    update(recipient, share_id, "REJECT")
    assert sharer.create_workload_share(**params)["ShareId"] == share_id
    assert statuses(sharer, WORKLOAD, ident) == {share_id: "REJECTED"}  # not shared again
    assert invitations(recipient) == []


def test_cli_strict_flag_serves_the_strict_simulator() -> None:
    with _cli("--strict", "--world", str(EXAMPLE_WORLD)) as line:
        found = re.search(r"simulator \(strict\) listening on (http://127\.0\.0\.1:[0-9]+)", line)
        assert found, line
        client = session(RECIPIENT, "us-east-1").client("wellarchitected", endpoint_url=found.group(1))
        untyped = invitations(client)
        assert untyped and all("WorkloadId" in s and "ShareResourceType" not in s for s in untyped)
        assert len(invitations(client, ShareResourceType="LENS")) == 2


@kinds
def test_deleting_a_resource_revokes_its_live_shares(env: Env, make: Callable[..., Any], kind: Kind) -> None:
    sharer, recipient = make(SHARER), make(RECIPIENT)
    ident = create(sharer, kind, f"{kind.noun}-doomed")
    pending = share(sharer, kind, ident, RECIPIENT)["ShareId"]
    rejected = share(sharer, kind, ident, OTHER)["ShareId"]
    update(make(OTHER), rejected, "REJECT")
    delete = {"WORKLOAD": "delete_workload", "LENS": "delete_lens", "PROFILE": "delete_profile"}
    extra = {"LensStatus": "ALL"} if kind.type == "LENS" else {}
    getattr(sharer, delete.get(kind.type, "delete_review_template"))(**{kind.ident: ident}, **extra)
    assert (env.sim.share_status(pending), env.sim.share_status(rejected)) == ("REVOKED", "REJECTED")
    assert invitations(recipient) == []
    raises("ResourceNotFoundException", list_shares, sharer, kind, ident)


def test_publishing_a_lens_version(make: Callable[..., Any]) -> None:
    sharer = make(SHARER)
    arn = create(sharer, BY_TYPE["LENS"], "platform")
    answer = sharer.create_lens_version(LensAlias=arn, LensVersion="1.0", IsMajorVersion=True)
    assert (answer["LensArn"], answer["LensVersion"]) == (arn, "1.0")
    raises("ResourceNotFoundException", make(OTHER).create_lens_version, LensAlias=arn, LensVersion="1.0")
