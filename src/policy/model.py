"""The policy's data model: invitations as the API returns them, the policy, and decisions.

Pure Python: nothing under ``policy`` imports boto3 or reads the environment.
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping
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


# The members the decision reads; a value of any other type than str is recorded in ``malformed``.
DECISION_FIELDS: tuple[str, ...] = (
    "ShareInvitationId",
    "SharedBy",
    "SharedWith",
    "ShareResourceType",
    "PermissionType",
)

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 80
_REPR.maxlevel = 2
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 4
_SHOWN_LENGTH = 100


def shown(value: object) -> str:
    """A repr of an input value for a log line, at most 100 characters (long strings and lists are cut)."""
    text = _REPR.repr(value)
    return text if len(text) <= _SHOWN_LENGTH else text[: _SHOWN_LENGTH - 3] + "..."


class Action(StrEnum):
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"
    IGNORE = "IGNORE"


class NonMatchingAction(StrEnum):
    IGNORE = "IGNORE"
    REJECT = "REJECT"


class Invitation(NamedTuple):
    """One ShareInvitationSummary, exactly as ListShareInvitations returned it.

    Every field is a ``str`` or None. Members the API did not return are None; the policy never fills
    them in. A decision member of another JSON type (a list, a number, an object...) is None here and
    listed in ``malformed`` as ``(member, shown value)``, so that ``evaluate`` answers ``invalid_input``
    for it; a name or id member of another type is simply None (they are only logged).
    """

    share_invitation_id: str | None
    shared_by: str | None
    shared_with: str | None
    resource_type: str | None
    permission_type: str | None
    resource_name: str | None
    resource_id: str | None
    malformed: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_summary(cls, summary: object) -> Invitation:
        """Read one summary; never raises. Anything but a JSON object reads as a summary with no members."""
        members: Mapping[Any, Any] = summary if isinstance(summary, Mapping) else {}
        malformed: list[tuple[str, str]] = []
        decided: dict[str, str | None] = {}
        for field in DECISION_FIELDS:
            value = members.get(field)
            if value is None or isinstance(value, str):
                decided[field] = value
            else:
                decided[field] = None
                malformed.append((field, shown(value)))
        resource_type = decided["ShareResourceType"] or ""
        name_field = _NAME_FIELD.get(resource_type)
        id_field = _ID_FIELD.get(resource_type)
        name = members.get(name_field) if name_field else None
        ident = members.get(id_field) if id_field else None
        return cls(
            share_invitation_id=decided["ShareInvitationId"],
            shared_by=decided["SharedBy"],
            shared_with=decided["SharedWith"],
            resource_type=decided["ShareResourceType"],
            permission_type=decided["PermissionType"],
            resource_name=name if isinstance(name, str) else None,
            resource_id=ident if isinstance(ident, str) else None,
            malformed=tuple(malformed),
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
