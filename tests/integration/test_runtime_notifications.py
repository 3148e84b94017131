"""Per-container wiring, the SNS digest (moto), and tracing that costs nothing when off."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from acceptor import observability, runtime
from acceptor.notifications import MESSAGE_LIMIT, SnsNotifier
from acceptor.organizations import OrgAncestryResolver
from acceptor.settings import ConfigurationError, load_settings
from handlers import sweep
from simulator import Simulator
from simulator.harness import LambdaContext
from simulator.sharers import RECIPIENT, World
from tests.support.clients import DenyingClient
from tests.support.handlers import SCHEDULED, TRUSTED, UNKNOWN, components, invoke

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- runtime


def test_build_wires_the_lookup_and_the_notifier_only_when_configured() -> None:
    settings = load_settings(
        {
            "ALLOWED_SOURCE_OUS": "r-ab12",
            "ORGANIZATIONS_ROLE_ARN": "arn:aws:iam::999999999999:role/lookup",
            "ORG_CACHE_TTL_SECONDS": "60",
            "NOTIFICATION_TOPIC_ARN": "arn:aws:sns:us-east-1:111111111111:t",
        }
    )
    comps = runtime.build(settings, wellarchitected_client=object())
    assert isinstance(comps.acceptor._ancestry, OrgAncestryResolver)
    assert comps.acceptor._ancestry._ttl == 60
    assert isinstance(comps.acceptor._notifier, SnsNotifier)
    bare = runtime.build(load_settings({}), wellarchitected_client=object())
    assert bare.acceptor._ancestry is None and bare.acceptor._notifier is None


def test_components_are_built_once_per_container_and_bad_settings_raise_every_time() -> None:
    runtime.reset()
    gc.unfreeze()
    try:
        first = runtime.components({"ALLOWED_SOURCE_ACCOUNTS": TRUSTED})
        assert gc.get_freeze_count() > 0  # the container's long-lived heap is kept out of collections
        assert runtime.components({"ALLOWED_SOURCE_ACCOUNTS": "ignored once built"}) is first
        runtime.reset()
        for _ in range(2):
            with pytest.raises(ConfigurationError, match="MAX_WORKERS"):
                runtime.components({"MAX_WORKERS": "many"})
    finally:
        runtime.reset()


def test_deadline_leaves_the_safety_margin() -> None:
    settings = load_settings({"SAFETY_MARGIN_SECONDS": "10"})
    deadline = runtime.deadline(LambdaContext(remaining_ms=60_000), settings)
    assert 49 < deadline.left() <= 50  # work stops the margin before the timeout
    assert 58 < deadline.left_hard() <= 59  # the handler returns a second before it, logs and metrics flushed
    assert not runtime.deadline(object(), settings).limited  # no Lambda context: no deadline


# ---------------------------------------------------------------- notifications


@pytest.fixture
def topic() -> Iterator[tuple[Any, str, Any, str]]:
    with mock_aws():
        sns, sqs = boto3.client("sns"), boto3.client("sqs")
        arn = sns.create_topic(Name="wa-share-acceptor")["TopicArn"]
        queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "false"})
        yield sns, arn, sqs, queue


def _messages(sqs: Any, queue: str) -> list[dict[str, Any]]:
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in got]


def test_one_digest_per_run_lists_pending_and_failed(topic: tuple[Any, str, Any, str]) -> None:
    sns, arn, sqs, queue = topic
    sim = Simulator()
    world = World(sim)
    failing = world.workload(TRUSTED, "payments-api", "READONLY")
    world.lens(TRUSTED, "platform-lens")
    unknown = [world.workload(UNKNOWN, f"shadow-{i}", "READONLY") for i in range(3)]
    client = DenyingClient(sim.client(account=RECIPIENT), {failing.share_id})
    comps = components(sim, client=client, notifier=SnsNotifier(arn, client=sns, log=observability.logger))
    invoke(sweep.lambda_handler, SCHEDULED, comps)
    [message] = _messages(sqs, queue)
    assert message["Subject"] == "Well-Architected share invitations: 3 left pending, 1 failed"
    body = json.loads(message["Message"])
    assert sorted(r["share_invitation_id"] for r in body["left_pending_by_policy"]) == sorted(
        s.share_id for s in unknown
    )
    assert [r["share_invitation_id"] for r in body["failed"]] == [failing.share_id]
    assert body["failed"][0]["error_code"] == "AccessDeniedException"
    # two accepted by the policy, one applied: the summary counts what was applied (the other failed)
    assert body["summary"]["accept"] == 1 and body["summary"]["failed"] == 1
    invoke(sweep.lambda_handler, SCHEDULED, components(sim, notifier=SnsNotifier(arn, client=sns)))
    assert len(_messages(sqs, queue)) == 1  # second run: the failed one now accepted, 3 still pending


def test_nothing_to_report_sends_nothing(topic: tuple[Any, str, Any, str]) -> None:
    sns, arn, sqs, queue = topic
    sim = Simulator()
    World(sim).workload(TRUSTED, "payments-api", "READONLY")
    invoke(sweep.lambda_handler, SCHEDULED, components(sim, notifier=SnsNotifier(arn, client=sns)))
    assert _messages(sqs, queue) == []


def test_a_huge_digest_is_cut_to_ids_and_a_failed_publish_changes_no_decision(
    topic: tuple[Any, str, Any, str],
) -> None:
    sns, arn, sqs, queue = topic
    sim = Simulator()
    world = World(sim)
    shares = [world.workload(UNKNOWN, f"shadow-application-with-a-long-name-{i:04d}", "READONLY") for i in range(600)]
    invoke(sweep.lambda_handler, SCHEDULED, components(sim, notifier=SnsNotifier(arn, client=sns)))
    [message] = _messages(sqs, queue)
    assert len(message["Message"]) <= MESSAGE_LIMIT
    assert sorted(json.loads(message["Message"])["left_pending_by_policy"]) == sorted(s.share_id for s in shares)

    gone = "arn:aws:sns:us-east-1:123456789012:deleted-topic"
    trusted = world.workload(TRUSTED, "payments-api", "READONLY")
    run = invoke(
        sweep.lambda_handler,
        SCHEDULED,
        components(sim, notifier=SnsNotifier(gone, client=sns, log=observability.logger)),
    )
    assert world.status(trusted) == "ACCEPTED"
    assert run.logs("notification not sent")


# ---------------------------------------------------------------- tracing


def test_tracing_off_never_imports_the_xray_sdk() -> None:
    code = (
        "import sys; import handlers.sweep, handlers.share_event; "
        "print(sorted(m for m in sys.modules if m.startswith('aws_xray_sdk')))"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{ROOT / 'src'}", "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_traced_wraps_only_when_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    def handler(event: Any, context: Any) -> str:
        return "ok"

    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    assert observability.traced(handler) is handler
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "false")
    wrapped = observability.traced(handler)
    assert wrapped is not handler
    assert "aws_xray_sdk" in sys.modules
