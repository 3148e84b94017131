"""The share-event router end to end on moto: EventBridge buses, rules and SQS queues in several accounts
of an organization, the router's handler in-process with the sharer account's clients.

moto delivers ``PutEvents`` entries to SQS rule targets, and an event bus rule target in another account
to that account, but a ``PutEvents`` call naming another account's bus by ARN lands on the caller's own bus,
and no bus policy is ever checked. ``cross_account_put_events`` fills that gap the way AWS documents it
(eb-event-bus-perms): an entry for another account's bus is delivered there only when that bus's resource
policy admits the calling account (its ``Principal``, ``aws:PrincipalOrgID``, ``events:source`` and
``events:detail-type`` conditions), with the caller's account in the event's ``account`` as EventBridge
writes it; otherwise the entry fails with ``AccessDeniedException``. The recipient buses carry the
acceptor's own ``OrganizationBusPolicy`` statement, read from template.yaml. A rule's SQS target gets the
whole event, ``account`` included (moto's default input template leaves it out).
"""

from __future__ import annotations

import copy
import functools
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.events.models import EventsBackend, events_backends
from moto.events.utils import EventTemplateParser

from acceptor.events import IgnoredEvent, ShareHint, SharerHint, parse_share_event
from acceptor.observability import logger
from acceptor.settings import ConfigurationError
from handlers.router import DeliveryDeferred, ParkingFailed, lambda_handler
from handlers.share_event import lambda_handler as acceptor_handler
from router import forwarded, wiring
from router.settings import RouterSettings
from simulator import Simulator
from simulator.harness import LambdaContext
from simulator.service import share_event
from simulator.sharers import RECIPIENT, World
from tests.support.handlers import TRUSTED, components, invoke
from tests.support.templates import as_list, matches
from tools.cfn_template import Resolver, load_template

REGION = "us-east-1"
OUTSIDER = "999999999999"  # an account in no organization
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _admits(policy: str | None, caller: str, caller_org: str | None, entry: dict[str, Any]) -> bool:
    """Does this bus policy let ``caller`` put ``entry``? The subset of IAM the acceptor's policies use."""
    for statement in json.loads(policy)["Statement"] if policy else []:
        if statement.get("Effect") != "Allow" or "events:PutEvents" not in as_list(statement.get("Action")):
            continue
        principal = statement.get("Principal")
        if principal != "*" and not (
            isinstance(principal, dict) and {caller, f"arn:aws:iam::{caller}:root"} & set(as_list(principal.get("AWS")))
        ):
            continue
        ok = True
        for operator, pairs in (statement.get("Condition") or {}).items():
            for key, wanted in pairs.items():
                if (operator, key) == ("StringEquals", "aws:PrincipalOrgID"):
                    ok = ok and caller_org == wanted
                elif (operator, key) == ("ForAllValues:StringEquals", "events:source"):
                    ok = ok and entry["Source"] in as_list(wanted)
                elif (operator, key) == ("ForAllValues:StringEquals", "events:detail-type"):
                    ok = ok and entry["DetailType"] in as_list(wanted)
                else:
                    raise AssertionError(f"the test's bus-policy reader does not know {operator} {key}")
        if ok:
            return True
    return False


@pytest.fixture
def cross_account_put_events(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Route PutEvents entries by the account in their bus ARN; returns the account -> organization map
    the bus policies are checked against (the test fills it)."""
    org_of: dict[str, str] = {}
    original = EventsBackend.put_events

    def put_events(self: EventsBackend, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        for entry in events:
            name = entry.get("EventBusName") or "default"
            if name.startswith("arn:"):
                _, _, _, region, account, resource = name.split(":", 5)
                if (account, region) != (self.account_id, self.region_name):
                    bus = events_backends[account][region].event_buses.get(resource.split("/", 1)[1])
                    if bus is None:
                        results.append({"ErrorCode": "ResourceNotFoundException", "ErrorMessage": "no such bus"})
                    elif not _admits(bus.policy, self.account_id, org_of.get(self.account_id), entry):
                        results.append({"ErrorCode": "AccessDeniedException", "ErrorMessage": "bus policy refuses"})
                    else:
                        results.extend(_put_as(self.account_id, events_backends[account][region], entry, bus.name))
                    continue
            results.extend(original(self, [entry]))
        return results

    def _put_as(caller: str, target: EventsBackend, entry: dict[str, Any], bus: str) -> list[dict[str, Any]]:
        """Put ``entry`` on ``target``'s bus as EventBridge does for another account's call: the event's
        ``account`` is the caller's (PutPermission: "Rules with an account field do not match any events
        sent from other accounts"); moto would write the bus owner's."""
        owner = target.account_id
        target.account_id = caller
        try:
            return original(target, [{**entry, "EventBusName": bus}])
        finally:
            target.account_id = owner

    monkeypatch.setattr(EventsBackend, "put_events", put_events)
    # A rule's SQS target receives the whole event; moto's default input template leaves out ``account``.
    template = EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE
    assert '"account"' not in template and template.startswith("{")
    monkeypatch.setattr(EventTemplateParser, "DEFAULT_EVENT_INPUT_TEMPLATE", '{"account": "<account>", ' + template[1:])
    return org_of


def _session(account: str) -> boto3.session.Session:
    """Credentials in ``account`` (moto gives an assumed role's keys that role's account)."""
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/test", RoleSessionName="test"
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )


class Fleet(NamedTuple):
    org_id: str
    sharer: str
    recipients: list[str]
    inboxes: dict[str, tuple[Any, str]]  # account -> (its SQS client, the queue its bus rule fills)
    dead_letters: tuple[Any, str]
    sharer_session: boto3.session.Session


def _inbox(session: boto3.session.Session) -> tuple[Any, str]:
    """A rule on the account's default bus sending every router event to a queue (the acceptor's rule
    will match them on ``sharedWithAccount``; this one catches misdirected ones too)."""
    sqs, events = session.client("sqs"), session.client("events")
    url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="router-events", EventPattern=json.dumps({"source": [forwarded.SOURCE]}))
    events.put_targets(Rule="router-events", Targets=[{"Id": "inbox", "Arn": arn}])
    return sqs, url


@functools.cache
def _acceptor_template() -> dict[str, Any]:
    return load_template(Path(__file__).resolve().parents[2] / "template.yaml")


def _admit_organization(session: boto3.session.Session, org_id: str) -> None:
    """The recipient stack's OrganizationBusPolicy, as template.yaml writes it."""
    template = _acceptor_template()
    resolver = Resolver(
        template, {"EventSourceOrganizationId": org_id}, account=session.client("sts").get_caller_identity()["Account"]
    )
    statement = resolver.resolve(template["Resources"]["OrganizationBusPolicy"]["Properties"]["Statement"])
    session.client("events").put_permission(
        Policy=json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "organization", **statement}]})
    )


@pytest.fixture
def fleet(cross_account_put_events: dict[str, str]) -> Iterator[Fleet]:
    with mock_aws():
        orgs = boto3.client("organizations", region_name=REGION)
        org_id = orgs.create_organization(FeatureSet="ALL")["Organization"]["Id"]
        members = [
            orgs.create_account(AccountName=f"member{i}", Email=f"member{i}@example.com")["CreateAccountStatus"][
                "AccountId"
            ]
            for i in range(4)
        ]
        sharer, recipients = members[0], members[1:]
        for account in members:
            cross_account_put_events[account] = org_id
        inboxes = {}
        for account in [sharer, *recipients, OUTSIDER]:
            session = _session(account)
            inboxes[account] = _inbox(session)
            if account in recipients:
                _admit_organization(session, org_id)
        sharer_session = _session(sharer)
        sqs = sharer_session.client("sqs")
        dlq = sqs.create_queue(QueueName="router-dead-letters")["QueueUrl"]
        yield Fleet(org_id, sharer, recipients, inboxes, (sqs, dlq), sharer_session)


class Spy:
    """The sharer's EventBridge client, counting PutEvents calls; ``throttle`` names recipients whose
    deliveries are answered with a throttling error."""

    def __init__(self, client: Any, throttle: frozenset[str] = frozenset()) -> None:
        self.client, self.throttle, self.calls = client, throttle, []

    def put_events(self, **kwargs: Any) -> Any:
        bus = kwargs["Entries"][0]["EventBusName"]
        self.calls.append(bus.split(":")[4])
        if bus.split(":")[4] in self.throttle:
            raise ClientError(
                {
                    "Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                },
                "PutEvents",
            )
        return self.client.put_events(**kwargs)


class Router(NamedTuple):
    components: wiring.RouterComponents
    spy: Spy
    sleeps: list[float]


def _router(fleet: Fleet, *, listed: frozenset[str] | None = None, throttle: frozenset[str] = frozenset()) -> Router:
    settings = RouterSettings(
        own_account=fleet.sharer,
        region=REGION,
        partition="aws",
        dead_letter_queue_url=fleet.dead_letters[1],
        recipient_accounts=listed,
    )
    spy = Spy(fleet.sharer_session.client("events"), throttle)
    sleeps: list[float] = []
    comps = wiring.build(settings, events_client=spy, sqs_client=fleet.dead_letters[0], sleep=sleeps.append)
    return Router(comps, spy, sleeps)


def _share(fleet: Fleet, event_name: str, shared_with: str, **changes: Any) -> dict[str, Any]:
    request = {"SharedWith": shared_with, "ClientRequestToken": "8d1c3a52-5f0e-4c3b-9f7e-2a6b1d9c0e41"}
    event = share_event(event_name, fleet.sharer, REGION, request, {"ShareId": "ab" * 16}, NOW)
    event["detail"].update(changes)
    return event


def _received(inbox: tuple[Any, str]) -> list[dict[str, Any]]:
    sqs, url = inbox
    messages = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
            "Messages", []
        )
        if not batch:
            return messages
        for message in batch:
            messages.append({**json.loads(message["Body"]), "_attributes": message.get("MessageAttributes", {})})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """The router's log records (the Logger's stream, swapped for the test)."""
    handler = logger.registered_handler
    stream = io.StringIO()
    previous = handler.setStream(stream)  # type: ignore[attr-defined]
    yield stream
    handler.setStream(previous)  # type: ignore[attr-defined]


def _records(stream: io.StringIO | str) -> list[dict[str, Any]]:
    text = stream if isinstance(stream, str) else stream.getvalue()
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


# ---------------------------------------------------------------- delivery


def test_a_share_to_each_of_three_recipients_reaches_that_recipients_bus_and_no_other(
    fleet: Fleet, logs: io.StringIO
) -> None:
    # Given three shares from one sharer, to an account, to an IAM role and to an IAM user
    first, second, third = fleet.recipients
    router = _router(fleet)
    shares = [
        _share(fleet, "CreateLensShare", first),
        _share(fleet, "CreateProfileShare", f"arn:aws:iam::{second}:role/Reviewers"),
        _share(fleet, "CreateTemplateShare", f"arn:aws:iam::{third}:user/path/auditor"),
    ]
    # When the router handles each one
    results = [lambda_handler(share, LambdaContext(), components=router.components) for share in shares]

    # Then each recipient's bus received exactly its share, and nobody else received anything
    assert [r["outcome"] for r in results] == ["delivered"] * 3
    assert router.spy.calls == [first, second, third]
    for recipient, share in zip(fleet.recipients, shares, strict=True):
        (received,) = _received(fleet.inboxes[recipient])
        assert (received["source"], received["detail-type"]) == (forwarded.SOURCE, forwarded.DETAIL_TYPE)
        detail = received["detail"]
        assert detail["sharedWithAccount"] == recipient
        assert detail["sharedBy"] == fleet.sharer
        assert detail["eventName"] == share["detail"]["eventName"]
        assert detail["requestParameters"]["SharedWith"] == share["detail"]["requestParameters"]["SharedWith"]
        assert detail["responseElements"] == {"ShareId": "ab" * 16}
        assert not {"userIdentity", "sourceIPAddress", "userAgent"} & set(detail)  # the caller stays private
    assert _received(fleet.inboxes[fleet.sharer]) == []
    assert _received(fleet.inboxes[OUTSIDER]) == []
    assert _received(fleet.dead_letters) == []
    # And each delivery is one log record naming its recipient, and one count
    routed = [r for r in _records(logs) if r.get("message") == "share routed to the recipient's bus"]
    assert [r["recipient_account"] for r in routed] == fleet.recipients


@pytest.mark.parametrize(
    ("shared_with", "changes", "reason"),
    [
        ("{recipient}", {"errorCode": "AccessDenied", "responseElements": None}, "failed_call"),
        ("o-abcdef1234", {}, "organization_share"),
        ("ou-ab12-cdefgh34", {}, "organization_share"),
        ("{sharer}", {}, "own_account"),
    ],
)
def test_failed_calls_and_organization_shares_are_not_delivered(
    fleet: Fleet, shared_with: str, changes: dict[str, Any], reason: str
) -> None:
    router = _router(fleet)
    event = _share(
        fleet, "CreateWorkloadShare", shared_with.format(recipient=fleet.recipients[0], sharer=fleet.sharer), **changes
    )
    result = lambda_handler(event, LambdaContext(), components=router.components)
    assert result == {"outcome": "not_routed", "reason": reason, "recipient_account": result["recipient_account"]}
    assert router.spy.calls == []
    for inbox in fleet.inboxes.values():
        assert _received(inbox) == []
    assert _received(fleet.dead_letters) == []


def test_a_share_to_an_account_outside_the_organization_is_refused_parked_and_delays_nobody(
    fleet: Fleet, logs: io.StringIO
) -> None:
    # Given shares to a member, to an account outside the organization, then to another member
    first, second, _ = fleet.recipients
    router = _router(fleet)
    shares = [
        _share(fleet, "CreateWorkloadShare", first),
        _share(fleet, "CreateWorkloadShare", OUTSIDER),
        _share(fleet, "CreateLensShare", second),
    ]
    results = [lambda_handler(share, LambdaContext(), components=router.components) for share in shares]

    # Then the outsider's bus got nothing, and its share waits in the dead-letter queue, found at once
    assert [r["outcome"] for r in results] == ["delivered", "refused", "delivered"]
    assert results[1]["error_code"] == "AccessDeniedException"
    assert results[1]["attempts"] == 1
    assert router.sleeps == []  # a refusal is final: nobody waited for it
    assert _received(fleet.inboxes[OUTSIDER]) == []
    assert [m["detail"]["sharedWithAccount"] for m in _received(fleet.inboxes[first])] == [first]
    assert [m["detail"]["sharedWithAccount"] for m in _received(fleet.inboxes[second])] == [second]
    (parked,) = _received(fleet.dead_letters)
    assert parked["reason"] == "refused"
    assert parked["recipient_account"] == OUTSIDER
    assert parked["_attributes"]["recipient_account"]["StringValue"] == OUTSIDER
    # the parked entry is what to send again once the recipient admits the sharer
    assert parked["entry"]["EventBusName"] == f"arn:aws:events:{REGION}:{OUTSIDER}:event-bus/default"
    assert json.loads(parked["entry"]["Detail"])["sharedWithAccount"] == OUTSIDER
    # And the logs count one outcome per recipient
    outcomes = {(r["recipient_account"], r["outcome"]) for r in _records(logs) if "outcome" in r}
    assert outcomes == {(first, "delivered"), (OUTSIDER, "refused"), (second, "delivered")}


def test_a_recipient_not_in_the_listed_accounts_is_not_delivered_nor_tried(fleet: Fleet) -> None:
    first, second, _ = fleet.recipients
    router = _router(fleet, listed=frozenset({first}))
    answer = lambda_handler(_share(fleet, "CreateWorkloadShare", first), LambdaContext(), components=router.components)
    assert answer["outcome"] == "delivered"
    result = lambda_handler(_share(fleet, "CreateWorkloadShare", second), LambdaContext(), components=router.components)
    assert result == {"outcome": "not_routed", "reason": "not_listed", "recipient_account": second}
    assert router.spy.calls == [first]
    assert _received(fleet.inboxes[second]) == []
    assert _received(fleet.dead_letters) == []


def test_a_throttled_recipient_is_deferred_to_lambda_and_the_others_are_delivered(
    fleet: Fleet, logs: io.StringIO
) -> None:
    first, second, third = fleet.recipients
    router = _router(fleet, throttle=frozenset({second}))
    answer = lambda_handler(_share(fleet, "CreateLensShare", first), LambdaContext(), components=router.components)
    assert answer["outcome"] == "delivered"
    with pytest.raises(DeliveryDeferred, match="ThrottlingException"):
        lambda_handler(_share(fleet, "CreateLensShare", second), LambdaContext(), components=router.components)
    answer = lambda_handler(_share(fleet, "CreateLensShare", third), LambdaContext(), components=router.components)
    assert answer["outcome"] == "delivered"
    assert router.spy.calls == [first, second, second, second, third]
    assert router.sleeps == [0.2, 0.4]  # within the throttled share's own invocation only
    assert _received(fleet.dead_letters) == []  # Lambda retries it, then parks it (OnFailure)
    deferred = [r for r in _records(logs) if r.get("outcome") == "deferred"]
    assert [(r["recipient_account"], r["throttled"]) for r in deferred] == [(second, True)]


def test_a_share_made_in_another_account_is_not_routed(fleet: Fleet) -> None:
    # an event of another account that reached this bus (a sharer's old forwarding rule) is not ours to pass on
    router = _router(fleet)
    event = _share(fleet, "CreateWorkloadShare", fleet.recipients[0])
    event["account"] = fleet.recipients[1]
    result = lambda_handler(event, LambdaContext(), components=router.components)
    assert result["reason"] == "other_sharer"
    assert router.spy.calls == []


def test_an_invalid_event_is_parked_with_its_reason(fleet: Fleet) -> None:
    router = _router(fleet)
    event = _share(fleet, "CreateWorkloadShare", "not-an-account")
    result = lambda_handler(event, LambdaContext(), components=router.components)
    assert result["outcome"] == "invalid_event"
    assert result["invalid_reason"] == "bad_recipient"
    (parked,) = _received(fleet.dead_letters)
    assert parked["reason"] == "invalid_event"
    assert parked["event"]["id"] == event["id"]
    assert router.spy.calls == []


def test_an_unreachable_dead_letter_queue_makes_lambda_retry(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    router = _router(fleet)
    fleet.dead_letters[0].delete_queue(QueueUrl=fleet.dead_letters[1])
    with pytest.raises(ParkingFailed, match=r"NonExistentQueue|QueueDoesNotExist"):
        lambda_handler(_share(fleet, "CreateWorkloadShare", OUTSIDER), LambdaContext(), components=router.components)
    assert '"RouterParkingFailures"' in capsys.readouterr().out


def test_metrics_count_each_outcome(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    router = _router(fleet)
    for shared_with in (fleet.recipients[0], OUTSIDER, "o-abcdef1234"):
        lambda_handler(_share(fleet, "CreateWorkloadShare", shared_with), LambdaContext(), components=router.components)
    counts: dict[str, float] = {}
    for record in _records(capsys.readouterr().out):
        for directive in record.get("_aws", {}).get("CloudWatchMetrics", []):
            for metric in directive["Metrics"]:
                value = record[metric["Name"]]
                counts[metric["Name"]] = counts.get(metric["Name"], 0) + sum(as_list(value))
    assert counts == {"RouterSharesDelivered": 1, "RouterSharesUndeliverable": 1, "RouterSharesNotRouted": 1}


def _share_sample() -> dict[str, Any]:
    return json.loads((Path(__file__).resolve().parents[2] / "events" / "share-workload.json").read_text())


@pytest.mark.filterwarnings("ignore:No application metrics")
def test_a_bad_configuration_fails_every_invocation_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    wiring.reset()
    monkeypatch.setenv("SHARER_ACCOUNT_ID", "not-an-account")
    monkeypatch.delenv("DEAD_LETTER_QUEUE_URL", raising=False)
    for _ in range(2):
        with pytest.raises(ConfigurationError) as caught:
            lambda_handler(_share_sample(), LambdaContext())
        assert "SHARER_ACCOUNT_ID: 'not-an-account'" in str(caught.value)
    wiring.reset()


def _deep(levels: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(levels):
        node["x"] = {}
        node = node["x"]
    return root


@pytest.mark.parametrize(
    ("extra", "reason"),
    [({"padding": "x" * 100_000}, "bad_recipient"), ({"nested": _deep(100_000)}, "too_deep")],
    ids=["large", "deep"],
)
def test_an_invalid_event_too_large_to_keep_is_parked_by_its_id(
    fleet: Fleet, extra: dict[str, Any], reason: str
) -> None:
    router = _router(fleet)
    event = _share(fleet, "CreateWorkloadShare", "not-an-account", **extra)
    assert lambda_handler(event, LambdaContext(), components=router.components)["invalid_reason"] == reason
    (parked,) = _received(fleet.dead_letters)
    assert "event" not in parked
    assert parked["event_id"] == event["id"]


# ---------------------------------------------------------------- end to end: the recipient's acceptor decides it

ORG_ID = "o-a1b2c3d4e5"
SECOND_RECIPIENT = "444444444444"


class AcceptorInbox(NamedTuple):
    sqs: Any
    queue_url: str
    pattern: dict[str, Any]  # ShareEventRule's pattern, resolved for the account


def _acceptor_inbox(session: boto3.session.Session, account: str) -> AcceptorInbox:
    """The recipient stack's ShareEventRule, as template.yaml writes it, into a queue for ShareEventQueue."""
    template = _acceptor_template()
    rule = template["Resources"]["ShareEventRule"]["Properties"]
    pattern = Resolver(template, account=account).resolve(rule["EventPattern"])
    sqs, events = session.client("sqs"), session.client("events")
    url = sqs.create_queue(QueueName="share-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="share-events", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="share-events", Targets=[{"Id": "share-event-queue", "Arn": arn}])
    return AcceptorInbox(sqs, url, pattern)


def _lambda_batch(inbox: AcceptorInbox) -> dict[str, Any]:
    """The queue's messages as Lambda's SQS event source hands them to ShareEventFunction."""
    arn = inbox.sqs.get_queue_attributes(QueueUrl=inbox.queue_url, AttributeNames=["QueueArn"])["Attributes"]
    records = []
    while messages := inbox.sqs.receive_message(QueueUrl=inbox.queue_url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            records.append(
                {
                    "messageId": message["MessageId"],
                    "receiptHandle": message["ReceiptHandle"],
                    "body": message["Body"],
                    "attributes": {"ApproximateReceiveCount": "1"},
                    "messageAttributes": {},
                    "md5OfBody": message["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": arn["QueueArn"],
                    "awsRegion": REGION,
                }
            )
            inbox.sqs.delete_message(QueueUrl=inbox.queue_url, ReceiptHandle=message["ReceiptHandle"])
    return {"Records": records}


def test_end_to_end_the_router_s_event_is_matched_parsed_and_decided_by_the_recipient_s_acceptor(
    cross_account_put_events: dict[str, str], sim: Simulator, world: World
) -> None:
    # Given shares by TRUSTED in the simulated service: a lens and two workloads to RECIPIENT, a workload to
    # a second recipient, and a profile nothing announces (left for the sweep)
    lens = world.lens(TRUSTED, "platform-lens")
    workloads = [world.workload(TRUSTED, f"payments-{n}", "READONLY") for n in range(2)]
    theirs = world.workload(TRUSTED, "elsewhere", "READONLY", to=SECOND_RECIPIENT)
    unannounced = world.profile(TRUSTED, "platform-profile")
    cloudtrail = {
        e["detail"]["responseElements"]["ShareId"]: copy.deepcopy(e)
        for e in sim.events
        if e["detail"]["eventName"].startswith("Create")
    }
    # The workload's record without a ShareId (whether real records carry one is unconfirmed)
    del cloudtrail[workloads[0].share_id]["detail"]["responseElements"]["ShareId"]
    shares = [cloudtrail[lens.share_id], cloudtrail[workloads[0].share_id], cloudtrail[theirs.share_id]]

    # When the sharer's router handles their CloudTrail events, with the recipients' stacks on their buses
    with mock_aws():
        for account in (TRUSTED, RECIPIENT, SECOND_RECIPIENT):
            cross_account_put_events[account] = ORG_ID
        inboxes = {}
        for account in (RECIPIENT, SECOND_RECIPIENT):
            session = _session(account)
            _admit_organization(session, ORG_ID)
            inboxes[account] = _acceptor_inbox(session, account)
        sharer = _session(TRUSTED)
        dead_letters = sharer.client("sqs").create_queue(QueueName="router-dead-letters")["QueueUrl"]
        settings = RouterSettings(TRUSTED, REGION, "aws", dead_letters)
        router = wiring.build(settings, events_client=sharer.client("events"), sqs_client=sharer.client("sqs"))
        results = [lambda_handler(share, LambdaContext(), components=router) for share in shares]
        batches = {account: _lambda_batch(inbox) for account, inbox in inboxes.items()}
        assert _received((sharer.client("sqs"), dead_letters)) == []
    assert [r["outcome"] for r in results] == ["delivered"] * 3

    # Then each recipient's ShareEventRule passed on its own shares only, as the router made them
    received = {account: [json.loads(r["body"]) for r in batch["Records"]] for account, batch in batches.items()}
    assert sorted(e["detail"]["eventName"] for e in received[RECIPIENT]) == ["CreateLensShare", "CreateWorkloadShare"]
    assert [e["detail"]["sharedWithAccount"] for e in received[SECOND_RECIPIENT]] == [SECOND_RECIPIENT]
    for event in received[RECIPIENT]:
        assert (event["source"], event["detail-type"], event["account"]) == (
            forwarded.SOURCE,
            forwarded.DETAIL_TYPE,
            TRUSTED,
        )
        assert matches(inboxes[RECIPIENT].pattern, event)
        assert not matches(inboxes[SECOND_RECIPIENT].pattern, event)
    # And the acceptor's parser reads each as the hint its CloudTrail event would give
    by_name = {e["detail"]["eventName"]: e for e in received[RECIPIENT]}
    assert parse_share_event(by_name["CreateLensShare"], RECIPIENT) == ShareHint(
        lens.share_id, "LENS", by_name["CreateLensShare"]["id"], "CreateLensShare", TRUSTED
    )
    assert parse_share_event(by_name["CreateWorkloadShare"], RECIPIENT) == SharerHint(
        "WORKLOAD", TRUSTED, by_name["CreateWorkloadShare"]["id"], "CreateWorkloadShare"
    )
    with pytest.raises(IgnoredEvent):
        parse_share_event(received[SECOND_RECIPIENT][0], RECIPIENT)

    # And RECIPIENT's ShareEventFunction, given its queue's batch, decides the invitations by its policy
    run = invoke(acceptor_handler, batches[RECIPIENT], components(sim), LambdaContext(account=RECIPIENT))
    assert run.result == {"batchItemFailures": []}
    assert [world.status(s) for s in (lens, *workloads)] == ["ACCEPTED"] * 3  # the hint covers both workloads
    assert (world.status(theirs), world.status(unannounced)) == ("PENDING", "PENDING")
    assert run.metrics["InvitationsAccepted"] == 3 and run.metrics["ShareEventsBySharer"] == 1
    assert run.metrics.get("InvalidEvents", 0) == 0
