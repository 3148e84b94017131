"""Sharers acting through the simulated API: create workloads, lenses, profiles and review templates, share
them with a member account, change a share, and read a share's status as its sharer sees it.

Used by the tests and `make demo` to build a scenario the way real sharers would (a world
file, simulator/world.py, seeds one without API calls)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from simulator.core import Simulator

RECIPIENT = "111111111111"  # the member account that receives the shares unless a call names another


@dataclass
class Share:
    sharer: str
    resource_type: str
    name: str
    resource_id: str
    share_id: str
    permission: str | None = None


def _token() -> str:
    return str(uuid.uuid4())


class World:
    """Resources and shares made through the simulated API, as real sharers would; `shares` lists them in order."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.shares: list[Share] = []
        self._clients: dict[str, Any] = {}

    def client(self, account: str) -> Any:
        if account not in self._clients:
            self._clients[account] = self.sim.client(account=account)
        return self._clients[account]

    def workload(self, sharer: str, name: str, permission: str, to: str = RECIPIENT) -> Share:
        wa = self.client(sharer)
        workload_id = wa.create_workload(
            WorkloadName=name,
            Description=f"{name} workload",
            Environment="PRODUCTION",
            Lenses=["wellarchitected"],
            AwsRegions=["us-east-1"],
            ClientRequestToken=_token(),
        )["WorkloadId"]
        share_id = wa.create_workload_share(
            WorkloadId=workload_id, SharedWith=to, PermissionType=permission, ClientRequestToken=_token()
        )["ShareId"]
        return self._add(Share(sharer, "WORKLOAD", name, workload_id, share_id, permission))

    def lens(self, sharer: str, name: str) -> Share:
        wa = self.client(sharer)
        lens_json = json.dumps({"schemaVersion": "2021-11-01", "name": name, "description": name, "pillars": []})
        lens_arn = wa.import_lens(JSONString=lens_json, ClientRequestToken=_token())["LensArn"]
        share_id = wa.create_lens_share(LensAlias=lens_arn, SharedWith=RECIPIENT, ClientRequestToken=_token())[
            "ShareId"
        ]
        return self._add(Share(sharer, "LENS", name, lens_arn, share_id))

    def profile(self, sharer: str, name: str) -> Share:
        wa = self.client(sharer)
        arn = wa.create_profile(
            ProfileName=name, ProfileDescription=name, ProfileQuestions=[], ClientRequestToken=_token()
        )["ProfileArn"]
        share_id = wa.create_profile_share(ProfileArn=arn, SharedWith=RECIPIENT, ClientRequestToken=_token())["ShareId"]
        return self._add(Share(sharer, "PROFILE", name, arn, share_id))

    def template(self, sharer: str, name: str) -> Share:
        wa = self.client(sharer)
        arn = wa.create_review_template(
            TemplateName=name, Description=name, Lenses=["wellarchitected"], ClientRequestToken=_token()
        )["TemplateArn"]
        share_id = wa.create_template_share(TemplateArn=arn, SharedWith=RECIPIENT, ClientRequestToken=_token())[
            "ShareId"
        ]
        return self._add(Share(sharer, "TEMPLATE", name, arn, share_id))

    def _add(self, share: Share) -> Share:
        self.shares.append(share)
        return share

    def modify_workload_share(self, share: Share, permission: str) -> Share:
        """UpdateWorkloadShare: a PENDING or ACCEPTED share goes back to PENDING, same invitation id."""
        self.client(share.sharer).update_workload_share(
            WorkloadId=share.resource_id, ShareId=share.share_id, PermissionType=permission
        )
        share.permission = permission
        return share

    def status(self, share: Share) -> str:
        """The share's status as its sharer reads it through List*Shares."""
        wa = self.client(share.sharer)
        call, key, arg = _LIST_SHARES[share.resource_type]
        summaries = getattr(wa, call)(**{arg: share.resource_id})[key]
        status: str = next(s["Status"] for s in summaries if s["ShareId"] == share.share_id)
        return status


_LIST_SHARES = {
    "WORKLOAD": ("list_workload_shares", "WorkloadShareSummaries", "WorkloadId"),
    "LENS": ("list_lens_shares", "LensShareSummaries", "LensAlias"),
    "PROFILE": ("list_profile_shares", "ProfileShareSummaries", "ProfileArn"),
    "TEMPLATE": ("list_template_shares", "TemplateShareSummaries", "TemplateArn"),
}
