"""Serve boto3 clients in-process: botocore's `before-send` event answers the signed request, so
boto3's real serialization, validation and error parsing are exercised without a socket."""

from __future__ import annotations

import io
from typing import Any, Protocol
from urllib.parse import urlsplit

import boto3
from botocore.awsrequest import AWSResponse
from botocore.httpchecksum import AwsChunkedWrapper

EVENT = "before-send.wellarchitected"


class Endpoint(Protocol):
    """What answers the requests: the simulator's dispatch (simulator.core.Simulator.handle)."""

    def handle(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]: ...


class _Raw(io.BytesIO):
    def stream(self, **_kwargs: Any) -> Any:
        contents = self.read()
        while contents:
            yield contents
            contents = self.read()


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, AwsChunkedWrapper | io.IOBase) or hasattr(body, "read"):
        return _body_bytes(body.read())
    return bytes(body)


def _headers(headers: Any) -> dict[str, str]:
    return {k: v.decode() if isinstance(v, bytes) else str(v) for k, v in headers.items()}


def handler(sim: Endpoint) -> Any:
    def before_send(request: Any, **_kwargs: Any) -> AWSResponse:
        url = urlsplit(request.url)
        status, headers, body = sim.handle(
            request.method, url.path, url.query, _headers(request.headers), _body_bytes(request.body)
        )
        return AWSResponse(request.url, status, headers, _Raw(body))

    return before_send


def attach(target: Any, sim: Endpoint) -> Any:
    """Route a boto3 client's (or every client of a boto3 Session's) Well-Architected calls to sim."""
    events = target.meta.events if hasattr(target, "meta") else target.events
    events.register(EVENT, handler(sim), unique_id=f"wa-simulator-{id(sim)}")
    return target


def client(sim: Endpoint, account: str, region: str, principal: str | None = None, **client_kwargs: Any) -> Any:
    """A client whose access key id is the account; a principal ARN travels as its session token."""
    session = boto3.session.Session(
        aws_access_key_id=account,
        aws_secret_access_key="simulator",
        aws_session_token=principal,
        region_name=region,
    )
    return attach(session.client("wellarchitected", **client_kwargs), sim)
