"""Optional SNS notice for invitations that need a person: left pending by the policy, or failed.

One message per run lists every such invitation, so a sweep of many invitations sends one message,
not hundreds. A failure to publish is logged and never changes a decision.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from acceptor.engine import Outcome, Summary

SUBJECT_LIMIT = 100
MESSAGE_LIMIT = 250_000  # SNS allows 256 KiB


class SnsNotifier:
    def __init__(self, topic_arn: str, *, client: Any = None, log: Any = None) -> None:
        self._topic_arn = topic_arn
        self._client = client
        self._log = log

    def _sns(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("sns")
        return self._client

    def notify(self, outcomes: list[Outcome], summary: Summary) -> None:
        failed = [o for o in outcomes if o.result.value == "failed"]
        pending = [o for o in outcomes if o.result.value == "left_pending"]
        subject = f"Well-Architected share invitations: {len(pending)} left pending, {len(failed)} failed"
        body: dict[str, Any] = {
            "summary": summary.to_dict(),
            "left_pending_by_policy": [o.record(summary.dry_run) for o in pending],
            "failed": [o.record(summary.dry_run) for o in failed],
        }
        message = json.dumps(body, indent=1, default=str)
        if len(message) > MESSAGE_LIMIT:
            body["left_pending_by_policy"] = [o.invitation.share_invitation_id for o in pending]
            body["failed"] = [o.invitation.share_invitation_id for o in failed]
            message = json.dumps(body, default=str)[:MESSAGE_LIMIT]
        try:
            self._sns().publish(TopicArn=self._topic_arn, Subject=subject[:SUBJECT_LIMIT], Message=message)
        except (ClientError, BotoCoreError) as err:
            if self._log is not None:
                self._log.warning("notification not sent", extra={"error": str(err)})
