"""Decide one invitation. Pure and deterministic: same inputs, same decision.

The order (docs/policy.md): malformed input -> denied account -> denied OU -> resource type ->
permission -> allowed account -> allowed OU -> NonMatchingAction. Whenever an input the decision
needs is unavailable, the answer is IGNORE for this round, never ACCEPT or REJECT.
"""

from __future__ import annotations

import re
from enum import StrEnum

from policy.model import PERMISSION_TYPES, RESOURCE_TYPES, Action, Decision, Invitation, OrgAncestry, Policy

_INVITATION_ID = re.compile(r"^[0-9a-f]{32}$")
_RESOURCE_TYPES = frozenset(RESOURCE_TYPES)
_PERMISSION_TYPES = frozenset(PERMISSION_TYPES)


class Reason(StrEnum):
    MISSING_INPUT = "missing_input"
    INVALID_INPUT = "invalid_input"
    DENIED_ACCOUNT = "denied_account"
    DENIED_OU = "denied_ou"
    ORG_LOOKUP_FAILED = "org_lookup_failed"
    RESOURCE_TYPE_NOT_ALLOWED = "resource_type_not_allowed"
    PERMISSION_NOT_ALLOWED = "permission_not_allowed"
    ALLOWED_ACCOUNT = "allowed_account"
    ALLOWED_OU = "allowed_ou"
    SOURCE_NOT_ALLOWED = "source_not_allowed"


# Plain strings looked up once: evaluate() runs per invitation and enum attribute access is not free.
_CODE = {reason: reason.value for reason in Reason}
_ACTION_FOR = {action.value: action for action in Action}


def _ignore(reason: Reason, field: str, detail: str) -> Decision:
    return Decision(Action.IGNORE, _CODE[reason], field, detail)


def _non_matching(policy: Policy, reason: Reason, field: str, detail: str) -> Decision:
    return Decision(_ACTION_FOR[policy.non_matching_action], _CODE[reason], field, detail)


def _is_account(value: str) -> bool:
    return len(value) == 12 and value.isascii() and value.isdigit()


def _unknown_ancestry(ancestry: OrgAncestry | None) -> str:
    if ancestry is None:
        return "no organizations lookup was made"
    return ancestry.error or "organizations lookup returned nothing"


def evaluate(policy: Policy, invitation: Invitation, ancestry: OrgAncestry | None = None) -> Decision:
    """What to do with this invitation, exactly as ListShareInvitations returned it."""
    inv_id, sharer = invitation.share_invitation_id, invitation.shared_by
    if inv_id is None:
        return _ignore(Reason.MISSING_INPUT, "ShareInvitationId", "invitation has no id")
    if not isinstance(inv_id, str) or not _INVITATION_ID.match(inv_id):
        return _ignore(Reason.INVALID_INPUT, "ShareInvitationId", f"invitation id {inv_id!r} is malformed")
    if sharer is None:
        return _ignore(Reason.MISSING_INPUT, "SharedBy", "invitation names no sharer")
    if not isinstance(sharer, str) or not _is_account(sharer):
        return _ignore(Reason.INVALID_INPUT, "SharedBy", f"sharer {sharer!r} is not a 12-digit account id")

    if sharer in policy.denied_accounts:
        return Decision(
            Action.REJECT, _CODE[Reason.DENIED_ACCOUNT], "SharedBy", f"sharer {sharer} is in DeniedSourceAccounts"
        )
    known = ancestry.ancestors if ancestry is not None else None
    if policy.denied_ous:
        if known is None:
            return _ignore(
                Reason.ORG_LOOKUP_FAILED,
                "SharedBy",
                f"cannot check DeniedSourceOUs for sharer {sharer}: {_unknown_ancestry(ancestry)}",
            )
        hit = policy.denied_ous & known
        if hit:
            return Decision(
                Action.REJECT,
                _CODE[Reason.DENIED_OU],
                "SharedBy",
                f"sharer {sharer} is below denied {', '.join(sorted(hit))}",
            )

    rtype = invitation.resource_type
    if rtype is None:
        return _ignore(Reason.MISSING_INPUT, "ShareResourceType", "invitation has no resource type")
    if rtype not in _RESOURCE_TYPES:
        return _ignore(Reason.INVALID_INPUT, "ShareResourceType", f"resource type {rtype!r} is unknown")
    if rtype not in policy.allowed_resource_types:
        return _non_matching(
            policy,
            Reason.RESOURCE_TYPE_NOT_ALLOWED,
            "ShareResourceType",
            f"resource type {rtype} is not in AllowedResourceTypes",
        )

    permission = invitation.permission_type or "READONLY"
    if permission not in _PERMISSION_TYPES:
        return _ignore(Reason.INVALID_INPUT, "PermissionType", f"permission {permission!r} is unknown")
    if permission not in policy.allowed_permission_types:
        return _non_matching(
            policy,
            Reason.PERMISSION_NOT_ALLOWED,
            "PermissionType",
            f"permission {permission} is not in AllowedPermissionTypes",
        )

    if sharer in policy.allowed_accounts:
        return Decision(
            Action.ACCEPT, _CODE[Reason.ALLOWED_ACCOUNT], "SharedBy", f"sharer {sharer} is in AllowedSourceAccounts"
        )
    if policy.allowed_ous:
        if known is None:
            return _ignore(
                Reason.ORG_LOOKUP_FAILED,
                "SharedBy",
                f"cannot check AllowedSourceOUs for sharer {sharer}: {_unknown_ancestry(ancestry)}",
            )
        hit = policy.allowed_ous & known
        if hit:
            return Decision(
                Action.ACCEPT,
                _CODE[Reason.ALLOWED_OU],
                "SharedBy",
                f"sharer {sharer} is below allowed {', '.join(sorted(hit))}",
            )
    return _non_matching(
        policy, Reason.SOURCE_NOT_ALLOWED, "SharedBy", f"sharer {sharer} matches no allowed account or OU"
    )
