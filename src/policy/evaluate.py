"""Decide one invitation. Pure and deterministic: same inputs, same decision.

The order (docs/policy.md): malformed id, recipient or sharer -> addressed to an IAM principal -> any REJECT
rule that matches -> any ACCEPT rule that matches -> NonMatchingAction. A rule that might match but needs
an input that is unavailable (the sharer's OUs, the type, the permission, the name) leaves the invitation
pending when no rule of its action or a stronger one decides.
Whenever an input the decision needs is unavailable or malformed, the answer is IGNORE for this round,
never ACCEPT or REJECT. Every pattern is ASCII-only and matched against the whole value.
"""

from __future__ import annotations

from enum import StrEnum

from policy.identifiers import INVITATION_ID, is_account_id, principal_account
from policy.model import (
    NAME_FIELDS,
    PERMISSION_TYPES,
    RESOURCE_TYPES,
    Action,
    Decision,
    Invitation,
    OrgAncestry,
    Policy,
    Rule,
    shown,
)

_RESOURCE_TYPES = frozenset(RESOURCE_TYPES)
_PERMISSION_TYPES = frozenset(PERMISSION_TYPES)
_TYPE_COUNT, _PERMISSION_COUNT = len(RESOURCE_TYPES), len(PERMISSION_TYPES)


class Reason(StrEnum):
    MISSING_INPUT = "missing_input"
    INVALID_INPUT = "invalid_input"
    ADDRESSED_TO_PRINCIPAL = "addressed_to_principal"
    DENIED_ACCOUNT = "denied_account"
    DENIED_OU = "denied_ou"
    ORG_LOOKUP_FAILED = "org_lookup_failed"
    RESOURCE_TYPE_NOT_ALLOWED = "resource_type_not_allowed"
    PERMISSION_NOT_ALLOWED = "permission_not_allowed"
    RESOURCE_NAME_NOT_ALLOWED = "resource_name_not_allowed"
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
    if not INVITATION_ID.fullmatch(inv_id):
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
    elif not is_account_id(recipient):
        if principal_account(recipient) is not None:
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
    if not is_account_id(sharer):
        return _ignore(Reason.INVALID_INPUT, "SharedBy", f"sharer {shown(sharer)} is not a 12-digit account id")
    return None


def _unknown_ancestry(ancestry: OrgAncestry | None) -> str:
    if ancestry is None:
        return "no organizations lookup was made"
    return ancestry.error or "organizations lookup returned nothing"


def _resource_type(invitation: Invitation) -> tuple[str | None, Decision | None]:
    """(the type, None) when usable, else (None, why not)."""
    rtype = invitation.resource_type
    if rtype is None:
        return None, _wrong_type(invitation, "ShareResourceType") or _ignore(
            Reason.MISSING_INPUT, "ShareResourceType", "invitation has no resource type"
        )
    if not isinstance(rtype, str):
        return None, _not_a_string("ShareResourceType", rtype)
    if rtype not in _RESOURCE_TYPES:
        return None, _ignore(Reason.INVALID_INPUT, "ShareResourceType", f"resource type {shown(rtype)} is unknown")
    return rtype, None


def _permission(invitation: Invitation) -> tuple[str | None, Decision | None]:
    permission = invitation.permission_type
    if permission is None:
        wrong = _wrong_type(invitation, "PermissionType")
        if wrong is not None:
            return None, wrong
        if invitation.resource_type == "WORKLOAD":  # a workload is always shared with a permission
            return None, _ignore(Reason.MISSING_INPUT, "PermissionType", "workload invitation names no permission")
        return "READONLY", None  # lenses, profiles and templates are shared without a permission
    if not isinstance(permission, str):
        return None, _not_a_string("PermissionType", permission)
    if permission not in _PERMISSION_TYPES:
        return None, _ignore(Reason.INVALID_INPUT, "PermissionType", f"permission {shown(permission)} is unknown")
    return permission, None


_MATCHED_BY_ACCOUNT = "account"
_NO = "no"
_NAME_NO = "name"  # everything matched but the resource name


def _match(
    rule: Rule,
    sharer: str,
    ancestors: frozenset[str] | None,
    ancestry: OrgAncestry | None,
    invitation: Invitation,
    rtype: str | None,
    rtype_problem: Decision | None,
    permission: str | None,
    permission_problem: Decision | None,
) -> str | Decision:
    """``_NO``, ``_NAME_NO``, ``"account"``, the matching OU ids (joined), or an IGNORE decision when the rule
    might match but an input it needs is unavailable. A REJECT rule that covers every type or permission
    needs no valid value for it; an ACCEPT rule always does."""
    unknown: Decision | None = None
    strict = rule.action is Action.ACCEPT
    if strict or len(rule.resource_types) != _TYPE_COUNT:
        if rtype_problem is not None:
            unknown = rtype_problem
        elif rtype not in rule.resource_types:
            return _NO
    if strict or len(rule.permission_types) != _PERMISSION_COUNT:
        if permission_problem is not None:
            unknown = unknown or permission_problem
        elif permission not in rule.permission_types:
            return _NO
    if rule.resource_names:
        name = invitation.resource_name
        if name is None:
            field = NAME_FIELDS.get(rtype or "", "ResourceName")
            unknown = unknown or _ignore(
                Reason.MISSING_INPUT, field, f"{rule.label} matches on the name, and the invitation has none"
            )
        elif not rule.names_match(name):
            named = sharer in rule.accounts or bool(ancestors and rule.ous & ancestors)
            return _NAME_NO if named and unknown is None else _NO
    if sharer in rule.accounts:
        return unknown or _MATCHED_BY_ACCOUNT
    if not rule.ous:
        return _NO
    if ancestors is None:
        return unknown or _ignore(
            Reason.ORG_LOOKUP_FAILED,
            "SharedBy",
            f"cannot check the OUs of {rule.label} for sharer {sharer}: {_unknown_ancestry(ancestry)}",
        )
    hit = rule.ous & ancestors
    if not hit:
        return _NO
    return unknown or ", ".join(sorted(hit))


def _decided(rule: Rule, how: str, sharer: str) -> Decision:
    reject = rule.action is Action.REJECT
    if how == _MATCHED_BY_ACCOUNT:
        reason = Reason.DENIED_ACCOUNT if reject else Reason.ALLOWED_ACCOUNT
        detail = f"sharer {sharer} is named by {rule.label}"
    else:
        reason = Reason.DENIED_OU if reject else Reason.ALLOWED_OU
        detail = f"sharer {sharer} is below {how}, named by {rule.label}"
    return Decision(rule.action, _CODE[reason], "SharedBy", detail, rule.position, rule.id)


def evaluate(policy: Policy, invitation: Invitation, ancestry: OrgAncestry | None = None) -> Decision:
    """What to do with this invitation, exactly as ListShareInvitations returned it."""
    unusable = _check_identity(invitation)
    if unusable is not None:
        return unusable
    sharer = invitation.shared_by
    assert sharer is not None  # _check_identity answered otherwise
    rtype: str | None = invitation.resource_type
    rtype_problem: Decision | None = None
    if type(rtype) is not str or rtype not in _RESOURCE_TYPES:
        rtype, rtype_problem = _resource_type(invitation)
    permission: str | None = invitation.permission_type
    permission_problem: Decision | None = None
    if type(permission) is not str or permission not in _PERMISSION_TYPES:
        permission, permission_problem = _permission(invitation)
    ancestors = ancestry.ancestors if ancestry is not None else None

    name_missed: Rule | None = None
    for index in (policy.rejects, policy.accepts):  # any REJECT rule that matches beats every ACCEPT rule
        best: Rule | None = None
        best_how = ""
        undecided: Decision | None = None
        for rule in index.candidates(sharer, ancestors):
            if best is not None and rule.position >= best.position:
                continue
            if sharer in rule.accounts and not rule.resource_names and rtype_problem is permission_problem is None:
                # The common case, without the general matcher: the account is named, type and permission valid
                if rtype in rule.resource_types and permission in rule.permission_types:
                    best, best_how = rule, _MATCHED_BY_ACCOUNT
                continue
            how = _match(
                rule, sharer, ancestors, ancestry, invitation, rtype, rtype_problem, permission, permission_problem
            )
            if type(how) is Decision:
                undecided = undecided or how
            elif how is _NAME_NO:
                name_missed = name_missed or rule
            elif how is not _NO:
                best, best_how = rule, str(how)
        if best is not None:
            return _decided(best, best_how, sharer)  # the first rule (by position) of this action that matches
        if undecided is not None:
            return undecided  # a rule of this action might match: nothing weaker may decide
    if rtype_problem is not None:
        return rtype_problem
    if permission_problem is not None:
        return permission_problem
    assert rtype is not None and permission is not None
    if not policy.accepts_type(rtype):
        return _non_matching(
            policy, Reason.RESOURCE_TYPE_NOT_ALLOWED, "ShareResourceType", f"no rule accepts resource type {rtype}"
        )
    if not policy.accepts_permission(rtype, permission):
        return _non_matching(
            policy,
            Reason.PERMISSION_NOT_ALLOWED,
            "PermissionType",
            f"no rule accepts {rtype} with permission {permission}",
        )
    if name_missed is not None and name_missed.action is Action.ACCEPT:
        field = NAME_FIELDS.get(rtype, "ResourceName")
        return _non_matching(
            policy,
            Reason.RESOURCE_NAME_NOT_ALLOWED,
            field,
            f"{field} {shown(invitation.resource_name)} matches none of the names of {name_missed.label}",
        )
    return _non_matching(
        policy, Reason.SOURCE_NOT_ALLOWED, "SharedBy", f"no rule accepts this {rtype} from sharer {sharer}"
    )
