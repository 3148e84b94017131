"""FleetDigestFunction (templates/fleet-hub.yaml): once a day, the invitations waiting for a person that
expire within EXPIRY_WARNING_DAYS, to the hub topic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fleet import digest, hub_log, report
from fleet.settings import HubSettings, load_hub_settings


def lambda_handler(
    event: Any, context: Any, *, settings: HubSettings | None = None, logs: Any = None, sns: Any = None
) -> dict[str, Any]:
    settings = settings or load_hub_settings()
    if logs is None or sns is None:
        import boto3

        logs = logs or boto3.client("logs")
        sns = sns or boto3.client("sns")
    now = datetime.now(UTC)
    # First sightings need the whole lifetime of an invitation, and a day more
    events = hub_log.read(logs, settings.log_group, now - report.INVITATION_LIFETIME - timedelta(days=1), now)
    items = report.expiring(events, now, settings.interval, timedelta(days=settings.expiry_warning_days))
    sent = digest.publish(sns, settings.topic_arn, items, now, settings.expiry_warning_days)
    return {"expiring": len(items), "sent": sent, "skipped_lines": events.skipped}
