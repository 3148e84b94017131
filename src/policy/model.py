"""The policy's data model: invitations as the API returns them, the policy, and decisions.

Pure Python: nothing under ``policy`` imports boto3 or reads the environment.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, NamedTuple

RESOURCE_TYPES: tuple[str, ...] = ("WORKLOAD", "LENS", "PROFILE", "TEMPLATE")
PERMISSION_TYPES: tuple[str, ...] = ("READONLY", "CONTRIBUTOR")

# ShareInvitationSummary member that names the shared resource, per resource type.
_NAME_FIELD = {
    "WORKLOAD": "WorkloadName",
    "LENS": "LensName",
    "PROFILE": "ProfileName",
    "TEMPLATE": "TemplateName",
}
_ID_FIELD = {
    "WORKLOAD": "WorkloadId",
    "LENS": "LensArn",
    "PROFILE": "ProfileArn",
    "TEMPLATE": "TemplateArn",
}


class Action(StrEnum):
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"
    IGNORE = "IGNORE"


class NonMatchingAction(StrEnum):
    IGNORE = "IGNORE"
    REJECT = "REJECT"


class Invitation(NamedTuple):
    """One ShareInvitationSummary, exactly as ListShareInvitations returned it.

    Fields the API did not return are None; the policy never fills them in.
    """

    share_invitation_id: str | None
    shared_by: str | None
    shared_with: str | None
    resource_type: str | None
    permission_type: str | None
    resource_name: str | None
    resource_id: str | None

    @classmethod
    def from_summary(cls, summary: dict[str, Any]) -> Invitation:
        resource_type = summary.get("ShareResourceType")
        name_field = _NAME_FIELD.get(resource_type or "")
        id_field = _ID_FIELD.get(resource_type or "")
        return cls(
            share_invitation_id=summary.get("ShareInvitationId"),
            shared_by=summary.get("SharedBy"),
            shared_with=summary.get("SharedWith"),
            resource_type=resource_type,
            permission_type=summary.get("PermissionType"),
            resource_name=summary.get(name_field) if name_field else None,
            resource_id=summary.get(id_field) if id_field else None,
        )


class OrgAncestry(NamedTuple):
    """Where the sharing account sits in the organization, as a lookup found it.

    ``ancestors`` holds every OU id and the root id above the account (nested OUs included) when
    the lookup succeeded; ``error`` says which lookup failed otherwise. Exactly one is set.
    """

    ancestors: frozenset[str] | None = None
    error: str | None = None

    @classmethod
    def found(cls, ancestors: frozenset[str] | set[str] | list[str]) -> OrgAncestry:
        return cls(ancestors=frozenset(ancestors))

    @classmethod
    def failed(cls, error: str) -> OrgAncestry:
        return cls(error=error)


class Policy(NamedTuple):
    """The allowlist, validated. Build it with ``policy.config.load_policy``."""

    allowed_accounts: frozenset[str] = frozenset()
    allowed_ous: frozenset[str] = frozenset()
    denied_accounts: frozenset[str] = frozenset()
    denied_ous: frozenset[str] = frozenset()
    allowed_resource_types: frozenset[str] = frozenset(RESOURCE_TYPES)
    allowed_permission_types: frozenset[str] = frozenset({"READONLY"})
    non_matching_action: NonMatchingAction = NonMatchingAction.IGNORE
    dry_run: bool = False

    @property
    def uses_ous(self) -> bool:
        """True when a decision may need the sharer's place in the organization."""
        return bool(self.allowed_ous or self.denied_ous)

    def describe(self) -> dict[str, Any]:
        """The effective policy as plain JSON-ready data (for logs and `make check-policy`)."""
        return {
            "allowed_source_accounts": sorted(self.allowed_accounts),
            "allowed_source_ous": sorted(self.allowed_ous),
            "denied_source_accounts": sorted(self.denied_accounts),
            "denied_source_ous": sorted(self.denied_ous),
            "allowed_resource_types": sorted(self.allowed_resource_types),
            "allowed_permission_types": sorted(self.allowed_permission_types),
            "non_matching_action": self.non_matching_action.value,
            "dry_run": self.dry_run,
        }


class Decision(NamedTuple):
    """What to do with one invitation, and why.

    ``reason`` is a stable machine-readable code (see ``policy.evaluate.Reason``); ``field`` names the
    invitation field or policy rule the decision turned on; ``detail`` is a short human sentence.
    """

    action: Action
    reason: str
    field: str | None = None
    detail: str = ""
