"""The router's pure parts and its adapters with fake clients: CloudTrail events read as hostile input,
the forwarded event, the settings, and PutEvents answers of every shape."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from acceptor.deadline import Deadline
from acceptor.events import InvalidEvent
from acceptor.settings import ConfigurationError
from router import forwarded
from router.delivery import DeadLetters, DeliveryStatus, EventBuses
from router.routing import NotRouted, NotRoutedReason, route
from router.settings import load_router_settings

ROOT = Path(__file__).resolve().parents[2]
SHARER, RECIPIENT, OTHER = "222222222222", "111111111111", "333333333333"
REGION = "us-east-1"
FULLWIDTH_ONES = "\uff11" * 12  # twelve digits to Unicode, none to ASCII
SAMPLE = json.loads((ROOT / "events" / "share-workload.json").read_text())  # SHARER shares with RECIPIENT


def _event(**detail_changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(SAMPLE)
    event["detail"].update(detail_changes)
    return event


def _request(**changes: Any) -> dict[str, Any]:
    return _event(requestParameters={**SAMPLE["detail"]["requestParameters"], **changes})


def _route(event: Any, allowed: frozenset[str] | None = None) -> forwarded.ForwardedShare | NotRouted:
    return route(event, own_account=SHARER, region=REGION, allowed_recipients=allowed)


# ---------------------------------------------------------------- routing


def test_a_sample_share_goes_to_its_recipient_with_only_what_the_recipient_needs() -> None:
    share = _route(SAMPLE)
    assert isinstance(share, forwarded.ForwardedShare)
    assert (share.recipient, share.sharer, share.event_name) == (RECIPIENT, SHARER, "CreateWorkloadShare")
    detail = share.detail()
    assert detail == {
        "schemaVersion": 1,
        "eventSource": "wellarchitected.amazonaws.com",
        "eventName": "CreateWorkloadShare",
        "awsRegion": REGION,
        "sharedBy": SHARER,
        "sharedWithAccount": RECIPIENT,
        "requestParameters": {"SharedWith": RECIPIENT, "PermissionType": "READONLY"},
        "responseElements": {"ShareId": SAMPLE["detail"]["responseElements"]["ShareId"]},
        "eventID": SAMPLE["detail"]["eventID"],
        "eventTime": SAMPLE["detail"]["eventTime"],
    }


@pytest.mark.parametrize(
    ("shared_with", "account"),
    [
        (f"arn:aws:iam::{OTHER}:role/Reviewers", OTHER),
        (f"arn:aws:iam::{OTHER}:user/team/auditor", OTHER),
        (f"arn:aws-us-gov:iam::{OTHER}:role/R", OTHER),
    ],
)
def test_an_iam_principal_is_routed_to_the_account_in_its_arn(shared_with: str, account: str) -> None:
    share = _route(_request(SharedWith=shared_with))
    assert isinstance(share, forwarded.ForwardedShare)
    assert share.recipient == account
    assert share.detail()["requestParameters"]["SharedWith"] == shared_with


def test_lower_case_keys_are_read_too() -> None:
    event = _event(requestParameters={"sharedWith": OTHER}, responseElements={"shareId": "c" * 32})
    share = _route(event)
    assert isinstance(share, forwarded.ForwardedShare)
    assert (share.recipient, share.share_id) == (OTHER, "c" * 32)


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (_event(errorCode="AccessDenied"), NotRoutedReason.FAILED_CALL),
        (_request(SharedWith="o-abcdef1234"), NotRoutedReason.ORGANIZATION_SHARE),
        (_request(SharedWith="ou-ab12-cdefgh34"), NotRoutedReason.ORGANIZATION_SHARE),
        (_request(SharedWith=SHARER), NotRoutedReason.OWN_ACCOUNT),
        (_request(SharedWith=f"arn:aws:iam::{SHARER}:role/Self"), NotRoutedReason.OWN_ACCOUNT),
        ({**SAMPLE, "account": OTHER}, NotRoutedReason.OTHER_SHARER),
        ({**SAMPLE, "region": "eu-west-1"}, NotRoutedReason.OTHER_REGION),
    ],
)
def test_what_creates_no_invitation_elsewhere_goes_nowhere(event: dict[str, Any], reason: NotRoutedReason) -> None:
    result = _route(event)
    assert isinstance(result, NotRouted)
    assert result.reason is reason


def test_a_list_of_recipients_keeps_out_everyone_else() -> None:
    assert isinstance(_route(SAMPLE, frozenset({RECIPIENT})), forwarded.ForwardedShare)
    result = _route(SAMPLE, frozenset({OTHER}))
    assert isinstance(result, NotRouted)
    assert (result.reason, result.recipient) == (NotRoutedReason.NOT_LISTED, RECIPIENT)


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ([], "not_an_object"),
        ("event", "not_an_object"),
        ({**SAMPLE, "source": "aws.organizations"}, "unexpected_source"),
        ({**SAMPLE, "source": forwarded.SOURCE}, "unexpected_source"),  # its own output never loops
        ({**SAMPLE, "detail-type": "AWS Service Event via CloudTrail"}, "unexpected_detail_type"),
        ({**SAMPLE, "detail": "x"}, "missing_detail"),
        (_event(eventName="DeleteWorkloadShare"), "unexpected_event_name"),
        (_event(eventName="createworkloadshare"), "unexpected_event_name"),
        ({**SAMPLE, "account": "22222222222"}, "bad_account"),
        ({**SAMPLE, "account": "\uff12" * 12}, "bad_account"),  # fullwidth digits
        ({**SAMPLE, "account": SHARER + "\n"}, "bad_account"),
        ({**SAMPLE, "account": 222222222222}, "bad_account"),
        (_event(requestParameters=None), "missing_recipient"),
        (_event(requestParameters={}), "missing_recipient"),
        (_request(SharedWith=111111111111), "missing_recipient"),
        (_request(SharedWith=RECIPIENT + "\n"), "bad_recipient"),
        (_request(SharedWith=FULLWIDTH_ONES), "bad_recipient"),
        (_request(SharedWith=f"arn:aws:iam::{OTHER}:group/Admins"), "bad_recipient"),
        (_request(SharedWith=f"arn:aws:sts::{OTHER}:assumed-role/R/s"), "bad_recipient"),
        (_request(SharedWith="*"), "bad_recipient"),
        (_request(SharedWith=f"arn:aws:iam::{OTHER}:role/" + "a" * 3000), "bad_recipient"),
        (_event(padding="x" * (256 * 1024)), "oversized"),
    ],
)
def test_hostile_events_are_invalid_with_a_reason_naming_the_problem(event: Any, reason: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        _route(event)
    assert caught.value.reason == reason


def test_an_event_nested_too_deeply_is_invalid_not_a_crash() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(100_000):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(InvalidEvent) as caught:
        _route(_event(extra=deep))
    assert caught.value.reason == "too_deep"


@pytest.mark.parametrize(
    "response", [None, {}, {"ShareId": "C" * 32}, {"ShareId": "c" * 31}, {"ShareId": 7}, {"ShareId": "c" * 32 + "\n"}]
)
def test_without_a_well_formed_share_id_the_share_still_goes_as_a_hint_for_its_type_and_sharer(response: Any) -> None:
    share = _route(_event(responseElements=response))
    assert isinstance(share, forwarded.ForwardedShare)
    assert share.share_id is None
    assert "responseElements" not in share.detail()
    assert (share.detail()["eventName"], share.detail()["sharedBy"]) == ("CreateWorkloadShare", SHARER)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"eventID": "x" * 129}, "eventID"),
        ({"eventID": "id\u2028"}, "eventID"),
        ({"eventTime": ["2026"]}, "eventTime"),
        ({"eventTime": ""}, "eventTime"),
    ],
)
def test_labels_that_are_not_short_printable_ascii_are_dropped(changes: dict[str, Any], field: str) -> None:
    share = _route(_event(**changes))
    assert isinstance(share, forwarded.ForwardedShare)
    assert field not in share.detail()


@pytest.mark.parametrize("permission", ["readonly", "ADMIN", 1, None])
def test_an_unknown_permission_type_is_left_out(permission: Any) -> None:
    share = _route(_request(PermissionType=permission))
    assert isinstance(share, forwarded.ForwardedShare)
    assert "PermissionType" not in share.detail()["requestParameters"]


def test_the_entry_names_the_recipients_bus_and_fits_eventbridge() -> None:
    share = _route(SAMPLE)
    assert isinstance(share, forwarded.ForwardedShare)
    bus = forwarded.default_bus_arn("aws", REGION, RECIPIENT)
    entry = share.entry(bus)
    assert entry["EventBusName"] == f"arn:aws:events:{REGION}:{RECIPIENT}:event-bus/default"
    assert (entry["Source"], entry["DetailType"]) == (forwarded.SOURCE, forwarded.DETAIL_TYPE)
    assert not entry["Source"].startswith("aws.")  # EventBridge refuses those from PutEvents
    assert json.loads(entry["Detail"]) == share.detail()
    assert len(json.dumps(entry)) < 2048


# ---------------------------------------------------------------- settings

GOOD_ENV = {
    "SHARER_ACCOUNT_ID": SHARER,
    "AWS_REGION": REGION,
    "PARTITION": "aws",
    "DEAD_LETTER_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/{SHARER}/router-dlq",
}


def test_settings_parse_and_default() -> None:
    settings = load_router_settings(GOOD_ENV)
    assert settings.own_account == SHARER
    assert settings.recipient_accounts is None
    assert settings.safety_margin_seconds == 5.0
    listed = load_router_settings({**GOOD_ENV, "RECIPIENT_ACCOUNTS": f" {RECIPIENT} ,{OTHER}"})
    assert listed.recipient_accounts == frozenset({RECIPIENT, OTHER})
    assert load_router_settings({**GOOD_ENV, "PARTITION": ""}).partition == "aws"


def test_every_bad_setting_is_named_at_once() -> None:
    env = {
        "SHARER_ACCOUNT_ID": "2222",
        "AWS_REGION": "us east 1",
        "PARTITION": "azure",
        "DEAD_LETTER_QUEUE_URL": "http://example.com/q",
        "RECIPIENT_ACCOUNTS": f"{RECIPIENT},arn:aws:iam::{OTHER}:root,{FULLWIDTH_ONES}",
        "SAFETY_MARGIN_SECONDS": "1e3",
    }
    with pytest.raises(ConfigurationError) as caught:
        load_router_settings(env)
    problems = "\n".join(caught.value.problems)
    for name in ("SHARER_ACCOUNT_ID", "AWS_REGION", "PARTITION", "DEAD_LETTER_QUEUE_URL", "SAFETY_MARGIN_SECONDS"):
        assert name in problems
    assert f"arn:aws:iam::{OTHER}:root" in problems and "is an ARN" in problems
    assert "U+FF11" in problems
    assert len(caught.value.problems) == 7


def test_missing_required_settings_are_errors() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_router_settings({})
    assert len(caught.value.problems) == 3  # account, region, queue; the partition defaults to aws


# ---------------------------------------------------------------- delivery


class FakeEvents:
    """PutEvents answers in order; an Exception is raised."""

    def __init__(self, *answers: Any) -> None:
        self.answers, self.entries = list(answers), []

    def put_events(self, Entries: list[dict[str, Any]]) -> Any:
        self.entries.append(Entries)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutEvents"
    )


def _ok(event_id: str = "e-1") -> dict[str, Any]:
    return {"FailedEntryCount": 0, "Entries": [{"EventId": event_id}]}


def _failed(code: Any, message: Any = "m") -> dict[str, Any]:
    return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": code, "ErrorMessage": message}]}


def _deliver(client: FakeEvents, deadline: Deadline | None = None) -> tuple[Any, list[float]]:
    sleeps: list[float] = []
    share = _route(SAMPLE)
    assert isinstance(share, forwarded.ForwardedShare)
    buses = EventBuses("aws", REGION, client, sleep=sleeps.append)
    return buses.deliver(share, deadline or Deadline.unlimited()), sleeps


def test_one_entry_for_the_recipient_bus_is_delivered() -> None:
    client = FakeEvents(_ok("abc"))
    delivery, sleeps = _deliver(client)
    assert (delivery.status, delivery.attempts, delivery.event_id) == (DeliveryStatus.DELIVERED, 1, "abc")
    ((entry,),) = client.entries
    assert entry["EventBusName"] == f"arn:aws:events:{REGION}:{RECIPIENT}:event-bus/default"
    assert sleeps == []


@pytest.mark.parametrize(
    "answer",
    [
        _failed("AccessDeniedException"),
        _failed("NotAuthorizedForSourceException"),
        _failed("NotAuthorizedForDetailTypeException"),
        _failed("ResourceNotFoundException"),
        _client_error("AccessDeniedException", 400),  # the role's aws:ResourceOrgID condition refuses the call
        _client_error("ValidationException", 400),
    ],
)
def test_a_refusal_is_final_at_the_first_answer(answer: Any) -> None:
    delivery, sleeps = _deliver(FakeEvents(answer))
    assert (delivery.status, delivery.attempts, sleeps) == (DeliveryStatus.REFUSED, 1, [])
    assert delivery.error_code and delivery.error_code != "MalformedAnswer"


@pytest.mark.parametrize(
    "failure",
    [
        _failed("ThrottlingException"),
        _failed("InternalFailure"),
        _client_error("ThrottlingException", 400),
        _client_error("InternalException", 500),
        EndpointConnectionError(endpoint_url="https://events.us-east-1.amazonaws.com"),
        {"FailedEntryCount": 0, "Entries": []},
        {"FailedEntryCount": 0, "Entries": ["x"]},
        {"FailedEntryCount": 0, "Entries": [{}]},
        {"FailedEntryCount": 1, "Entries": [{"ErrorCode": 5}]},
        "not a dict",
    ],
)
def test_transient_failures_and_malformed_answers_are_retried_then_deferred(failure: Any) -> None:
    delivery, sleeps = _deliver(FakeEvents(failure, failure, failure))
    assert (delivery.status, delivery.attempts, sleeps) == (DeliveryStatus.DEFERRED, 3, [0.2, 0.4])
    _, sleeps = _deliver(FakeEvents(failure, _ok()))
    assert sleeps == [0.2]


def test_throttling_is_flagged_as_such() -> None:
    delivery, _ = _deliver(FakeEvents(*[_client_error("ThrottlingException", 400)] * 3))
    assert delivery.throttled is True
    delivery, _ = _deliver(FakeEvents(*[_failed("InternalFailure")] * 3))
    assert delivery.throttled is False


def test_no_attempt_and_no_wait_past_the_deadline() -> None:
    now = [100.0]
    expired = Deadline(work=99.0, hard=99.5, clock=lambda: now[0])
    client = FakeEvents()
    delivery, sleeps = _deliver(client, expired)
    assert (delivery.status, delivery.attempts, delivery.error_code) == (DeliveryStatus.DEFERRED, 0, "OutOfTime")
    assert client.entries == [] and sleeps == []
    tight = Deadline(work=100.1, hard=100.5, clock=lambda: now[0])
    delivery, sleeps = _deliver(FakeEvents(_failed("ThrottlingException")), tight)
    assert (delivery.status, delivery.attempts, sleeps) == (DeliveryStatus.DEFERRED, 1, [])


class FakeSqs:
    def __init__(self, error: Exception | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self.error = error

    def send_message(self, **kwargs: Any) -> dict[str, Any]:
        if self.error:
            raise self.error
        self.sent.append(kwargs)
        return {"MessageId": "m"}


def test_parking_names_the_recipient_and_the_reason() -> None:
    sqs = FakeSqs()
    assert DeadLetters("https://q", REGION, sqs).park({"reason": "refused", "x": 1}, RECIPIENT) is None
    (sent,) = sqs.sent
    assert json.loads(sent["MessageBody"]) == {"reason": "refused", "x": 1}
    assert sent["MessageAttributes"]["recipient_account"]["StringValue"] == RECIPIENT
    assert sent["MessageAttributes"]["reason"]["StringValue"] == "refused"


def test_parking_failure_is_an_answer_not_an_exception() -> None:
    problem = DeadLetters("https://q", REGION, FakeSqs(_client_error("AccessDenied", 403))).park({"reason": "r"}, None)
    assert problem is not None and "AccessDenied" in problem


# ---------------------------------------------------------------- wiring


def test_the_container_builds_its_components_once_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from router import wiring

    wiring.reset()
    try:
        first = wiring.components(GOOD_ENV)
        assert wiring.components({}) is first  # parsed once per container
        assert first.settings.own_account == SHARER
        assert first.buses.bus_arn(RECIPIENT) == f"arn:aws:events:{REGION}:{RECIPIENT}:event-bus/default"
    finally:
        wiring.reset()
