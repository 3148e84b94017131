"""template.yaml for a fleet: decision events on exactly one bus, their failures alarmed, forwarding to a
hub (decision events and this stack's own alarms, nothing else), and a heartbeat that is green on a new
stack yet still fires when the schedule stops."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from acceptor.decision_events import DECIDED, RUN_FINISHED, SOURCE
from acceptor.observability import METRICS
from tools.cfn_template import Resolver, load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
PARAMS = TEMPLATE["Parameters"]
RESOURCES = TEMPLATE["Resources"]
ACCOUNT, HUB_ACCOUNT, REGION = "111111111111", "999999999999", "us-east-1"
HUB_ARN = f"arn:aws:events:{REGION}:{HUB_ACCOUNT}:event-bus/wa-share-acceptor-hub"
STACK = "StackSet-wa-share-acceptor-0f2b"


def resolver(overrides: dict[str, str] | None = None) -> Resolver:
    r = Resolver(TEMPLATE, overrides, region=REGION, account=ACCOUNT)
    r.values["AWS::StackName"] = STACK
    return r


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def put_events_statements(role: str, overrides: dict[str, str] | None = None) -> list[dict[str, Any]]:
    resolved = resolver(overrides).resolve(RESOURCES[role]["Properties"]["Policies"])
    return [
        s
        for policy in resolved
        for s in _as_list(policy["PolicyDocument"]["Statement"])
        if "events:PutEvents" in _as_list(s["Action"])
    ]


# ---------------------------------------------------------------- decision events


def test_decision_event_bus_defaults_to_the_default_bus_and_reaches_the_functions() -> None:
    assert PARAMS["DecisionEventBus"]["Default"] == "default"
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["DECISION_EVENT_BUS"] == {"Ref": "DecisionEventBus"}
    pattern = PARAMS["DecisionEventBus"]["AllowedPattern"]
    for good in ("", "default", "acceptor-events", "arn:aws:events:eu-west-1:123456789012:event-bus/x"):
        assert re.fullmatch(pattern, good), good
    for bad in ("a bus", "arn:aws:events:eu-west-1:1234:event-bus/x", "arn:aws:sqs:eu-west-1:123456789012:q"):
        assert not re.fullmatch(pattern, bad), bad


@pytest.mark.parametrize(
    ("bus", "arn"),
    [
        ("default", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"),
        ("acceptor", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/acceptor"),
        (HUB_ARN, HUB_ARN),
    ],
)
def test_functions_may_put_events_on_that_bus_only(bus: str, arn: str) -> None:
    for role in ("SweepRole", "ShareEventRole"):
        [statement] = put_events_statements(role, {"DecisionEventBus": bus})
        assert statement["Effect"] == "Allow" and _as_list(statement["Action"]) == ["events:PutEvents"]
        assert _as_list(statement["Resource"]) == [arn], role


def test_no_put_events_when_the_events_are_off() -> None:
    for role in ("SweepRole", "ShareEventRole"):
        assert put_events_statements(role, {"DecisionEventBus": ""}) == []


def test_failed_decision_events_alarm() -> None:
    props = RESOURCES["DecisionEventsFailedAlarm"]["Properties"]
    assert props["MetricName"] == "DecisionEventsFailed" and props["MetricName"] in METRICS
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and props["Threshold"] == 1
    assert props["TreatMissingData"] == "notBreaching"


# ---------------------------------------------------------------- forwarding to the hub


def test_without_a_hub_nothing_forwards() -> None:
    r = resolver()
    assert not r.condition("HasHub")
    for name in ("HubForwardingRule", "HubForwardingRole"):
        assert RESOURCES[name]["Condition"] == "HasHub"


def test_the_forwarding_rule_targets_the_hub_with_retries_a_dead_letter_queue_and_its_own_role() -> None:
    rule = resolver({"CentralEventBusArn": HUB_ARN}).resolve(RESOURCES["HubForwardingRule"]["Properties"])
    assert rule["EventBusName"] == "default"
    [target] = rule["Targets"]
    assert target["Arn"] == HUB_ARN
    assert target["RoleArn"] == "HubForwardingRole.Arn"
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    assert target["DeadLetterConfig"]["Arn"] == "DeadLetterQueue.Arn"
    statements = put_events_statements("HubForwardingRole", {"CentralEventBusArn": HUB_ARN})
    assert [_as_list(s["Resource"]) for s in statements] == [[HUB_ARN]]
    role = RESOURCES["HubForwardingRole"]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    # the role may do nothing else
    everything = [s for p in role["Policies"] for s in _as_list(p["PolicyDocument"]["Statement"])]
    assert len(everything) == 1


def test_a_hub_needs_the_decision_events_on_the_default_bus() -> None:
    [assertion] = TEMPLATE["Rules"]["HubForwardsFromTheDefaultBus"]["Assertions"]
    for bus, hub, ok in [
        ("default", HUB_ARN, True),
        ("", HUB_ARN, True),
        ("other", HUB_ARN, False),
        ("other", "", True),
    ]:
        assert resolver({"DecisionEventBus": bus, "CentralEventBusArn": hub}).resolve(assertion["Assert"]) is ok


def _alarm_event(name: str, account: str = ACCOUNT) -> dict[str, Any]:
    arn = _alarm_arn(name, account)
    return {
        "Source": "aws.cloudwatch",
        "DetailType": "CloudWatch Alarm State Change",
        "Resources": [arn],
        "Detail": json.dumps({"alarmName": name, "state": {"value": "ALARM"}, "previousState": {"value": "OK"}}),
    }


def _alarm_name(logical_id: str) -> str:
    name: str = resolver().resolve(RESOURCES[logical_id]["Properties"])["AlarmName"]
    return name


def _alarm_arn(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:cloudwatch:{REGION}:{account}:alarm:{name}"


def client(service: str, account: str) -> Any:
    """A moto client acting in ``account``: moto maps the credentials of an assumed role to its account."""
    sts = boto3.client("sts", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/test", RoleSessionName="test")["Credentials"]
    return boto3.client(
        service,
        region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def _drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while msgs := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        got += [json.loads(m["Body"]) for m in msgs]
        for m in msgs:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return got


@mock_aws
def test_the_rule_forwards_decision_events_and_this_stacks_alarms_and_nothing_else() -> None:
    # Given the hub bus (another account) with a queue that keeps whatever arrives
    hub_events, hub_sqs = client("events", HUB_ACCOUNT), client("sqs", HUB_ACCOUNT)
    hub_events.create_event_bus(Name="wa-share-acceptor-hub")
    url = hub_sqs.create_queue(QueueName="seen")["QueueUrl"]
    queue_arn = hub_sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    hub_events.put_rule(Name="all", EventBusName="wa-share-acceptor-hub", EventPattern='{"account":[{"exists":true}]}')
    hub_events.put_targets(Rule="all", EventBusName="wa-share-acceptor-hub", Targets=[{"Id": "q", "Arn": queue_arn}])
    # and the member's forwarding rule, exactly as the template defines it
    member = client("events", ACCOUNT)
    rule = resolver({"CentralEventBusArn": HUB_ARN}).resolve(RESOURCES["HubForwardingRule"]["Properties"])
    pattern = json.loads(json.dumps(rule["EventPattern"]).replace('.Arn"', '"'))  # "X.Arn" -> "X"
    for branch in pattern["$or"]:
        if "resources" in branch:  # each alarm's ARN, as CloudFormation's GetAtt gives it
            branch["resources"] = [_alarm_arn(_alarm_name(logical_id)) for logical_id in branch["resources"]]
    rule["EventPattern"] = pattern
    member.put_rule(Name="hub", EventPattern=json.dumps(rule["EventPattern"]), State="ENABLED")
    member.put_targets(Rule="hub", Targets=[{"Id": "hub", "Arn": rule["Targets"][0]["Arn"]}])
    # When the member's default bus sees decision and run events, its own alarms and others
    decided = {"share_invitation_id": "a" * 32, "result": "accepted", "account": ACCOUNT}
    entries = [
        {"Source": SOURCE, "DetailType": DECIDED, "Detail": json.dumps(decided)},
        {"Source": SOURCE, "DetailType": RUN_FINISHED, "Detail": json.dumps({"status": "ok"})},
        {"Source": SOURCE, "DetailType": "Something Else", "Detail": "{}"},
        {"Source": "other-app", "DetailType": DECIDED, "Detail": "{}"},
        _alarm_event(_alarm_name("DecisionFailuresAlarm")),
        _alarm_event(_alarm_name("SweepHeartbeatAlarm")),
        _alarm_event("someone-elses-alarm"),
        _alarm_event(_alarm_name("SweepsMissedAlarm")),  # the heartbeat's parts stay home
        _alarm_event(_alarm_name("DecisionFailuresAlarm"), account="222222222222"),
    ]
    for i in range(0, len(entries), 10):
        member.put_events(Entries=entries[i : i + 10])
    # Then the hub holds the two acceptor events and this stack's two alarm changes, and nothing else
    got = _drain(hub_sqs, url)
    kinds = sorted((e["source"], e["detail-type"], e["detail"].get("alarmName", "")) for e in got)
    assert kinds == [
        ("aws.cloudwatch", "CloudWatch Alarm State Change", _alarm_name("DecisionFailuresAlarm")),
        ("aws.cloudwatch", "CloudWatch Alarm State Change", _alarm_name("SweepHeartbeatAlarm")),
        (SOURCE, RUN_FINISHED, ""),
        (SOURCE, DECIDED, ""),
    ]
    assert next(e for e in got if e["detail-type"] == DECIDED)["detail"] == decided


def test_the_rule_forwards_exactly_the_alarms_that_have_actions() -> None:
    # The heartbeat's two parts have no actions and stay home; every other alarm is named in the rule.
    pattern = RESOURCES["HubForwardingRule"]["Properties"]["EventPattern"]
    (alarms,) = [branch["resources"] for branch in pattern["$or"] if "resources" in branch]
    forwarded = {ref["Fn::GetAtt"][0] for ref in alarms}
    with_actions = {
        name
        for name, res in RESOURCES.items()
        if res["Type"] in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
        and "AlarmActions" in res["Properties"]
    }
    assert forwarded == with_actions
    assert {"SweepsMissedAlarm", "SweepsSeenAlarm"}.isdisjoint(forwarded)


# ---------------------------------------------------------------- a green new stack


class Alarm:
    """A metric alarm evaluated the way CloudWatch documents it (alarms-and-missing-data): the last
    EvaluationPeriods datapoints; a missing one is breaching, not breaching, or (ignore) keeps the state;
    a new alarm starts in INSUFFICIENT_DATA."""

    def __init__(self, props: dict[str, Any]) -> None:
        self.n = int(props["EvaluationPeriods"])
        self.m = int(props.get("DatapointsToAlarm", self.n))
        self.threshold = float(props["Threshold"])
        assert props["ComparisonOperator"] == "LessThanThreshold"
        self.missing = props["TreatMissingData"]
        self.state = "INSUFFICIENT_DATA"

    def evaluate(self, datapoints: list[float | None]) -> str:
        window = ([None] * self.n + datapoints)[-self.n :]
        present = [v for v in window if v is not None]
        if not present:
            if self.missing == "breaching":
                self.state = "ALARM"
            elif self.missing == "notBreaching":
                self.state = "OK"
            elif self.missing == "missing":
                self.state = "INSUFFICIENT_DATA"
            return self.state  # ignore: the current state is maintained
        breaching = sum(v < self.threshold for v in present)
        if self.missing == "breaching":
            needed = self.m
            breaching += len(window) - len(present)
        else:  # fewer datapoints than DatapointsToAlarm: those present decide
            needed = min(self.m, len(present))
        self.state = "ALARM" if breaching >= needed else "OK"
        return self.state


def composite(rule: str, states: dict[str, str]) -> str:
    terms = re.fullmatch(r'ALARM\("([^"]+)"\) AND OK\("([^"]+)"\)', rule)
    assert terms, rule
    return "ALARM" if states[terms.group(1)] == "ALARM" and states[terms.group(2)] == "OK" else "OK"


def heartbeat(periods: int) -> tuple[Alarm, Alarm, str]:
    r = resolver({"HeartbeatPeriods": str(periods)})
    missed = Alarm(r.resolve(RESOURCES["SweepsMissedAlarm"]["Properties"]))
    seen = Alarm(r.resolve(RESOURCES["SweepsSeenAlarm"]["Properties"]))
    rule = r.resolve(RESOURCES["SweepHeartbeatAlarm"]["Properties"]["AlarmRule"])
    rule = rule.replace("SweepsMissedAlarm", "missed").replace("SweepsSeenAlarm", "seen")
    return missed, seen, rule


def run(periods: int, timeline: list[float | None]) -> list[str]:
    """The composite's state after each sweep interval of ``timeline`` (SweepsCompleted per interval)."""
    missed, seen, rule = heartbeat(periods)
    states = []
    for i in range(len(timeline)):
        so_far = timeline[: i + 1]
        states.append(composite(rule, {"missed": missed.evaluate(so_far), "seen": seen.evaluate(so_far)}))
    return states


@pytest.mark.parametrize("periods", [int(v) for v in PARAMS["HeartbeatPeriods"]["AllowedValues"]])
def test_a_new_stack_is_not_in_alarm_before_its_first_sweep(periods: int) -> None:
    # Given a new stack whose first sweep completes in the first interval, or only much later
    assert "ALARM" not in run(periods, [1, 1, 1])
    assert "ALARM" not in run(periods, [None] * 5 + [1, 1])
    # and a part in ALARM from the start is not forwarded: its name does not start with the stack's
    missed, _, _ = heartbeat(periods)
    assert missed.evaluate([None]) == "ALARM"


@pytest.mark.parametrize("periods", [int(v) for v in PARAMS["HeartbeatPeriods"]["AllowedValues"]])
def test_a_stopped_schedule_alarms_within_heartbeat_periods(periods: int) -> None:
    # Given sweeps that completed for 4 intervals, then stopped
    states = run(periods, [1, 1, 1, 1] + [None] * (periods + 3))
    # Then the heartbeat is OK while they ran and ALARM after exactly HeartbeatPeriods silent intervals
    assert states[:4] == ["OK"] * 4
    assert states.index("ALARM") == 4 + periods - 1
    assert set(states[4 + periods - 1 :]) == {"ALARM"}
    # and a sweep that completes again clears it
    assert run(periods, [1, 1] + [None] * periods + [1])[-1] == "OK"


def test_the_heartbeat_parts_read_the_heartbeat_metric() -> None:
    for name in ("SweepsMissedAlarm", "SweepsSeenAlarm"):
        props = RESOURCES[name]["Properties"]
        assert props["MetricName"] == "SweepsCompleted" and props["Statistic"] == "Sum"
        assert props["Period"] == RESOURCES["SweepsMissedAlarm"]["Properties"]["Period"]
    assert RESOURCES["SweepsMissedAlarm"]["Properties"]["TreatMissingData"] == "breaching"
    assert RESOURCES["SweepsSeenAlarm"]["Properties"]["TreatMissingData"] == "ignore"
