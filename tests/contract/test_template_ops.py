"""template.yaml, operated: alarms that reach the mailbox, problems seen in dry run, a heartbeat, safe
defaults, names every resource accepts, retained audit logs, boundaries, tags and saved queries."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from acceptor.observability import DECISION_METRICS, METRICS
from tests.support.templates import as_list
from tools.cfn_template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
PARAMS = TEMPLATE["Parameters"]
RESOURCES = TEMPLATE["Resources"]
ALARMS = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
ROLES = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::IAM::Role"}
SAMCONFIG = tomllib.loads((ROOT / "samconfig.toml").read_text())
OPERATIONS = (ROOT / "docs" / "operations.md").read_text()


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return as_list(policy["Statement"])


# ------------------------------------------------------------------ alarms reach the mailbox


def test_topic_uses_its_own_key_and_the_key_lets_cloudwatch_encrypt() -> None:
    topic = RESOURCES["NotificationTopic"]
    key_ref = topic["Properties"]["KmsMasterKeyId"]
    assert key_ref == {"Ref": "NotificationKey"}, "an AWS-managed key (alias/aws/sns) cannot admit CloudWatch"
    key = RESOURCES[key_ref["Ref"]]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Condition"] == topic["Condition"] == "HasEmail"
    assert key["Properties"]["EnableKeyRotation"] is True
    grants = [
        s
        for s in _statements(key["Properties"]["KeyPolicy"])
        if s["Effect"] == "Allow" and s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert grants, "the key policy must grant the alarm service"
    actions = {a for s in grants for a in as_list(s["Action"])}
    assert "kms:Decrypt" in actions
    assert actions & {"kms:GenerateDataKey", "kms:GenerateDataKey*"}
    for grant in grants:  # only for alarms of this account
        assert grant["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_topic_policy_admits_cloudwatch_from_this_account_only() -> None:
    policy = RESOURCES["NotificationTopicPolicy"]["Properties"]["PolicyDocument"]
    [grant] = [s for s in _statements(policy) if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert grant["Action"] == "sns:Publish"
    assert grant["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_function_roles_can_publish_to_the_encrypted_topic() -> None:
    for name, role in ROLES.items():
        text = json.dumps(role["Properties"]["Policies"])
        if "NotificationTopic" not in text:
            continue
        assert '"kms:GenerateDataKey"' in text and '"kms:Decrypt"' in text, name
        assert '"Fn::GetAtt": ["NotificationKey", "Arn"]' in text, f"{name}: the key, not '*'"
        assert "kms:ViaService" in text, name


# The heartbeat's two parts: no actions of their own; the composite SweepHeartbeatAlarm notifies.
HEARTBEAT_PARTS = {"SweepsMissedAlarm", "SweepsSeenAlarm"}


def test_every_alarm_notifies_and_recovers_through_the_topic() -> None:
    expected = {"Fn::If": ["HasEmail", [{"Ref": "NotificationTopic"}], {"Ref": "AWS::NoValue"}]}
    composite = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::CloudWatch::CompositeAlarm"}
    assert set(composite) == {"SweepHeartbeatAlarm"}
    for name, alarm in {**ALARMS, **composite}.items():
        if name in HEARTBEAT_PARTS:
            assert "AlarmActions" not in alarm["Properties"] and "OKActions" not in alarm["Properties"], name
            continue
        assert alarm["Properties"]["AlarmActions"] == expected, name
        assert alarm["Properties"]["OKActions"] == expected, name
        assert alarm["Properties"]["AlarmDescription"].strip(), name


# ------------------------------------------------------------------ problems alarm in dry run too


def _custom_metric_alarms() -> dict[str, dict[str, Any]]:
    return {
        k: v["Properties"] for k, v in ALARMS.items() if v["Properties"]["Namespace"] == {"Ref": "MetricsNamespace"}
    }


def test_alarms_read_metrics_that_dry_run_emits_on_the_same_dimensions() -> None:
    alarms = _custom_metric_alarms()
    assert {a["MetricName"] for a in alarms.values()} >= {
        "DecisionFailures",
        "OrgLookupFailures",
        "InvalidEvents",
        "SweepsCompleted",
    }
    for name, props in alarms.items():
        assert props["MetricName"] in METRICS, name
        assert props["MetricName"] not in DECISION_METRICS, f"{name}: decision counts split by DryRun"
        assert props["Dimensions"] == [{"Name": "service", "Value": "wa-share-acceptor"}], name


def _dashboard() -> dict[str, Any]:
    body, variables = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    for var in [*variables, "AWS::Region"]:
        body = body.replace("${" + var + "}", "3600" if var == "Period" else "x")
    assert "${" not in body, "an unresolved variable in the dashboard body"
    parsed: dict[str, Any] = json.loads(body)
    return parsed


def test_dashboard_shows_both_modes_and_the_heartbeat() -> None:
    widgets = {w["properties"]["title"]: w["properties"]["metrics"] for w in _dashboard()["widgets"]}
    dry = [t for t, m in widgets.items() if any("DryRun" in row for row in m)]
    live = [t for t, m in widgets.items() if any("InvitationsAccepted" in row for row in m) and t not in dry]
    assert dry and live
    problems = next(m for m in widgets.values() if any("DecisionFailures" in row for row in m))
    assert not any("DryRun" in row for row in problems)
    assert any(any("SweepsCompleted" in row for row in m) for m in widgets.values())


# ------------------------------------------------------------------ heartbeat, function and queue alarms


def _allowed_numbers(param: str) -> list[int]:
    return [int(v) for v in PARAMS[param]["AllowedValues"]]


def test_heartbeat_alarm_fires_when_no_sweep_completed_in_n_periods() -> None:
    props = ALARMS["SweepsMissedAlarm"]["Properties"]
    assert props["MetricName"] == "SweepsCompleted"
    assert props["TreatMissingData"] == "breaching"
    assert props["ComparisonOperator"] == "LessThanThreshold" and props["Threshold"] == 1
    assert props["Statistic"] == "Sum"
    assert props["EvaluationPeriods"] == {"Ref": "HeartbeatPeriods"}
    map_name, key, attr = props["Period"]["Fn::FindInMap"]
    assert key == {"Ref": "SweepIntervalMinutes"}
    mapping = TEMPLATE["Mappings"][map_name]
    for minutes in _allowed_numbers("SweepIntervalMinutes"):
        period = int(mapping[str(minutes)][attr])
        assert period == minutes * 60, minutes
        assert period % 60 == 0  # CloudWatch: 10, 30 or a multiple of 60
        for periods in _allowed_numbers("HeartbeatPeriods"):
            assert period * periods <= 86_400, f"{minutes} min x {periods} exceeds CloudWatch's one-day range"
    assert set(mapping) == {str(m) for m in _allowed_numbers("SweepIntervalMinutes")}


def test_schedule_is_built_from_the_interval_the_alarm_uses() -> None:
    event = RESOURCES["SweepFunction"]["Properties"]["Events"]["Sweep"]
    assert event["Properties"]["Schedule"] == {"Fn::Sub": "rate(${SweepIntervalMinutes} minutes)"}
    for minutes in _allowed_numbers("SweepIntervalMinutes"):
        assert minutes > 1, "rate(1 minutes) is invalid; 1 needs the singular unit"
        assert re.fullmatch(r"rate\([1-9][0-9]* minutes\)", f"rate({minutes} minutes)")
    assert "SweepSchedule" not in PARAMS


def test_the_sweep_handler_reports_completed_sweeps_only() -> None:
    source = (ROOT / "src" / "handlers" / "sweep.py").read_text()
    assert re.search(r"if summary\.complete and summary\.list_error is None:\n\s+emit_sweep_completed\(\)", source)


def _lambda_alarms() -> set[tuple[str, str]]:
    return {
        (a["Properties"]["Dimensions"][0]["Value"]["Ref"], a["Properties"]["MetricName"])
        for a in ALARMS.values()
        if a["Properties"]["Namespace"] == "AWS/Lambda"
    }


def test_function_errors_and_event_throttles_alarm() -> None:
    assert {
        ("SweepFunction", "Errors"),
        ("ShareEventFunction", "Errors"),
        ("ShareEventFunction", "Throttles"),
    } <= _lambda_alarms()


def test_queue_alarms_cannot_clear_while_messages_wait() -> None:
    queue_alarms = [a["Properties"] for a in ALARMS.values() if a["Properties"]["Namespace"] == "AWS/SQS"]
    assert queue_alarms
    for props in queue_alarms:
        # SQS stops publishing for an idle queue; a gap must not read as "empty"
        assert props["TreatMissingData"] in ("ignore", "breaching", "missing"), props
        assert props["TreatMissingData"] != "notBreaching"


# ------------------------------------------------------------------ safe defaults


def test_template_defaults_to_dry_run_and_only_prod_goes_live() -> None:
    assert PARAMS["DryRun"]["Default"] == "true"
    overrides = {
        env: SAMCONFIG[env]["deploy"]["parameters"]["parameter_overrides"] for env in SAMCONFIG if env != "version"
    }
    assert 'DryRun="false"' in overrides["prod"]
    assert all('DryRun="true"' in v for env, v in overrides.items() if env != "prod")


# RoleNamePrefix ends up in these names; each rule is (ASCII pattern of the whole name, max length).
NAMING_RULES = {
    ("AWS::IAM::Role", "RoleName"): (r"[A-Za-z0-9_+=,.@-]+", 64),
    ("AWS::CloudWatch::Dashboard", "DashboardName"): (r"[A-Za-z0-9_-]+", 255),
    ("AWS::Events::EventBusPolicy", "StatementId"): (r"[A-Za-z0-9_-]+", 64),
    ("AWS::Logs::QueryDefinition", "Name"): (r"([^:*/]+/?)*[^:*/]+", 255),
    ("AWS::KMS::Key", "Description"): (r"[ -~]+", 8192),
    # named so that the guardrail SCPs can protect them (templates/guardrails, docs/guardrails.md)
    ("AWS::Serverless::Function", "FunctionName"): (r"[A-Za-z0-9_-]+", 64),
    ("AWS::SQS::Queue", "QueueName"): (r"[A-Za-z0-9_-]+", 80),
    ("AWS::Events::Rule", "Name"): (r"[A-Za-z0-9._-]+", 64),
    ("AWS::CloudWatch::Alarm", "AlarmName"): (r"[ -~]+", 255),
    ("AWS::CloudWatch::CompositeAlarm", "AlarmName"): (r"[ -~]+", 255),
}
LONGEST_REGION = "ap-southeast-7"
CHARACTER_CLASSES = {"upper": "ABCXYZ", "lower": "abcxyz", "digit": "0123456789", "underscore": "_", "hyphen": "-"}


def _prefix_uses() -> list[tuple[str, str, str, str]]:
    """(resource, type, property, Fn::Sub string) for every top-level property that names with the prefix."""
    uses = []
    for name, resource in RESOURCES.items():
        for prop, value in (resource.get("Properties") or {}).items():
            if resource["Type"] == "AWS::Serverless::Function" and prop == "Events":
                for event_name, event in value.items():  # a Schedule event's Name becomes its rule's name
                    rule_name = (event.get("Properties") or {}).get("Name")
                    if rule_name is not None:
                        sub = rule_name.get("Fn::Sub") if isinstance(rule_name, dict) else None
                        uses.append((f"{name}.{event_name}", "AWS::Events::Rule", "Name", sub or json.dumps(rule_name)))
                continue
            text = json.dumps(value)
            if "RoleNamePrefix" in text:
                sub = value.get("Fn::Sub") if isinstance(value, dict) else None
                uses.append((name, resource["Type"], prop, sub if isinstance(sub, str) else text))
    return uses


def test_every_use_of_the_prefix_has_a_known_naming_rule() -> None:
    uses = _prefix_uses()
    assert {(t, p) for _, t, p, _ in uses} >= {
        ("AWS::IAM::Role", "RoleName"),
        ("AWS::CloudWatch::Dashboard", "DashboardName"),
    }
    for name, rtype, prop, _ in uses:
        if prop in ("Policies", "PolicyDocument", "DashboardBody"):
            continue  # not a name
        assert (rtype, prop) in NAMING_RULES, f"{name}.{prop} uses RoleNamePrefix: add its naming rule here"


@pytest.mark.parametrize("cls", sorted(CHARACTER_CLASSES))
def test_each_allowed_character_class_is_accepted_by_every_resource(cls: str) -> None:
    pattern = PARAMS["RoleNamePrefix"]["AllowedPattern"]
    chars = CHARACTER_CLASSES[cls]
    prefix = (chars * 40)[:40]  # the longest prefix the parameter admits
    assert re.fullmatch(pattern, prefix), f"the parameter should admit {cls}"
    for name, rtype, prop, sub in _prefix_uses():
        if (rtype, prop) not in NAMING_RULES:
            continue
        rule, limit = NAMING_RULES[(rtype, prop)]
        value = sub.replace("${RoleNamePrefix}", prefix).replace("${AWS::Region}", LONGEST_REGION)
        assert "${" not in value, f"{name}.{prop}: unresolved {value}"
        assert re.fullmatch(rule, value) and len(value) <= limit, f"{name}.{prop} rejects {value!r}"


@pytest.mark.parametrize("bad", ["a+b", "a=b", "a,b", "a.b", "a@b", "a b", "a/b", "é", "", "a" * 41, "abc\n"])
def test_characters_some_resource_rejects_are_refused_at_deploy(bad: str) -> None:
    assert not re.fullmatch(PARAMS["RoleNamePrefix"]["AllowedPattern"], bad)


# ------------------------------------------------------------------ deployment details


def test_log_groups_outlive_the_stack() -> None:
    groups = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::Logs::LogGroup"}
    assert len(groups) >= 2
    for name, group in groups.items():
        assert group["DeletionPolicy"] == "Retain", name
        assert group["UpdateReplacePolicy"] == "Retain", name


def test_permissions_boundary_is_optional_and_applies_to_every_role() -> None:
    assert set(ROLES) == {"SweepRole", "ShareEventRole", "HubForwardingRole"}
    for name, role in ROLES.items():
        assert role["Properties"]["PermissionsBoundary"] == {
            "Fn::If": ["HasBoundary", {"Ref": "PermissionsBoundary"}, {"Ref": "AWS::NoValue"}]
        }, name
    pattern = PARAMS["PermissionsBoundary"]["AllowedPattern"]
    for good in ("", "arn:aws:iam::123456789012:policy/Boundary", "arn:aws-us-gov:iam::123456789012:policy/a/b"):
        assert re.fullmatch(pattern, good), good
    for bad in ("Boundary", "arn:aws:iam::123456789012:role/x", "arn:aws:iam::aws:policy/x", "arn:aws:iam::1:policy/x"):
        assert not re.fullmatch(pattern, bad), bad


def test_samconfig_tags_every_environment() -> None:
    for env in ("default", "dev", "prod"):
        tags = SAMCONFIG[env]["deploy"]["parameters"]["tags"]
        assert re.fullmatch(r'([A-Za-z][A-Za-z0-9]*="[^"]+")( [A-Za-z][A-Za-z0-9]*="[^"]+")*', tags), env
        assert 'Project="wa-share-acceptor"' in tags


QUERIES = {k: v["Properties"] for k, v in RESOURCES.items() if v["Type"] == "AWS::Logs::QueryDefinition"}


def test_saved_queries_cover_decisions_acceptances_and_failures() -> None:
    assert len(QUERIES) == 3
    for name, props in QUERIES.items():
        assert props["LogGroupNames"] == [{"Ref": "SweepLogGroup"}, {"Ref": "ShareEventLogGroup"}], name
    texts = [q["QueryString"] for q in QUERIES.values()]
    assert any("stats count(*)" in q and "by bin(1d)" in q and "result" in q for q in texts)
    assert any('action = "ACCEPT"' in q and "reason" in q for q in texts)
    assert any("error_code" in q and 'result = "failed"' in q for q in texts)


def test_queries_read_fields_the_decision_record_has() -> None:
    documented = re.findall(r"`([a-z_]+)`", OPERATIONS[OPERATIONS.index("## Logs") : OPERATIONS.index("Metrics (EMF")])
    known = set(documented) | {"message", "level", "day", "invitations", "failures", "last_seen"}
    for name, props in QUERIES.items():
        query = re.sub(r'"[^"]*"|@[a-zA-Z]+', " ", props["QueryString"])  # literals and system fields
        words = set(re.findall(r"\b[a-z][a-z_]+\b", query))
        fields = words - {
            "fields",
            "filter",
            "stats",
            "count",
            "by",
            "bin",
            "as",
            "sort",
            "desc",
            "and",
            "or",
            "limit",
            "ispresent",
            "latest",
            "d",
        }
        assert fields <= known, f"{name}: unknown fields {sorted(fields - known)}"


def test_the_operations_page_lists_every_alarm() -> None:
    section = OPERATIONS[OPERATIONS.index("## Alarms and what to do") :]
    # The heartbeat's two parts have no actions: they are explained with the composite SweepHeartbeatAlarm.
    for name in ALARMS:
        if name not in HEARTBEAT_PARTS:
            assert f"`{name}`" in section, name
    for name in HEARTBEAT_PARTS:
        assert f"`{name}`" in section or f"`{name}`" in (ROOT / "docs" / "fleet.md").read_text(), name
