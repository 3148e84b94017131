"""Policy evaluation: a table for every rule and reason, and properties that must always hold."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policy import Action, Decision, Invitation, NonMatchingAction, OrgAncestry, Policy, Reason, load_policy
from policy import evaluate as evaluate_policy
from policy.config import load_simple_form
from policy.model import SimpleForm, compile_simple, make_rule


def evaluate(policy: Policy | SimpleForm, invitation: Invitation, ancestry: OrgAncestry | None = None) -> Decision:
    """The one evaluator, given the simple form (the eight variables) compiled into its rules."""
    compiled = compile_simple(policy) if isinstance(policy, SimpleForm) else policy
    return evaluate_policy(compiled, invitation, ancestry)


TRUSTED, OTHER, DENIED = "111111111111", "222222222222", "333333333333"
OU_OK, OU_BAD, ROOT = "ou-ab12-allowedou", "ou-ab12-deniedouu", "r-ab12"
ID = "0123456789abcdef0123456789abcdef"


RECIPIENT = "999999999999"
ROLE = f"arn:aws:iam::{RECIPIENT}:role/Reviewer"


def inv(
    sharer: str | None = TRUSTED,
    rtype: str | None = "WORKLOAD",
    permission: str | None = "READONLY",
    inv_id: str | None = ID,
    shared_with: str | None = RECIPIENT,
) -> Invitation:
    return Invitation(inv_id, sharer, shared_with, rtype, permission, "name", "id")


BASE = load_simple_form({"ALLOWED_SOURCE_ACCOUNTS": TRUSTED, "DENIED_SOURCE_ACCOUNTS": DENIED})
OUS = load_simple_form({"ALLOWED_SOURCE_OUS": OU_OK, "DENIED_SOURCE_OUS": OU_BAD})
REJECTING = BASE._replace(non_matching_action=NonMatchingAction.REJECT)
NAMED = Policy(rules=(make_rule(0, Action.ACCEPT, accounts=frozenset({TRUSTED}), resource_names=("acme-*",)),))
FOUND_OK = OrgAncestry.found({ROOT, OU_OK})
FOUND_BAD = OrgAncestry.found({ROOT, OU_BAD})
FOUND_NEITHER = OrgAncestry.found({ROOT})
FAILED = OrgAncestry.failed("ListParents: AccessDeniedException")


@pytest.mark.parametrize(
    ("policy", "invitation", "ancestry", "action", "reason", "field"),
    [
        (BASE, inv(inv_id=None), None, Action.IGNORE, Reason.MISSING_INPUT, "ShareInvitationId"),
        # a rule that names resources: the name must match one of its patterns
        (NAMED, inv(), None, Action.IGNORE, Reason.RESOURCE_NAME_NOT_ALLOWED, "WorkloadName"),
        (BASE, inv(inv_id="XYZ"), None, Action.IGNORE, Reason.INVALID_INPUT, "ShareInvitationId"),
        (BASE, inv(sharer=None), None, Action.IGNORE, Reason.MISSING_INPUT, "SharedBy"),
        # addressed to an IAM principal: that principal's to answer, whatever the sharer
        (BASE, inv(shared_with=ROLE), None, Action.IGNORE, Reason.ADDRESSED_TO_PRINCIPAL, "SharedWith"),
        (BASE, inv(sharer=DENIED, shared_with=ROLE), None, Action.IGNORE, Reason.ADDRESSED_TO_PRINCIPAL, "SharedWith"),
        (
            REJECTING,
            inv(sharer=OTHER, shared_with=f"arn:aws-us-gov:iam::{RECIPIENT}:user/team/alice"),
            None,
            Action.IGNORE,
            Reason.ADDRESSED_TO_PRINCIPAL,
            "SharedWith",
        ),
        (
            OUS,
            inv(sharer=OTHER, shared_with=ROLE),
            FOUND_BAD,
            Action.IGNORE,
            Reason.ADDRESSED_TO_PRINCIPAL,
            "SharedWith",
        ),
        (BASE, inv(sharer=None, shared_with=ROLE), None, Action.IGNORE, Reason.ADDRESSED_TO_PRINCIPAL, "SharedWith"),
        # a missing recipient is an account invitation; anything else is invalid
        (BASE, inv(shared_with=None), None, Action.ACCEPT, Reason.ALLOWED_ACCOUNT, "SharedBy"),
        (BASE, inv(shared_with=""), None, Action.IGNORE, Reason.INVALID_INPUT, "SharedWith"),
        (BASE, inv(shared_with="o-abcdefghij"), None, Action.IGNORE, Reason.INVALID_INPUT, "SharedWith"),
        (BASE, inv(shared_with="ou-ab12-abcdefgh"), None, Action.IGNORE, Reason.INVALID_INPUT, "SharedWith"),
        (
            BASE,
            inv(shared_with=f"arn:aws:iam::{RECIPIENT}:root"),
            None,
            Action.IGNORE,
            Reason.INVALID_INPUT,
            "SharedWith",
        ),
        (
            BASE,
            inv(shared_with=f"arn:aws:sts::{RECIPIENT}:assumed-role/Reviewer/s"),
            None,
            Action.IGNORE,
            Reason.INVALID_INPUT,
            "SharedWith",
        ),
        (
            BASE,
            inv(shared_with=f"arn:aws:iam::{RECIPIENT}:role/"),
            None,
            Action.IGNORE,
            Reason.INVALID_INPUT,
            "SharedWith",
        ),
        (BASE, inv(sharer=DENIED, shared_with=""), None, Action.IGNORE, Reason.INVALID_INPUT, "SharedWith"),
        (BASE, inv(sharer="11111111111"), None, Action.IGNORE, Reason.INVALID_INPUT, "SharedBy"),
        (BASE, inv(sharer=DENIED), None, Action.REJECT, Reason.DENIED_ACCOUNT, "SharedBy"),
        (BASE, inv(rtype=None), None, Action.IGNORE, Reason.MISSING_INPUT, "ShareResourceType"),
        (BASE, inv(rtype="STACK"), None, Action.IGNORE, Reason.INVALID_INPUT, "ShareResourceType"),
        (
            BASE._replace(allowed_resource_types=frozenset({"LENS"})),
            inv(),
            None,
            Action.IGNORE,
            Reason.RESOURCE_TYPE_NOT_ALLOWED,
            "ShareResourceType",
        ),
        (
            REJECTING._replace(allowed_resource_types=frozenset({"LENS"})),
            inv(),
            None,
            Action.REJECT,
            Reason.RESOURCE_TYPE_NOT_ALLOWED,
            "ShareResourceType",
        ),
        (BASE, inv(permission="CONTRIBUTOR"), None, Action.IGNORE, Reason.PERMISSION_NOT_ALLOWED, "PermissionType"),
        (
            REJECTING,
            inv(permission="CONTRIBUTOR"),
            None,
            Action.REJECT,
            Reason.PERMISSION_NOT_ALLOWED,
            "PermissionType",
        ),
        (BASE, inv(permission="ADMIN"), None, Action.IGNORE, Reason.INVALID_INPUT, "PermissionType"),
        # an empty permission is not an absent one
        (BASE, inv(permission=""), None, Action.IGNORE, Reason.INVALID_INPUT, "PermissionType"),
        (BASE, inv(rtype=""), None, Action.IGNORE, Reason.INVALID_INPUT, "ShareResourceType"),
        (BASE, inv(permission=None, rtype="LENS"), None, Action.ACCEPT, Reason.ALLOWED_ACCOUNT, "SharedBy"),
        (BASE, inv(), None, Action.ACCEPT, Reason.ALLOWED_ACCOUNT, "SharedBy"),
        (
            BASE._replace(allowed_permission_types=frozenset({"CONTRIBUTOR", "READONLY"})),
            inv(permission="CONTRIBUTOR"),
            None,
            Action.ACCEPT,
            Reason.ALLOWED_ACCOUNT,
            "SharedBy",
        ),
        (BASE, inv(sharer=OTHER), None, Action.IGNORE, Reason.SOURCE_NOT_ALLOWED, "SharedBy"),
        (REJECTING, inv(sharer=OTHER), None, Action.REJECT, Reason.SOURCE_NOT_ALLOWED, "SharedBy"),
        # OU rules
        (OUS, inv(sharer=OTHER), FOUND_OK, Action.ACCEPT, Reason.ALLOWED_OU, "SharedBy"),
        (OUS, inv(sharer=OTHER), FOUND_BAD, Action.REJECT, Reason.DENIED_OU, "SharedBy"),
        (OUS, inv(sharer=OTHER), OrgAncestry.found({ROOT, OU_OK, OU_BAD}), Action.REJECT, Reason.DENIED_OU, "SharedBy"),
        (OUS, inv(sharer=OTHER), FOUND_NEITHER, Action.IGNORE, Reason.SOURCE_NOT_ALLOWED, "SharedBy"),
        (OUS, inv(sharer=OTHER), FAILED, Action.IGNORE, Reason.ORG_LOOKUP_FAILED, "SharedBy"),
        (OUS, inv(sharer=OTHER), None, Action.IGNORE, Reason.ORG_LOOKUP_FAILED, "SharedBy"),
        # an account rule that decides on its own still applies when the lookup failed
        (
            OUS._replace(denied_accounts=frozenset({OTHER})),
            inv(sharer=OTHER),
            FAILED,
            Action.REJECT,
            Reason.DENIED_ACCOUNT,
            "SharedBy",
        ),
        (
            OUS._replace(denied_ous=frozenset(), allowed_accounts=frozenset({OTHER})),
            inv(sharer=OTHER),
            FAILED,
            Action.ACCEPT,
            Reason.ALLOWED_ACCOUNT,
            "SharedBy",
        ),
        # ...but an allow by account cannot be trusted while a deny by OU is undecided
        (
            OUS._replace(allowed_accounts=frozenset({OTHER})),
            inv(sharer=OTHER),
            FAILED,
            Action.IGNORE,
            Reason.ORG_LOOKUP_FAILED,
            "SharedBy",
        ),
        # deny by OU beats allow by account
        (
            OUS._replace(allowed_accounts=frozenset({OTHER})),
            inv(sharer=OTHER),
            FOUND_BAD,
            Action.REJECT,
            Reason.DENIED_OU,
            "SharedBy",
        ),
        (
            load_policy({"ALLOWED_SOURCE_OUS": ROOT}),
            inv(sharer=OTHER),
            FOUND_NEITHER,
            Action.ACCEPT,
            Reason.ALLOWED_OU,
            "SharedBy",
        ),
    ],
)
def test_rules(
    policy: SimpleForm, invitation: Invitation, ancestry: OrgAncestry | None, action: Action, reason: Reason, field: str
) -> None:
    decision = evaluate(policy, invitation, ancestry)
    assert (decision.action, decision.reason, decision.field) == (action, reason.value, field)
    assert decision.detail


def test_reason_detail_names_the_values() -> None:
    assert DENIED in evaluate(BASE, inv(sharer=DENIED)).detail
    assert "CONTRIBUTOR" in evaluate(BASE, inv(permission="CONTRIBUTOR")).detail
    assert "AccessDeniedException" in evaluate(OUS, inv(sharer=OTHER), FAILED).detail
    assert OU_BAD in evaluate(OUS, inv(sharer=OTHER), FOUND_BAD).detail


def test_every_reason_is_reachable_by_the_table() -> None:
    table = test_rules.pytestmark[0].args[1]  # type: ignore[attr-defined]
    assert {row[4] for row in table} == set(Reason)


# ---------------------------------------------------------------- properties

accounts = st.sampled_from([TRUSTED, OTHER, DENIED, "444444444444", "111111111112", "11111111111"])
org_ids = st.sampled_from([OU_OK, OU_BAD, ROOT, "ou-ab12-otherouuu"])
types = st.sampled_from(["WORKLOAD", "LENS", "PROFILE", "TEMPLATE"])
permissions = st.sampled_from(["READONLY", "CONTRIBUTOR"])

policies = st.builds(
    SimpleForm,
    allowed_accounts=st.frozensets(accounts, max_size=3),
    allowed_ous=st.frozensets(org_ids, max_size=2),
    denied_accounts=st.frozensets(accounts, max_size=2),
    denied_ous=st.frozensets(org_ids, max_size=2),
    allowed_resource_types=st.frozensets(types, min_size=1),
    allowed_permission_types=st.frozensets(permissions, min_size=1),
    non_matching_action=st.sampled_from(list(NonMatchingAction)),
    dry_run=st.booleans(),
)
invitations = st.builds(
    Invitation,
    share_invitation_id=st.one_of(st.just(ID), st.none(), st.text(max_size=4)),
    shared_by=st.one_of(accounts, st.none()),
    shared_with=st.sampled_from([RECIPIENT, RECIPIENT, None, ROLE, ""]),
    resource_type=st.one_of(types, st.none(), st.just("STACK")),
    permission_type=st.one_of(permissions, st.none(), st.just("ADMIN"), st.just("")),
    resource_name=st.just("n"),
    resource_id=st.just("i"),
)
ancestries = st.one_of(
    st.none(),
    st.builds(OrgAncestry.found, st.frozensets(org_ids, max_size=3)),
    st.builds(OrgAncestry.failed, st.text(min_size=1, max_size=10)),
)


@given(policies, invitations, ancestries)
def test_deny_always_wins(policy: SimpleForm, invitation: Invitation, ancestry: OrgAncestry | None) -> None:
    decision = evaluate(policy, invitation, ancestry)
    well_formed = (
        invitation.share_invitation_id == ID
        and invitation.shared_by is not None
        and len(invitation.shared_by) == 12
        and invitation.shared_with in (RECIPIENT, None)
    )
    if well_formed and invitation.shared_by in policy.denied_accounts:
        assert decision.action is Action.REJECT
    denied_by_ou = ancestry is not None and ancestry.ancestors is not None and policy.denied_ous & ancestry.ancestors
    if well_formed and denied_by_ou:
        assert decision.action is Action.REJECT
    if invitation.shared_by in policy.denied_accounts or denied_by_ou:
        assert decision.action is not Action.ACCEPT


@given(invitations, ancestries, st.sampled_from(list(NonMatchingAction)))
def test_empty_policy_never_accepts(
    invitation: Invitation, ancestry: OrgAncestry | None, non_matching: NonMatchingAction
) -> None:
    policy = Policy(non_matching_action=non_matching)
    assert evaluate(policy, invitation, ancestry).action is not Action.ACCEPT


@given(policies, invitations)
def test_missing_information_never_accepts_or_rejects(policy: SimpleForm, invitation: Invitation) -> None:
    for broken in (invitation._replace(share_invitation_id=None), invitation._replace(shared_by=None)):
        assert evaluate(policy, broken).action is Action.IGNORE
    if policy.uses_ous and invitation.shared_by not in policy.denied_accounts:
        decision = evaluate(policy, invitation, OrgAncestry.failed("lookup failed"))
        if decision.reason == Reason.ORG_LOOKUP_FAILED:
            assert decision.action is Action.IGNORE
        if decision.action is Action.ACCEPT:  # only an account allow, and only with no deny-by-OU to check
            assert decision.reason == Reason.ALLOWED_ACCOUNT and not policy.denied_ous


@given(policies, invitations, ancestries)
def test_same_input_same_decision(policy: SimpleForm, invitation: Invitation, ancestry: OrgAncestry | None) -> None:
    assert evaluate(policy, invitation, ancestry) == evaluate(policy, invitation, ancestry)


@given(policies, invitations, ancestries)
def test_reject_comes_only_from_a_deny_or_non_matching_reject(
    policy: SimpleForm, invitation: Invitation, ancestry: OrgAncestry | None
) -> None:
    decision = evaluate(policy, invitation, ancestry)
    if decision.action is Action.REJECT:
        assert (
            decision.reason in (Reason.DENIED_ACCOUNT, Reason.DENIED_OU)
            or policy.non_matching_action is NonMatchingAction.REJECT
        )


@given(policies, invitations, ancestries)
def test_accept_needs_an_allow_rule(policy: SimpleForm, invitation: Invitation, ancestry: OrgAncestry | None) -> None:
    decision = evaluate(policy, invitation, ancestry)
    if decision.action is Action.ACCEPT:
        assert invitation.shared_by in policy.allowed_accounts or (
            ancestry is not None and ancestry.ancestors is not None and policy.allowed_ous & ancestry.ancestors
        )
        assert invitation.resource_type in policy.allowed_resource_types
        permission = "READONLY" if invitation.permission_type is None else invitation.permission_type
        assert permission in policy.allowed_permission_types
        assert invitation.shared_with in (RECIPIENT, None)


@given(policies, invitations, ancestries)
def test_an_invitation_to_a_principal_is_never_ours_to_answer(
    policy: SimpleForm, invitation: Invitation, ancestry: OrgAncestry | None
) -> None:
    decision = evaluate(policy, invitation._replace(shared_with=ROLE), ancestry)
    assert decision.action is Action.IGNORE
    if invitation.share_invitation_id == ID:
        assert (decision.reason, decision.field) == (Reason.ADDRESSED_TO_PRINCIPAL, "SharedWith")
        assert ROLE in decision.detail


@given(st.text(alphabet="0123456789", min_size=1, max_size=11))
def test_a_prefix_of_an_allowed_account_never_matches(prefix: str) -> None:
    policy = load_policy({"ALLOWED_SOURCE_ACCOUNTS": "123456789012"})
    assert evaluate(policy, inv(sharer=prefix)).action is not Action.ACCEPT
    assert evaluate(policy, inv(sharer="1234567890120")).action is not Action.ACCEPT


def test_policy_package_imports_nothing_from_aws() -> None:
    package = Path(__file__).resolve().parents[3] / "src" / "policy"
    for source in package.glob("*.py"):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                assert not name.startswith(("boto3", "botocore", "aws_lambda_powertools", "os")), (
                    f"{source.name}: {name}"
                )


@pytest.mark.parametrize("rtype", ["LENS", "PROFILE", "TEMPLATE"])
def test_a_missing_permission_counts_as_readonly_only_where_the_type_has_none(rtype: str) -> None:
    # Given a READONLY-only policy that trusts the sharer
    readonly = load_policy({"ALLOWED_SOURCE_ACCOUNTS": TRUSTED})
    # Then a lens, profile or template without a permission is accepted
    assert evaluate(readonly, inv(permission=None, rtype=rtype)).action is Action.ACCEPT
    # But a workload, always shared with one, is missing an input: left pending, never read as READONLY
    workload = evaluate(readonly, inv(permission=None, rtype="WORKLOAD"))
    assert (workload.action, workload.reason, workload.field) == (
        Action.IGNORE,
        Reason.MISSING_INPUT,
        "PermissionType",
    )
    # And a deny that covers both permissions still rejects it
    denied = evaluate(load_policy({"DENIED_SOURCE_ACCOUNTS": DENIED}), inv(sharer=DENIED, permission=None))
    assert denied.action is Action.REJECT
    # While non-matching REJECT does not reject for want of the permission
    strict = load_policy({"ALLOWED_SOURCE_ACCOUNTS": TRUSTED, "NON_MATCHING_ACTION": "REJECT"})
    assert evaluate(strict, inv(permission=None)).action is Action.IGNORE
