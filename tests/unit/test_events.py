"""Event parsing: hints only, every malformed shape rejected with a stable reason."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acceptor.events import (
    MAX_EVENT_BYTES,
    MAX_EVENT_DEPTH,
    IgnoredEvent,
    InvalidEvent,
    ShareHint,
    SharerHint,
    is_sqs_batch,
    message_id_of,
    parse_share_event,
    parse_sqs_batch,
    parse_sweep_event,
)
from tests.support.documents import with_value

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


@pytest.mark.parametrize(
    ("name", "rtype"),
    [
        ("share-workload.json", "WORKLOAD"),
        ("share-lens.json", "LENS"),
        ("share-profile.json", "PROFILE"),
        ("share-template.json", "TEMPLATE"),
    ],
)
def test_sample_share_events_parse_to_hints(name: str, rtype: str) -> None:
    event = load(name)
    hint = parse_share_event(event)
    assert isinstance(hint, ShareHint)
    assert hint.resource_type == rtype
    assert hint.invitation_id == event["detail"]["responseElements"]["ShareId"]
    assert hint.event_id == event["id"]
    assert hint.claimed_sharer == "222222222222"


def test_scheduled_sample_and_empty_request_start_a_sweep() -> None:
    assert parse_sweep_event(load("scheduled-sweep.json")) == load("scheduled-sweep.json")["id"]
    assert parse_sweep_event({}) is None
    assert parse_sweep_event(None) is None


def test_malformed_sample_is_rejected() -> None:
    with pytest.raises(InvalidEvent) as err:
        parse_share_event(load("malformed-share.json"))
    assert err.value.reason == "malformed_share_id"


def _mutate(path: list[str], value: Any) -> dict[str, Any]:
    event: dict[str, Any] = with_value(load("share-workload.json"), path, value)
    return event


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        (["source"], "aws.events", "unexpected_source"),
        (["source"], "custom.forger", "unexpected_source"),
        (["detail-type"], "Scheduled Event", "unexpected_detail_type"),
        (["detail"], "not a dict", "missing_detail"),
        (["detail", "eventName"], "DeleteWorkloadShare", "unexpected_event_name"),
        (["detail", "eventName"], "UpdateShareInvitation", "unexpected_event_name"),
        (["detail", "responseElements"], "ShareId", "malformed_share_id"),
        (["detail", "responseElements"], ["a1b2c3d4e5f60718293a4b5c6d7e8f90"], "malformed_share_id"),
        (["detail", "responseElements", "ShareId"], "A1B2C3D4E5F60718293A4B5C6D7E8F90", "malformed_share_id"),
        (["detail", "responseElements", "ShareId"], "a1b2c3", "malformed_share_id"),
        (["detail", "responseElements", "ShareId"], "", "malformed_share_id"),
        (["detail", "responseElements", "ShareId"], 12345, "malformed_share_id"),
        (["detail", "responseElements", "ShareId"], "a1b2c3d4e5f60718293a4b5c6d7e8f90\n", "malformed_share_id"),
        (["detail", "responseElements", "ShareId"], "a1b2c3d4e5f60718293a4b5c6d7e8f9\u0660", "malformed_share_id"),
        (["detail", "eventName"], ["CreateWorkloadShare"], "unexpected_event_name"),
    ],
)
def test_share_event_shapes_rejected(path: list[str], value: Any, reason: str) -> None:
    with pytest.raises(InvalidEvent) as err:
        parse_share_event(_mutate(path, value))
    assert err.value.reason == reason
    assert str(err.value)  # a clear message for the log


def test_lowercase_share_id_key_accepted() -> None:
    event = _mutate(["detail", "responseElements", "ShareId"], ...)
    event["detail"]["responseElements"]["shareId"] = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    assert parse_share_event(event) == ShareHint(
        "a1b2c3d4e5f60718293a4b5c6d7e8f90", "WORKLOAD", event["id"], "CreateWorkloadShare", "222222222222"
    )


def _share_hint(event: dict[str, Any]) -> ShareHint:
    hint = parse_share_event(event)
    assert isinstance(hint, ShareHint)
    return hint


def test_claimed_sharer_that_is_not_an_account_is_dropped() -> None:
    assert _share_hint(_mutate(["account"], "2222")).claimed_sharer is None
    assert _share_hint(_mutate(["account"], "222222222222\n")).claimed_sharer is None
    assert _share_hint(_mutate(["account"], "\uff12" * 12)).claimed_sharer is None  # fullwidth 2


@pytest.mark.parametrize("code", ["ValidationException", "AccessDenied", ""])
def test_a_failed_call_is_ignored_not_invalid(code: str) -> None:
    with pytest.raises(IgnoredEvent) as err:
        parse_share_event(_mutate(["detail", "errorCode"], code))
    assert err.value.reason == "failed_call"


@pytest.mark.parametrize("key", ["SharedWith", "sharedWith"])
def test_a_share_for_another_account_is_ignored(key: str) -> None:
    event = _mutate(["detail", "requestParameters", "SharedWith"], ...)
    event["detail"]["requestParameters"][key] = "999999999999"
    with pytest.raises(IgnoredEvent) as err:
        parse_share_event(event, own_account="111111111111")
    assert err.value.reason == "other_account"
    assert _share_hint(event).invitation_id  # without knowing our account, the API decides
    event["detail"]["requestParameters"][key] = "arn:aws:iam::999999999999:user/alice"
    with pytest.raises(IgnoredEvent):
        parse_share_event(event, own_account="111111111111")


@pytest.mark.parametrize(
    "shared_with", ["111111111111", "arn:aws:iam::111111111111:user/alice", "arn:aws:iam::111111111111:role/x/y"]
)
def test_a_share_for_this_account_or_its_principals_gives_a_hint(shared_with: str) -> None:
    event = _mutate(["detail", "requestParameters", "SharedWith"], shared_with)
    assert parse_share_event(event, own_account="111111111111").resource_type == "WORKLOAD"


@pytest.mark.parametrize("shared_with", ["o-abcdefghij", "ou-ab12-abcdefgh"])
def test_organization_shares_are_ignored(shared_with: str) -> None:
    with pytest.raises(IgnoredEvent) as err:
        parse_share_event(_mutate(["detail", "requestParameters", "SharedWith"], shared_with))
    assert err.value.reason == "organization_share"


def test_the_sample_batch_parses_into_messages_and_hints() -> None:
    batch = load("share-batch.json")
    assert is_sqs_batch(batch) and not is_sqs_batch(load("share-workload.json"))
    messages = parse_sqs_batch(batch)
    assert [m.message_id for m in messages] == [r["messageId"] for r in batch["Records"]]
    kinds = set()
    for message in messages:
        assert message.error is None
        try:
            kinds.add(parse_share_event(message.event, own_account="111111111111").resource_type)
        except IgnoredEvent as err:
            assert err.reason == "failed_call"
    assert kinds == {"WORKLOAD", "LENS", "PROFILE", "TEMPLATE"}


def test_bad_sqs_records_are_flagged_one_by_one() -> None:
    good = {"messageId": "m1", "eventSource": "aws:sqs", "body": json.dumps(load("share-lens.json"))}
    batch = {
        "Records": [
            good,
            {"messageId": "m2", "eventSource": "aws:sqs", "body": "{not json"},
            {"messageId": "m3", "eventSource": "aws:sqs", "body": {"already": "decoded"}},
            {"messageId": "m4", "eventSource": "aws:kinesis", "body": "{}"},
            {"messageId": "m5", "eventSource": "aws:sqs", "body": "x" * (MAX_EVENT_BYTES + 1)},
        ]
    }
    messages = parse_sqs_batch(batch)
    assert messages[0].error is None and parse_share_event(messages[0].event).resource_type == "LENS"
    assert [m.error.reason if m.error else None for m in messages[1:]] == [
        "malformed_body",
        "malformed_body",
        "not_sqs",
        "malformed_body",
    ]
    without_id = parse_sqs_batch({"Records": [good, {"eventSource": "aws:sqs", "body": "{}"}]})
    assert without_id[0].error is None and without_id[1].message_id is None
    assert without_id[1].error is not None and without_id[1].error.reason == "missing_message_id"


def test_oversized_events_are_rejected() -> None:
    event = _mutate(["detail", "padding"], "x" * (MAX_EVENT_BYTES + 1))
    with pytest.raises(InvalidEvent) as err:
        parse_share_event(event)
    assert err.value.reason == "oversized"
    with pytest.raises(InvalidEvent) as err:
        parse_sweep_event({"source": "aws.events", "detail-type": "Scheduled Event", "pad": "x" * MAX_EVENT_BYTES})
    assert err.value.reason == "oversized"


@pytest.mark.parametrize("event", [[], "text", 42, True])
def test_non_objects_rejected(event: Any) -> None:
    with pytest.raises(InvalidEvent) as err:
        parse_share_event(event)
    assert err.value.reason == "not_an_object"
    with pytest.raises(InvalidEvent):
        parse_sweep_event(event)


def test_sweep_refuses_share_events() -> None:
    with pytest.raises(InvalidEvent) as err:
        parse_sweep_event(load("share-workload.json"))
    assert err.value.reason == "unexpected_event"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30,
)


@given(json_values)
def test_fuzzed_events_never_crash_the_parsers(event: Any) -> None:
    for parse in (parse_share_event, parse_sweep_event):
        try:
            parse(event)
        except (InvalidEvent, IgnoredEvent) as err:
            assert err.reason


@given(st.dictionaries(st.sampled_from(["source", "detail-type", "detail", "id", "account"]), json_values))
def test_fuzzed_share_event_fields_give_a_hint_only_when_well_formed(event: dict[str, Any]) -> None:
    try:
        hint = parse_share_event(event)
    except (InvalidEvent, IgnoredEvent):
        return
    assert event["source"] in ("aws.wellarchitected", "wa-share-acceptor.router")
    if isinstance(hint, SharerHint):
        assert hint.sharer == event["account"] and len(hint.sharer) == 12
    else:
        assert len(hint.invitation_id) == 32


# Exact behaviour the broader tests above leave open: boundaries, the messages naming the bad value, and the
# fields a hint or a message carries. Each input is built inside its test (never at import time).


def _padded_to(event: dict[str, Any], size: int) -> dict[str, Any]:
    """The event with a padding field that makes its serialized form exactly ``size`` bytes."""
    event = {**event, "pad": ""}
    event["pad"] = "x" * (size - len(json.dumps(event, default=str)))
    assert len(json.dumps(event, default=str)) == size
    return event


def test_an_event_of_exactly_the_largest_size_is_accepted_one_byte_more_is_not() -> None:
    share = _padded_to(load("share-workload.json"), MAX_EVENT_BYTES)
    assert _share_hint(share).invitation_id == "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    sweep = _padded_to(load("scheduled-sweep.json"), MAX_EVENT_BYTES)
    assert parse_sweep_event(sweep) == sweep["id"]
    with pytest.raises(InvalidEvent) as err:
        parse_share_event(_padded_to(load("share-workload.json"), MAX_EVENT_BYTES + 1))
    assert err.value.reason == "oversized"
    assert str(err.value) == f"event is {MAX_EVENT_BYTES + 1} bytes, more than {MAX_EVENT_BYTES}"


def test_an_event_that_is_not_json_data_is_refused_with_its_reason() -> None:
    event: dict[str, Any] = load("scheduled-sweep.json")
    event["detail"] = event  # a cycle: json.dumps refuses it
    with pytest.raises(InvalidEvent) as err:
        parse_sweep_event(event)
    assert err.value.reason == "unserializable"
    assert str(err.value).startswith("event is not JSON data: ")
    with pytest.raises(InvalidEvent) as err:
        parse_share_event({"source": "aws.wellarchitected", ("tuple", "key"): 1})
    assert err.value.reason == "unserializable"
    assert "keys must be" in str(err.value)


@pytest.mark.parametrize("parse", [parse_share_event, parse_sweep_event])
def test_a_non_object_is_named_by_its_type(parse: Any) -> None:
    with pytest.raises(InvalidEvent) as err:
        parse(["a", "list"])
    assert err.value.reason == "not_an_object"
    assert str(err.value) == "event is a list, not a JSON object"


@pytest.mark.parametrize(
    ("source", "detail_type"),
    [("aws.events", "Object Created"), ("custom.forger", "Scheduled Event"), (None, None)],
)
def test_sweep_needs_both_the_scheduler_source_and_its_detail_type(source: Any, detail_type: Any) -> None:
    event = {"source": source, "detail-type": detail_type, "id": "e1"}
    with pytest.raises(InvalidEvent) as err:
        parse_sweep_event(event)
    assert err.value.reason == "unexpected_event"
    assert str(err.value) == (
        f"sweep takes a scheduled event or {{}}, not source={source!r} detail-type={detail_type!r}"
    )


@pytest.mark.parametrize("event_id", [42, None, ["id"]])
def test_an_event_id_that_is_not_a_string_is_dropped(event_id: Any) -> None:
    sweep = {**load("scheduled-sweep.json"), "id": event_id}
    assert parse_sweep_event(sweep) is None
    share = _mutate(["id"], event_id)
    assert parse_share_event(share).event_id is None


def test_a_hint_carries_the_event_name() -> None:
    hint = parse_share_event(load("share-lens.json"))
    assert hint.event_name == "CreateLensShare"
    assert hint.resource_type == "LENS"


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            ["source"],
            "custom.forger",
            "source is 'custom.forger', expected 'aws.wellarchitected' or 'wa-share-acceptor.router'",
        ),
        (["detail-type"], "Oops", "detail-type is 'Oops', expected 'AWS API Call via CloudTrail'"),
        (["detail"], "not a dict", "event has no detail object"),
        (
            ["detail", "eventName"],
            "DeleteWorkloadShare",
            "eventName is 'DeleteWorkloadShare', expected one of "
            "['CreateLensShare', 'CreateProfileShare', 'CreateTemplateShare', 'CreateWorkloadShare']",
        ),
        (["detail", "responseElements"], "x", "responseElements is a str, not an object"),
        (
            ["detail", "responseElements", "ShareId"],
            "a1b2",
            "responseElements.ShareId is 'a1b2', not 32 lowercase hex digits",
        ),
    ],
)
def test_each_rejection_names_the_bad_value(path: list[str], value: Any, message: str) -> None:
    with pytest.raises(InvalidEvent) as err:
        parse_share_event(_mutate(path, value))
    assert str(err.value) == message


def test_ignored_events_name_why() -> None:
    with pytest.raises(IgnoredEvent) as err:
        parse_share_event(_mutate(["detail", "errorCode"], "AccessDenied"))
    assert str(err.value) == "CreateWorkloadShare failed with 'AccessDenied': no share exists"
    with pytest.raises(IgnoredEvent) as err:
        parse_share_event(_mutate(["detail", "requestParameters", "SharedWith"], "ou-ab12-abcdefgh"))
    assert str(err.value) == "CreateWorkloadShare shared with ou-ab12-abcdefgh: no invitation is sent"
    with pytest.raises(IgnoredEvent) as err:
        parse_share_event(_mutate(["detail", "requestParameters", "SharedWith"], "999999999999"), "111111111111")
    assert str(err.value) == "CreateWorkloadShare shared with 999999999999, not this account 111111111111"


@pytest.mark.parametrize("shared_with", ["someone@example.com", "11111111111", "arn:aws:iam::999999999999:group/g"])
def test_a_recipient_of_unknown_shape_is_left_to_the_api(shared_with: str) -> None:
    event = _mutate(["detail", "requestParameters", "SharedWith"], shared_with)
    hint = parse_share_event(event, own_account="111111111111")
    assert isinstance(hint, ShareHint) and hint.invitation_id == "a1b2c3d4e5f60718293a4b5c6d7e8f90"


@pytest.mark.parametrize("record", [["messageId", "m1"], "m1", {"messageId": ""}, {"messageId": 7}])
def test_an_sqs_record_without_a_usable_message_id_is_flagged_alone(record: Any) -> None:
    good = {"messageId": "m1", "eventSource": "aws:sqs", "body": json.dumps(load("share-lens.json"))}
    [bad, kept] = parse_sqs_batch({"Records": [record, good]})
    assert bad.message_id is None and bad.event is None and bad.error is not None
    assert bad.error.reason == "missing_message_id"
    assert str(bad.error) == "SQS record 0 has no messageId"
    assert kept.error is None and kept.message_id == "m1"
    assert message_id_of(record) is None and message_id_of(good) == "m1"


def test_a_deep_sqs_body_fails_only_its_own_message() -> None:
    deep = "[" * 100_000 + "]" * 100_000  # deeper than json can recurse, within the size limit
    readable_but_deep = "[" * 40 + "]" * 40
    good = {"messageId": "m3", "eventSource": "aws:sqs", "body": json.dumps(load("share-lens.json"))}
    batch = {
        "Records": [
            {"messageId": "m1", "eventSource": "aws:sqs", "body": deep},
            {"messageId": "m2", "eventSource": "aws:sqs", "body": readable_but_deep},
            good,
        ]
    }
    messages = parse_sqs_batch(batch)
    assert [str(m.error) if m.error else None for m in messages] == [
        f"record m1: is nested more than {MAX_EVENT_DEPTH} levels deep",
        f"record m2: is nested more than {MAX_EVENT_DEPTH} levels deep",
        None,
    ]
    assert [m.error.reason for m in messages[:2] if m.error] == ["malformed_body", "malformed_body"]


def test_a_deep_event_is_invalid_not_a_crash() -> None:
    deep: Any = "x"
    for _ in range(5_000):
        deep = {"a": deep}
    for parse in (parse_share_event, parse_sweep_event):
        with pytest.raises(InvalidEvent) as err:
            parse({"source": "aws.wellarchitected", "detail": deep})
        assert err.value.reason == "too_deep"
        assert str(err.value) == f"event is nested more than {MAX_EVENT_DEPTH} levels deep"


def test_bad_sqs_records_keep_their_message_id_and_say_what_is_wrong() -> None:
    body = json.dumps("x" * (MAX_EVENT_BYTES - 2))  # a JSON string of exactly the largest size
    assert len(body) == MAX_EVENT_BYTES
    batch = {
        "Records": [
            {"messageId": "m1", "eventSource": "aws:kinesis", "body": "{}"},
            {"messageId": "m2", "eventSource": "aws:sqs", "body": {"already": "decoded"}},
            {"messageId": "m3", "eventSource": "aws:sqs", "body": body + " "},
            {"messageId": "m4", "eventSource": "aws:sqs", "body": body},
        ]
    }
    messages = parse_sqs_batch(batch)
    assert [m.message_id for m in messages] == ["m1", "m2", "m3", "m4"]
    errors = [str(m.error) if m.error else None for m in messages]
    assert errors == [
        "record m1: eventSource is 'aws:kinesis'",
        "record m2: body is a dict, not a string",
        f"record m3: body is {MAX_EVENT_BYTES + 1} bytes, more than {MAX_EVENT_BYTES}",
        None,
    ]
    assert messages[3].event == "x" * (MAX_EVENT_BYTES - 2)


# -- a share event without a share id: a hint for its resource type and its sharer -----------------------


def _without_share_id(name: str = "share-workload.json") -> dict[str, Any]:
    event = copy.deepcopy(load(name))
    del event["detail"]["responseElements"]["ShareId"]
    return event


@pytest.mark.parametrize(
    ("name", "rtype"),
    [
        ("share-workload.json", "WORKLOAD"),
        ("share-lens.json", "LENS"),
        ("share-profile.json", "PROFILE"),
        ("share-template.json", "TEMPLATE"),
    ],
)
def test_a_share_event_without_a_share_id_is_a_hint_for_its_type_and_sharer(name: str, rtype: str) -> None:
    event = _without_share_id(name)
    hint = parse_share_event(event, own_account="111111111111")
    assert hint == SharerHint(rtype, "222222222222", event["id"], event["detail"]["eventName"])
    assert hint.key == f"{rtype}/222222222222"


def test_the_sample_without_a_share_id_is_a_sharer_hint() -> None:
    event = load("share-workload-no-shareid.json")
    assert "ShareId" not in event["detail"]["responseElements"]
    assert parse_share_event(event, "111111111111") == SharerHint(
        "WORKLOAD", "222222222222", event["id"], "CreateWorkloadShare"
    )


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["detail", "responseElements"], ...),
        (["detail", "responseElements"], None),  # CloudTrail writes null for calls without a response
        (["detail", "responseElements", "ShareId"], None),
        (["detail", "recipientAccountId"], ...),  # the event's account alone names the sharer
        (["detail", "userIdentity", "accountId"], "999999999999"),  # the caller is not read
        (["detail", "userIdentity"], ...),
    ],
)
def test_shapes_without_a_share_id_that_still_name_type_and_sharer(path: list[str], value: Any) -> None:
    event = _without_share_id()
    node = event
    for key in path[:-1]:
        node = node[key]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    hint = parse_share_event(event, "111111111111")
    assert isinstance(hint, SharerHint) and (hint.resource_type, hint.sharer) == ("WORKLOAD", "222222222222")


def test_without_the_events_account_cloudtrails_recipient_account_names_the_sharer() -> None:
    event = _without_share_id()
    del event["account"]
    event["detail"]["recipientAccountId"] = "333333333333"
    hint = parse_share_event(event)
    assert isinstance(hint, SharerHint) and hint.sharer == "333333333333"


@pytest.mark.parametrize(
    ("account", "recipient_account", "reason", "message"),
    [
        (..., ..., "missing_sharer", "CreateWorkloadShare event has no ShareId and no account naming its sharer"),
        ("2222", "222222222222", "invalid_sharer", "account is '2222', not a 12-digit account id"),
        ("222222222222\n", ..., "invalid_sharer", "account is '222222222222\\n', not a 12-digit account id"),
        ("\uff12" * 12, ..., "invalid_sharer", f"account is {chr(0xFF12) * 12!r}, not a 12-digit account id"),
        (222222222222, ..., "invalid_sharer", "account is 222222222222, not a 12-digit account id"),
        (
            "222222222222",
            ["222222222222"],
            "invalid_sharer",
            "detail.recipientAccountId is ['222222222222'], not a 12-digit account id",
        ),
        (
            "222222222222",
            "333333333333",
            "conflicting_sharer",
            "CreateWorkloadShare event names two sharers: account=222222222222, detail.recipientAccountId=333333333333",
        ),
    ],
)
def test_without_a_share_id_an_event_without_one_valid_sharer_stays_invalid(
    account: Any, recipient_account: Any, reason: str, message: str
) -> None:
    event = _without_share_id()
    for where, key, value in ((event, "account", account), (event["detail"], "recipientAccountId", recipient_account)):
        if value is ...:
            del where[key]
        else:
            where[key] = value
    with pytest.raises(InvalidEvent) as err:
        parse_share_event(event, "111111111111")
    assert (err.value.reason, str(err.value)) == (reason, message)


@pytest.mark.parametrize("shared_with", [..., None, "someone@example.com", "11111111111", 111111111111])
def test_without_a_share_id_an_event_must_name_its_recipient(shared_with: Any) -> None:
    event = _without_share_id()
    if shared_with is ...:
        del event["detail"]["requestParameters"]
    else:
        event["detail"]["requestParameters"]["SharedWith"] = shared_with
    with pytest.raises(InvalidEvent) as err:
        parse_share_event(event, "111111111111")
    assert err.value.reason == "missing_recipient"
    assert str(err.value) == (
        "CreateWorkloadShare event has no ShareId and its requestParameters.SharedWith names no account"
    )


def test_without_a_share_id_a_principal_of_this_account_is_a_valid_recipient() -> None:
    event = _without_share_id()
    event["detail"]["requestParameters"]["SharedWith"] = "arn:aws:iam::111111111111:role/Reviewer"
    assert isinstance(parse_share_event(event, "111111111111"), SharerHint)
    assert isinstance(parse_share_event(event), SharerHint)  # our account unknown: still a named recipient


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"errorCode": "AccessDenied"}, "failed_call"),
        ({"requestParameters": {"SharedWith": "999999999999"}}, "other_account"),
        ({"requestParameters": {"sharedWith": "arn:aws:iam::999999999999:user/alice"}}, "other_account"),
        ({"requestParameters": {"SharedWith": "o-abcdefghij"}}, "organization_share"),
    ],
)
def test_without_a_share_id_failed_calls_and_other_recipients_are_still_ignored(
    change: dict[str, Any], reason: str
) -> None:
    event = _without_share_id()
    event["detail"].update(change)
    with pytest.raises(IgnoredEvent) as err:
        parse_share_event(event, "111111111111")
    assert err.value.reason == reason


def test_without_a_share_id_the_event_checks_come_first() -> None:
    event = _without_share_id()
    event["source"] = "custom.forger"
    with pytest.raises(InvalidEvent) as err:
        parse_share_event(event, "111111111111")
    assert err.value.reason == "unexpected_source"


# -- the events of a sharer's router (src/router/forwarded.py): the same hints as CloudTrail's ------------

OWN = "111111111111"
SHARER = "222222222222"
OTHER = "999999999999"


def _routed(name: str = "routed-share.json", **detail: Any) -> dict[str, Any]:
    event = copy.deepcopy(load(name))
    for key, value in detail.items():
        if value is ...:
            del event["detail"][key]
        else:
            event["detail"][key] = value
    return event


@pytest.mark.parametrize("own_account", [OWN, None])
def test_the_routed_samples_give_the_same_hints_as_cloudtrail_events(own_account: str | None) -> None:
    routed = load("routed-share.json")
    assert parse_share_event(routed, own_account) == ShareHint(
        "b2c3d4e5f60718293a4b5c6d7e8f90a1", "LENS", routed["id"], "CreateLensShare", SHARER
    )
    lens = load("share-lens.json")  # the CloudTrail event the router made it from
    assert parse_share_event(lens, own_account)._replace(event_id=routed["id"]) == parse_share_event(routed)
    no_id = load("routed-share-no-shareid.json")
    assert parse_share_event(no_id, own_account) == SharerHint("WORKLOAD", SHARER, no_id["id"], "CreateWorkloadShare")
    cloudtrail = load("share-workload-no-shareid.json")
    assert parse_share_event(cloudtrail, own_account).key == parse_share_event(no_id, own_account).key


@pytest.mark.parametrize(
    "shared_with",
    [
        "arn:aws:iam::111111111111:role/Reviewers",
        "arn:aws:iam::111111111111:user/path/alice",
        "someone@example.com",  # a shape the acceptor cannot read: sharedWithAccount still names the account
        ...,
    ],
)
def test_a_routed_share_is_for_this_account_when_sharedwithaccount_says_so(shared_with: Any) -> None:
    for name in ("routed-share.json", "routed-share-no-shareid.json"):
        event = _routed(name)
        if shared_with is ...:
            del event["detail"]["requestParameters"]
        else:
            event["detail"]["requestParameters"]["SharedWith"] = shared_with
        hint = parse_share_event(event, OWN)
        assert hint.resource_type in ("LENS", "WORKLOAD")
        assert isinstance(hint, SharerHint) is (name == "routed-share-no-shareid.json")


@pytest.mark.parametrize("name", ["routed-share.json", "routed-share-no-shareid.json"])
@pytest.mark.parametrize("shared_with", [f"arn:aws:iam::{OTHER}:role/R", "someone@example.com"])
def test_a_routed_share_for_another_account_is_ignored(name: str, shared_with: str) -> None:
    event = _routed(name, sharedWithAccount=OTHER, requestParameters={"SharedWith": shared_with})
    with pytest.raises(IgnoredEvent) as err:
        parse_share_event(event, OWN)
    assert err.value.reason == "other_account"
    assert str(err.value).endswith(f"shared with {OTHER}, not this account {OWN}")
    assert parse_share_event(event).resource_type  # our account unknown (sam local invoke): the API decides


@pytest.mark.parametrize(
    "shared_with", ["999999999999", "arn:aws:iam::999999999999:role/Reviewers", "arn:aws:iam::999999999999:user/a"]
)
def test_a_routed_share_whose_two_recipients_disagree_is_invalid(shared_with: str) -> None:
    event = _routed(requestParameters={"SharedWith": shared_with})
    for own_account in (OWN, OTHER, None):
        with pytest.raises(InvalidEvent) as err:
            parse_share_event(event, own_account)
        assert err.value.reason == "conflicting_recipient"
        assert str(err.value) == (
            "CreateLensShare event names two recipients: detail.sharedWithAccount=111111111111, "
            f"requestParameters.SharedWith={shared_with!r}"
        )


@pytest.mark.parametrize(
    ("value", "shown_as"),
    [
        ("1111", "'1111'"),
        (111111111111, "111111111111"),
        ("111111111111\n", "'111111111111\\n'"),
        ("\uff11" * 12, repr("\uff11" * 12)),
        ([OWN], "['111111111111']"),
        ("", "''"),
    ],
)
def test_a_routed_share_with_a_malformed_sharedwithaccount_is_invalid(value: Any, shown_as: str) -> None:
    with pytest.raises(InvalidEvent) as err:
        parse_share_event(_routed(sharedWithAccount=value), OWN)
    assert err.value.reason == "invalid_recipient"
    assert str(err.value) == f"detail.sharedWithAccount is {shown_as}, not a 12-digit account id"


def test_a_routed_share_without_sharedwithaccount_falls_back_to_sharedwith() -> None:
    assert isinstance(parse_share_event(_routed(sharedWithAccount=...), OWN), ShareHint)
    assert isinstance(parse_share_event(_routed(sharedWithAccount=None), OWN), ShareHint)
    with pytest.raises(IgnoredEvent):
        parse_share_event(_routed(sharedWithAccount=..., requestParameters={"SharedWith": OTHER}), OWN)
    event = _routed("routed-share-no-shareid.json", sharedWithAccount=..., requestParameters={})
    with pytest.raises(InvalidEvent) as err:  # no share id and no recipient at all: as for CloudTrail's
        parse_share_event(event, OWN)
    assert err.value.reason == "missing_recipient"


@pytest.mark.parametrize("name", ["routed-share.json", "routed-share-no-shareid.json"])
def test_a_routed_shares_sharedby_must_agree_with_the_events_account(name: str) -> None:
    assert parse_share_event(_routed(name, sharedBy=...), OWN).resource_type  # absent: the account alone
    with pytest.raises(InvalidEvent) as err:
        parse_share_event(_routed(name, sharedBy="333333333333"), OWN)
    assert err.value.reason == "conflicting_sharer"
    assert str(err.value).endswith("names two sharers: account='222222222222', detail.sharedBy=333333333333")
    for bad in ("2222", 222222222222, "", [SHARER]):
        with pytest.raises(InvalidEvent) as err:
            parse_share_event(_routed(name, sharedBy=bad), OWN)
        assert err.value.reason == "invalid_sharer"
        assert str(err.value).startswith("detail.sharedBy is ")


def test_a_routed_share_without_the_events_account_takes_its_sharer_from_sharedby() -> None:
    event = _routed("routed-share-no-shareid.json")
    del event["account"]
    hint = parse_share_event(event, OWN)
    assert isinstance(hint, SharerHint) and hint.sharer == SHARER
    event["detail"]["sharedBy"] = "no"
    with pytest.raises(InvalidEvent) as err:
        parse_share_event(event, OWN)
    assert err.value.reason == "invalid_sharer"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"errorCode": "AccessDenied"}, "failed_call"),
        ({"requestParameters": {"SharedWith": "o-abcdefghij"}}, "organization_share"),
        ({"requestParameters": {"SharedWith": "ou-ab12-abcdefgh"}}, "organization_share"),
    ],
)
def test_routed_failed_calls_and_organization_shares_are_ignored(change: dict[str, Any], reason: str) -> None:
    for name in ("routed-share.json", "routed-share-no-shareid.json"):
        with pytest.raises(IgnoredEvent) as err:
            parse_share_event(_routed(name, **change), OWN)
        assert err.value.reason == reason


@pytest.mark.parametrize(
    ("source", "detail_type", "reason", "message"),
    [
        (
            "wa-share-acceptor.router",
            "AWS API Call via CloudTrail",
            "unexpected_detail_type",
            "detail-type is 'AWS API Call via CloudTrail', expected 'Well-Architected Share Created'",
        ),
        (
            "aws.wellarchitected",
            "Well-Architected Share Created",
            "unexpected_detail_type",
            "detail-type is 'Well-Architected Share Created', expected 'AWS API Call via CloudTrail'",
        ),
        (
            "wa-share-acceptor.Router",
            "Well-Architected Share Created",
            "unexpected_source",
            "source is 'wa-share-acceptor.Router', expected 'aws.wellarchitected' or 'wa-share-acceptor.router'",
        ),
        (
            ["wa-share-acceptor.router"],
            "Well-Architected Share Created",
            "unexpected_source",
            "source is ['wa-share-acceptor.router'], expected 'aws.wellarchitected' or 'wa-share-acceptor.router'",
        ),
    ],
)
def test_each_source_needs_its_own_detail_type(source: Any, detail_type: str, reason: str, message: str) -> None:
    event = {**load("routed-share.json"), "source": source, "detail-type": detail_type}
    with pytest.raises(InvalidEvent) as err:
        parse_share_event(event, OWN)
    assert (err.value.reason, str(err.value)) == (reason, message)


def test_a_routed_share_id_is_checked_as_cloudtrails() -> None:
    event = _routed(responseElements={"ShareId": "B2C3D4E5F60718293A4B5C6D7E8F90A1"})
    with pytest.raises(InvalidEvent) as err:
        parse_share_event(event, OWN)
    assert err.value.reason == "malformed_share_id"


def test_the_sweep_refuses_routed_events() -> None:
    with pytest.raises(InvalidEvent) as err:
        parse_sweep_event(load("routed-share.json"))
    assert err.value.reason == "unexpected_event"


@given(st.sampled_from(["sharedWithAccount", "sharedBy"]), json_values)
def test_fuzzed_routed_recipients_and_sharers_give_a_hint_only_for_the_right_accounts(field: str, value: Any) -> None:
    event = _routed("routed-share-no-shareid.json", **{field: value})
    try:
        hint = parse_share_event(event, OWN)
    except (InvalidEvent, IgnoredEvent):
        assert value != {"sharedWithAccount": OWN, "sharedBy": SHARER}[field]
        return
    assert value in (None, {"sharedWithAccount": OWN, "sharedBy": SHARER}[field])
    assert hint == SharerHint("WORKLOAD", SHARER, event["id"], "CreateWorkloadShare")
