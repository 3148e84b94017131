"""The policy's data model: invitations as the API returns them, the policy, and decisions.

Pure Python: nothing under ``policy`` imports boto3 or reads the environment.
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, NamedTuple

RESOURCE_TYPES: tuple[str, ...] = ("WORKLOAD", "LENS", "PROFILE", "TEMPLATE")
PERMISSION_TYPES: tuple[str, ...] = ("READONLY", "CONTRIBUTOR")

# ShareInvitationSummary member that names the shared resource, per resource type.
NAME_FIELDS = {
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
        name_field = NAME_FIELDS.get(resource_type)
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


class SimpleForm(NamedTuple):
    """The eight environment variables, validated: the simple form of a policy (``policy.config``)."""

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
        return bool(self.allowed_ous or self.denied_ous)

    def describe(self) -> dict[str, Any]:
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


class Rule(NamedTuple):
    """One rule: which sharers, types, permissions and names it covers, and its action.

    A rule matches an invitation when the sharer is one of ``accounts`` or below one of ``ous``, and the
    resource type, the permission and (when ``resource_names`` is not empty) the resource name match.
    """

    position: int  # its index in the document's list of rules
    action: Action  # ACCEPT or REJECT
    accounts: frozenset[str] = frozenset()
    ous: frozenset[str] = frozenset()
    resource_types: frozenset[str] = frozenset(RESOURCE_TYPES)
    permission_types: frozenset[str] = frozenset(PERMISSION_TYPES)
    resource_names: tuple[str, ...] = ()  # glob patterns, ``*`` the only wildcard; empty: any name
    id: str | None = None
    name_patterns: tuple[re.Pattern[str], ...] = ()  # compiled from resource_names
    label: str = ""  # "rule 3 (security-lenses)", for decision details

    def names_match(self, name: str) -> bool:
        return not self.name_patterns or any(p.fullmatch(name) for p in self.name_patterns)

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {"index": self.position}
        if self.id:
            described["id"] = self.id
        described |= {
            "action": self.action.value,
            "sharers": {"accounts": sorted(self.accounts), "ous": sorted(self.ous)},
            "resource_types": [t for t in RESOURCE_TYPES if t in self.resource_types],
            "permission_types": [p for p in PERMISSION_TYPES if p in self.permission_types],
        }
        if self.resource_names:
            described["resource_names"] = list(self.resource_names)
        return described


def name_pattern(glob: str) -> re.Pattern[str]:
    """A resource-name glob (``*`` matches any run of characters, nothing else is special) as a regex."""
    return re.compile(".*".join(re.escape(part) for part in glob.split("*")), re.DOTALL)


def make_rule(
    position: int,
    action: Action,
    *,
    accounts: frozenset[str] = frozenset(),
    ous: frozenset[str] = frozenset(),
    resource_types: frozenset[str] = frozenset(RESOURCE_TYPES),
    permission_types: frozenset[str] = frozenset(PERMISSION_TYPES),
    resource_names: tuple[str, ...] = (),
    rule_id: str | None = None,
) -> Rule:
    return Rule(
        position,
        action,
        frozenset(accounts),
        frozenset(ous),
        frozenset(resource_types),
        frozenset(permission_types),
        tuple(resource_names),
        rule_id,
        tuple(name_pattern(g) for g in resource_names),
        f"rule {position}" + (f" ({rule_id})" if rule_id else ""),
    )


class _RuleIndex:
    """The rules of one action, indexed by the accounts and OUs they name."""

    __slots__ = ("by_account", "by_ou", "ou_rules", "rules")

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = tuple(rules)
        by_account: dict[str, list[Rule]] = {}
        by_ou: dict[str, list[Rule]] = {}
        for rule in rules:
            for account in rule.accounts:
                by_account.setdefault(account, []).append(rule)
            for ou in rule.ous:
                by_ou.setdefault(ou, []).append(rule)
        self.by_account = {k: tuple(v) for k, v in by_account.items()}
        self.by_ou = {k: tuple(v) for k, v in by_ou.items()}
        self.ou_rules = tuple(rule for rule in rules if rule.ous)

    def candidates(self, sharer: str, ancestors: frozenset[str] | None) -> tuple[Rule, ...]:
        """The rules that may match this sharer: those naming the account, those naming one of its OUs,
        and, when its OUs are unknown, every rule with OUs (possibly with repeats; order does not matter)."""
        found = self.by_account.get(sharer, ())
        if self.ou_rules:
            if ancestors is None:
                return found + self.ou_rules
            for ou in ancestors:
                more = self.by_ou.get(ou)
                if more:
                    found = found + more
        return found


class Policy:
    """The policy as ordered rules: any matching REJECT rule rejects, else any matching ACCEPT rule
    accepts, else ``non_matching_action``. Built from a document (``policy.document.load_document``) or
    compiled from the eight environment variables (``policy.config.load_policy``), which it keeps in
    ``simple``. ``Policy.allowlist(...)`` compiles the simple form directly. Immutable; the indexes that
    let ``evaluate`` look at only the rules naming a sharer or its OUs are built once, here."""

    __slots__ = (
        "_accept_perms",
        "_accept_types",
        "accepts",
        "dry_run",
        "non_matching_action",
        "rejects",
        "rules",
        "simple",
        "source",
    )

    def __init__(
        self,
        rules: tuple[Rule, ...] = (),
        non_matching_action: NonMatchingAction = NonMatchingAction.IGNORE,
        dry_run: bool = False,
        simple: SimpleForm | None = None,
        source: str = "environment",
    ) -> None:
        self.rules = tuple(rules)
        self.non_matching_action = NonMatchingAction(non_matching_action)
        self.dry_run = bool(dry_run)
        self.simple = simple
        self.source = source
        self.rejects = _RuleIndex([rule for rule in self.rules if rule.action is Action.REJECT])
        self.accepts = _RuleIndex([rule for rule in self.rules if rule.action is Action.ACCEPT])
        accepts = self.accepts.rules
        self._accept_types = frozenset(t for rule in accepts for t in rule.resource_types)
        self._accept_perms = {
            t: frozenset(p for rule in accepts if t in rule.resource_types for p in rule.permission_types)
            for t in RESOURCE_TYPES
        }

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(self, "_accept_perms"):
            raise AttributeError("a Policy is immutable")
        object.__setattr__(self, name, value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Policy):
            return NotImplemented
        return (self.rules, self.non_matching_action, self.dry_run) == (
            other.rules,
            other.non_matching_action,
            other.dry_run,
        )

    def __hash__(self) -> int:
        return hash((self.rules, self.non_matching_action, self.dry_run))

    def __repr__(self) -> str:
        action = self.non_matching_action.value
        return f"Policy({len(self.rules)} rules, non_matching_action={action}, dry_run={self.dry_run})"

    @classmethod
    def allowlist(cls, **fields: Any) -> Policy:
        """The policy the eight variables would give: ``Policy.allowlist(allowed_accounts=frozenset({...}))``."""
        return compile_simple(SimpleForm(**fields))

    def with_dry_run(self, dry_run: bool) -> Policy:
        return Policy(self.rules, self.non_matching_action, dry_run, self.simple, self.source)

    def accepts_type(self, rtype: str) -> bool:
        return rtype in self._accept_types

    def accepts_permission(self, rtype: str, permission: str) -> bool:
        return permission in self._accept_perms.get(rtype, frozenset())

    @property
    def uses_ous(self) -> bool:
        """True when a decision may need the sharer's place in the organization."""
        return bool(self.rejects.ou_rules or self.accepts.ou_rules)

    def describe(self) -> dict[str, Any]:
        """The effective policy as plain JSON-ready data (for logs and `make check-policy`)."""
        described: dict[str, Any] = {"source": self.source}
        if self.simple is not None:
            described["variables"] = self.simple.describe()
        return described | {
            "non_matching_action": self.non_matching_action.value,
            "dry_run": self.dry_run,
            "rules": [rule.describe() for rule in self.rules],
        }


def compile_simple(form: SimpleForm) -> Policy:
    """The rules of the simple form: denied accounts and denied OUs reject whatever they share; allowed
    accounts and OUs are accepted for the allowed types and permissions (one rule each, in that order).
    The ACCEPT rule is kept even with no allowed sharer: it carries the allowed types and permissions
    that name the reason an invitation did not match."""
    rules: list[Rule] = []
    if form.denied_accounts:
        rules.append(make_rule(len(rules), Action.REJECT, accounts=form.denied_accounts, rule_id="denied-accounts"))
    if form.denied_ous:
        rules.append(make_rule(len(rules), Action.REJECT, ous=form.denied_ous, rule_id="denied-ous"))
    rules.append(
        make_rule(
            len(rules),
            Action.ACCEPT,
            accounts=form.allowed_accounts,
            ous=form.allowed_ous,
            resource_types=form.allowed_resource_types,
            permission_types=form.allowed_permission_types,
            rule_id="allowed",
        )
    )
    return Policy(tuple(rules), form.non_matching_action, form.dry_run, form, "environment")


class Decision(NamedTuple):
    """What to do with one invitation, and why.

    ``reason`` is a stable machine-readable code (see ``policy.evaluate.Reason``); ``field`` names the
    invitation field or policy rule the decision turned on; ``detail`` is a short human sentence.
    """

    action: Action
    reason: str
    field: str | None = None
    detail: str = ""
    rule: int | None = None  # index of the rule that decided, when one did
    rule_id: str | None = None
