"""`make probe-aws SHARER_PROFILE=a RECIPIENT_PROFILE=b REGION=r`: settle, with two accounts you own, the
Well-Architected sharing behaviours no public source confirms (docs/simulator.md, "Evidence").

In the sharer account it creates a small workload, an imported (and published) lens, a profile and a
review template, and shares each with the recipient account. Then it:

- lists the recipient's invitations once per ``ShareResourceType`` and once without it: which types an
  untyped listing returns, and whether summaries carry ``ShareResourceType``;
- checks that each ``ShareId`` the sharer got is the recipient's ``ShareInvitationId``;
- retries one ``CreateWorkloadShare`` with the same ``ClientRequestToken``;
- accepts the workload invitation, then updates that settled invitation once more for its error code;
- modifies the accepted workload share (READONLY to CONTRIBUTOR) and looks for it pending again;
- looks up the sharer's ``Create*Share`` CloudTrail records (they can take about 15 minutes: a bounded
  wait, "not yet" otherwise) for the key names inside ``requestParameters`` and ``responseElements``;
- deletes everything it created, also when interrupted (SIGINT, SIGTERM, SIGHUP), and prints one JSON
  report on stdout.

Clients are injected (``Probe``), so the tool runs offline against the simulator in its tests.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from acceptor import aws_errors
from acceptor.events import SHARE_EVENT_NAMES
from policy import RESOURCE_TYPES
from policy.model import NAME_FIELDS

TYPES = RESOURCE_TYPES
EVENT_NAMES = {rtype: name for name, rtype in SHARE_EVENT_NAMES.items()}
NAME_MEMBER = NAME_FIELDS
# type -> (delete share call, the member naming the resource in it, delete resource call)
DELETES = {
    "WORKLOAD": ("delete_workload_share", "WorkloadId", "delete_workload"),
    "LENS": ("delete_lens_share", "LensAlias", "delete_lens"),
    "PROFILE": ("delete_profile_share", "ProfileArn", "delete_profile"),
    "TEMPLATE": ("delete_template_share", "TemplateArn", "delete_review_template"),
}
GONE = ("ConflictException", "ResourceNotFoundException")  # a share already revoked or deleted


class Interrupted(Exception):
    """A signal arrived; the probe stops and cleans up."""


@dataclass
class Timing:
    """How long to wait for eventually consistent answers; injectable so tests never sleep."""

    listing_wait_s: float = 120.0
    cloudtrail_wait_s: float = 900.0
    poll_s: float = 15.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


@dataclass
class Created:
    type: str
    name: str
    resource: str  # workload id, or lens / profile / template ARN
    share_id: str | None = None


def _code(err: Exception) -> str:
    return aws_errors.code(err)


def _status(err: Exception) -> int | None:
    return aws_errors.http_status(err) or None


def lens_document(name: str) -> str:
    """The smallest custom lens the import accepts: one pillar, one question, one choice, risk rules."""
    return json.dumps(
        {
            "schemaVersion": "2021-11-01",
            "name": name,
            "description": "Created by make probe-aws and deleted by it.",
            "pillars": [
                {
                    "id": "probe",
                    "name": "Probe",
                    "questions": [
                        {
                            "id": "probe_q1",
                            "title": "Is this lens only a probe?",
                            "description": "The probe deletes this lens when it ends.",
                            "choices": [
                                {
                                    "id": "probe_q1_yes",
                                    "title": "Yes",
                                    "helpfulResource": {"displayText": "It is."},
                                    "improvementPlan": {"displayText": "Delete it."},
                                }
                            ],
                            "riskRules": [
                                {"condition": "probe_q1_yes", "risk": "NO_RISK"},
                                {"condition": "default", "risk": "HIGH_RISK"},
                            ],
                        }
                    ],
                }
            ],
        }
    )


@dataclass
class Probe:
    """One probe run. sharer and recipient are wellarchitected clients, cloudtrail the sharer's client."""

    sharer: Any
    recipient: Any
    cloudtrail: Any
    sharer_account: str
    recipient_account: str
    region: str
    timing: Timing = field(default_factory=Timing)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    created: dict[str, Created] = field(default_factory=dict)
    cleaning: bool = False
    report: dict[str, Any] = field(default_factory=dict)

    # ---------------------------------------------------------------- the run
    def run(self) -> dict[str, Any]:
        started = datetime.now(UTC) - timedelta(minutes=5)
        self.report.update(
            {
                "region": self.region,
                "sharer_account": self.sharer_account,
                "recipient_account": self.recipient_account,
                "run_id": self.run_id,
                "errors": [],
                "interrupted": None,
            }
        )
        try:
            self._create_and_share()
            found = self._typed_listings()
            self._untyped_listing()
            self._share_id_is_invitation_id(found)
            self._settled_update(found.get("WORKLOAD"))
            self._reopened_share()
            self._cloudtrail(started)
        except Interrupted as err:
            self.report["interrupted"] = str(err)
        except (ClientError, BotoCoreError) as err:  # a step that could not go on: report it, still clean up
            self._error("stopped", err)
        finally:
            self.cleanup()
        return self.report

    def _error(self, step: str, err: Exception) -> None:
        self.report["errors"].append({"step": step, "code": _code(err), "message": str(err)[:500]})

    def _wait(self, deadline: float) -> bool:
        """Sleep one poll interval if that ends before deadline; False when time is up."""
        if self.timing.clock() + self.timing.poll_s > deadline:
            return False
        self.timing.sleep(self.timing.poll_s)
        return True

    # ---------------------------------------------------------------- setup
    def _create_and_share(self) -> None:
        name = f"wa-share-acceptor-probe-{self.run_id}"
        steps: dict[str, Callable[[], str]] = {
            "WORKLOAD": lambda: self.sharer.create_workload(
                WorkloadName=name,
                Description="Created by make probe-aws and deleted by it.",
                Environment="PREPRODUCTION",
                Lenses=["wellarchitected"],
                AwsRegions=[self.region],
                ReviewOwner="make probe-aws",
            )["WorkloadId"],
            "LENS": lambda: self._lens(name),
            "PROFILE": lambda: self.sharer.create_profile(
                ProfileName=name, ProfileDescription="Created by make probe-aws.", ProfileQuestions=[]
            )["ProfileArn"],
            "TEMPLATE": lambda: self.sharer.create_review_template(
                TemplateName=name, Description="Created by make probe-aws.", Lenses=["wellarchitected"]
            )["TemplateArn"],
        }
        for rtype, make in steps.items():
            try:
                self.created[rtype] = Created(rtype, name, make())
            except (ClientError, BotoCoreError) as err:
                self._error(f"create {rtype}", err)
        self.report["created"] = {t: c.resource for t, c in self.created.items()}
        self.report["client_request_token_retry"] = None
        for rtype, item in self.created.items():
            try:
                item.share_id = self._share(item)
            except (ClientError, BotoCoreError) as err:
                self._error(f"share {rtype}", err)
        self.report["shares"] = {t: c.share_id for t, c in self.created.items() if c.share_id}

    def _lens(self, name: str) -> str:
        arn: str = self.sharer.import_lens(JSONString=lens_document(name))["LensArn"]
        self.created["LENS"] = Created("LENS", name, arn)  # cleaned up even if publishing fails
        deadline = self.timing.clock() + self.timing.listing_wait_s
        while True:  # the import may complete asynchronously; publish, as a draft may not be shareable
            try:
                self.sharer.create_lens_version(LensAlias=arn, LensVersion="1.0", IsMajorVersion=True)
                return arn
            except ClientError as err:
                if _code(err) not in ("ConflictException", "ValidationException") or not self._wait(deadline):
                    raise

    def _share(self, item: Created) -> str:
        common = {"SharedWith": self.recipient_account}
        if item.type == "WORKLOAD":
            params = common | {"WorkloadId": item.resource, "PermissionType": "READONLY"}
            token = f"probe-{self.run_id}-workload-share"
            first = self.sharer.create_workload_share(**params, ClientRequestToken=token)["ShareId"]
            try:  # the same token again: the original result, or an error worth knowing
                again = self.sharer.create_workload_share(**params, ClientRequestToken=token)["ShareId"]
                self.report["client_request_token_retry"] = {"same_share_id": again == first, "error_code": None}
            except ClientError as err:
                self.report["client_request_token_retry"] = {"same_share_id": False, "error_code": _code(err)}
            return str(first)
        call, member, _delete = DELETES[item.type]
        create = getattr(self.sharer, call.replace("delete_", "create_"))
        return str(create(**common, **{member: item.resource})["ShareId"])

    # ---------------------------------------------------------------- recipient side
    def _list(self, **params: Any) -> list[dict[str, Any]]:
        summaries: list[dict[str, Any]] = []
        token = None
        for _ in range(200):
            page = self.recipient.list_share_invitations(**params, **({"NextToken": token} if token else {}))
            summaries += page.get("ShareInvitationSummaries", [])
            token = page.get("NextToken")
            if not token:
                return summaries
        raise RuntimeError("ListShareInvitations: NextToken did not end after 200 pages")

    def _ours(self, summaries: list[dict[str, Any]], rtype: str) -> dict[str, Any] | None:
        item = self.created[rtype]
        for summary in summaries:
            if summary.get("ShareInvitationId") == item.share_id or summary.get(NAME_MEMBER[rtype]) == item.name:
                return summary
        return None

    def _typed_listings(self) -> dict[str, dict[str, Any]]:
        """List once per type until each of our invitations shows (bounded: new shares may lag)."""
        shared = [t for t in TYPES if t in self.created and self.created[t].share_id]
        found: dict[str, dict[str, Any]] = {}
        deadline = self.timing.clock() + self.timing.listing_wait_s
        while True:
            for rtype in shared:
                if rtype not in found:
                    try:
                        summary = self._ours(self._list(ShareResourceType=rtype), rtype)
                    except (ClientError, BotoCoreError) as err:
                        self._error(f"list {rtype}", err)
                        summary = None
                    if summary is not None:
                        found[rtype] = summary
            if len(found) == len(shared) or not self._wait(deadline):
                break
        self.report["typed_listing"] = {
            rtype: {
                "listed": rtype in found,
                "carries_share_resource_type": "ShareResourceType" in found[rtype] if rtype in found else None,
                "share_resource_type": found[rtype].get("ShareResourceType") if rtype in found else None,
                "keys": sorted(found[rtype]) if rtype in found else None,
            }
            for rtype in shared
        }
        return found

    def _untyped_listing(self) -> None:
        try:
            summaries = self._list()
        except (ClientError, BotoCoreError) as err:
            self._error("list untyped", err)
            self.report["untyped_listing"] = None
            return
        shared = [t for t in TYPES if t in self.created and self.created[t].share_id]
        ours = {rtype: self._ours(summaries, rtype) for rtype in shared}
        listed = sorted(t for t, s in ours.items() if s is not None)
        answer = "all types" if listed == sorted(shared) else "WORKLOAD only" if listed == ["WORKLOAD"] else "other"
        self.report["untyped_listing"] = {
            "listed": listed,
            "answer": answer,
            "summaries_carry_share_resource_type": sorted(
                t for t, s in ours.items() if s is not None and "ShareResourceType" in s
            ),
            "summaries": len(summaries),
        }

    def _share_id_is_invitation_id(self, found: dict[str, dict[str, Any]]) -> None:
        self.report["share_id_is_invitation_id"] = {
            rtype: summary.get("ShareInvitationId") == self.created[rtype].share_id for rtype, summary in found.items()
        }

    def _settled_update(self, summary: dict[str, Any] | None) -> None:
        result: dict[str, Any] = {"accept": None, "again_error_code": None, "again_http_status": None}
        self.report["settled_update"] = result
        if summary is None:
            return
        invitation = summary["ShareInvitationId"]
        try:
            self.recipient.update_share_invitation(ShareInvitationId=invitation, ShareInvitationAction="ACCEPT")
            result["accept"] = "ok"
        except (ClientError, BotoCoreError) as err:
            result["accept"] = _code(err)
            return
        try:
            self.recipient.update_share_invitation(ShareInvitationId=invitation, ShareInvitationAction="ACCEPT")
            result["again_error_code"] = "none: the second update succeeded"
        except (ClientError, BotoCoreError) as err:
            result["again_error_code"], result["again_http_status"] = _code(err), _status(err)

    def _reopened_share(self) -> None:
        item = self.created.get("WORKLOAD")
        result: dict[str, Any] = {"status_after_update": None, "listed_again": None, "same_invitation_id": None}
        self.report["reopened_share"] = result
        if item is None or item.share_id is None or self.report["settled_update"].get("accept") != "ok":
            return
        try:
            answer = self.sharer.update_workload_share(
                WorkloadId=item.resource, ShareId=item.share_id, PermissionType="CONTRIBUTOR"
            )
        except (ClientError, BotoCoreError) as err:
            self._error("update workload share", err)
            return
        result["status_after_update"] = answer.get("WorkloadShare", {}).get("Status")
        deadline = self.timing.clock() + self.timing.listing_wait_s
        while True:
            summary = self._ours(self._list(ShareResourceType="WORKLOAD"), "WORKLOAD")
            if summary is not None or not self._wait(deadline):
                break
        result["listed_again"] = summary is not None
        if summary is not None:
            result["same_invitation_id"] = summary.get("ShareInvitationId") == item.share_id
            result["permission"] = summary.get("PermissionType")

    # ---------------------------------------------------------------- CloudTrail
    def _events(self, event_name: str, start: datetime) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        token = None
        for _ in range(50):
            params: dict[str, Any] = {
                "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": event_name}],
                "StartTime": start,
            }
            if token:
                params["NextToken"] = token
            page = self.cloudtrail.lookup_events(**params)
            for event in page.get("Events", []):
                try:
                    records.append(json.loads(event.get("CloudTrailEvent") or "{}"))
                except ValueError:
                    continue
            token = page.get("NextToken")
            if not token:
                break
        return records

    def _cloudtrail(self, start: datetime) -> None:
        wanted = {EVENT_NAMES[t]: c.share_id for t, c in self.created.items() if c.share_id}
        result: dict[str, Any] = {name: {"found": False, "status": "not yet"} for name in wanted}
        self.report["cloudtrail"] = result
        deadline = self.timing.clock() + self.timing.cloudtrail_wait_s
        while True:
            for name, share_id in wanted.items():
                if result[name]["found"]:
                    continue
                try:
                    records = self._events(name, start)
                except (ClientError, BotoCoreError) as err:
                    self._error(f"cloudtrail {name}", err)
                    result[name]["status"] = f"lookup failed: {_code(err)}"
                    continue
                for record in records:
                    response = record.get("responseElements") or {}
                    if share_id in json.dumps(response):
                        request = record.get("requestParameters") or {}
                        result[name] = {
                            "found": True,
                            "requestParameters": sorted(request),
                            "responseElements": sorted(response),
                            "share_id_key": next((k for k, v in response.items() if v == share_id), None),
                        }
                        break
            if all(r["found"] for r in result.values()) or not self._wait(deadline):
                return

    # ---------------------------------------------------------------- cleanup
    def cleanup(self) -> None:
        """Delete every share, then every resource this run created; tolerate what is already gone."""
        self.cleaning = True
        deleted: list[str] = []
        failed: list[dict[str, str]] = []
        for rtype, item in self.created.items():
            delete_share, member, delete_resource = DELETES[rtype]
            if item.share_id:
                try:
                    getattr(self.sharer, delete_share)(**{member: item.resource, "ShareId": item.share_id})
                    deleted.append(f"{rtype} share {item.share_id}")
                except (ClientError, BotoCoreError) as err:
                    if _code(err) not in GONE:
                        failed.append({"what": f"{rtype} share {item.share_id}", "code": _code(err)})
            extra = {"LensStatus": "ALL"} if rtype == "LENS" else {}
            try:
                getattr(self.sharer, delete_resource)(**{member: item.resource}, **extra)
                deleted.append(f"{rtype} {item.resource}")
            except (ClientError, BotoCoreError) as err:
                failed.append({"what": f"{rtype} {item.resource}", "code": _code(err)})
        self.report["cleanup"] = {"deleted": deleted, "failed": failed}


@contextmanager
def interruptible(probe: Probe) -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP stop the probe (its cleanup runs); during cleanup they are noted, not obeyed."""

    def handler(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if probe.cleaning:
            probe.report.setdefault("signals_during_cleanup", []).append(name)
            return
        raise Interrupted(name)

    wanted = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {sig: signal.signal(sig, handler) for sig in wanted}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.probe_aws", description="Probe the unverified Well-Architected sharing behaviours."
    )
    parser.add_argument("--sharer-profile", required=True, help="AWS profile of the sharing account")
    parser.add_argument("--recipient-profile", required=True, help="AWS profile of the receiving account")
    parser.add_argument("--region", required=True, help="the region to probe, e.g. eu-west-1")
    parser.add_argument("--cloudtrail-wait", type=float, default=900.0, help="seconds to wait for CloudTrail")
    args = parser.parse_args(argv)
    import boto3  # only here: the probe itself takes injected clients

    try:
        sharer = boto3.session.Session(profile_name=args.sharer_profile, region_name=args.region)
        recipient = boto3.session.Session(profile_name=args.recipient_profile, region_name=args.region)
        sharer_account = sharer.client("sts").get_caller_identity()["Account"]
        recipient_account = recipient.client("sts").get_caller_identity()["Account"]
    except (ClientError, BotoCoreError) as err:
        print(f"probe-aws: cannot use the profiles: {err}", file=sys.stderr)
        return 2
    if sharer_account == recipient_account:
        print(f"probe-aws: both profiles are account {sharer_account}; two accounts are needed", file=sys.stderr)
        return 2
    probe = Probe(
        sharer.client("wellarchitected"),
        recipient.client("wellarchitected"),
        sharer.client("cloudtrail"),
        sharer_account,
        recipient_account,
        args.region,
        Timing(cloudtrail_wait_s=args.cloudtrail_wait),
    )
    with interruptible(probe):
        report = probe.run()
    print(json.dumps(report, indent=2, sort_keys=True, default=str))
    return 1 if report["cleanup"]["failed"] or report["interrupted"] else 0


if __name__ == "__main__":
    sys.exit(main())
