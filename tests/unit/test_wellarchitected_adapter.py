"""The Well-Architected adapter, against exact request shapes (botocore Stubber)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber

from acceptor.throttle import AdaptiveRate
from acceptor.wellarchitected import SDK_CONFIG, ListError, ShareInvitations, UpdateStatus

INV = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def client() -> Iterator[tuple[object, Stubber]]:
    wa = boto3.client("wellarchitected", region_name="us-east-1", config=SDK_CONFIG)
    with Stubber(wa) as stub:
        yield wa, stub
        stub.assert_no_pending_responses()


def adapter(wa: object, slept: list[float] | None = None, **kwargs: object) -> ShareInvitations:
    sleeps = slept if slept is not None else []
    return ShareInvitations(wa, sleep=sleeps.append, rate=AdaptiveRate(sleep=sleeps.append), **kwargs)  # type: ignore[arg-type]


def summary(n: int) -> dict[str, str]:
    return {
        "ShareInvitationId": f"{n:032x}",
        "SharedBy": "222222222222",
        "SharedWith": "111111111111",
        "ShareResourceType": "WORKLOAD",
        "PermissionType": "READONLY",
        "WorkloadName": f"workload-{n}",
        "WorkloadId": f"{n:032x}",
    }


def test_pages_follow_next_token_to_the_end(client: tuple[object, Stubber]) -> None:
    wa, stub = client
    stub.add_response(
        "list_share_invitations",
        {"ShareInvitationSummaries": [summary(1), summary(2)], "NextToken": "t1"},
        {"MaxResults": 50},
    )
    stub.add_response(
        "list_share_invitations", {"ShareInvitationSummaries": [summary(3)]}, {"MaxResults": 50, "NextToken": "t1"}
    )
    pages = list(adapter(wa).pages())
    assert [[s["WorkloadName"] for s in p] for p in pages] == [["workload-1", "workload-2"], ["workload-3"]]


def test_pages_narrowed_by_resource_type(client: tuple[object, Stubber]) -> None:
    wa, stub = client
    stub.add_response(
        "list_share_invitations", {"ShareInvitationSummaries": []}, {"MaxResults": 50, "ShareResourceType": "LENS"}
    )
    assert list(adapter(wa).pages("LENS")) == [[]]


def test_repeated_next_token_stops_with_an_error(client: tuple[object, Stubber]) -> None:
    wa, stub = client
    stub.add_response(
        "list_share_invitations", {"ShareInvitationSummaries": [], "NextToken": "same"}, {"MaxResults": 50}
    )
    stub.add_response(
        "list_share_invitations",
        {"ShareInvitationSummaries": [], "NextToken": "same"},
        {"MaxResults": 50, "NextToken": "same"},
    )
    with pytest.raises(ListError) as err:
        list(adapter(wa).pages())
    assert err.value.code == "RepeatedNextToken"


def test_list_retries_throttling_then_succeeds(client: tuple[object, Stubber]) -> None:
    wa, stub = client
    stub.add_client_error("list_share_invitations", "ThrottlingException", http_status_code=429)
    stub.add_client_error("list_share_invitations", "InternalServerException", http_status_code=500)
    stub.add_response("list_share_invitations", {"ShareInvitationSummaries": [summary(1)]}, {"MaxResults": 50})
    slept: list[float] = []
    a = adapter(wa, slept)
    assert len(next(a.pages())) == 1
    assert a.calls == 3
    assert len([s for s in slept if s > 0]) >= 2  # backed off twice


def test_list_gives_up_after_max_attempts(client: tuple[object, Stubber]) -> None:
    wa, stub = client
    for _ in range(3):
        stub.add_client_error("list_share_invitations", "InternalServerException", http_status_code=500)
    with pytest.raises(ListError) as err:
        list(adapter(wa, max_attempts=3).pages())
    assert err.value.code == "InternalServerException"


def test_list_access_denied_is_not_retried(client: tuple[object, Stubber]) -> None:
    wa, stub = client
    stub.add_client_error("list_share_invitations", "AccessDeniedException", http_status_code=403)
    a = adapter(wa)
    with pytest.raises(ListError):
        list(a.pages())
    assert a.calls == 1


def test_update_sends_the_exact_request(client: tuple[object, Stubber]) -> None:
    wa, stub = client
    stub.add_response(
        "update_share_invitation",
        {"ShareInvitation": {"ShareInvitationId": INV}},
        {"ShareInvitationId": INV, "ShareInvitationAction": "ACCEPT"},
    )
    assert adapter(wa).update(INV, "ACCEPT").status is UpdateStatus.APPLIED


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ConflictException", 409, UpdateStatus.ALREADY_SETTLED),
        ("ResourceNotFoundException", 404, UpdateStatus.ALREADY_SETTLED),
        ("AccessDeniedException", 403, UpdateStatus.FAILED),
        ("ValidationException", 400, UpdateStatus.FAILED),
    ],
)
def test_update_outcomes_without_retry(
    client: tuple[object, Stubber], code: str, status: int, expected: UpdateStatus
) -> None:
    wa, stub = client
    stub.add_client_error("update_share_invitation", code, http_status_code=status)
    a = adapter(wa)
    result = a.update(INV, "REJECT")
    assert result.status is expected
    assert result.error_code == code
    assert a.calls == 1


def test_update_retries_5xx_and_throttling_then_reports_failure(client: tuple[object, Stubber]) -> None:
    wa, stub = client
    for _ in range(2):
        stub.add_client_error("update_share_invitation", "ThrottlingException", http_status_code=429)
        stub.add_client_error("update_share_invitation", "InternalServerException", http_status_code=500)
    a = adapter(wa, max_attempts=4)
    result = a.update(INV, "ACCEPT")
    assert result.status is UpdateStatus.FAILED
    assert result.error_code == "InternalServerException"
    assert a.calls == 4


def test_update_refuses_unknown_actions(client: tuple[object, Stubber]) -> None:
    wa, _ = client
    with pytest.raises(ValueError, match="IGNORE"):
        adapter(wa).update(INV, "IGNORE")
