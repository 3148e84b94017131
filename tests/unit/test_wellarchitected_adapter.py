"""The Well-Architected adapter, against exact request shapes (botocore Stubber)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber

from acceptor.deadline import Deadline
from acceptor.throttle import AdaptiveRate
from acceptor.wellarchitected import (
    OUT_OF_TIME,
    SDK_CONFIG,
    TIMEOUT_STEPS,
    Clients,
    ListError,
    OutOfTime,
    ShareInvitations,
    UpdateStatus,
    min_attempt_seconds,
)

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
        {"MaxResults": 50, "ShareResourceType": "WORKLOAD"},
    )
    stub.add_response(
        "list_share_invitations",
        {"ShareInvitationSummaries": [summary(3)]},
        {"MaxResults": 50, "ShareResourceType": "WORKLOAD", "NextToken": "t1"},
    )
    pages = list(adapter(wa).pages("WORKLOAD"))
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
        "list_share_invitations",
        {"ShareInvitationSummaries": [], "NextToken": "same"},
        {"MaxResults": 50, "ShareResourceType": "WORKLOAD"},
    )
    stub.add_response(
        "list_share_invitations",
        {"ShareInvitationSummaries": [], "NextToken": "same"},
        {"MaxResults": 50, "ShareResourceType": "WORKLOAD", "NextToken": "same"},
    )
    with pytest.raises(ListError) as err:
        list(adapter(wa).pages("WORKLOAD"))
    assert err.value.code == "RepeatedNextToken"


def test_list_retries_throttling_then_succeeds(client: tuple[object, Stubber]) -> None:
    wa, stub = client
    stub.add_client_error("list_share_invitations", "ThrottlingException", http_status_code=429)
    stub.add_client_error("list_share_invitations", "InternalServerException", http_status_code=500)
    stub.add_response(
        "list_share_invitations",
        {"ShareInvitationSummaries": [summary(1)]},
        {"MaxResults": 50, "ShareResourceType": "WORKLOAD"},
    )
    slept: list[float] = []
    a = adapter(wa, slept)
    assert len(next(a.pages("WORKLOAD"))) == 1
    assert a.calls == 3
    assert len([s for s in slept if s > 0]) >= 2  # backed off twice


def test_list_gives_up_after_max_attempts(client: tuple[object, Stubber]) -> None:
    wa, stub = client
    for _ in range(3):
        stub.add_client_error("list_share_invitations", "InternalServerException", http_status_code=500)
    with pytest.raises(ListError) as err:
        list(adapter(wa, max_attempts=3).pages("WORKLOAD"))
    assert err.value.code == "InternalServerException"


def test_list_access_denied_is_not_retried(client: tuple[object, Stubber]) -> None:
    wa, stub = client
    stub.add_client_error("list_share_invitations", "AccessDeniedException", http_status_code=403)
    a = adapter(wa)
    with pytest.raises(ListError):
        list(a.pages("WORKLOAD"))
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
    for _ in range(4):
        stub.add_client_error("update_share_invitation", "ThrottlingException", http_status_code=429)
        stub.add_client_error("update_share_invitation", "InternalServerException", http_status_code=500)
    a = adapter(wa, max_attempts=4)
    result = a.update(INV, "ACCEPT")
    assert result.status is UpdateStatus.FAILED
    assert result.error_code == "InternalServerException"
    # Throttles do not use up the allowance for errors: four 5xx, with a throttle before each
    assert a.calls == 8


def test_update_refuses_unknown_actions(client: tuple[object, Stubber]) -> None:
    wa, _ = client
    with pytest.raises(ValueError, match="IGNORE"):
        adapter(wa).update(INV, "IGNORE")


# -- the deadline: every attempt, retry and paced wait fits in it ---------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_no_attempt_starts_when_the_shortest_does_not_fit(client: tuple[object, Stubber]) -> None:
    wa, _stub = client  # no response queued: any call would fail the Stubber
    clock = FakeClock()
    a = adapter(wa)
    deadline = Deadline(work=clock.now + min_attempt_seconds() - 0.01, hard=clock.now + 60, clock=clock)
    assert a.update(INV, "ACCEPT", deadline).status is UpdateStatus.NOT_SENT
    with pytest.raises(ListError) as err:
        list(a.pages("WORKLOAD", deadline))
    assert err.value.code == OUT_OF_TIME
    assert a.calls == 0


def test_a_retry_that_cannot_finish_in_time_is_not_started(client: tuple[object, Stubber]) -> None:
    wa, stub = client
    stub.add_client_error("update_share_invitation", "InternalServerException", http_status_code=500)
    clock = FakeClock()
    a = ShareInvitations(wa, sleep=clock.sleep, rate=AdaptiveRate(sleep=clock.sleep, clock=clock))
    deadline = Deadline(work=clock.now + min_attempt_seconds() + 0.05, hard=clock.now + 60, clock=clock)
    result = a.update(INV, "ACCEPT", deadline)
    # The budget ran out, not the service: OUT_OF_TIME (the engine defers it), with the error that stood
    assert result.status is UpdateStatus.OUT_OF_TIME and result.error_code == "InternalServerException"
    assert "(no time left to retry)" in (result.message or "")
    assert a.calls == 1  # the 5xx is retryable, but a backoff plus another attempt does not fit


def test_a_paced_wait_past_the_deadline_is_not_taken(client: tuple[object, Stubber]) -> None:
    wa, _stub = client
    clock = FakeClock()
    rate = AdaptiveRate(sleep=clock.sleep, clock=clock, min_rate=0.1, decrease=0.1)
    rate.acquire()
    rate.throttled()  # capped at 0.1 request/s: the next slot is ten seconds away
    rate.acquire()
    a = ShareInvitations(wa, sleep=clock.sleep, rate=rate)
    deadline = Deadline(work=clock.now + 5, hard=clock.now + 60, clock=clock)
    assert a.update(INV, "ACCEPT", deadline).status is UpdateStatus.NOT_SENT
    assert clock.now < deadline.work  # it did not sleep through the deadline


def test_each_attempt_uses_a_client_whose_timeouts_fit_the_time_left() -> None:
    built: list[tuple[float, float]] = []

    def factory(config: Config) -> object:
        built.append((config.connect_timeout, config.read_timeout))
        return boto3.client("wellarchitected", region_name="us-east-1", config=config)

    clients = Clients(factory=factory)
    lefts = (120.0, 19.9, 9.0, 4.0)
    for left in lefts:
        clients.fitting(left)
    assert built == list(TIMEOUT_STEPS)  # the longest step that fits, each time
    assert all(c + r <= left for (c, r), left in zip(built, lefts, strict=True))
    clients.fitting(min_attempt_seconds())
    clients.fitting(500.0)
    assert len(built) == len(TIMEOUT_STEPS)  # built once per step, then reused
    with pytest.raises(OutOfTime):
        clients.fitting(min_attempt_seconds() - 0.01)


# -- applied by us with the answer lost, or settled by someone else ---------------------------------


def test_a_conflict_after_a_lost_answer_is_applied_not_settled(client: tuple[object, Stubber]) -> None:
    wa, stub = client
    stub.add_client_error("update_share_invitation", "InternalServerException", http_status_code=500)
    stub.add_client_error("update_share_invitation", "ConflictException", http_status_code=409)
    result = adapter(wa).update(INV, "ACCEPT")
    assert result.status is UpdateStatus.APPLIED_ANSWER_LOST
    assert result.error_code == "InternalServerException"


def test_a_conflict_after_a_throttle_is_settled_by_someone_else(client: tuple[object, Stubber]) -> None:
    wa, stub = client
    stub.add_client_error("update_share_invitation", "ThrottlingException", http_status_code=429)
    stub.add_client_error("update_share_invitation", "ConflictException", http_status_code=409)
    result = adapter(wa).update(INV, "ACCEPT")
    assert result.status is UpdateStatus.ALREADY_SETTLED  # a throttled request was never carried out


@pytest.mark.parametrize(
    ("error", "lost"),
    [
        (ReadTimeoutError(endpoint_url="https://x"), True),
        (ConnectionClosedError(endpoint_url="https://x"), True),
        (EndpointConnectionError(endpoint_url="https://x"), False),
    ],
)
def test_which_transport_errors_may_have_applied(error: Exception, lost: bool) -> None:
    class Flaky:
        def __init__(self) -> None:
            self.calls = 0

        def update_share_invitation(self, **_params: object) -> dict[str, object]:
            self.calls += 1
            if self.calls == 1:
                raise error
            raise ClientError(
                {"Error": {"Code": "ConflictException"}, "ResponseMetadata": {"HTTPStatusCode": 409}}, "x"
            )

    result = adapter(Flaky()).update(INV, "REJECT")
    assert result.status is (UpdateStatus.APPLIED_ANSWER_LOST if lost else UpdateStatus.ALREADY_SETTLED)


@pytest.mark.parametrize(
    "body",
    [
        {"ShareInvitationSummaries": {"not": "a list"}},
        {"ShareInvitationSummaries": [], "NextToken": 7},
    ],
)
def test_malformed_list_answers_are_list_errors(body: dict[str, object]) -> None:
    class Lying:
        def list_share_invitations(self, **_params: object) -> dict[str, object]:
            return body

    with pytest.raises(ListError) as err:
        list(adapter(Lying()).pages("LENS"))
    assert err.value.code == "MalformedResponse"


def test_an_update_throttled_past_its_retries_is_throttled_not_failed(client: tuple[object, Stubber]) -> None:
    # Given a service that throttles every attempt
    wa, stub = client
    for _ in range(5):
        stub.add_client_error("update_share_invitation", "ThrottlingException", http_status_code=429)
    a = adapter(wa, max_attempts=3, max_throttled_attempts=5)
    # When the update runs out of throttle retries (more than max_attempts: throttling has its own allowance)
    result = a.update(INV, "ACCEPT")
    # Then it is THROTTLED, with the service's code, and nothing was applied
    assert result.status is UpdateStatus.THROTTLED
    assert result.error_code == "ThrottlingException"
    assert "retries ran out" in (result.message or "")
    assert a.calls == 5


def test_an_update_throttled_when_the_budget_runs_out_is_throttled(client: tuple[object, Stubber]) -> None:
    # Given one throttled attempt and no time left for another
    wa, stub = client
    stub.add_client_error("update_share_invitation", "ThrottlingException", http_status_code=429)
    clock = FakeClock()
    a = ShareInvitations(wa, sleep=clock.sleep, rate=AdaptiveRate(sleep=clock.sleep, clock=clock))
    deadline = Deadline(work=clock.now + min_attempt_seconds() + 0.05, hard=clock.now + 60, clock=clock)
    result = a.update(INV, "ACCEPT", deadline)
    assert result.status is UpdateStatus.THROTTLED
    assert "no time left to retry" in (result.message or "")
    assert a.calls == 1


def test_throttles_before_a_5xx_do_not_make_it_fail_early(client: tuple[object, Stubber]) -> None:
    # Given five throttles, then one 5xx, then success, with an allowance of two attempts for errors
    wa, stub = client
    for _ in range(5):
        stub.add_client_error("update_share_invitation", "ThrottlingException", http_status_code=429)
    stub.add_client_error("update_share_invitation", "InternalServerException", http_status_code=500)
    stub.add_response("update_share_invitation", {})
    result = adapter(wa, max_attempts=2).update(INV, "ACCEPT")
    # Then the 5xx is retried: it is the first error, whatever the throttles before it
    assert result.status is UpdateStatus.APPLIED


def test_the_concurrency_limit_learns_from_each_attempt(client: tuple[object, Stubber]) -> None:
    from acceptor.concurrency import ConcurrencyLimit

    wa, stub = client
    stub.add_client_error("update_share_invitation", "ThrottlingException", http_status_code=429)
    stub.add_response("update_share_invitation", {})
    stub.add_response("update_share_invitation", {})
    clock = FakeClock()
    limit = ConcurrencyLimit(8, clock=clock)
    a = ShareInvitations(
        wa, sleep=clock.sleep, rate=AdaptiveRate(sleep=clock.sleep, clock=clock), concurrency=limit, clock=clock
    )
    assert a.update(INV, "ACCEPT").status is UpdateStatus.APPLIED
    assert limit.throttles == 1 and limit.cuts == 1
    assert a.update(INV, "REJECT").status is UpdateStatus.APPLIED
    assert limit.limit == 2  # cut to 1, then one per round trip: 1 -> 2 -> 2.5
    assert limit.latency == 0.0
