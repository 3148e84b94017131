"""Decide one invitation. Pure and deterministic: same inputs, same decision.

The order (docs/policy.md): malformed input -> addressed to an IAM principal -> denied account ->
denied OU -> resource type -> permission -> allowed account -> allowed OU -> NonMatchingAction.
Whenever an input the decision needs is unavailable or malformed, the answer is IGNORE for this round,
never ACCEPT or REJECT. Every pattern is ASCII-only and matched against the whole value.
"""

from __future__ import annotations

import re
from enum import StrEnum

from policy.model import PERMISSION_TYPES, RESOURCE_TYPES, Action, Decision, Invitation, OrgAncestry, Policy, shown

_INVITATION_ID = re.compile(r"[0-9a-f]{32}")
# arn:<partition>:iam::<account>:user/<path/name> or role/<path/name>. IAM names: ASCII letters, digits, +=,.@_-
_IAM_PRINCIPAL = re.compile(
    r"arn:aws(?:-[a-z]+)*:iam::[0-9]{12}:(?:user|role)/(?:[A-Za-z0-9+=,.@_-]{1,512}/){0,64}[A-Za-z0-9+=,.@_-]{1,128}"
)
_MAX_PRINCIPAL_LENGTH = 2048
_RESOURCE_TYPES = frozenset(RESOURCE_TYPES)
_PERMISSION_TYPES = frozenset(PERMISSION_TYPES)


class Reason(StrEnum):
    MISSING_INPUT = "missing_input"
    INVALID_INPUT = "invalid_input"
    ADDRESSED_TO_PRINCIPAL = "addressed_to_principal"
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
    """Exactly 12 ASCII digits: ``re.fullmatch("[0-9]{12}")`` at a third of the cost (evaluate runs per
    invitation). ``isascii()`` comes first because ``isdigit()`` alone takes every Unicode digit."""
    return len(value) == 12 and value.isascii() and value.isdigit()


def _wrong_type(invitation: Invitation, field: str) -> Decision | None:
    """invalid_input when the summary held ``field`` as something other than a string (see from_summary)."""
    for member, bad in invitation.malformed:
        if member == field:
            return _ignore(Reason.INVALID_INPUT, field, f"{field} {bad} is not a string")
    return None


def _not_a_string(field: str, value: object) -> Decision:
    """invalid_input for a non-string field in an Invitation built by hand rather than by from_summary."""
    return _ignore(Reason.INVALID_INPUT, field, f"{field} {shown(value)} is not a string")


def _check_identity(invitation: Invitation) -> Decision | None:
    """Rules 1 to 3: the id, the recipient and the sharer, before any policy rule."""
    inv_id = invitation.share_invitation_id
    if inv_id is None:
        return _wrong_type(invitation, "ShareInvitationId") or _ignore(
            Reason.MISSING_INPUT, "ShareInvitationId", "invitation has no id"
        )
    if not isinstance(inv_id, str):
        return _not_a_string("ShareInvitationId", inv_id)
    if not _INVITATION_ID.fullmatch(inv_id):
        return _ignore(Reason.INVALID_INPUT, "ShareInvitationId", f"invitation id {shown(inv_id)} is not 32 hex digits")

    # A missing SharedWith is taken as an account invitation: the rules below still check the sharer,
    # the type and the permission, and an invitation that is not ours would only fail to update.
    recipient = invitation.shared_with
    if recipient is None:
        wrong = _wrong_type(invitation, "SharedWith")
        if wrong is not None:
            return wrong
    elif not isinstance(recipient, str):
        return _not_a_string("SharedWith", recipient)
    elif not _is_account(recipient):
        if len(recipient) <= _MAX_PRINCIPAL_LENGTH and _IAM_PRINCIPAL.fullmatch(recipient):
            return _ignore(
                Reason.ADDRESSED_TO_PRINCIPAL,
                "SharedWith",
                f"invitation is addressed to {recipient}, not to the account: only that principal answers it",
            )
        return _ignore(
            Reason.INVALID_INPUT,
            "SharedWith",
            f"recipient {shown(recipient)} is not a 12-digit account id or an IAM user or role ARN",
        )

    sharer = invitation.shared_by
    if sharer is None:
        return _wrong_type(invitation, "SharedBy") or _ignore(
            Reason.MISSING_INPUT, "SharedBy", "invitation names no sharer"
        )
    if not isinstance(sharer, str):
        return _not_a_string("SharedBy", sharer)
    if not _is_account(sharer):
        return _ignore(Reason.INVALID_INPUT, "SharedBy", f"sharer {shown(sharer)} is not a 12-digit account id")
    return None


def _unknown_ancestry(ancestry: OrgAncestry | None) -> str:
    if ancestry is None:
        return "no organizations lookup was made"
    return ancestry.error or "organizations lookup returned nothing"


def evaluate(policy: Policy, invitation: Invitation, ancestry: OrgAncestry | None = None) -> Decision:
    """What to do with this invitation, exactly as ListShareInvitations returned it."""
    unusable = _check_identity(invitation)
    if unusable is not None:
        return unusable
    sharer = invitation.shared_by
    assert sharer is not None  # _check_identity answered otherwise

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
        return _wrong_type(invitation, "ShareResourceType") or _ignore(
            Reason.MISSING_INPUT, "ShareResourceType", "invitation has no resource type"
        )
    if not isinstance(rtype, str):
        return _not_a_string("ShareResourceType", rtype)
    if rtype not in _RESOURCE_TYPES:
        return _ignore(Reason.INVALID_INPUT, "ShareResourceType", f"resource type {shown(rtype)} is unknown")
    if rtype not in policy.allowed_resource_types:
        return _non_matching(
            policy,
            Reason.RESOURCE_TYPE_NOT_ALLOWED,
            "ShareResourceType",
            f"resource type {rtype} is not in AllowedResourceTypes",
        )

    permission = invitation.permission_type
    if permission is None:
        wrong = _wrong_type(invitation, "PermissionType")
        if wrong is not None:
            return wrong
        permission = "READONLY"  # lenses, profiles and templates are shared without a permission
    elif not isinstance(permission, str):
        return _not_a_string("PermissionType", permission)
    elif permission not in _PERMISSION_TYPES:
        return _ignore(Reason.INVALID_INPUT, "PermissionType", f"permission {shown(permission)} is unknown")
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
