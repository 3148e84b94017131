"""rest-json over HTTP, as botocore speaks it: routes and request shapes come from botocore's own
service model, so the simulator and the real API cannot disagree on where a parameter goes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

import botocore.session
from botocore.model import OperationModel, ServiceModel
from botocore.validate import ParamValidator

from simulator.service import IAM_PRINCIPAL, ServiceError, access_denied, validation

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_ROLE = "Simulator"  # a caller that names no principal is this role of its account
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[0-9]{8}/([a-z0-9-]+)/")
_ACCOUNT_KEY = re.compile(r"([0-9]{12})(?:-([A-Za-z0-9+=,.@_-]{1,64}))?")  # 111111111111 or 111111111111-alice

SHARER_OPERATIONS = {
    "CreateWorkload",
    "ImportLens",
    "CreateProfile",
    "CreateReviewTemplate",
    "CreateWorkloadShare",
    "CreateLensShare",
    "CreateProfileShare",
    "CreateTemplateShare",
    "ListWorkloadShares",
    "ListLensShares",
    "ListProfileShares",
    "ListTemplateShares",
    "DeleteWorkloadShare",
    "DeleteLensShare",
    "DeleteProfileShare",
    "DeleteTemplateShare",
    "UpdateWorkloadShare",
    "CreateLensVersion",
    "DeleteWorkload",
    "DeleteLens",
    "DeleteProfile",
    "DeleteReviewTemplate",
}
OPERATIONS = SHARER_OPERATIONS | {"ListShareInvitations", "UpdateShareInvitation"}


@dataclass(frozen=True)
class Route:
    operation: OperationModel
    method: str
    pattern: re.Pattern[str]
    names: tuple[str, ...]


def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("wellarchitected")


def _routes(model: ServiceModel) -> list[Route]:
    routes = []
    for name in sorted(OPERATIONS):
        op = model.operation_model(name)
        uri = op.http["requestUri"].split("?")[0]
        names = tuple(re.findall(r"\{([A-Za-z0-9_]+)\+?\}", uri))
        regex = re.sub(r"\\\{([A-Za-z0-9_]+)(?:\\\+)?\\\}", "([^/]+)", re.escape(uri))
        routes.append(Route(op, op.http["method"], re.compile(regex), names))
    # literal segments first: "/templates/shares/{Arn}" must not be read as a share id route
    routes.sort(key=lambda r: (len(r.names), -len(r.pattern.pattern)))
    return routes


MODEL = service_model()
ROUTES = _routes(MODEL)
_VALIDATOR = ParamValidator()


@dataclass(frozen=True)
class Caller:
    account: str
    region: str
    principal: str  # the IAM user or role ARN making the call


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)


def caller(headers: dict[str, str]) -> Caller:
    """Who is calling, from the SigV4 credential (docs/simulator.md, "Who is calling"):

    - access key id ``111111111111``: that account, as its role ``Simulator``;
    - access key id ``111111111111-alice``: that account's IAM user ``alice``;
    - any other access key id: account 123456789012, as its role ``Simulator``;
    - a session token (``X-Amz-Security-Token``) that is an IAM user or role ARN names the principal
      outright; its account must be the access key's when that names one.

    The region is the signature's credential scope."""
    match = _CREDENTIAL.search(_header(headers, "authorization") or "")
    if not match:
        raise access_denied("request is not signed with SigV4")
    key, region = match.groups()
    keyed = _ACCOUNT_KEY.fullmatch(key)
    account = keyed.group(1) if keyed else DEFAULT_ACCOUNT
    if keyed and keyed.group(2):
        principal = f"arn:aws:iam::{account}:user/{keyed.group(2)}"
    else:
        principal = f"arn:aws:iam::{account}:role/{DEFAULT_ROLE}"
    token = _header(headers, "x-amz-security-token")
    if token and token.startswith("arn:"):
        named = IAM_PRINCIPAL.fullmatch(token)
        if not named:
            raise access_denied(f"session token {token[:200]!r} is not an IAM user or role ARN")
        if keyed and named.group(1) != account:
            raise access_denied(f"session token {token!r} names a principal outside account {account}")
        account, principal = named.group(1), token
    return Caller(account, region, principal)


def match(method: str, path: str) -> tuple[OperationModel, dict[str, str]]:
    for route in ROUTES:
        if route.method != method:
            continue
        found = route.pattern.fullmatch(path)
        if found:
            return route.operation, {n: unquote(v) for n, v in zip(route.names, found.groups(), strict=True)}
    raise ServiceError(404, "UnknownOperationException", f"no Well-Architected operation for {method} {path}")


def _convert(value: str, type_name: str, name: str) -> Any:
    if type_name == "integer":
        try:
            return int(value)
        except ValueError as err:
            raise validation(f"{name} {value!r} is not an integer") from err
    return value


def _check_enums_and_patterns(op: OperationModel, params: dict[str, Any]) -> None:
    """What botocore's ParamValidator leaves out for top-level members: enums and patterns."""
    for name, shape in op.input_shape.members.items():
        value = params.get(name)
        if not isinstance(value, str):
            continue
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            raise validation(f"{name} {value!r} is not one of {', '.join(enum)}")
        pattern = shape.metadata.get("pattern")
        if pattern and not re.fullmatch(pattern, value):
            raise validation(f"{name} {value!r} does not match {pattern}")


def decode(op: OperationModel, path_params: dict[str, str], query: str, body: bytes) -> dict[str, Any]:
    """The operation's parameters from the URI, query string and JSON body, validated by the model."""
    try:
        payload = json.loads(body) if body else {}
    except ValueError as err:
        raise ServiceError(400, "SerializationException", f"body is not JSON: {err}") from err
    if not isinstance(payload, dict):
        raise ServiceError(400, "SerializationException", "body is not a JSON object")
    params: dict[str, Any] = {}
    raw_query = parse_qs(query, keep_blank_values=True)
    for name, shape in op.input_shape.members.items():
        location = shape.serialization.get("location")
        wire = shape.serialization.get("name", name)
        if location == "uri":
            if wire in path_params:
                params[name] = path_params[wire]
        elif location == "querystring":
            if wire in raw_query:
                params[name] = _convert(raw_query[wire][0], shape.type_name, name)
        elif location is None and name in payload:
            params[name] = payload[name]
    report = _VALIDATOR.validate(params, op.input_shape)
    if report.has_errors():
        raise validation(report.generate_report())
    _check_enums_and_patterns(op, params)
    return params


def error_response(err: ServiceError) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"Message": err.message, **err.fields}).encode()
    return (
        err.status,
        {"Content-Type": "application/json", "x-amzn-ErrorType": err.code, "x-amzn-RequestId": "simulator"},
        body,
    )


def ok_response(body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/json", "x-amzn-RequestId": "simulator"}, json.dumps(body).encode()
