"""Contract: every body the simulator answers with is one botocore's model of Well-Architected allows.

A scenario drives every simulated operation, on its happy paths and its error paths, through real
boto3 clients; Simulator.handle is wrapped on the instance so the raw status, headers and JSON body of
each answer are kept. Success bodies are walked against the operation's output shape, error bodies
against the error shape their code names, which the operation must declare. The walker itself is
checked on broken bodies, so a simulator drifting from the model fails here."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import botocore.parsers
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.model import OperationModel, Shape

import simulator.core
from simulator import Faults, Simulator
from simulator.protocol import OPERATIONS, match
from simulator.service import Service, ServiceError

MODEL = botocore.session.get_session().get_service_model("wellarchitected")
COMMON_ERRORS = frozenset(
    {"ThrottlingException", "InternalServerException", "ValidationException", "AccessDeniedException"}
)
SHARER, RECIPIENT, OTHER = "222222222222", "111111111111", "333333333333"
UNTRANSLATABLE: dict[str, str] = {}  # shape name -> a pattern Python's re cannot compile: not checked


# --------------------------------------------------------------------------- the walker
@functools.cache
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _pattern(shape: Shape) -> re.Pattern[str] | None:
    pattern = shape.metadata.get("pattern")
    if pattern is None:
        return None
    try:
        return _compile(pattern)
    except re.error:  # Java-only syntax such as \p{L}: skip this one pattern, and say so
        UNTRANSLATABLE[shape.name] = pattern
        return None


def _bounds(shape: Shape, size: float, where: str, unit: str) -> list[str]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        return [f"{where}: {size} {unit} is below the minimum {low} of {shape.name}"]
    if high is not None and size > high:
        return [f"{where}: {size} {unit} is above the maximum {high} of {shape.name}"]
    return []


def _timestamp(shape: Shape, value: Any, where: str) -> list[str]:
    fmt = shape.serialization.get("timestampFormat") or MODEL.metadata.get("timestampFormat") or "unixTimestamp"
    if fmt == "unixTimestamp":  # rest-json's default: epoch seconds as a JSON number
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:
        try:
            datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            ok = isinstance(value, str)
        except ValueError:
            ok = False
    return [] if ok else [f"{where}: {value!r} is not a {fmt} timestamp"]


def problems(shape: Shape, value: Any, where: str = "$") -> list[str]:
    """Everything wrong with a JSON value as an instance of shape (empty when it conforms)."""
    kind = shape.type_name
    if value is None:
        return [f"{where}: null where {shape.name} ({kind}) belongs; absent members are left out"]
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{where}: expected an object for {shape.name}, got {type(value).__name__}"]
        body = {
            member.serialization.get("name", name): (name, member)
            for name, member in shape.members.items()
            if member.serialization.get("location") is None
        }
        found = [f"{where}: missing required member {name}" for name in shape.required_members if name not in value]
        for wire, item in value.items():
            if wire not in body:
                found.append(f"{where}: unknown member {wire} in {shape.name}")
            else:
                found += problems(body[wire][1], item, f"{where}.{wire}")
        return found
    if kind == "list":
        if not isinstance(value, list):
            return [f"{where}: expected a list for {shape.name}, got {type(value).__name__}"]
        found = _bounds(shape, len(value), where, "items")
        for index, item in enumerate(value):
            found += problems(shape.member, item, f"{where}[{index}]")
        return found
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{where}: expected an object for map {shape.name}, got {type(value).__name__}"]
        found = _bounds(shape, len(value), where, "entries")
        for key, item in value.items():
            found += problems(shape.key, key, f"{where}<key {key!r}>")
            found += problems(shape.value, item, f"{where}[{key!r}]")
        return found
    if kind == "string":
        if not isinstance(value, str):
            return [f"{where}: expected a string for {shape.name}, got {type(value).__name__}"]
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            return [f"{where}: {value!r} is not one of {enum} ({shape.name})"]
        found = _bounds(shape, len(value), where, "characters")
        pattern = _pattern(shape)
        if pattern is not None and not pattern.fullmatch(value):
            found.append(f"{where}: {value!r} does not match {pattern.pattern} ({shape.name})")
        return found
    if kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{where}: expected an integer for {shape.name}, got {value!r}"]
        return _bounds(shape, value, where, "as a value")
    if kind in ("float", "double"):
        if not isinstance(value, int | float) or isinstance(value, bool):
            return [f"{where}: expected a number for {shape.name}, got {value!r}"]
        return _bounds(shape, value, where, "as a value")
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{where}: expected a boolean for {shape.name}, got {value!r}"]
    if kind == "timestamp":
        return _timestamp(shape, value, where)
    return [f"{where}: the walker does not know {kind} ({shape.name})"]


# --------------------------------------------------------------------------- capturing the wire
@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw) if self.raw else None

    @property
    def operation(self) -> OperationModel | None:
        try:
            return match(self.method, self.path)[0]
        except ServiceError:
            return None

    @property
    def error_code(self) -> str | None:
        header = {k.lower(): v for k, v in self.headers.items()}.get("x-amzn-errortype")
        if header:
            return header.split(":")[0]
        body = self.body if isinstance(self.body, dict) else {}
        code = body.get("__type") or body.get("code")
        return code.split("#")[-1] if code else None


def record(sim: Simulator) -> list[Exchange]:
    """Keep every answer sim gives: the in-process hook and the HTTP server both call sim.handle."""
    exchanges: list[Exchange] = []
    original = sim.handle

    def handle(method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Any:
        status, out_headers, out_body = original(method, path, query, headers, body)
        exchanges.append(Exchange(method, path, status, dict(out_headers), out_body))
        return status, out_headers, out_body

    sim.handle = handle  # type: ignore[method-assign]
    return exchanges


def expect_error(code: str, call: Any, **params: Any) -> None:
    with pytest.raises(ClientError) as info:
        call(**params)
    assert info.value.response["Error"]["Code"] == code, info.value.response


def drive(sim: Simulator) -> None:
    """Every simulated operation, each resource kind, every filter and page, and every error path."""
    sharer, recipient, other = sim.client(SHARER), sim.client(RECIPIENT), sim.client(OTHER)
    payments = {
        "WorkloadName": "payments",
        "Description": "the payments workload",
        "Environment": "PRODUCTION",
        "Lenses": ["wellarchitected"],
        "AwsRegions": ["us-east-1"],
        "ReviewOwner": "owner",
    }
    workload = sharer.create_workload(**payments)["WorkloadId"]
    lens = sharer.import_lens(JSONString=json.dumps({"name": "platform-lens"}), LensAlias="platform")["LensArn"]
    profile = sharer.create_profile(ProfileName="pci-profile", ProfileDescription="pci", ProfileQuestions=[])[
        "ProfileArn"
    ]
    template = sharer.create_review_template(
        TemplateName="standard-review", Description="standard", Lenses=["wellarchitected"]
    )["TemplateArn"]
    kinds = {
        "workload": ("WorkloadId", workload, {"PermissionType": "CONTRIBUTOR"}),
        "lens": ("LensAlias", lens, {}),
        "profile": ("ProfileArn", profile, {}),
        "template": ("TemplateArn", template, {}),
    }
    accepted: dict[str, str] = {}
    revoked_ids: dict[str, str] = {}
    for noun, (member, ident, extra) in kinds.items():
        create = getattr(sharer, f"create_{noun}_share")
        first = create(**{member: ident}, SharedWith=RECIPIENT, **extra)["ShareId"]
        create(**{member: ident}, SharedWith=OTHER, **extra)
        create(**{member: ident}, SharedWith=f"arn:aws:iam::{OTHER}:role/Reviewer", **extra)
        create(**{member: ident}, SharedWith="o-abcdefghij", **extra)
        revoked = create(**{member: ident}, SharedWith="444444444444", **extra)["ShareId"]
        expect_error("ConflictException", create, **{member: ident}, SharedWith=RECIPIENT, **extra)
        expect_error("ValidationException", create, **{member: ident}, SharedWith=SHARER, **extra)
        delete = getattr(sharer, f"delete_{noun}_share")
        delete(**{member: ident}, ShareId=revoked)
        expect_error("ConflictException", delete, **{member: ident}, ShareId=revoked)
        expect_error("ResourceNotFoundException", delete, **{member: ident}, ShareId="f" * 32)
        accepted[noun] = first
        revoked_ids[noun] = revoked
        listing = getattr(sharer, f"list_{noun}_shares")
        page = listing(**{member: ident}, MaxResults=2)
        listing(**{member: ident}, MaxResults=2, NextToken=page["NextToken"])
        listing(**{member: ident}, Status="REVOKED")
        listing(**{member: ident}, SharedWithPrefix="arn:")
        expect_error("ValidationException", listing, **{member: ident}, MaxResults=51)
        expect_error("ResourceNotFoundException", getattr(other, f"list_{noun}_shares"), **{member: ident})
    expect_error(
        "ResourceNotFoundException",
        sharer.create_workload_share,
        WorkloadId="0" * 32,
        SharedWith=RECIPIENT,
        PermissionType="READONLY",
    )
    expect_error("ConflictException", sharer.create_workload, **payments)
    expect_error("ValidationException", sharer.import_lens, JSONString="[]")

    recipient.list_share_invitations()
    page = other.list_share_invitations(ShareResourceType="WORKLOAD", MaxResults=1)  # one to the account, one to a role
    other.list_share_invitations(ShareResourceType="WORKLOAD", MaxResults=1, NextToken=page["NextToken"])
    for rtype, prefix, value in (
        ("WORKLOAD", "WorkloadNamePrefix", "pay"),
        ("LENS", "LensNamePrefix", "plat"),
        ("PROFILE", "ProfileNamePrefix", "pci"),
        ("TEMPLATE", "TemplateNamePrefix", "std"),
    ):
        recipient.list_share_invitations(ShareResourceType=rtype, **{prefix: value})
    other.list_share_invitations()
    expect_error("ValidationException", recipient.list_share_invitations, MaxResults=51)
    expect_error("ValidationException", recipient.list_share_invitations, NextToken="bm9wZQ")

    for share_id in accepted.values():
        recipient.update_share_invitation(ShareInvitationId=share_id, ShareInvitationAction="ACCEPT")

    # UpdateWorkloadShare: the accepted share re-opens; the organization share keeps its association
    sharer.update_workload_share(WorkloadId=workload, ShareId=accepted["workload"], PermissionType="READONLY")
    org_share = sharer.list_workload_shares(WorkloadId=workload, SharedWithPrefix="o-")["WorkloadShareSummaries"]
    sharer.update_workload_share(WorkloadId=workload, ShareId=org_share[0]["ShareId"], PermissionType="READONLY")
    expect_error(
        "ConflictException",
        sharer.update_workload_share,
        WorkloadId=workload,
        ShareId=revoked_ids["workload"],
        PermissionType="READONLY",
    )
    expect_error(
        "ResourceNotFoundException",
        sharer.update_workload_share,
        WorkloadId=workload,
        ShareId="f" * 32,
        PermissionType="READONLY",
    )
    recipient.update_share_invitation(ShareInvitationId=accepted["workload"], ShareInvitationAction="ACCEPT")

    # ClientRequestToken: a retry answers the original result; the token with other parameters conflicts
    retried = {"ProfileArn": profile, "SharedWith": "666666666666", "ClientRequestToken": "retry-0001"}
    original = sharer.create_profile_share(**retried)["ShareId"]
    assert sharer.create_profile_share(**retried)["ShareId"] == original
    expect_error("ConflictException", sharer.create_profile_share, **(retried | {"SharedWith": "777777777777"}))

    # an invitation addressed to an IAM role: strict lets only that role answer it
    role = f"arn:aws:iam::{OTHER}:role/Reviewer"
    for_role = [
        s["ShareInvitationId"]
        for s in other.list_share_invitations(ShareResourceType="LENS")["ShareInvitationSummaries"]
        if s["SharedWith"] == role
    ]
    if sim.strict:
        expect_error(
            "AccessDeniedException",
            other.update_share_invitation,
            ShareInvitationId=for_role[0],
            ShareInvitationAction="ACCEPT",
        )
    sim.client(OTHER, principal=role).update_share_invitation(
        ShareInvitationId=for_role[0], ShareInvitationAction="ACCEPT"
    )
    other_ids = [s["ShareInvitationId"] for s in other.list_share_invitations()["ShareInvitationSummaries"]]
    other.update_share_invitation(ShareInvitationId=other_ids[0], ShareInvitationAction="REJECT")
    expect_error(
        "ConflictException",
        recipient.update_share_invitation,
        ShareInvitationId=accepted["lens"],
        ShareInvitationAction="REJECT",
    )
    expect_error(
        "ResourceNotFoundException",
        recipient.update_share_invitation,
        ShareInvitationId="a" * 32,
        ShareInvitationAction="ACCEPT",
    )
    expect_error(
        "ValidationException",
        recipient.update_share_invitation,
        ShareInvitationId="nope",
        ShareInvitationAction="ACCEPT",
    )
    expect_error(
        "ValidationException",
        recipient.update_share_invitation,
        ShareInvitationId="a" * 32,
        ShareInvitationAction="MAYBE",
    )

    # publishing a lens version, and deleting resources (their live shares are revoked)
    sharer.create_lens_version(LensAlias=lens, LensVersion="1.0", IsMajorVersion=True)
    expect_error("ResourceNotFoundException", sharer.create_lens_version, LensAlias="missing", LensVersion="1.0")
    spare = {
        "workload": sharer.create_workload(**(payments | {"WorkloadName": "spare"}))["WorkloadId"],
        "lens": sharer.import_lens(JSONString=json.dumps({"name": "spare-lens"}))["LensArn"],
        "profile": sharer.create_profile(ProfileName="spare", ProfileDescription="spare", ProfileQuestions=[])[
            "ProfileArn"
        ],
        "review_template": sharer.create_review_template(
            TemplateName="spare", Description="spare", Lenses=["wellarchitected"]
        )["TemplateArn"],
    }
    sharer.delete_workload(WorkloadId=spare["workload"])
    sharer.delete_lens(LensAlias=spare["lens"], LensStatus="ALL")
    sharer.delete_profile(ProfileArn=spare["profile"])
    sharer.delete_review_template(TemplateArn=spare["review_template"])
    expect_error("ResourceNotFoundException", sharer.delete_workload, WorkloadId=spare["workload"])

    # an expired invitation: ConflictException, or ValidationException in strict mode
    late = sharer.create_template_share(TemplateArn=template, SharedWith="888888888888")["ShareId"]
    sim.advance(7 * 24 * 3600)
    expect_error(
        "ValidationException" if sim.strict else "ConflictException",
        sim.client("888888888888").update_share_invitation,
        ShareInvitationId=late,
        ShareInvitationAction="ACCEPT",
    )
    sharer.list_template_shares(TemplateArn=template, Status="EXPIRED")
    sharer.list_workload_shares(WorkloadId=workload, Status="ASSOCIATED")

    single = Config(retries={"total_max_attempts": 1})
    sim.faults = Faults(throttle_rps=1)
    throttled = sim.client(RECIPIENT, config=single)
    throttled.list_share_invitations()
    expect_error("ThrottlingException", throttled.list_share_invitations)
    expect_error(
        "ThrottlingException",
        throttled.update_share_invitation,
        ShareInvitationId="a" * 32,
        ShareInvitationAction="ACCEPT",
    )
    sim.faults = Faults(error_rate=1.0)
    failing = sim.client(SHARER, config=single)
    expect_error("InternalServerException", failing.list_share_invitations)
    expect_error("InternalServerException", failing.create_lens_share, LensAlias=lens, SharedWith=OTHER)
    sim.faults = Faults()

    sim.handle("GET", "/shareInvitations", "", {}, b"")  # unsigned
    signed = {
        "Authorization": f"AWS4-HMAC-SHA256 Credential={RECIPIENT}/20260101/us-east-1/wellarchitected/"
        "aws4_request, SignedHeaders=host, Signature=0"
    }
    sim.handle("GET", "/no/such/route", "", signed, b"")


@pytest.fixture(scope="module", params=[False, True], ids=["default", "strict"])
def exchanges(request: pytest.FixtureRequest) -> list[Exchange]:
    sim = Simulator(strict=request.param)
    recorded = record(sim)
    drive(sim)
    return recorded


def _ok(exchanges: list[Exchange], name: str) -> list[Exchange]:
    return [e for e in exchanges if e.status < 300 and e.operation is not None and e.operation.name == name]


def _errors(exchanges: list[Exchange]) -> list[Exchange]:
    return [e for e in exchanges if e.status >= 300]


# --------------------------------------------------------------------------- the contract
def test_scenario_exercises_every_operation_and_error(exchanges: list[Exchange]) -> None:
    assert {e.operation.name for e in exchanges if e.status == 200 and e.operation} == OPERATIONS
    assert {e.error_code for e in _errors(exchanges)} >= {
        "ValidationException",
        "ResourceNotFoundException",
        "ConflictException",
        "ThrottlingException",
        "InternalServerException",
        "AccessDeniedException",
    }
    failed = {e.operation.name for e in _errors(exchanges) if e.operation}
    assert {"UpdateShareInvitation", "ListShareInvitations", "CreateWorkloadShare"} <= failed


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_success_bodies_match_the_output_shape(exchanges: list[Exchange], name: str) -> None:
    answers = _ok(exchanges, name)
    assert answers, f"the scenario never called {name} successfully"
    operation = MODEL.operation_model(name)
    for answer in answers:
        assert answer.status == operation.http.get("responseCode", 200)
        assert answer.headers.get("Content-Type") == "application/json"
        if operation.output_shape is None:
            assert answer.body in (None, {}), answer.body
            continue
        assert problems(operation.output_shape, answer.body) == [], answer.body


def test_every_list_operation_pages_in_the_scenario(exchanges: list[Exchange]) -> None:
    """So NextToken, as the simulator writes it, is walked against the model's pattern above."""
    paged = {
        e.operation.name
        for e in exchanges
        if e.status == 200 and e.operation and isinstance(e.body, dict) and "NextToken" in e.body
    }
    assert paged == {name for name in OPERATIONS if name.startswith("List")}


def test_error_bodies_match_a_declared_error_shape(exchanges: list[Exchange]) -> None:
    parser = botocore.parsers.create_parser("rest-json")
    routed = [e for e in _errors(exchanges) if e.operation is not None]
    assert len(routed) >= 20
    for answer in routed:
        operation = answer.operation
        assert operation is not None
        code = answer.error_code
        declared = {shape.name for shape in operation.error_shapes} | COMMON_ERRORS
        assert code in declared, (operation.name, code)
        shape = MODEL.shape_for(code)
        assert answer.status == shape.metadata["error"]["httpStatusCode"], (code, answer.status)
        body = {k: v for k, v in answer.body.items() if k not in ("__type", "code")}
        assert problems(shape, body) == [], (operation.name, answer.body)
        headers = {k.lower(): v for k, v in answer.headers.items()}  # as urllib3 hands them to botocore
        parsed = parser.parse(
            {"status_code": answer.status, "headers": headers, "body": answer.raw}, operation.output_shape
        )
        assert parsed["Error"]["Code"] == code
        assert parsed["Error"]["Message"] == answer.body["Message"]


def test_requests_that_match_no_operation_still_get_json_errors(exchanges: list[Exchange]) -> None:
    unrouted = [e for e in _errors(exchanges) if e.operation is None or e.error_code == "AccessDeniedException"]
    codes = {(e.status, e.error_code) for e in unrouted}
    assert codes == {(403, "AccessDeniedException"), (404, "UnknownOperationException")}
    denied = next(e for e in unrouted if e.error_code == "AccessDeniedException")
    assert problems(MODEL.shape_for("AccessDeniedException"), denied.body) == []
    for answer in unrouted:
        assert isinstance(answer.body["Message"], str) and answer.body["Message"]


def _reachable(shape: Shape | None, seen: set[str]) -> Iterator[Shape]:
    if shape is None or shape.name in seen:
        return
    seen.add(shape.name)
    yield shape
    if shape.type_name == "structure":
        for member in shape.members.values():
            yield from _reachable(member, seen)
    elif shape.type_name == "list":
        yield from _reachable(shape.member, seen)
    elif shape.type_name == "map":
        yield from _reachable(shape.key, seen)
        yield from _reachable(shape.value, seen)


def test_every_pattern_of_a_simulated_answer_is_checked() -> None:
    seen: set[str] = set()
    shapes = [
        s
        for name in OPERATIONS
        for root in (MODEL.operation_model(name).output_shape, *MODEL.operation_model(name).error_shapes)
        for s in _reachable(root, seen)
    ]
    patterned = [s for s in shapes if s.metadata.get("pattern")]
    assert len(patterned) >= 5
    for shape in patterned:
        assert _pattern(shape) is not None, f"{shape.name}: {shape.metadata['pattern']} would be skipped"


# --------------------------------------------------------------------------- the walker catches drift
def _shape(operation: str, *path: str, output: bool = True) -> Shape:
    op = MODEL.operation_model(operation)
    shape = op.output_shape if output else op.input_shape
    for step in path:
        shape = shape.member if step == "[]" else shape.members[step]
    return shape


INVITATION = {
    "ShareInvitationId": "0123456789abcdef0123456789abcdef",
    "SharedBy": SHARER,
    "SharedWith": RECIPIENT,
    "PermissionType": "READONLY",
    "ShareResourceType": "WORKLOAD",
    "WorkloadName": "payments",
    "WorkloadId": "fedcba9876543210fedcba9876543210",
}
TEMPLATE_ARN = f"arn:aws:wellarchitected:us-east-1:{SHARER}:review-template/{'a' * 32}"
WORKLOAD = {
    "WorkloadId": "fedcba9876543210fedcba9876543210",
    "WorkloadName": "payments",
    "UpdatedAt": 1767225600,
    "IsReviewOwnerUpdateAcknowledged": True,
    "RiskCounts": {"HIGH": 2, "NONE": 0},
    "Lenses": ["wellarchitected"],
}


def _invitations(**changes: Any) -> dict[str, Any]:
    return {"ShareInvitationSummaries": [{**INVITATION, **changes}]}


def test_the_walker_passes_conforming_bodies() -> None:
    assert problems(_shape("ListShareInvitations"), _invitations()) == []
    assert problems(_shape("ListShareInvitations"), {"ShareInvitationSummaries": [], "NextToken": "djE6MQ=="}) == []
    assert problems(_shape("GetWorkload"), {"Workload": WORKLOAD}) == []
    assert problems(_shape("CreateTemplateShare"), {"TemplateArn": TEMPLATE_ARN, "ShareId": "b" * 32}) == []
    conflict = {"Message": "m", "ResourceId": "r", "ResourceType": "SHARE_INVITATION"}
    assert problems(MODEL.shape_for("ConflictException"), conflict) == []


@pytest.mark.parametrize(
    ("shape", "body", "reported"),
    [
        (_shape("ListShareInvitations"), _invitations(Status="PENDING"), "unknown member Status"),
        (
            _shape("UpdateShareInvitation"),
            {"ShareInvitation": {"ShareInvitationId": "a" * 32, "Shared": True}},
            "unknown member Shared",
        ),
        (
            MODEL.shape_for("ConflictException"),
            {"Message": "m", "ResourceType": "SHARE_INVITATION"},
            "missing required member ResourceId",
        ),
        (MODEL.shape_for("ResourceNotFoundException"), {"Message": "m"}, "missing required member ResourceId"),
        (_shape("ListShareInvitations"), _invitations(ShareResourceType="DATASET"), "'DATASET' is not one of"),
        (_shape("ListWorkloadShares"), {"WorkloadShareSummaries": [{"Status": "OPEN"}]}, "'OPEN' is not one of"),
        (_shape("ListShareInvitations"), _invitations(WorkloadName="w" * 101), "above the maximum 100"),
        (_shape("ListShareInvitations"), _invitations(SharedBy="2222"), "below the minimum 12"),
        (_shape("ListShareInvitations"), _invitations(ShareInvitationId="NOT-HEX"), "does not match [0-9a-f]{32}"),
        (
            _shape("CreateTemplateShare"),
            {"TemplateArn": TEMPLATE_ARN.replace("review-template", "template")},
            "does not match",
        ),
        (_shape("ListShareInvitations"), {"ShareInvitationSummaries": {}}, "expected a list"),
        (_shape("ListShareInvitations"), {"NextToken": 7}, "expected a string"),
        (_shape("ListShareInvitations"), {"NextToken": None}, "null"),
        (_shape("ListShareInvitations"), ["not", "an", "object"], "expected an object"),
        (_shape("ListShareInvitations", "MaxResults", output=False), 51, "above the maximum 50"),
        (_shape("ListShareInvitations", "MaxResults", output=False), 0, "below the minimum 1"),
        (_shape("ListShareInvitations", "MaxResults", output=False), True, "expected an integer"),
        (
            _shape("GetWorkload"),
            {"Workload": {**WORKLOAD, "IsReviewOwnerUpdateAcknowledged": "yes"}},
            "expected a boolean",
        ),
        (_shape("GetWorkload"), {"Workload": {**WORKLOAD, "UpdatedAt": "yesterday"}}, "timestamp"),
        (_shape("GetWorkload"), {"Workload": {**WORKLOAD, "RiskCounts": {"SEVERE": 1}}}, "'SEVERE' is not one of"),
        (_shape("GetWorkload"), {"Workload": {**WORKLOAD, "RiskCounts": {"HIGH": -1}}}, "below the minimum 0"),
        (MODEL.shape_for("LensAliases"), [], "0 items is below the minimum 1"),
        (MODEL.shape_for("ImpactDetails"), ["a long enough detail"] * 4, "4 items is above the maximum 3"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_the_walker_reports_drift(shape: Shape, body: Any, reported: str) -> None:
    found = problems(shape, body)
    assert any(reported in problem for problem in found), found


def test_timestamps_follow_the_protocol_format() -> None:
    epoch = MODEL.shape_for("Timestamp")  # rest-json default: epoch seconds
    assert problems(epoch, 1767225600.5) == [] and problems(epoch, "2026-01-01T00:00:00Z") != []
    iso = MODEL.shape_for("SyntheticTimestamp_date_time")  # timestampFormat iso8601
    assert problems(iso, "2026-01-01T00:00:00Z") == [] and problems(iso, 1767225600) != []


def test_untranslatable_patterns_are_skipped_and_recorded() -> None:
    tag_key = MODEL.shape_for("TagKey")  # [\p{L}\p{N}\p{Z}_.:/=+@-]+ is Java, not Python
    assert problems(tag_key, "team") == []
    assert UNTRANSLATABLE["TagKey"] == tag_key.metadata["pattern"]
    assert problems(tag_key, "") != []  # its length is still checked


def _drifted_summary(share: Any) -> dict[str, Any]:
    return {**_original_summary(share), "Status": "PENDING"}


_original_summary = Service._summary


def _bare_error(err: ServiceError) -> tuple[int, dict[str, str], bytes]:
    return (
        err.status,
        {"Content-Type": "application/json", "x-amzn-ErrorType": err.code},
        json.dumps({"Message": err.message}).encode(),
    )


def test_a_drifting_simulator_fails_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Service, "_summary", staticmethod(_drifted_summary))
    monkeypatch.setattr(simulator.core, "error_response", _bare_error)
    sim = Simulator()
    recorded = record(sim)
    sharer, recipient = sim.client(SHARER), sim.client(RECIPIENT)
    lens = sharer.import_lens(JSONString=json.dumps({"name": "platform-lens"}))["LensArn"]
    sharer.create_lens_share(LensAlias=lens, SharedWith=RECIPIENT)
    recipient.list_share_invitations()
    expect_error(
        "ResourceNotFoundException",
        recipient.update_share_invitation,
        ShareInvitationId="a" * 32,
        ShareInvitationAction="ACCEPT",
    )
    [listing] = _ok(recorded, "ListShareInvitations")
    assert any("unknown member Status" in p for p in problems(_shape("ListShareInvitations"), listing.body))
    [missing] = _errors(recorded)
    assert "missing required member ResourceId" in " ".join(problems(MODEL.shape_for(missing.error_code), missing.body))
