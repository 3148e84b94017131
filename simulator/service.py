"""The simulated Well-Architected sharing state and operations, for every account and region.

Operations take the caller (account, region, and for updates the principal) and the request parameters
as botocore names them, and return the response body as a dict, or raise ``ServiceError``.

``strict`` gives every behaviour no public source confirms its most pessimistic plausible form (see
docs/simulator.md, "Default and strict"): an untyped ``ListShareInvitations`` lists WORKLOAD invitations
only, summaries carry no ``ShareResourceType``, only the named IAM user or role may answer an invitation
addressed to it, and updating an expired invitation is a ``ValidationException``.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

EXPIRY = timedelta(days=7)
ASSOCIATION_DELAY = timedelta(seconds=60)  # an organization/OU share is ASSOCIATING this long, then ASSOCIATED
ACCOUNT = re.compile(r"[0-9]{12}")
IAM_PRINCIPAL = re.compile(r"arn:aws[a-z-]*:iam::([0-9]{12}):(user|role)/[A-Za-z0-9+=,.@_/-]{1,512}")
ORG = re.compile(r"o-[a-z0-9]{10,32}")
OU = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}")
INVITATION_ID = re.compile(r"[0-9a-f]{32}")
ORG_STATUSES = ("ASSOCIATING", "ASSOCIATED", "FAILED")
LIVE = ("PENDING", "ACCEPTED", "ASSOCIATING", "ASSOCIATED")  # a share in one of these blocks sharing again

# resource type -> (name member, id member in summaries, ShareInvitation id members)
KINDS = {
    "WORKLOAD": ("WorkloadName", "WorkloadId"),
    "LENS": ("LensName", "LensArn"),
    "PROFILE": ("ProfileName", "ProfileArn"),
    "TEMPLATE": ("TemplateName", "TemplateArn"),
}
# resource type -> the request member that names the resource in the sharer's calls (Create*Share, Delete*)
IDENT = {"WORKLOAD": "WorkloadId", "LENS": "LensAlias", "PROFILE": "ProfileArn", "TEMPLATE": "TemplateArn"}


class ServiceError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields = fields or {}  # members the error shape adds to Message (ResourceId, ResourceType)


def validation(message: str) -> ServiceError:
    return ServiceError(400, "ValidationException", message)


def not_found(message: str, resource_id: str, resource_type: str) -> ServiceError:
    return ServiceError(
        404, "ResourceNotFoundException", message, {"ResourceId": resource_id, "ResourceType": resource_type}
    )


def conflict(message: str, resource_id: str, resource_type: str) -> ServiceError:
    return ServiceError(409, "ConflictException", message, {"ResourceId": resource_id, "ResourceType": resource_type})


def access_denied(message: str) -> ServiceError:
    return ServiceError(403, "AccessDeniedException", message)


def _hex_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Resource:
    kind: str
    owner: str
    region: str
    rid: str  # 32 hex
    name: str
    alias: str | None = None  # lenses only
    version: str | None = None  # lenses: the last version published with CreateLensVersion

    @property
    def arn(self) -> str:
        path = {"WORKLOAD": "workload", "LENS": "lens", "PROFILE": "profile", "TEMPLATE": "review-template"}[self.kind]
        return f"arn:aws:wellarchitected:{self.region}:{self.owner}:{path}/{self.rid}"

    @property
    def id_value(self) -> str:
        return self.rid if self.kind == "WORKLOAD" else self.arn


@dataclass
class Share:
    share_id: str
    resource: Resource
    shared_with: str
    recipient: str | None  # the account that gets an invitation; None for organization/OU shares
    permission: str | None
    created: datetime
    seq: int
    settled: str | None = None  # ACCEPTED / REJECTED / REVOKED once decided
    association: str | None = None  # organization/OU shares: a fixed ASSOCIATING, ASSOCIATED or FAILED

    @property
    def for_principal(self) -> bool:
        """Addressed to one IAM user or role rather than to a whole account."""
        return self.recipient is not None and self.shared_with != self.recipient

    def status(self, now: datetime) -> str:
        if self.settled:
            return self.settled
        if self.recipient is None:  # organization shares need no invitation
            if self.association:
                return self.association
            return "ASSOCIATING" if now - self.created < ASSOCIATION_DELAY else "ASSOCIATED"
        if now - self.created >= EXPIRY:
            return "EXPIRED"
        return "PENDING"


@dataclass
class State:
    resources: dict[tuple[str, str, str], Resource] = field(default_factory=dict)  # (region, kind, rid)
    shares: dict[str, Share] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0


def _encode_token(value: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{value}".encode()).decode()


def _decode_token(token: str | None) -> int:
    if token is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        prefix, number = text.split(":")
        if prefix != "v1":
            raise ValueError(text)
        return int(number)
    except (ValueError, UnicodeDecodeError) as err:
        raise validation(f"invalid NextToken {token!r}") from err


def _page(items: list[Any], params: dict[str, Any], key: Callable[[Any], int]) -> tuple[list[Any], str | None]:
    """Key-based pages: the token is the key of the last item returned, so removals never skip items."""
    limit = params.get("MaxResults") or 50
    if not 1 <= limit <= 50:
        raise validation(f"MaxResults {limit} is outside 1..50")
    after = _decode_token(params.get("NextToken"))
    rest = [item for item in items if key(item) > after]
    page = rest[:limit]
    token = _encode_token(key(page[-1])) if len(rest) > limit else None
    return page, token


class Service:
    """All operations. Thread-safe: one lock around the state."""

    def __init__(self, now: Callable[[], datetime], strict: bool = False) -> None:
        self.now = now
        self.strict = strict
        self.state = State()
        self.lock = threading.RLock()

    # ---------------------------------------------------------------- seeding and reading (not part of AWS)
    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: the block runs under the lock, and if it raises, the state is as it was before."""
        with self.lock:
            saved = copy.deepcopy(self.state)
            try:
                yield
            except BaseException:
                self.state = saved
                raise

    def preset_status(self, share_id: str, status: Any) -> None:
        """Give a share just created the status a world file names. An invitation (a share with an account or
        IAM principal) is PENDING, ACCEPTED, REJECTED or REVOKED; an organization or OU share is ASSOCIATING,
        ASSOCIATED, FAILED or REVOKED, or None: ASSOCIATING for a minute, then ASSOCIATED. Raises ValueError."""
        share = self.state.shares[share_id]
        if share.recipient is None:  # an organization or OU: no invitation, an association status
            if status not in (None, *ORG_STATUSES, "REVOKED"):
                raise ValueError(
                    f"organization share status {status!r} is not ASSOCIATING, ASSOCIATED, FAILED or REVOKED"
                )
            if status == "REVOKED":
                share.settled = status
            elif status is not None:
                share.association = status
            return
        if status not in ("PENDING", "ACCEPTED", "REJECTED", "REVOKED"):
            raise ValueError(f"share status {status!r} is not PENDING, ACCEPTED, REJECTED or REVOKED")
        if status != "PENDING":
            share.settled = status

    def events(self) -> list[dict[str, Any]]:
        """The share events so far, oldest first (a copy of the list)."""
        with self.lock:
            return list(self.state.events)

    def share_status(self, share_id: str) -> str:
        """A share's status now, as its sharer would read it. Raises KeyError for an unknown share."""
        with self.lock:
            share = self.state.shares.get(share_id)
            if share is None:
                raise KeyError(f"no share {share_id}")
            return share.status(self.now())

    # ---------------------------------------------------------------- resources
    def add_resource(
        self, kind: str, owner: str, region: str, name: str, alias: str | None = None, rid: str | None = None
    ) -> Resource:
        """A new resource; rid (32 hex) fixes its id, else a random one."""
        res = Resource(kind, owner, region, rid or _hex_id(), name, alias)
        self.state.resources[(region, kind, res.rid)] = res
        return res

    def _owned(self, kind: str, account: str, region: str, ident: str) -> Resource:
        for res in self.state.resources.values():
            if (
                res.kind == kind
                and res.owner == account
                and res.region == region
                and ident in (res.rid, res.arn, res.alias)
            ):
                return res
        raise not_found(f"{kind.lower()} {ident!r} not found", ident, kind)

    def create_workload(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("Environment") not in ("PRODUCTION", "PREPRODUCTION"):
            raise validation(f"Environment {p.get('Environment')!r} is not PRODUCTION or PREPRODUCTION")
        name = p["WorkloadName"]
        if any(
            r.kind == "WORKLOAD" and r.owner == account and r.region == region and r.name == name
            for r in self.state.resources.values()
        ):
            raise conflict(f"workload {name!r} already exists", name, "WORKLOAD")
        res = self.add_resource("WORKLOAD", account, region, name)
        return {"WorkloadId": res.rid, "WorkloadArn": res.arn}

    def import_lens(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        try:
            lens = json.loads(p["JSONString"])
            name = lens["name"]
        except (ValueError, KeyError, TypeError) as err:
            raise validation(f"JSONString is not a lens document with a name: {err}") from err
        if not isinstance(name, str) or not 1 <= len(name) <= 128:
            raise validation(f"lens name {name!r} must be 1 to 128 characters")
        res = self.add_resource("LENS", account, region, name, alias=p.get("LensAlias"))
        return {"LensArn": res.arn, "Status": "COMPLETE"}

    def create_lens_version(self, account: str, region: str, ident: str, version: str) -> dict[str, Any]:
        """Publish a lens version (only recorded: lens contents are not simulated)."""
        res = self._owned("LENS", account, region, ident)
        res.version = version
        return {"LensArn": res.arn, "LensVersion": version}

    def delete_resource(self, kind: str, account: str, region: str, ident: str) -> dict[str, Any]:
        """Delete*: the resource goes, and every share of it that is still live is REVOKED."""
        res = self._owned(kind, account, region, ident)
        del self.state.resources[(res.region, res.kind, res.rid)]
        now = self.now()
        for share in self.state.shares.values():
            if share.resource is res and share.status(now) not in ("REVOKED", "REJECTED", "EXPIRED"):
                share.settled = "REVOKED"
        return {}

    def create_profile(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        res = self.add_resource("PROFILE", account, region, p["ProfileName"])
        return {"ProfileArn": res.arn, "ProfileVersion": "1"}

    def create_review_template(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        res = self.add_resource("TEMPLATE", account, region, p["TemplateName"])
        return {"TemplateArn": res.arn}

    # ---------------------------------------------------------------- sharer side
    def create_share(
        self,
        kind: str,
        account: str,
        region: str,
        ident: str,
        p: dict[str, Any],
        event_name: str,
        *,
        share_id: str | None = None,
    ) -> dict[str, Any]:
        """Create*Share. share_id (32 hex, not taken) fixes the new share's id, as a world file may; it is no
        parameter of the API and raises ValueError when unusable."""
        res = self._owned(kind, account, region, ident)
        shared_with = p["SharedWith"]
        permission = p.get("PermissionType") if kind == "WORKLOAD" else None
        if kind == "WORKLOAD" and permission not in ("READONLY", "CONTRIBUTOR"):
            raise validation(f"PermissionType {permission!r} is not READONLY or CONTRIBUTOR")
        iam = IAM_PRINCIPAL.fullmatch(shared_with)
        if ACCOUNT.fullmatch(shared_with):
            recipient: str | None = shared_with
        elif iam:
            recipient = iam.group(1)
        elif ORG.fullmatch(shared_with) or OU.fullmatch(shared_with):
            recipient = None
        else:
            raise validation(
                f"SharedWith {shared_with!r} is not an account id, IAM user or role ARN, organization or OU"
            )
        if recipient == account:
            raise validation("a resource cannot be shared with its own account")
        now = self.now()
        for share in self.state.shares.values():
            if share.resource is res and share.shared_with == shared_with and share.status(now) in LIVE:
                raise conflict(f"{kind.lower()} is already shared with {shared_with}", ident, kind)
        if share_id is not None and (
            not isinstance(share_id, str) or not INVITATION_ID.fullmatch(share_id) or share_id in self.state.shares
        ):
            raise ValueError(f"share_id {share_id!r} is not 32 hex characters or is taken")
        self.state.seq += 1
        share = Share(share_id or _hex_id(), res, shared_with, recipient, permission, now, self.state.seq)
        self.state.shares[share.share_id] = share
        response: dict[str, Any] = {"ShareId": share.share_id}
        if kind == "WORKLOAD":
            response["WorkloadId"] = res.rid
        elif kind == "PROFILE":
            response["ProfileArn"] = res.arn
        elif kind == "TEMPLATE":
            response["TemplateArn"] = res.arn
        self.state.events.append(share_event(event_name, account, region, p | {IDENT[kind]: ident}, response, now))
        return response

    def list_shares(self, kind: str, account: str, region: str, ident: str, p: dict[str, Any]) -> dict[str, Any]:
        res = self._owned(kind, account, region, ident)
        now = self.now()
        prefix, wanted = p.get("SharedWithPrefix") or "", p.get("Status")
        items = [
            s
            for s in sorted(self.state.shares.values(), key=lambda s: s.seq)
            if s.resource is res and s.shared_with.startswith(prefix) and (not wanted or s.status(now) == wanted)
        ]
        page, token = _page(items, p, lambda s: s.seq)
        summaries = []
        for s in page:
            summary = {"ShareId": s.share_id, "SharedWith": s.shared_with, "Status": s.status(now)}
            if kind == "WORKLOAD":
                summary["PermissionType"] = s.permission
            summaries.append(summary)
        key = {
            "WORKLOAD": "WorkloadShareSummaries",
            "LENS": "LensShareSummaries",
            "PROFILE": "ProfileShareSummaries",
            "TEMPLATE": "TemplateShareSummaries",
        }[kind]
        body: dict[str, Any] = {key: summaries}
        if kind == "WORKLOAD":
            body["WorkloadId"] = res.rid
        if kind == "TEMPLATE":
            body["TemplateArn"] = res.arn
        if token:
            body["NextToken"] = token
        return body

    def update_workload_share(
        self, account: str, region: str, workload_id: str, share_id: str, permission: str
    ) -> dict[str, Any]:
        """A new permission for a workload share. A PENDING or ACCEPTED share goes back to PENDING with a new
        7-day window and the same invitation id (user guide, "Modifying a shared workload"); an organization
        or OU share keeps its association status."""
        res = self._owned("WORKLOAD", account, region, workload_id)
        share = self.state.shares.get(share_id)
        if share is None or share.resource is not res:
            raise not_found(f"share {share_id!r} not found", share_id, "SHARE")
        now = self.now()
        status = share.status(now)
        if share.recipient is not None:
            if status not in ("PENDING", "ACCEPTED"):
                raise conflict(
                    f"share {share_id} is {status}: only a PENDING or ACCEPTED share can change", share_id, "SHARE"
                )
            share.settled, share.created = None, now
        elif status == "REVOKED":
            raise conflict(f"share {share_id} is REVOKED", share_id, "SHARE")
        share.permission = permission
        response = {
            "WorkloadId": res.rid,
            "WorkloadShare": {
                "ShareId": share.share_id,
                "SharedBy": res.owner,
                "SharedWith": share.shared_with,
                "PermissionType": permission,
                "Status": share.status(now),
                "WorkloadName": res.name,
                "WorkloadId": res.rid,
            },
        }
        request = {"WorkloadId": workload_id, "ShareId": share_id, "PermissionType": permission}
        self.state.events.append(share_event("UpdateWorkloadShare", account, region, request, response, now))
        return response

    def delete_share(self, kind: str, account: str, region: str, ident: str, share_id: str) -> dict[str, Any]:
        res = self._owned(kind, account, region, ident)
        share = self.state.shares.get(share_id)
        if share is None or share.resource is not res:
            raise not_found(f"share {share_id!r} not found", share_id, "SHARE")
        if share.status(self.now()) in ("REVOKED", "REJECTED", "EXPIRED"):
            raise conflict(f"share {share_id} is already {share.status(self.now())}", share_id, "SHARE")
        share.settled = "REVOKED"
        return {}

    # ---------------------------------------------------------------- recipient side
    def list_share_invitations(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        # untyped: every type here; WORKLOAD only in strict mode (the operation's original meaning)
        wanted = p.get("ShareResourceType") or ("WORKLOAD" if self.strict else None)
        prefixes = {
            "WORKLOAD": p.get("WorkloadNamePrefix"),
            "LENS": p.get("LensNamePrefix"),
            "PROFILE": p.get("ProfileNamePrefix"),
            "TEMPLATE": p.get("TemplateNamePrefix"),
        }
        items = []
        for s in sorted(self.state.shares.values(), key=lambda s: s.seq):
            kind = s.resource.kind
            if s.recipient != account or s.resource.region != region or s.status(now) != "PENDING":
                continue
            if wanted and kind != wanted:
                continue
            prefix = prefixes[kind]
            if prefix and not s.resource.name.startswith(prefix):
                continue
            items.append(s)
        page, token = _page(items, p, lambda s: s.seq)
        summaries = [self._summary(s) for s in page]
        if self.strict:
            for summary in summaries:
                del summary["ShareResourceType"]
        body: dict[str, Any] = {"ShareInvitationSummaries": summaries}
        if token:
            body["NextToken"] = token
        return body

    @staticmethod
    def _summary(s: Share) -> dict[str, Any]:
        name_member, id_member = KINDS[s.resource.kind]
        summary = {
            "ShareInvitationId": s.share_id,
            "SharedBy": s.resource.owner,
            "SharedWith": s.shared_with,
            "ShareResourceType": s.resource.kind,
            name_member: s.resource.name,
            id_member: s.resource.id_value,
        }
        if s.permission:
            summary["PermissionType"] = s.permission
        return summary

    def update_share_invitation(
        self, account: str, region: str, invitation_id: str, action: str, principal: str | None = None
    ) -> dict[str, Any]:
        """ACCEPT or REJECT. principal is the caller's IAM user or role ARN (None: the account's own)."""
        if not INVITATION_ID.fullmatch(invitation_id):
            raise validation(f"ShareInvitationId {invitation_id!r} does not match [0-9a-f]{{32}}")
        if action not in ("ACCEPT", "REJECT"):
            raise validation(f"ShareInvitationAction {action!r} is not ACCEPT or REJECT")
        share = self.state.shares.get(invitation_id)
        if share is None or share.recipient != account or share.resource.region != region:
            raise not_found(f"share invitation {invitation_id} not found", invitation_id, "SHARE_INVITATION")
        if self.strict and share.for_principal and principal != share.shared_with:
            raise access_denied(
                f"share invitation {invitation_id} is addressed to {share.shared_with}; "
                f"{principal or 'this caller'} may not answer it"
            )
        status = share.status(self.now())
        if status == "EXPIRED" and self.strict:
            raise validation(f"share invitation {invitation_id} has expired")
        if status != "PENDING":
            raise conflict(
                f"share invitation {invitation_id} is {status}: it has already been processed",
                invitation_id,
                "SHARE_INVITATION",
            )
        share.settled = "ACCEPTED" if action == "ACCEPT" else "REJECTED"
        res = share.resource
        invitation: dict[str, Any] = {"ShareInvitationId": invitation_id, "ShareResourceType": res.kind}
        if res.kind == "WORKLOAD":
            invitation["WorkloadId"] = res.rid
        elif res.kind == "LENS":
            invitation["LensArn"] = res.arn
            invitation["LensAlias"] = res.arn
        elif res.kind == "PROFILE":
            invitation["ProfileArn"] = res.arn
        else:
            invitation["TemplateArn"] = res.arn
        return {"ShareInvitation": invitation}


def share_event(
    event_name: str, account: str, region: str, request: dict[str, Any], response: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The CloudTrail-shaped EventBridge event the sharer's account sees for a Create*Share call."""
    when = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.wellarchitected",
        "account": account,
        "time": when,
        "region": region,
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "userIdentity": {
                "type": "AssumedRole",
                "principalId": f"AROASIMULATOR{account[-4:]}:sharer",
                "arn": f"arn:aws:sts::{account}:assumed-role/Sharer/sharer",
                "accountId": account,
                "accessKeyId": f"ASIASIMULATOR{account[-4:]}",
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": f"AROASIMULATOR{account[-4:]}",
                        "arn": f"arn:aws:iam::{account}:role/Sharer",
                        "accountId": account,
                        "userName": "Sharer",
                    },
                    "attributes": {"creationDate": when, "mfaAuthenticated": "false"},
                },
            },
            "eventTime": when,
            "eventSource": "wellarchitected.amazonaws.com",
            "eventName": event_name,
            "awsRegion": region,
            "sourceIPAddress": "198.51.100.10",
            "userAgent": "simulator",
            "requestParameters": dict(request),
            "responseElements": dict(response),
            "requestID": str(uuid.uuid4()),
            "eventID": str(uuid.uuid4()),
            "readOnly": False,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": account,
            "eventCategory": "Management",
        },
    }


def utcnow() -> datetime:
    return datetime.now(UTC)
