"""`make demo`: the acceptor's main job on the embedded simulator, in a few seconds.

Sharers (trusted, unknown, denied) share all four resource types with one member account; the sweep
decides every invitation under a demo policy; then a new share's forwarded event is handled, and a
forged event is shown to change nothing. Prints the decisions, the metrics and the final share
statuses as the sharers see them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from acceptor import runtime
from acceptor.settings import load_settings
from acceptor.wellarchitected import SDK_CONFIG
from simulator import Simulator
from simulator.harness import Capture, LambdaContext
from simulator.sharers import RECIPIENT, World

# What the strict simulator changes (docs/simulator.md, "Default and strict"), said when the demo runs it.
STRICT_CHANGES = (
    "an untyped ListShareInvitations lists workloads only",
    "summaries carry no ShareResourceType",
    "only the IAM user or role an invitation names may answer it",
    "an expired invitation answers ValidationException",
)
SHARERS = {
    "222222222222": "platform (trusted)",
    "333333333333": "security (trusted)",
    "444444444444": "unknown",
    "555555555555": "vendor (denied)",
}
DEMO_POLICY = {
    "ALLOWED_SOURCE_ACCOUNTS": "222222222222,333333333333",
    "DENIED_SOURCE_ACCOUNTS": "555555555555",
    "ALLOWED_RESOURCE_TYPES": "WORKLOAD,LENS,PROFILE,TEMPLATE",
    "ALLOWED_PERMISSION_TYPES": "READONLY",
    "NON_MATCHING_ACTION": "IGNORE",
    "DRY_RUN": "false",
    "DECISION_EVENT_BUS": "default",  # the local EventBridge's default bus (moto, in-process)
}


def seed(world: World) -> None:
    world.workload("222222222222", "payments-api", "READONLY")
    world.workload("222222222222", "ledger", "CONTRIBUTOR")  # permission not allowed by the demo policy
    world.lens("222222222222", "platform-serverless-lens")
    world.template("222222222222", "standard-review")
    world.profile("333333333333", "pci-profile")
    world.lens("333333333333", "security-baseline-lens")
    world.workload("444444444444", "shadow-analytics", "READONLY")
    world.template("444444444444", "unvetted-template")
    world.workload("555555555555", "vendor-portal", "READONLY")
    world.profile("555555555555", "vendor-profile")


def _context() -> LambdaContext:
    return LambdaContext("demo", request_id="demo")


def table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    line = "  ".join("-" * w for w in widths)
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(x.rstrip() for x in [fmt.format(*headers), line, *(fmt.format(*map(str, r)) for r in rows)])


def decision_rows(records: list[dict[str, Any]]) -> list[list[str]]:
    return [
        [
            r["share_invitation_id"][:8],
            f"{r['shared_by']} {SHARERS.get(r['shared_by'], '')}",
            r["resource_type"],
            r["resource_name"],
            r.get("permission_type") or "-",
            r["action"],
            r["reason"],
            r["result"],
        ]
        for r in records
    ]


class LocalEventBridge:
    """moto's EventBridge in-process: the default bus, and a rule that keeps every acceptor event in a
    queue, as the hub's rule keeps them in its log group. Nothing leaves the machine."""

    def __init__(self) -> None:
        import boto3
        from moto import mock_aws

        self._mock = mock_aws()
        self._mock.start()
        session = boto3.session.Session(aws_access_key_id="demo", aws_secret_access_key="demo", region_name="us-east-1")
        self.events = session.client("events")
        self._sqs = session.client("sqs")
        self._url = self._sqs.create_queue(QueueName="decision-events")["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.events.put_rule(Name="acceptor-events", EventPattern=json.dumps({"source": ["wa-share-acceptor"]}))
        self.events.put_targets(Rule="acceptor-events", Targets=[{"Id": "queue", "Arn": arn}])

    def received(self) -> list[dict[str, Any]]:
        """Every event delivered so far (and forgets them)."""
        got: list[dict[str, Any]] = []
        while msgs := self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10).get("Messages", []):
            got += [json.loads(m["Body"]) for m in msgs]
            for m in msgs:
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=m["ReceiptHandle"])
        return got

    def close(self) -> None:
        self._mock.stop()


def event_rows(events: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for e in events:
        d = e.get("detail", {})
        what = d.get("share_invitation_id", "")[:8] + " " + str(d.get("result")) if "result" in d else d.get("status")
        rows.append([e.get("detail-type", ""), str(d.get("account")), str(d.get("region")), str(what)])
    return rows


def run(out: Any = sys.stdout, strict: bool = False) -> dict[str, Any]:
    """Run the whole demo; returns what it printed as data (tests read it). strict: the strict simulator."""
    bridge = LocalEventBridge()
    try:
        return _run(out, strict, bridge)
    finally:
        bridge.close()


def _run(out: Any, strict: bool, bridge: LocalEventBridge) -> dict[str, Any]:
    from handlers import share_event, sweep

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    sim = Simulator(strict=strict)
    world = World(sim)
    seed(world)
    settings = load_settings(DEMO_POLICY)
    comps = runtime.build(
        settings, wellarchitected_client=sim.client(account=RECIPIENT, config=SDK_CONFIG), events_client=bridge.events
    )
    headers = ["invitation", "sharer", "type", "resource", "permission", "action", "reason", "result"]

    def p(text: str = "") -> None:
        print(text, file=out)

    if strict:
        p("Strict simulator (STRICT=1): the most pessimistic form of every unverified API behaviour:")
        p("  " + "; ".join(STRICT_CHANGES) + ".")
        p("  The acceptor lists each type explicitly and answers as the account, so its decisions stay the same.")
        p()
    p(f"Member account {RECIPIENT} has {len(world.shares)} pending share invitations from {len(SHARERS)} sharers.")
    p("Demo policy: " + ", ".join(f"{k}={v}" for k, v in DEMO_POLICY.items()))
    p()
    sweep_capture = Capture()
    with sweep_capture.running():
        sweep_result = sweep.lambda_handler(
            {"source": "aws.events", "detail-type": "Scheduled Event", "id": "demo-sweep", "detail": {}},
            _context(),
            components=comps,
        )
    sweep_records = sweep_capture.records("invitation decided")
    p("1. SweepFunction (scheduled): one decision per pending invitation")
    p(table(decision_rows(sweep_records), headers))
    p()
    p("   metrics: " + json.dumps(sweep_capture.metrics(), sort_keys=True))
    p("   summary: " + json.dumps({k: sweep_result[k] for k in ("accept", "reject", "ignore", "failed", "dry_run")}))
    sweep_events = bridge.received()
    p(f"   decision events: {json.dumps(sweep_result.get('decision_events'))}; on the bus (local EventBridge):")
    p(table(event_rows(sweep_events), ["detail-type", "account", "region", "invitation / status"]))
    p()

    # A trusted sharer shares a new workload; its account forwards the CloudTrail event to us.
    new_share = world.workload("222222222222", "checkout-service", "READONLY")
    real_event = sim.events[-1]
    # A forged event: claims the trusted sharer, but points at the unknown sharer's pending invitation.
    unknown_share = next(s for s in world.shares if s.sharer == "444444444444" and s.resource_type == "WORKLOAD")
    forged = json.loads(json.dumps(real_event))
    forged["id"] = "forged-event"
    forged["detail"]["responseElements"]["ShareId"] = unknown_share.share_id
    event_capture = Capture()
    with event_capture.running():
        real_result = share_event.lambda_handler(real_event, _context(), components=comps)
        forged_result = share_event.lambda_handler(forged, _context(), components=comps)
    p("2. ShareEventFunction: a forwarded share event, then a forged one (both re-read from the API)")
    p(table(decision_rows(event_capture.records("invitation decided")), headers))
    for warning in event_capture.records("share event disagrees with the API; deciding on the API"):
        p(f"   warning: event claimed sharer {warning['event_account']}, the API says {warning['listed_shared_by']}")
    p()

    event_events = bridge.received()
    p(f"   decision events on the bus: {len(event_events)} ({len(event_capture.records('invitation decided'))} "
      "decisions and one run event per handled event)")  # fmt: skip
    p()
    p("3. Share statuses as the sharers see them (List*Shares)")
    status_rows = [[s.sharer, SHARERS[s.sharer], s.resource_type, s.name, world.status(s)] for s in world.shares]
    p(table(status_rows, ["sharer", "who", "type", "resource", "status"]))
    p()
    p("PENDING invitations stay until they expire (7 days) or a policy change allows them; a policy with")
    p("NonMatchingAction=REJECT rejects them instead. Logs carry one JSON record per decision.")
    p("Next: the functions one by one against a local simulator, with your own policy: README, 'Try it locally'.")
    if not strict:
        p("The same on the strict simulator: make demo STRICT=1")
    return {
        "sweep": sweep_result,
        "sweep_records": sweep_records,
        "sweep_metrics": sweep_capture.metrics(),
        "sweep_events": sweep_events,
        "event_events": event_events,
        "event_results": [real_result, forged_result],
        "statuses": {s.share_id: world.status(s) for s in world.shares},
        "new_share": new_share.share_id,
        "forged_target": unknown_share.share_id,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.demo", description="the acceptor on the simulator")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="the strict simulator: the most pessimistic form of every unverified behaviour",
    )
    args = parser.parse_args(argv)
    run(strict=args.strict)
    return 0


if __name__ == "__main__":
    sys.exit(main())
