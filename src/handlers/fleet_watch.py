"""FleetWatchFunction (templates/fleet-hub.yaml): every sweep interval, count the members whose last two
runs both ended failed or incomplete (metric MembersFailingTwice, alarmed) and name them in the log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from fleet import hub_log, report
from fleet.settings import HubSettings, load_hub_settings

NAMESPACE = "WellArchitectedShareAcceptorHub"
logger = Logger(service="wa-share-acceptor-hub")


def lambda_handler(
    event: Any, context: Any, *, settings: HubSettings | None = None, logs: Any = None, cloudwatch: Any = None
) -> dict[str, Any]:
    settings = settings or load_hub_settings()
    if logs is None or cloudwatch is None:
        import boto3

        logs = logs or boto3.client("logs")
        cloudwatch = cloudwatch or boto3.client("cloudwatch")
    now = datetime.now(UTC)
    # Two runs of every member: three intervals back covers a late sweep
    events = hub_log.read(logs, settings.log_group, now - 3 * settings.interval, now)
    failing = report.failing_twice(events)
    cloudwatch.put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[{"MetricName": "MembersFailingTwice", "Value": len(failing), "Unit": "Count"}],
    )
    names = [f"{account} {region}" for account, region in failing]
    if failing:
        logger.warning("members failing twice", extra={"members": names})
    else:
        logger.info("no member failing twice", extra={"runs": len(events.runs)})
    return {"failing_twice": names}
