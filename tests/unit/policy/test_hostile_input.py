"""Hostile input to the policy: Unicode digits, case-folding look-alikes, separator-only lists, trailing
newlines, and summaries of any JSON shape. Every parser refuses them with an error naming the value,
and nothing odd in a summary raises or leads to an ACCEPT."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policy import (
    PERMISSION_TYPES,
    RESOURCE_TYPES,
    Action,
    Decision,
    Invitation,
    NonMatchingAction,
    OrgAncestry,
    Policy,
    PolicyConfigError,
    Reason,
    evaluate,
    load_policy,
)
from policy.model import SimpleForm, compile_simple
from tests.support.invitations import inv
from tests.unit.policy.hostile import case_lookalikes, fullwidth, lookalikes, unicode_digits

TRUSTED, DENIED, RECIPIENT = "111111111111", "333333333333", "999999999999"
ID = "0123456789abcdef0123456789abcdef"
OU_OK = "ou-ab12-allowedou"
ROLE = f"arn:aws:iam::{RECIPIENT}:role/Reviewer"

# A template per variable: where "{}" stands, one character of a valid value goes.
DIGIT_SLOTS = {
    "ALLOWED_SOURCE_ACCOUNTS": "11111111111{}",
    "DENIED_SOURCE_ACCOUNTS": "{}22222222222",
    "ALLOWED_SOURCE_OUS": "ou-ab1{}-abcdefgh",
    "DENIED_SOURCE_OUS": "r-ab1{}",
}
WORDS = {
    "ALLOWED_RESOURCE_TYPES": RESOURCE_TYPES,
    "ALLOWED_PERMISSION_TYPES": PERMISSION_TYPES,
    "NON_MATCHING_ACTION": ("IGNORE", "REJECT"),
    "DRY_RUN": ("TRUE", "FALSE"),
}
LIST_VARIABLES = (
    "ALLOWED_SOURCE_ACCOUNTS",
    "ALLOWED_SOURCE_OUS",
    "DENIED_SOURCE_ACCOUNTS",
    "DENIED_SOURCE_OUS",
    "ALLOWED_RESOURCE_TYPES",
    "ALLOWED_PERMISSION_TYPES",
)


def refused(variable: str, value: str) -> None:
    """load_policy refuses exactly this value of this variable, naming both."""
    with pytest.raises(PolicyConfigError) as err:
        load_policy({variable: value})
    assert [(e.variable, e.value) for e in err.value.errors] == [(variable, value)]
    assert f"{variable}: {value!r}" in str(err.value)


def ignored_for(decision: Decision, field: str, value: str) -> None:
    assert (decision.action, decision.reason, decision.field) == (Action.IGNORE, Reason.INVALID_INPUT, field)
    assert repr(value) in decision.detail, decision.detail


# ---------------------------------------------------------------- Unicode digits


def test_the_reported_fullwidth_denied_account_is_refused() -> None:
    refused("DENIED_SOURCE_ACCOUNTS", "\uff15" * 12)  # the reproduction: fullwidth 5s


def test_an_error_names_the_invisible_characters() -> None:
    with pytest.raises(PolicyConfigError) as err:
        load_policy(
            {"ALLOWED_PERMISSION_TYPES": "contr\u0131butor", "DENIED_SOURCE_ACCOUNTS": "\uff15" * 11 + "\u0665"}
        )
    assert str(err.value).splitlines()[1:] == [
        "  - DENIED_SOURCE_ACCOUNTS: '\uff15\uff15\uff15\uff15\uff15\uff15\uff15\uff15\uff15\uff15\uff15\u0665' "
        "is not a 12-digit AWS account id; it holds non-ASCII U+0665, U+FF15",
        "  - ALLOWED_PERMISSION_TYPES: 'contr\u0131butor' is not one of READONLY, CONTRIBUTOR; "
        "it holds non-ASCII U+0131",
    ]
    with pytest.raises(PolicyConfigError) as err:
        load_policy({"DRY_RUN": "".join(map(chr, range(0x2006, 0x1FFF, -1))) + "x"})  # seven Unicode spaces
    assert str(err.value).endswith("it holds non-ASCII U+2000, U+2001, U+2002, U+2003, U+2004, ...")


def test_every_unicode_digit_is_refused_by_every_id_variable() -> None:
    digits = unicode_digits()
    assert len(digits) > 700 and "\uff15" in digits and "\u0665" in digits  # fullwidth 5, Arabic-Indic 5
    for digit in digits:
        for variable, slot in DIGIT_SLOTS.items():
            refused(variable, slot.format(digit))
        refused("ALLOWED_SOURCE_ACCOUNTS", digit * 12)


@given(st.data())
def test_any_mix_of_unicode_and_ascii_digits_is_refused(data: st.DataObject) -> None:
    digits = unicode_digits()
    account = list(data.draw(st.text(alphabet="0123456789", min_size=12, max_size=12)))
    positions = data.draw(st.sets(st.integers(0, 11), min_size=1))
    for position in positions:
        account[position] = data.draw(st.sampled_from(digits))
    value = "".join(account)
    variable = data.draw(st.sampled_from(["ALLOWED_SOURCE_ACCOUNTS", "DENIED_SOURCE_ACCOUNTS"]))
    refused(variable, value)
    policy = load_policy({"ALLOWED_SOURCE_ACCOUNTS": TRUSTED})
    ignored_for(evaluate(policy, inv(sharer=value)), "SharedBy", value)
    ignored_for(evaluate(policy, inv(shared_with=value)), "SharedWith", value)


def test_every_unicode_digit_is_refused_in_every_invitation_field() -> None:
    policy = load_policy({"ALLOWED_SOURCE_ACCOUNTS": TRUSTED})
    for digit in unicode_digits():
        sharer = TRUSTED[:11] + digit
        ignored_for(evaluate(policy, inv(sharer=sharer)), "SharedBy", sharer)
        inv_id = ID[:31] + digit
        ignored_for(evaluate(policy, inv(inv_id=inv_id)), "ShareInvitationId", inv_id)
        recipient = digit + RECIPIENT[1:]
        ignored_for(evaluate(policy, inv(shared_with=recipient)), "SharedWith", recipient)
        principal = f"arn:aws:iam::{recipient}:role/Reviewer"
        ignored_for(evaluate(policy, inv(shared_with=principal)), "SharedWith", principal)


# ---------------------------------------------------------------- case-folding look-alikes


def test_the_lookalikes_are_real_traps() -> None:
    """Without the ASCII check, str.upper() would take these for the real words."""
    table = dict(case_lookalikes())
    assert table["\u0131"] == "I" and table["\ufb01"] == "FI" and table["\u017f"] == "S"
    assert "pro\ufb01le".upper() == "PROFILE" and "contr\u0131butor".upper() == "CONTRIBUTOR"
    assert "pro\ufb01le" in lookalikes("PROFILE") and "CONTR\u0131BUTOR" in lookalikes("CONTRIBUTOR")
    assert any(word.upper() in RESOURCE_TYPES for word in lookalikes("LENS"))  # the long s


@pytest.mark.parametrize("variable", sorted(WORDS))
def test_every_lookalike_of_every_word_is_refused(variable: str) -> None:
    for word in WORDS[variable]:
        spellings = lookalikes(word)
        assert spellings
        for spelling in spellings:
            refused(variable, spelling)


@pytest.mark.parametrize("variable", sorted(WORDS))
@given(data=st.data())
def test_ascii_case_is_ignored_and_nothing_else(variable: str, data: st.DataObject) -> None:
    word = data.draw(st.sampled_from(WORDS[variable]))
    flips = data.draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    spelled = "".join(c.lower() if flip else c for c, flip in zip(word, flips, strict=True))
    assert load_policy({variable: f"  {spelled}\t"}) == load_policy({variable: word})
    spelling = data.draw(st.sampled_from(lookalikes(word)))
    refused(variable, spelling)


def test_invitation_words_are_exact() -> None:
    """The API's words are upper case: evaluate compares them exactly, so no spelling gets through."""
    policy = load_policy({"ALLOWED_SOURCE_ACCOUNTS": TRUSTED, "ALLOWED_PERMISSION_TYPES": "READONLY,CONTRIBUTOR"})
    for rtype in RESOURCE_TYPES:
        for spelling in [rtype.lower(), rtype + "\n", *lookalikes(rtype)]:
            ignored_for(evaluate(policy, inv(rtype=spelling)), "ShareResourceType", spelling)
    for permission in PERMISSION_TYPES:
        for spelling in [permission.lower(), " " + permission, *lookalikes(permission)]:
            ignored_for(evaluate(policy, inv(permission=spelling)), "PermissionType", spelling)


# ---------------------------------------------------------------- separators, spaces, newlines


@pytest.mark.parametrize("variable", LIST_VARIABLES)
@pytest.mark.parametrize("value", [",", ",,", " , ", "\t,\n, ,"])
def test_a_separator_only_list_is_an_error_not_the_default(variable: str, value: str) -> None:
    with pytest.raises(PolicyConfigError) as err:
        load_policy({variable: value})
    [issue] = err.value.errors
    assert (issue.variable, issue.value) == (variable, value)
    assert "only separators" in str(err.value) and repr(value) in str(err.value)


@pytest.mark.parametrize("variable", LIST_VARIABLES)
@given(value=st.text(alphabet=" \t,", min_size=1).filter(lambda v: "," in v))
def test_any_separator_only_list_is_an_error(variable: str, value: str) -> None:
    with pytest.raises(PolicyConfigError, match=re.escape(variable)):
        load_policy({variable: value})


@pytest.mark.parametrize("variable", LIST_VARIABLES)
@pytest.mark.parametrize("value", ["", "   ", "\t\n"])
def test_a_blank_list_is_unset(variable: str, value: str) -> None:
    assert load_policy({variable: value}) == load_policy({})


@pytest.mark.parametrize("space", ["\u00a0", "\u2003", "\u3000", "\u200b"])
def test_unicode_spaces_are_not_trimmed_but_named(space: str) -> None:
    refused("ALLOWED_SOURCE_ACCOUNTS", TRUSTED + space)
    refused("ALLOWED_RESOURCE_TYPES", space + "LENS")
    refused("DRY_RUN", "true" + space)


def test_ascii_whitespace_around_values_is_trimmed() -> None:
    policy = load_policy({"ALLOWED_SOURCE_ACCOUNTS": f"\t{TRUSTED}\n", "DRY_RUN": " true\n"})
    assert policy.simple is not None and policy.simple.allowed_accounts == {TRUSTED} and policy.dry_run
    refused("ALLOWED_SOURCE_ACCOUNTS", f"{TRUSTED}\nx")  # inside an item, a newline is not trimmed
    refused("DENIED_SOURCE_OUS", "r-ab12\nr-cd34")
    refused("NON_MATCHING_ACTION", "REJECT\nIGNORE")


@pytest.mark.parametrize(
    ("invitation", "field", "value"),
    [
        ("inv_id", "ShareInvitationId", ID + "\n"),
        ("sharer", "SharedBy", TRUSTED + "\n"),
        ("shared_with", "SharedWith", RECIPIENT + "\n"),
        ("shared_with", "SharedWith", ROLE + "\n"),
        ("inv_id", "ShareInvitationId", ID.upper()),
        ("inv_id", "ShareInvitationId", fullwidth(ID)),
        ("sharer", "SharedBy", fullwidth(TRUSTED)),
        ("sharer", "SharedBy", " " + TRUSTED),
    ],
)
def test_invitation_values_must_match_whole(invitation: str, field: str, value: str) -> None:
    """A trailing newline is what ``$`` used to let through; nothing is trimmed from API values."""
    policy = load_policy({"ALLOWED_SOURCE_ACCOUNTS": TRUSTED})
    ignored_for(evaluate(policy, inv(**{invitation: value})), field, value)


# ---------------------------------------------------------------- summaries of any shape


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
PRINCIPALS = (ROLE, f"arn:aws:iam::{RECIPIENT}:user/team/alice")
# Each decision member: a right value, a near miss, or any JSON value at all.
MEMBERS: dict[str, st.SearchStrategy[Any]] = {
    "ShareInvitationId": st.sampled_from([ID, ID + "\n", ID.upper(), ID[:31], "", fullwidth(ID), int("1" * 32)]),
    "SharedBy": st.sampled_from(
        [TRUSTED, DENIED, "222222222222", TRUSTED + "\n", fullwidth(TRUSTED), "", int(TRUSTED), [TRUSTED]]
    ),
    "SharedWith": st.sampled_from([RECIPIENT, *PRINCIPALS, "", "o-abcdefghij", RECIPIENT + "\n"]),
    "ShareResourceType": st.sampled_from([*RESOURCE_TYPES, "workload", "pro\ufb01le", "", ["WORKLOAD"], {"a": 1}]),
    "PermissionType": st.sampled_from([*PERMISSION_TYPES, "", "readonly", "ADMIN", ["READONLY"], 1]),
    "WorkloadName": st.text(max_size=5),
    "WorkloadId": st.text(max_size=5),
    "LensArn": st.text(max_size=5),
}
summaries = st.fixed_dictionaries(
    {}, optional={name: st.one_of(strategy, json_values) for name, strategy in MEMBERS.items()}
).flatmap(lambda known: st.dictionaries(st.text(max_size=8), json_values, max_size=3).map(lambda extra: extra | known))
policies = st.builds(
    SimpleForm,
    allowed_accounts=st.frozensets(st.sampled_from([TRUSTED, "222222222222"]), max_size=2),
    allowed_ous=st.frozensets(st.just(OU_OK), max_size=1),
    denied_accounts=st.frozensets(st.just(DENIED), max_size=1),
    allowed_resource_types=st.frozensets(st.sampled_from(RESOURCE_TYPES), min_size=1),
    allowed_permission_types=st.frozensets(st.sampled_from(PERMISSION_TYPES), min_size=1),
    non_matching_action=st.sampled_from(list(NonMatchingAction)),
)
ancestries = st.one_of(st.none(), st.just(OrgAncestry.found({OU_OK})), st.just(OrgAncestry.failed("x")))


def _exact(value: object, pattern: str) -> bool:
    return type(value) is str and re.fullmatch(pattern, value, flags=re.ASCII) is not None


@given(summaries, policies, ancestries)
def test_any_summary_is_decided_without_raising_and_accepted_only_when_exactly_valid(
    summary: dict[str, Any], policy: SimpleForm, ancestry: OrgAncestry | None
) -> None:
    invitation = Invitation.from_summary(summary)
    assert all(value is None or type(value) is str for value in invitation[:7])
    decision = evaluate(compile_simple(policy), invitation, ancestry)
    assert decision.action in (Action.ACCEPT, Action.REJECT, Action.IGNORE) and decision.detail

    wrong_types = [k for k in MEMBERS if k in summary and summary[k] is not None and not isinstance(summary[k], str)]
    decision_wrong = [k for k in wrong_types if k in ("ShareInvitationId", "SharedBy", "SharedWith")]
    if decision_wrong and wrong_types[0] == "ShareInvitationId":
        assert (decision.action, decision.reason, decision.field) == (
            Action.IGNORE,
            Reason.INVALID_INPUT,
            "ShareInvitationId",
        )
    if decision.reason == Reason.INVALID_INPUT:
        assert decision.action is Action.IGNORE and decision.field in MEMBERS

    if decision.action is Action.ACCEPT:
        assert _exact(summary.get("ShareInvitationId"), "[0-9a-f]{32}")
        sharer = summary.get("SharedBy")
        assert _exact(sharer, "[0-9]{12}") and sharer != DENIED
        assert sharer in policy.allowed_accounts or (
            ancestry is not None and ancestry.ancestors is not None and policy.allowed_ous & ancestry.ancestors
        )
        recipient = summary.get("SharedWith")
        assert recipient is None or _exact(recipient, "[0-9]{12}")
        assert summary.get("ShareResourceType") in policy.allowed_resource_types
        permission = summary.get("PermissionType")
        assert (permission if permission is not None else "READONLY") in policy.allowed_permission_types
    if decision.action is Action.REJECT:
        assert decision.reason in (Reason.DENIED_ACCOUNT, Reason.DENIED_OU) or (
            policy.non_matching_action is NonMatchingAction.REJECT
        )
        assert _exact(summary.get("ShareInvitationId"), "[0-9a-f]{32}") and _exact(summary.get("SharedBy"), "[0-9]{12}")
        recipient = summary.get("SharedWith")
        assert recipient is None or _exact(recipient, "[0-9]{12}")
    if _exact(summary.get("ShareInvitationId"), "[0-9a-f]{32}") and summary.get("SharedWith") in PRINCIPALS:
        assert (decision.action, decision.reason) == (Action.IGNORE, Reason.ADDRESSED_TO_PRINCIPAL)


@given(st.one_of(json_values, st.dictionaries(st.text(max_size=8), json_values)))
def test_from_summary_never_raises(summary: Any) -> None:
    invitation = Invitation.from_summary(summary)
    assert all(value is None or type(value) is str for value in invitation[:7])
    evaluate(load_policy({"ALLOWED_SOURCE_ACCOUNTS": TRUSTED}), invitation)


@pytest.mark.parametrize("item", [None, [], "WORKLOAD", 7, [{"ShareInvitationId": ID}]])
def test_an_item_that_is_not_an_object_has_no_members(item: object) -> None:
    decision = evaluate(Policy.allowlist(allowed_accounts=frozenset({TRUSTED})), Invitation.from_summary(item))
    assert (decision.action, decision.reason, decision.field) == (
        Action.IGNORE,
        Reason.MISSING_INPUT,
        "ShareInvitationId",
    )


GOOD = {
    "ShareInvitationId": ID,
    "SharedBy": TRUSTED,
    "SharedWith": RECIPIENT,
    "ShareResourceType": "WORKLOAD",
    "PermissionType": "READONLY",
    "WorkloadName": "w",
    "WorkloadId": "abc",
}


@pytest.mark.parametrize(
    "field", ["ShareInvitationId", "SharedBy", "SharedWith", "ShareResourceType", "PermissionType"]
)
@pytest.mark.parametrize("bad", [["WORKLOAD"], {"S": "x"}, 111111111111, 1.5, True])
def test_a_wrong_type_in_a_decision_field_is_invalid_input_naming_it(field: str, bad: object) -> None:
    invitation = Invitation.from_summary(GOOD | {field: bad})
    assert invitation.malformed == ((field, repr(bad)),)
    decision = evaluate(Policy.allowlist(allowed_accounts=frozenset({TRUSTED})), invitation)
    assert (decision.action, decision.reason, decision.field) == (Action.IGNORE, Reason.INVALID_INPUT, field)
    assert field in decision.detail and repr(bad) in decision.detail


@pytest.mark.parametrize(
    ("attribute", "field"),
    [
        ("share_invitation_id", "ShareInvitationId"),
        ("shared_with", "SharedWith"),
        ("shared_by", "SharedBy"),
        ("resource_type", "ShareResourceType"),
        ("permission_type", "PermissionType"),
    ],
)
def test_a_wrong_type_in_a_hand_built_invitation_is_invalid_input_too(attribute: str, field: str) -> None:
    broken = inv()._replace(**{attribute: ["x"]})
    decision = evaluate(Policy.allowlist(allowed_accounts=frozenset({TRUSTED})), broken)
    assert (decision.action, decision.reason, decision.field) == (Action.IGNORE, Reason.INVALID_INPUT, field)
    assert "['x']" in decision.detail


def test_a_huge_value_is_named_but_cut_short() -> None:
    bad = ["x" * 10_000] * 50
    decision = evaluate(
        Policy.allowlist(allowed_accounts=frozenset({TRUSTED})), Invitation.from_summary(GOOD | {"SharedBy": bad})
    )
    assert decision.reason == Reason.INVALID_INPUT and "['xxxx" in decision.detail and len(decision.detail) < 150


@pytest.mark.parametrize("member", ["WorkloadName", "WorkloadId"])
@pytest.mark.parametrize("bad", [["w"], {"a": 1}, 3])
def test_a_wrong_type_in_a_name_or_id_is_dropped(member: str, bad: object) -> None:
    invitation = Invitation.from_summary(GOOD | {member: bad})
    assert invitation.malformed == ()
    assert (invitation.resource_name, invitation.resource_id) == (
        None if member == "WorkloadName" else "w",
        None if member == "WorkloadId" else "abc",
    )
    assert evaluate(Policy.allowlist(allowed_accounts=frozenset({TRUSTED})), invitation).action is Action.ACCEPT
