"""The policy's exact words and forms: every document error names its JSON path and the bad value in the
documented words; ``describe()``, ``policy_as_env()`` and the warnings give exactly the documented data; the
edges of the rules (a REJECT rule limited to some types or permissions, the largest sizes) hold.

Every input is built inside its test: a value built at import time would be made before a mutant is
switched on (``make mutation``), and could not notice it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policy import (
    Action,
    DocIssue,
    Invitation,
    NonMatchingAction,
    OrgAncestry,
    Policy,
    PolicyDocumentError,
    Reason,
    evaluate,
    load_document,
    load_policy,
    policy_as_env,
    policy_warnings,
)
from policy.document import MAX_DOCUMENT_BYTES, MAX_NAME_PATTERNS, MAX_RULES, parse_text, policy_from_data
from policy.model import SimpleForm, compile_simple, shown

A, B, C, D = "111111111111", "222222222222", "333333333333", "444444444444"
OU1, OU2, OU3, OU4 = "ou-ab12-aaaaaaaa", "ou-ab12-bbbbbbbb", "ou-ab12-cccccccc", "ou-ab12-dddddddd"
ID = "0123456789abcdef0123456789abcdef"
RECIPIENT = "999999999999"


def rule(**members: Any) -> dict[str, Any]:
    return {"id": "ok", "action": "ACCEPT", "sharers": {"accounts": [A]}} | members


def document(*rules: dict[str, Any], **root: Any) -> dict[str, Any]:
    return {"version": 1, "rules": list(rules) or [rule()]} | root


def issues_of(data: Any) -> list[tuple[str, str]]:
    with pytest.raises(PolicyDocumentError) as err:
        policy_from_data(data)
    return [(issue.path, issue.problem) for issue in err.value.issues]


def text_issues(text: str) -> list[tuple[str, str]]:
    with pytest.raises(PolicyDocumentError) as err:
        parse_text(text)
    return [(issue.path, issue.problem) for issue in err.value.issues]


def inv(
    sharer: str = A, rtype: str | None = "WORKLOAD", permission: str | None = "READONLY", name: Any = "n"
) -> Invitation:
    return Invitation(ID, sharer, RECIPIENT, rtype, permission, name, "id")


# -- documents: each problem, exactly --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind"),
    [([], "a list"), ("x", "a string"), (True, "a boolean"), (3, "a number"), (1.5, "a number"), (None, "null")],
)
def test_a_document_that_is_not_an_object_is_named_by_its_kind(data: Any, kind: str) -> None:
    assert issues_of(data) == [("$", f"must be an object, not {kind}")]


def test_a_value_of_no_json_kind_is_named_by_its_python_type() -> None:
    assert issues_of({1, 2}) == [("$", "must be an object, not a set")]


def test_each_root_problem_is_named_exactly() -> None:
    assert issues_of({"version": 1}) == [("$.rules", "is required: a list of rules")]
    assert issues_of(document(version=None) | {"rules": {"a": 1}}) == [
        ("$.version", "None is not a supported version (only 1)"),
        ("$.rules", "must be a non-empty list of rules, not an object"),
    ]
    assert issues_of(document() | {"rules": []}) == [("$.rules", "must be a non-empty list of rules, not a list")]
    assert issues_of(document(version="1")) == [("$.version", "'1' is not a supported version (only 1)")]
    assert issues_of(document(description=5)) == [("$.description", "must be a string of at most 1024 characters")]
    assert issues_of(document(description="x" * 1025)) == [
        ("$.description", "must be a string of at most 1024 characters")
    ]
    assert policy_from_data(document(description="x" * 1024)).rules  # 1024 characters is the most
    assert issues_of(document(non_matching_action="ignore")) == [
        ("$.non_matching_action", "'ignore' is not IGNORE or REJECT")
    ]
    assert issues_of(document(dry_run="yes")) == [("$.dry_run", "'yes' is not true or false")]
    assert issues_of(document(extra=1)) == [("$.extra", "unknown member 'extra'")]
    assert issues_of(document() | {7: "x"}) == [("$", "unknown member 7")]


def test_each_rule_problem_is_named_exactly() -> None:
    cases = [
        (5, [("$.rules[0]", "must be an object, not a number")]),
        (rule(description=7), [("$.rules[0].description", "must be a string of at most 1024 characters")]),
        (rule(id="-x"), [("$.rules[0].id", "'-x' is not 1-64 of A-Z a-z 0-9 _ . - (letter or digit first)")]),
        ({"sharers": {"accounts": [A]}}, [("$.rules[0].action", "is required: ACCEPT or REJECT")]),
        (rule(action="accept"), [("$.rules[0].action", "'accept' is not ACCEPT or REJECT")]),
        ({"action": "ACCEPT"}, [("$.rules[0].sharers", 'is required: {"accounts": [...], "ous": [...]}')]),
        (
            rule(sharers=[A]),
            [("$.rules[0].sharers", "must be an object with accounts and/or ous, not a list")],
        ),
        (
            rule(sharers={}),
            [("$.rules[0].sharers", "names no account and no OU: a rule must name its sharers")],
        ),
        (rule(sharers={"accounts": A}), [("$.rules[0].sharers.accounts", "must be a list, not a string")]),
        (
            rule(sharers={"accounts": ["1"]}),
            [("$.rules[0].sharers.accounts[0]", "'1' is not a 12-digit AWS account id")],
        ),
        (
            rule(sharers={"ous": ["x"]}),
            [("$.rules[0].sharers.ous[0]", "'x' is not an OU id (ou-...) or root id (r-...)")],
        ),
        (rule(sharers={"users": [A]}), [("$.rules[0].sharers.users", "unknown member 'users'")]),
        (
            rule(resource_types=[]),
            [("$.rules[0].resource_types", "must be a non-empty list of WORKLOAD, LENS, PROFILE, TEMPLATE")],
        ),
        (
            rule(resource_types=["WORKLOAD", "lens"]),
            [("$.rules[0].resource_types[1]", "'lens' is not one of WORKLOAD, LENS, PROFILE, TEMPLATE")],
        ),
        (
            rule(permission_types=["ALL"]),
            [("$.rules[0].permission_types[0]", "'ALL' is not one of READONLY, CONTRIBUTOR")],
        ),
        (rule(resource_names=[]), [("$.rules[0].resource_names", "must be a list of 1 to 100 name patterns")]),
        (rule(resource_names="acme-*"), [("$.rules[0].resource_names", "must be a list of 1 to 100 name patterns")]),
    ]
    for raw, expected in cases:
        assert issues_of(document(raw)) == expected, raw


@pytest.mark.parametrize(
    "name",
    ["", "x" * 257, "bad\x00name", "zero\u200bwidth", "half\ud800surrogate", 7],
)
def test_a_name_pattern_must_be_1_to_256_characters_with_no_control_characters(name: Any) -> None:
    assert issues_of(document(rule(resource_names=["ok-*", name]))) == [
        (
            "$.rules[0].resource_names[1]",
            f"{shown(name)} is not a name pattern (1-256 characters, no control characters)",
        )
    ]


def test_the_largest_sizes_are_allowed_one_more_is_not() -> None:
    names = [f"name-{i}" for i in range(MAX_NAME_PATTERNS)]
    allowed = policy_from_data(document(rule(resource_names=[*names, names[0]][:MAX_NAME_PATTERNS])))
    assert len(allowed.rules[0].resource_names) == MAX_NAME_PATTERNS
    assert policy_from_data(document(rule(resource_names=["x" * 256]))).rules[0].resource_names == ("x" * 256,)
    assert issues_of(document(rule(resource_names=[*names, "one-more"]))) == [
        ("$.rules[0].resource_names", "must be a list of 1 to 100 name patterns")
    ]
    rules = [rule(id=None, sharers={"accounts": [f"{i:012d}"]}) for i in range(MAX_RULES)]
    assert len(policy_from_data(document(*rules)).rules) == MAX_RULES
    assert issues_of(document(*rules, rule())) == [("$.rules", f"holds {MAX_RULES + 1} rules, more than {MAX_RULES}")]


def test_rule_ids_must_differ() -> None:
    assert issues_of(document(rule(), rule(sharers={"accounts": [B]}))) == [
        ("$.rules[1].id", "'ok' is also the id of rule 0")
    ]


def test_text_problems_are_named_exactly() -> None:
    assert text_issues("") == [("$", "the document is empty")]
    assert text_issues(" \n\t") == [("$", "the document is empty")]
    assert text_issues('{"version": 1, "version": 1}') == [("$", "member 'version' appears twice")]
    for text in ("{bad", "[1,", "  \n[1,"):
        [(path, problem)] = text_issues(text)
        assert path == "$" and problem.startswith("is not valid JSON: "), text
    [(path, problem)] = text_issues("a: [")
    assert path == "$" and problem.startswith("is neither valid JSON nor valid YAML: ")


def test_a_document_of_the_largest_size_is_read_one_byte_more_is_not() -> None:
    body = json.dumps(document())
    largest = body + " " * (MAX_DOCUMENT_BYTES - len(body))
    assert len(largest.encode()) == MAX_DOCUMENT_BYTES
    assert load_document(largest).rules[0].id == "ok"
    assert text_issues(largest + " ") == [("$", f"is larger than {MAX_DOCUMENT_BYTES} bytes")]


def test_every_text_problem_names_the_source_given() -> None:
    for text in ("", '{"a": 1, "a": 2}', "{bad", "a: [", " " * (MAX_DOCUMENT_BYTES + 1), "[]"):
        with pytest.raises(PolicyDocumentError) as err:
            load_document(text, source="ssm:/p")
        assert err.value.source == "ssm:/p", text[:10]
        with pytest.raises(PolicyDocumentError) as err:
            parse_text(text) if text != "[]" else policy_from_data([])
        assert err.value.source == "document", text[:10]


def test_the_error_names_its_source_and_lists_every_issue() -> None:
    with pytest.raises(PolicyDocumentError) as err:
        load_document("")
    assert err.value.source == "document"
    assert str(err.value) == "invalid policy document (document):\n  - $: the document is empty"
    with pytest.raises(PolicyDocumentError) as err:
        load_document(json.dumps({"version": 2}), source="ssm:/acceptor/policy")
    assert err.value.source == "ssm:/acceptor/policy"
    assert str(err.value) == (
        "invalid policy document (ssm:/acceptor/policy):\n"
        "  - $.version: 2 is not a supported version (only 1)\n"
        "  - $.rules: is required: a list of rules"
    )
    with pytest.raises(PolicyDocumentError) as err:
        load_document("{bad", source="file:policy.json")
    assert err.value.source == "file:policy.json"
    with pytest.raises(PolicyDocumentError) as err:
        policy_from_data([])
    assert err.value.source == "document"
    direct = PolicyDocumentError([DocIssue("$", "x"), DocIssue("$.a", "y")])
    assert (direct.source, str(direct)) == ("document", "invalid policy document (document):\n  - $: x\n  - $.a: y")


def test_a_document_keeps_its_dry_run_and_source() -> None:
    assert load_document(json.dumps(document(dry_run=True)), source="file:p.json").dry_run is True
    policy = load_document(json.dumps(document()))
    assert (policy.dry_run, policy.source, policy.simple) == (False, "document", None)
    assert load_document(json.dumps(document()), source="file:p.json").source == "file:p.json"


# -- describe(), policy_as_env(), warnings ----------------------------------------------------------------


def _full_form() -> SimpleForm:
    return SimpleForm(
        allowed_accounts=frozenset({B, A}),
        allowed_ous=frozenset({OU2, OU1}),
        denied_accounts=frozenset({D, C}),
        denied_ous=frozenset({OU4, OU3}),
        allowed_resource_types=frozenset({"LENS", "WORKLOAD"}),
        allowed_permission_types=frozenset({"READONLY", "CONTRIBUTOR"}),
        non_matching_action=NonMatchingAction.REJECT,
        dry_run=True,
    )


def test_a_compiled_policy_describes_its_variables_and_rules_exactly() -> None:
    policy = compile_simple(_full_form())
    assert policy.describe() == {
        "source": "environment",
        "variables": {
            "allowed_source_accounts": [A, B],
            "allowed_source_ous": [OU1, OU2],
            "denied_source_accounts": [C, D],
            "denied_source_ous": [OU3, OU4],
            "allowed_resource_types": ["LENS", "WORKLOAD"],
            "allowed_permission_types": ["CONTRIBUTOR", "READONLY"],
            "non_matching_action": "REJECT",
            "dry_run": True,
        },
        "non_matching_action": "REJECT",
        "dry_run": True,
        "rules": [
            {
                "index": 0,
                "id": "denied-accounts",
                "action": "REJECT",
                "sharers": {"accounts": [C, D], "ous": []},
                "resource_types": ["WORKLOAD", "LENS", "PROFILE", "TEMPLATE"],
                "permission_types": ["READONLY", "CONTRIBUTOR"],
            },
            {
                "index": 1,
                "id": "denied-ous",
                "action": "REJECT",
                "sharers": {"accounts": [], "ous": [OU3, OU4]},
                "resource_types": ["WORKLOAD", "LENS", "PROFILE", "TEMPLATE"],
                "permission_types": ["READONLY", "CONTRIBUTOR"],
            },
            {
                "index": 2,
                "id": "allowed",
                "action": "ACCEPT",
                "sharers": {"accounts": [A, B], "ous": [OU1, OU2]},
                "resource_types": ["WORKLOAD", "LENS"],
                "permission_types": ["READONLY", "CONTRIBUTOR"],
            },
        ],
    }


def test_a_document_describes_its_rules_with_names_and_without_absent_ids() -> None:
    data = document(
        {"action": "ACCEPT", "sharers": {"ous": [OU1]}, "resource_types": ["LENS"], "resource_names": ["b*", "a*"]},
        {"id": "deny", "action": "REJECT", "sharers": {"accounts": [C]}, "permission_types": ["CONTRIBUTOR"]},
    )
    described = load_document(json.dumps(data), source="file:p.json").describe()
    assert described == {
        "source": "file:p.json",
        "non_matching_action": "IGNORE",
        "dry_run": False,
        "rules": [
            {
                "index": 0,
                "action": "ACCEPT",
                "sharers": {"accounts": [], "ous": [OU1]},
                "resource_types": ["LENS"],
                "permission_types": ["READONLY"],
                "resource_names": ["b*", "a*"],
            },
            {
                "index": 1,
                "id": "deny",
                "action": "REJECT",
                "sharers": {"accounts": [C], "ous": []},
                "resource_types": ["WORKLOAD", "LENS", "PROFILE", "TEMPLATE"],
                "permission_types": ["CONTRIBUTOR"],
            },
        ],
    }


def test_policy_as_env_gives_every_variable_and_loads_back() -> None:
    form = _full_form()
    env = policy_as_env(compile_simple(form))
    assert env == {
        "ALLOWED_SOURCE_ACCOUNTS": f"{A},{B}",
        "ALLOWED_SOURCE_OUS": f"{OU1},{OU2}",
        "DENIED_SOURCE_ACCOUNTS": f"{C},{D}",
        "DENIED_SOURCE_OUS": f"{OU3},{OU4}",
        "ALLOWED_RESOURCE_TYPES": "LENS,WORKLOAD",
        "ALLOWED_PERMISSION_TYPES": "CONTRIBUTOR,READONLY",
        "NON_MATCHING_ACTION": "REJECT",
        "DRY_RUN": "true",
    }
    assert load_policy(env) == compile_simple(form)
    assert policy_as_env(form) == env
    defaults = policy_as_env(SimpleForm())
    assert defaults["DRY_RUN"] == "false" and defaults["NON_MATCHING_ACTION"] == "IGNORE"
    assert load_policy(defaults) == compile_simple(SimpleForm())
    with pytest.raises(ValueError) as err:
        policy_as_env(load_document(json.dumps(document())))
    assert str(err.value) == "a policy document has no environment-variable form"


def test_warnings_name_exactly_what_overlaps() -> None:
    overlapping = SimpleForm(
        allowed_accounts=frozenset({A, B, C}),
        denied_accounts=frozenset({B, C}),
        allowed_ous=frozenset({OU1, OU2, OU3}),
        denied_ous=frozenset({OU2, OU3, OU4}),
    )
    assert policy_warnings(compile_simple(overlapping)) == [
        f"accounts both allowed and denied (deny wins): {B}, {C}",
        f"OUs both allowed and denied (deny wins): {OU2}, {OU3}",
    ]
    assert (
        policy_warnings(compile_simple(SimpleForm(allowed_ous=frozenset({OU1}), denied_accounts=frozenset({A})))) == []
    )
    assert policy_warnings(compile_simple(SimpleForm(denied_accounts=frozenset({A})))) == [
        "no allowed source accounts or OUs: nothing will be accepted"
    ]


def test_a_policy_with_dry_run_keeps_everything_else() -> None:
    policy = compile_simple(_full_form()._replace(dry_run=False))
    dry = policy.with_dry_run(True)
    assert dry.dry_run is True and policy.dry_run is False
    assert (dry.rules, dry.non_matching_action, dry.simple, dry.source) == (
        policy.rules,
        policy.non_matching_action,
        policy.simple,
        policy.source,
    )
    document_policy = load_document(json.dumps(document()), source="file:p.json").with_dry_run(True)
    assert (document_policy.source, document_policy.simple, document_policy.dry_run) == ("file:p.json", None, True)
    assert repr(policy) == "Policy(3 rules, non_matching_action=REJECT, dry_run=False)"


# -- the edges of the rules -------------------------------------------------------------------------------


def test_a_reject_rule_limited_to_some_types_or_permissions_rejects_only_those() -> None:
    data = document(
        rule(id="allow", resource_types=["WORKLOAD", "LENS"], permission_types=["READONLY", "CONTRIBUTOR"]),
        {"id": "no-lenses", "action": "REJECT", "sharers": {"accounts": [A]}, "resource_types": ["LENS"]},
        {"id": "no-writers", "action": "REJECT", "sharers": {"accounts": [A]}, "permission_types": ["CONTRIBUTOR"]},
    )
    policy = load_document(json.dumps(data))
    accepted = evaluate(policy, inv())
    assert (accepted.action, accepted.rule_id) == (Action.ACCEPT, "allow")
    lens = evaluate(policy, inv(rtype="LENS", permission=None))
    assert (lens.action, lens.reason, lens.rule_id) == (Action.REJECT, Reason.DENIED_ACCOUNT, "no-lenses")
    writer = evaluate(policy, inv(permission="CONTRIBUTOR"))
    assert (writer.action, writer.rule_id) == (Action.REJECT, "no-writers")
    # the limited REJECT rules need the value they are limited to: unknown, nothing is decided
    unknown_type = evaluate(policy, inv(rtype="NOTEBOOK"))
    assert (unknown_type.action, unknown_type.field) == (Action.IGNORE, "ShareResourceType")
    unknown_permission = evaluate(policy, inv(permission="OWNER"))
    assert (unknown_permission.action, unknown_permission.field) == (Action.IGNORE, "PermissionType")


def test_a_reject_rule_for_every_type_and_permission_needs_neither() -> None:
    data = document({"id": "deny", "action": "REJECT", "sharers": {"accounts": [A]}})
    policy = load_document(json.dumps(data))
    for invitation in (inv(rtype="NOTEBOOK"), inv(permission="OWNER"), inv(rtype=None)):
        decision = evaluate(policy, invitation)
        assert (decision.action, decision.reason, decision.rule_id) == (Action.REJECT, Reason.DENIED_ACCOUNT, "deny")


def test_a_name_rule_with_no_name_and_no_known_type_names_the_generic_field() -> None:
    data = document({"id": "deny", "action": "REJECT", "sharers": {"accounts": [A]}, "resource_names": ["x-*"]})
    decision = evaluate(load_document(json.dumps(data)), inv(rtype="NOTEBOOK", name=None))
    assert (decision.action, decision.reason, decision.field) == (Action.IGNORE, Reason.MISSING_INPUT, "ResourceName")
    assert decision.detail == "rule 0 (deny) matches on the name, and the invitation has none"


def test_a_name_pattern_star_spans_any_characters_newlines_included() -> None:
    policy = load_document(json.dumps(document(rule(resource_names=["acme-*-prod"]))))
    assert evaluate(policy, inv(name="acme-team\nx-prod")).action is Action.ACCEPT
    assert evaluate(policy, inv(name="acme-team-dev")).action is Action.IGNORE


def test_why_an_ou_rule_could_not_be_checked_is_said_exactly() -> None:
    policy = compile_simple(SimpleForm(allowed_ous=frozenset({OU1})))
    never = evaluate(policy, inv(), None)
    assert never.reason == Reason.ORG_LOOKUP_FAILED
    assert never.detail.endswith(f"for sharer {A}: no organizations lookup was made")
    empty = evaluate(policy, inv(), OrgAncestry())
    assert empty.detail.endswith(f"for sharer {A}: organizations lookup returned nothing")
    failed = evaluate(policy, inv(), OrgAncestry.failed("ListParents: AccessDenied"))
    assert failed.detail.endswith(f"for sharer {A}: ListParents: AccessDenied")


def test_a_missing_resource_type_is_said_exactly() -> None:
    decision = evaluate(compile_simple(SimpleForm(allowed_accounts=frozenset({A}))), inv(rtype=None))
    assert (decision.reason, decision.field, decision.detail) == (
        Reason.MISSING_INPUT,
        "ShareResourceType",
        "invitation has no resource type",
    )


def test_the_deciding_rule_is_named_in_the_decision() -> None:
    policy = Policy.allowlist(allowed_accounts=frozenset({A}), denied_accounts=frozenset({C}))
    accepted = evaluate(policy, inv())
    assert (accepted.rule, accepted.rule_id, accepted.detail) == (
        1,
        "allowed",
        f"sharer {A} is named by rule 1 (allowed)",
    )
    rejected = evaluate(policy, inv(sharer=C))
    assert (rejected.rule, rejected.rule_id) == (0, "denied-accounts")


def test_the_first_matching_rule_of_an_action_decides_even_after_a_named_rule_that_does_not_match() -> None:
    data = document(
        rule(id="lenses", resource_types=["LENS"]),
        rule(id="workloads", resource_types=["WORKLOAD"]),
    )
    decision = evaluate(load_document(json.dumps(data)), inv())
    assert (decision.action, decision.rule, decision.rule_id) == (Action.ACCEPT, 1, "workloads")


def test_a_rule_without_an_id_is_named_by_its_position() -> None:
    data = document({"action": "ACCEPT", "sharers": {"accounts": [A]}})
    assert evaluate(load_document(json.dumps(data)), inv()).detail == f"sharer {A} is named by rule 0"


def test_an_ou_decision_names_exactly_the_ous_that_hold_the_sharer() -> None:
    policy = compile_simple(SimpleForm(allowed_ous=frozenset({OU1, OU2, OU3})))
    decision = evaluate(policy, inv(), OrgAncestry.found({"r-ab12", OU1, OU2}))
    assert decision.reason == Reason.ALLOWED_OU
    assert decision.detail == f"sharer {A} is below {OU1}, {OU2}, named by rule 0 (allowed)"


def test_a_name_that_misses_a_rule_naming_the_sharer_by_ou_is_the_reason() -> None:
    data = document({"id": "team", "action": "ACCEPT", "sharers": {"ous": [OU1]}, "resource_names": ["acme-*"]})
    policy = load_document(json.dumps(data))
    missed = evaluate(policy, inv(name="other"), OrgAncestry.found({"r-ab12", OU1}))
    assert (missed.action, missed.reason, missed.field) == (
        Action.IGNORE,
        Reason.RESOURCE_NAME_NOT_ALLOWED,
        "WorkloadName",
    )
    assert missed.detail == "WorkloadName 'other' matches none of the names of rule 0 (team)"
    # where the sharer's OUs are unknown, a name that matches no pattern rules the rule out all the same
    unknown = evaluate(policy, inv(name="other"), None)
    assert (unknown.action, unknown.reason) == (Action.IGNORE, Reason.SOURCE_NOT_ALLOWED)


def test_shown_values_are_cut_to_100_characters() -> None:
    exact = ("x" * 46, "y" * 46)
    assert shown(exact) == repr(exact) and len(repr(exact)) == 100
    longer = ("x" * 46, "y" * 47)
    assert shown(longer) == repr(longer)[:97] + "..."


def test_a_bare_policy_has_the_documented_defaults() -> None:
    policy = Policy(())
    assert (policy.dry_run, policy.source, policy.simple) == (False, "environment", None)
    assert policy.non_matching_action is NonMatchingAction.IGNORE
    assert Policy((), source="file:p.json").source == "file:p.json"


def test_configuration_errors_are_named_exactly() -> None:
    from policy import PolicyConfigError

    with pytest.raises(PolicyConfigError) as err:
        load_policy(
            {
                "ALLOWED_SOURCE_ACCOUNTS": f"arn:aws:iam::{A}:root",
                "ALLOWED_SOURCE_OUS": "arn:aws:organizations::1:ou/o-1/ou-1,ou-x",
                "NON_MATCHING_ACTION": "DROP",
                "DRY_RUN": "maybe",
            }
        )
    assert str(err.value) == (
        "invalid policy configuration:\n"
        "  - NON_MATCHING_ACTION: 'DROP' is not IGNORE or REJECT\n"
        f"  - ALLOWED_SOURCE_ACCOUNTS: 'arn:aws:iam::{A}:root' is an ARN; give the 12-digit account id\n"
        "  - ALLOWED_SOURCE_OUS: 'arn:aws:organizations::1:ou/o-1/ou-1' is an ARN; give the OU id (ou-...) or "
        "root id (r-...)\n"
        "  - ALLOWED_SOURCE_OUS: 'ou-x' is not an OU id (ou-...) or root id (r-...)\n"
        "  - DRY_RUN: 'maybe' is not true or false"
    )


def test_a_refused_value_names_at_most_five_of_its_non_ascii_characters() -> None:
    from policy.config import non_ascii_note

    assert (
        non_ascii_note("\u0661\u0662\u0663\u0664\u0665")
        == "; it holds non-ASCII U+0661, U+0662, U+0663, U+0664, U+0665"
    )
    assert non_ascii_note("\u0661\u0662\u0663\u0664\u0665\u0666") == (
        "; it holds non-ASCII U+0661, U+0662, U+0663, U+0664, U+0665, ..."
    )


def test_an_invitation_without_an_id_or_a_sharer_is_said_exactly() -> None:
    policy = compile_simple(SimpleForm(allowed_accounts=frozenset({A})))
    no_id = evaluate(policy, Invitation(None, A, RECIPIENT, "WORKLOAD", "READONLY", "n", "i"))
    assert (no_id.reason, no_id.field, no_id.detail) == (
        Reason.MISSING_INPUT,
        "ShareInvitationId",
        "invitation has no id",
    )
    no_sharer = evaluate(policy, Invitation(ID, None, RECIPIENT, "WORKLOAD", "READONLY", "n", "i"))
    assert (no_sharer.reason, no_sharer.field, no_sharer.detail) == (
        Reason.MISSING_INPUT,
        "SharedBy",
        "invitation names no sharer",
    )


def test_a_principal_arn_of_2048_characters_is_a_principal_one_more_is_not() -> None:
    policy = compile_simple(SimpleForm(allowed_accounts=frozenset({A})))
    prefix = f"arn:aws:iam::{RECIPIENT}:role/" + ("p" * 472 + "/") * 4
    longest = prefix + "r" * (2048 - len(prefix))
    assert len(longest) == 2048
    to_principal = evaluate(policy, Invitation(ID, A, longest, "WORKLOAD", "READONLY", "n", "i"))
    assert to_principal.reason == Reason.ADDRESSED_TO_PRINCIPAL
    too_long = evaluate(policy, Invitation(ID, A, longest + "r", "WORKLOAD", "READONLY", "n", "i"))
    assert (too_long.reason, too_long.field) == (Reason.INVALID_INPUT, "SharedWith")
