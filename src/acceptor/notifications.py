"""Optional SNS notice for invitations that need a person: left pending by the policy, or failed.

One message per run lists every such invitation, so a sweep of many invitations sends one message,
not hundreds. A failure to publish is logged and never changes a decision. The digest is sent after the
work, in the time the deadline keeps for it: one attempt with short timeouts, skipped when even that
does not fit.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from acceptor.deadline import Deadline
from acceptor.outcomes import Outcome, Result, Summary
from acceptor.recorder import NULL_LOG, Log

SUBJECT_LIMIT = 100
MESSAGE_LIMIT = 250_000  # SNS allows 256 KiB
SDK_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=2, read_timeout=3)
PUBLISH_SECONDS = 5.0  # connect + read: the most one publish can take


class SnsNotifier:
    def __init__(self, topic_arn: str, *, client: Any = None, log: Log = NULL_LOG) -> None:
        self._topic_arn = topic_arn
        self._client = client
        self._log = log

    def _sns(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("sns", config=SDK_CONFIG)
        return self._client

    def notify(self, outcomes: list[Outcome], summary: Summary, deadline: Deadline | None = None) -> None:
        failed = [o for o in outcomes if o.result is Result.FAILED]
        pending = [o for o in outcomes if o.result is Result.LEFT_PENDING]
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
        if deadline is not None and deadline.left_hard() < PUBLISH_SECONDS:
            self._warn("notification not sent: no time left", seconds_left=round(deadline.left_hard(), 3))
            return
        try:
            self._sns().publish(TopicArn=self._topic_arn, Subject=subject[:SUBJECT_LIMIT], Message=message)
        except (ClientError, BotoCoreError) as err:
            self._warn("notification not sent", error=str(err))

    def _warn(self, message: str, **fields: Any) -> None:
        self._log.warning(message, extra=fields)
