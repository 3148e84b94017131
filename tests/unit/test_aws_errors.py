"""One vocabulary for AWS failures: code, status, description, and which ones a retry can help."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ReadTimeoutError,
)

from acceptor import aws_errors
from acceptor.aws_errors import MalformedResponse
from acceptor.deadline import Deadline
from acceptor.engine import Acceptor
from acceptor.organizations import OrgAncestryResolver
from acceptor.outcomes import Result
from acceptor.recorder import NULL_LOG
from acceptor.wellarchitected import SDK_CONFIG, ListError, ShareInvitations
from policy import Policy


def client_error(code: str | None, status: Any, message: str | None = "why") -> ClientError:
    error: dict[str, Any] = {}
    if code is not None:
        error["Code"] = code
    if message is not None:
        error["Message"] = message
    return ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


@pytest.mark.parametrize(
    ("err", "code", "status", "described", "retryable", "throttling"),
    [
        (client_error("ThrottlingException", 400), "ThrottlingException", 400, "ThrottlingException: why", True, True),
        (client_error("TooManyRequestsException", 400), "TooManyRequestsException", 400, None, True, True),
        (client_error("SlowDown", 429), "SlowDown", 429, None, True, True),
        (client_error("InternalServerException", 500), "InternalServerException", 500, None, True, False),
        (client_error("ServiceException", 400), "ServiceException", 400, None, True, False),
        (client_error("Odd", 503), "Odd", 503, None, True, False),
        (client_error("AccessDeniedException", 403), "AccessDeniedException", 403, None, False, False),
        (client_error(None, "junk", None), "Unknown", 0, "Unknown", False, False),
        (
            NoCredentialsError(),
            "NoCredentialsError",
            0,
            "NoCredentialsError: Unable to locate credentials",
            False,
            False,
        ),
        (NoRegionError(), "NoRegionError", 0, None, False, False),
        (EndpointConnectionError(endpoint_url="https://x"), "EndpointConnectionError", 0, None, True, False),
        (ReadTimeoutError(endpoint_url="https://x"), "ReadTimeoutError", 0, None, True, False),
        (MalformedResponse("Op", "a list"), "MalformedResponse", 0, None, False, False),
    ],
)
def test_each_failure_is_named_and_classified(
    err: Exception, code: str, status: int, described: str | None, retryable: bool, throttling: bool
) -> None:
    assert aws_errors.code(err) == code
    assert aws_errors.http_status(err) == status
    if described is not None:
        assert aws_errors.describe(err) == described
    assert aws_errors.is_retryable(err) is retryable
    assert aws_errors.is_throttling(err) is throttling


def test_which_failures_may_have_been_carried_out() -> None:
    assert aws_errors.may_have_applied(client_error("InternalServerException", 500))
    assert not aws_errors.may_have_applied(client_error("ThrottlingException", 429))
    assert not aws_errors.may_have_applied(EndpointConnectionError(endpoint_url="https://x"))
    assert aws_errors.may_have_applied(ReadTimeoutError(endpoint_url="https://x"))
    assert aws_errors.may_have_applied(ConnectionClosedError(endpoint_url="https://x"))
    assert not aws_errors.may_have_applied(NoCredentialsError())


def test_organizations_does_not_retry_missing_credentials() -> None:
    # Given an STS client that has no credentials (a BotoCoreError no retry can fix)
    class NoCredentials:
        calls = 0

        def assume_role(self, **_params: Any) -> Any:
            self.calls += 1
            raise NoCredentialsError()

    sts = NoCredentials()
    slept: list[float] = []
    resolver = OrgAncestryResolver("arn:aws:iam::111111111111:role/r", sts_client=sts, sleep=slept.append)
    # When a sharer is looked up
    found = resolver.lookup("222222222222", Deadline.within(60))
    # Then it is asked once, not retried, and the failure names what is missing
    assert sts.calls == 1 and slept == []
    assert found.error is not None and found.error.endswith("failed: NoCredentialsError: Unable to locate credentials")


def test_an_assume_role_answer_without_credentials_is_a_failed_lookup() -> None:
    class Odd:
        def assume_role(self, **_params: Any) -> Any:
            return {"Credentials": {"AccessKeyId": "a", "SecretAccessKey": 5}}

    found = OrgAncestryResolver("arn:aws:iam::111111111111:role/r", sts_client=Odd()).lookup("222222222222")
    assert found.error is not None
    assert found.error.endswith(
        "failed: MalformedResponse: sts:AssumeRole answered something unreadable: "
        "Credentials.SecretAccessKey is not a string"
    )


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_kwargs: Any) -> Any:
        yield self._body


def odd_service(bodies: dict[str, bytes]) -> Any:
    """A real wellarchitected client whose ListShareInvitations answers with the given body per type."""
    client = boto3.client("wellarchitected", region_name="us-east-1", config=SDK_CONFIG)

    def answer(request: Any, **_kwargs: Any) -> AWSResponse:
        rtype = request.url.split("ShareResourceType=")[1].split("&")[0]
        return AWSResponse(request.url, 200, {"content-type": "application/json"}, _Raw(bodies[rtype]))

    client.meta.events.register("before-send.wellarchitected", answer)
    return client


def test_a_page_botocore_cannot_parse_fails_that_type_only() -> None:
    # Given a service whose WORKLOAD page holds a string among the summaries (botocore raises AttributeError)
    good = b'{"ShareInvitationSummaries": []}'
    bodies = dict.fromkeys(("LENS", "PROFILE", "TEMPLATE"), good)
    bodies["WORKLOAD"] = b'{"ShareInvitationSummaries": ["junk", {"ShareInvitationId": "x"}]}'
    adapter = ShareInvitations(odd_service(bodies), sleep=lambda _s: None)
    with pytest.raises(ListError) as caught:
        list(adapter.pages("WORKLOAD"))
    assert caught.value.code == "MalformedResponse" and "AttributeError" in str(caught.value)
    assert adapter.calls == 1  # an unreadable answer is not retried
    # When a sweep runs on it, the other types are still listed and the run says what failed
    lens = {
        "ShareInvitationId": f"{1:032x}",
        "SharedBy": "222222222222",
        "SharedWith": "111111111111",
        "ShareResourceType": "LENS",
        "LensName": "l",
        "LensArn": "arn:aws:wellarchitected::1:lens/l",
    }
    bodies["LENS"] = json.dumps({"ShareInvitationSummaries": [lens]}).encode()
    policy = Policy.allowlist(allowed_accounts=frozenset({"222222222222"}), dry_run=True)
    summary = Acceptor(ShareInvitations(odd_service(bodies), sleep=lambda _s: None), log=NULL_LOG).sweep(policy)
    assert summary.count_of(Result.DRY_RUN) == 1 and not summary.complete
    assert list(summary.list_errors) == ["WORKLOAD"] and "MalformedResponse" in summary.list_errors["WORKLOAD"]
