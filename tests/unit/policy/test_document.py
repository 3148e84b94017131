"""Policy documents: loading (JSON and YAML), every error with its JSON path, the published schema in
agreement with the loader, rule semantics, and the eight variables deciding exactly as their document."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from policy import (
    Action,
    Invitation,
    NonMatchingAction,
    OrgAncestry,
    Policy,
    PolicyDocumentError,
    Reason,
    evaluate,
    load_document,
)
from policy.model import SimpleForm, compile_simple

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((ROOT / "src" / "policy" / "policy.schema.json").read_text())
EXAMPLE = ROOT / "docs" / "examples" / "policy.json"
SECURITY, REVIEW, VENDOR, PLATFORM_MEMBER, STRANGER = (
    "333333333333",
    "444444444444",
    "555555555555",
    "666666666666",
    "777777777777",
)
PLATFORM_OU = "ou-ab12-platform1"
ID = "0123456789abcdef0123456789abcdef"


def invitation(sharer: str, rtype: str, name: str = "n", permission: str | None = None) -> Invitation:
    summary: dict[str, Any] = {
        "ShareInvitationId": ID,
        "SharedBy": sharer,
        "SharedWith": "111111111111",
        "ShareResourceType": rtype,
        {"WORKLOAD": "WorkloadName", "LENS": "LensName", "PROFILE": "ProfileName", "TEMPLATE": "TemplateName"}[
            rtype
        ]: name,
    }
    if permission is not None:
        summary["PermissionType"] = permission
    return Invitation.from_summary(summary)


def example() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text())


# ---------------------------------------------------------------- the example document


def test_the_example_document_decides_each_sharer_by_its_own_rule() -> None:
    policy = load_document(EXAMPLE.read_text(), source="example")
    platform = OrgAncestry.found({"r-ab12", PLATFORM_OU})
    ELSEWHERE = OrgAncestry.found({"r-ab12", "ou-ab12-security"})  # the engine looks every sharer up
    cases = [
        # (invitation, ancestry, action, reason, deciding rule id)
        (
            invitation(SECURITY, "LENS", "acme-serverless"),
            None,
            "ACCEPT",
            "allowed_account",
            "security-lenses-and-profiles",
        ),
        (invitation(SECURITY, "LENS", "other-lens"), ELSEWHERE, "IGNORE", "resource_name_not_allowed", None),
        (invitation(SECURITY, "PROFILE", "pci"), ELSEWHERE, "ACCEPT", "allowed_account", "security-profiles"),
        (invitation(SECURITY, "WORKLOAD", "w", "READONLY"), ELSEWHERE, "IGNORE", "source_not_allowed", None),
        (
            invitation(PLATFORM_MEMBER, "WORKLOAD", "w", "READONLY"),
            platform,
            "ACCEPT",
            "allowed_ou",
            "platform-workloads-readonly",
        ),
        (invitation(PLATFORM_MEMBER, "WORKLOAD", "w", "CONTRIBUTOR"), platform, "IGNORE", "source_not_allowed", None),
        (
            invitation(PLATFORM_MEMBER, "WORKLOAD", "w", "READONLY"),
            OrgAncestry.failed("x"),
            "IGNORE",
            "org_lookup_failed",
            None,
        ),
        (
            invitation(REVIEW, "WORKLOAD", "w", "CONTRIBUTOR"),
            None,
            "ACCEPT",
            "allowed_account",
            "review-account-contributor",
        ),
        (invitation(VENDOR, "LENS", "acme-x"), ELSEWHERE, "REJECT", "denied_account", "vendor-denied"),
        (
            invitation(STRANGER, "TEMPLATE", "t"),
            OrgAncestry.found({"r-ab12"}),
            "IGNORE",
            "resource_type_not_allowed",
            None,
        ),
    ]
    for inv, ancestry, action, reason, rule_id in cases:
        decision = evaluate(policy, inv, ancestry)
        assert (decision.action.value, decision.reason, decision.rule_id) == (action, reason, rule_id), inv
        if rule_id is not None:
            assert decision.rule == next(r.position for r in policy.rules if r.id == rule_id)
            assert rule_id in decision.detail


def test_yaml_and_json_give_the_same_policy() -> None:
    as_yaml = yaml.safe_dump(example(), sort_keys=False)
    assert load_document(as_yaml) == load_document(EXAMPLE.read_text())


def test_the_example_and_the_schema_agree() -> None:
    jsonschema.validate(example(), SCHEMA)
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_defaults_of_a_minimal_document() -> None:
    policy = load_document('{"version": 1, "rules": [{"action": "ACCEPT", "sharers": {"accounts": ["333333333333"]}}]}')
    [rule] = policy.rules
    assert policy.non_matching_action is NonMatchingAction.IGNORE and policy.dry_run is False
    assert rule.resource_types == {"WORKLOAD", "LENS", "PROFILE", "TEMPLATE"}
    assert rule.permission_types == {"READONLY"}  # an ACCEPT rule accepts read-only unless it says more
    reject = load_document('{"version": 1, "rules": [{"action": "REJECT", "sharers": {"ous": ["r-ab12"]}}]}')
    assert reject.rules[0].permission_types == {"READONLY", "CONTRIBUTOR"}
    assert policy.describe()["rules"][0]["sharers"]["accounts"] == ["333333333333"]


# ---------------------------------------------------------------- errors with their paths


def _broken(path: list[Any], value: Any) -> dict[str, Any]:
    document = copy.deepcopy(example())
    node: Any = document
    for key in path[:-1]:
        node = node[key]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "where", "says"),
    [
        (["version"], 2, "$.version", "not a supported version"),
        (["version"], ..., "$.version", "is required"),
        (["version"], True, "$.version", "not a supported version"),
        (["rules"], [], "$.rules", "non-empty list"),
        (["rules"], ..., "$.rules", "is required"),
        (["non_matching_action"], "reject", "$.non_matching_action", "not IGNORE or REJECT"),
        (["dry_run"], "false", "$.dry_run", "not true or false"),
        (["surprise"], 1, "$.surprise", "unknown member"),
        (["rules", 1, "action"], "ALLOW", "$.rules[1].action", "not ACCEPT or REJECT"),
        (["rules", 1, "action"], ..., "$.rules[1].action", "is required"),
        (["rules", 1, "sharers"], ..., "$.rules[1].sharers", "is required"),
        (["rules", 1, "sharers"], {}, "$.rules[1].sharers", "names no account and no OU"),
        (["rules", 1, "sharers"], ["333333333333"], "$.rules[1].sharers", "must be an object"),
        (["rules", 1, "sharers", "accounts", 0], "3333", "$.rules[1].sharers.accounts[0]", "12-digit"),
        (
            ["rules", 1, "sharers", "accounts", 0],
            "\uff13" * 12,
            "$.rules[1].sharers.accounts[0]",
            "12-digit",
        ),
        (["rules", 1, "sharers", "accounts", 0], "333333333333\n", "$.rules[1].sharers.accounts[0]", "12-digit"),
        (["rules", 1, "sharers", "accounts", 0], 333333333333, "$.rules[1].sharers.accounts[0]", "12-digit"),
        (["rules", 3, "sharers", "ous", 0], "ou-platform", "$.rules[3].sharers.ous[0]", "OU id"),
        (["rules", 1, "sharers", "users"], ["x"], "$.rules[1].sharers.users", "unknown member"),
        (["rules", 1, "resource_types"], ["lens"], "$.rules[1].resource_types[0]", "not one of"),
        (["rules", 1, "resource_types"], [], "$.rules[1].resource_types", "non-empty list"),
        (["rules", 4, "permission_types", 1], "ADMIN", "$.rules[4].permission_types[1]", "not one of"),
        (["rules", 1, "resource_names"], ["a\u0000b"], "$.rules[1].resource_names[0]", "not a name pattern"),
        (["rules", 1, "resource_names"], "acme-*", "$.rules[1].resource_names", "list of 1 to"),
        (["rules", 1, "id"], "has space", "$.rules[1].id", "not 1-64"),
        (["rules", 2, "id"], "vendor-denied", "$.rules[2].id", "also the id of rule 0"),
        (["rules", 0], "REJECT everyone", "$.rules[0]", "must be an object"),
        (["rules", 0, "priority"], 1, "$.rules[0].priority", "unknown member"),
    ],
)
def test_each_error_names_its_json_path(path: list[Any], value: Any, where: str, says: str) -> None:
    document = _broken(path, value)
    with pytest.raises(PolicyDocumentError) as err:
        load_document(json.dumps(document), source="test")
    issues = {issue.path: issue.problem for issue in err.value.issues}
    assert where in issues, issues
    assert says in issues[where]
    assert f"{where}: " in str(err.value) and "(test)" in str(err.value)
    # The published schema refuses it too (it cannot check uniqueness of ids: the loader does)
    if says != "also the id of rule 0":
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(document, SCHEMA)


def test_every_problem_is_reported_at_once() -> None:
    document = _broken(["version"], 3)
    document["rules"][0]["action"] = "MAYBE"
    document["rules"][2]["sharers"]["accounts"] = ["1", "2"]
    with pytest.raises(PolicyDocumentError) as err:
        load_document(json.dumps(document))
    assert [i.path for i in err.value.issues] == [
        "$.version",
        "$.rules[0].action",
        "$.rules[2].sharers.accounts[0]",
        "$.rules[2].sharers.accounts[1]",
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("{", "not valid JSON"),
        ('{"version": 1, "version": 1, "rules": []}', "appears twice"),
        ("[1, 2]", "must be an object"),
        ("version: [1\n", "neither valid JSON nor valid YAML"),
        ("just words", "must be an object"),
    ],
)
def test_unreadable_documents(text: str, says: str) -> None:
    with pytest.raises(PolicyDocumentError) as err:
        load_document(text)
    assert says in str(err.value)


# ---------------------------------------------------------------- semantics


def rule(action: str, **fields: Any) -> dict[str, Any]:
    return {"action": action, "sharers": {"accounts": [SECURITY]}, **fields}


def doc(*rules: dict[str, Any], non_matching: str = "IGNORE") -> Policy:
    return load_document(json.dumps({"version": 1, "non_matching_action": non_matching, "rules": list(rules)}))


def test_a_reject_rule_wins_over_an_earlier_accept_rule() -> None:
    policy = doc(rule("ACCEPT", id="yes"), rule("REJECT", id="no", resource_types=["LENS"]))
    assert evaluate(policy, invitation(SECURITY, "LENS")).rule_id == "no"
    assert evaluate(policy, invitation(SECURITY, "LENS")).action is Action.REJECT
    assert evaluate(policy, invitation(SECURITY, "PROFILE")).rule_id == "yes"


def test_name_patterns_match_the_whole_name_and_only_star_is_special() -> None:
    policy = doc(rule("ACCEPT", resource_names=["acme-*", "exact.name?"]))
    decide = lambda name: evaluate(policy, invitation(SECURITY, "LENS", name)).action  # noqa: E731
    assert decide("acme-") is Action.ACCEPT and decide("acme-lens") is Action.ACCEPT
    assert decide("xacme-lens") is Action.IGNORE and decide("ACME-lens") is Action.IGNORE
    assert decide("exact.name?") is Action.ACCEPT and decide("exactxname!") is Action.IGNORE


def test_a_reject_rule_on_names_leaves_an_unnamed_invitation_pending() -> None:
    policy = doc(rule("REJECT", resource_names=["shadow-*"]), rule("ACCEPT"))
    unnamed = Invitation.from_summary(
        {"ShareInvitationId": ID, "SharedBy": SECURITY, "SharedWith": "111111111111", "ShareResourceType": "LENS"}
    )
    decision = evaluate(policy, unnamed)
    assert (decision.action, decision.reason, decision.field) == (Action.IGNORE, Reason.MISSING_INPUT, "LensName")


def test_a_reject_rule_needing_unknown_ous_blocks_every_accept() -> None:
    policy = doc({"action": "REJECT", "sharers": {"ous": ["ou-ab12-vendors12"]}}, rule("ACCEPT"))
    decision = evaluate(policy, invitation(SECURITY, "LENS"), OrgAncestry.failed("AccessDenied"))
    assert (decision.action, decision.reason) == (Action.IGNORE, Reason.ORG_LOOKUP_FAILED)
    assert evaluate(policy, invitation(SECURITY, "LENS"), OrgAncestry.found({"r-ab12"})).action is Action.ACCEPT


# ---------------------------------------------------------------- properties

ACCOUNTS = [SECURITY, REVIEW, VENDOR, STRANGER]
OUS = ["ou-ab12-aaaaaaaa", "ou-ab12-bbbbbbbb", "r-ab12"]
TYPES = ["WORKLOAD", "LENS", "PROFILE", "TEMPLATE"]
PERMISSIONS = ["READONLY", "CONTRIBUTOR"]


def document_of(form: SimpleForm) -> dict[str, Any]:
    """The simple form written as a policy document by hand, as a platform engineer would."""
    rules: list[dict[str, Any]] = []
    if form.denied_accounts:
        rules.append({"action": "REJECT", "sharers": {"accounts": sorted(form.denied_accounts)}})
    if form.denied_ous:
        rules.append({"action": "REJECT", "sharers": {"ous": sorted(form.denied_ous)}})
    sharers = {k: v for k, v in (("accounts", sorted(form.allowed_accounts)), ("ous", sorted(form.allowed_ous))) if v}
    # Nobody allowed: a rule for an account that never shares keeps the allowed types and permissions
    sharers = sharers or {"accounts": ["000000000000"]}
    if sharers:
        rules.append(
            {
                "action": "ACCEPT",
                "sharers": sharers,
                "resource_types": sorted(form.allowed_resource_types),
                "permission_types": sorted(form.allowed_permission_types),
            }
        )
    return {
        "version": 1,
        "non_matching_action": form.non_matching_action.value,
        "dry_run": form.dry_run,
        "rules": rules,
    }


forms = st.builds(
    SimpleForm,
    allowed_accounts=st.frozensets(st.sampled_from(ACCOUNTS), max_size=3),
    allowed_ous=st.frozensets(st.sampled_from(OUS), max_size=2),
    denied_accounts=st.frozensets(st.sampled_from(ACCOUNTS), max_size=2),
    denied_ous=st.frozensets(st.sampled_from(OUS), max_size=2),
    allowed_resource_types=st.frozensets(st.sampled_from(TYPES), min_size=1),
    allowed_permission_types=st.frozensets(st.sampled_from(PERMISSIONS), min_size=1),
    non_matching_action=st.sampled_from(list(NonMatchingAction)),
    dry_run=st.booleans(),
)
invitations = st.builds(
    lambda sharer, rtype, permission, name: Invitation.from_summary(
        {
            "ShareInvitationId": ID,
            "SharedBy": sharer,
            "SharedWith": "111111111111",
            "ShareResourceType": rtype,
            "WorkloadName": name,
            "LensName": name,
            "ProfileName": name,
            "TemplateName": name,
            **({"PermissionType": permission} if permission is not None else {}),
        }
    ),
    st.sampled_from([*ACCOUNTS, "12345"]),
    st.sampled_from([*TYPES, None, "STACK"]),
    st.sampled_from([*PERMISSIONS, None, ""]),
    st.sampled_from(["acme-a", "other"]),
)
ancestries = st.one_of(
    st.none(),
    st.builds(OrgAncestry.found, st.frozensets(st.sampled_from(OUS), max_size=3)),
    st.just(OrgAncestry.failed("lookup failed")),
)


@settings(max_examples=300)
@given(forms, invitations, ancestries)
def test_the_variables_and_their_document_decide_identically(
    form: SimpleForm, inv: Invitation, ancestry: OrgAncestry | None
) -> None:
    from_env = evaluate(compile_simple(form), inv, ancestry)
    written = document_of(form)
    from_document = evaluate(load_document(json.dumps(written)), inv, ancestry)
    assert (from_env.action, from_env.reason) == (from_document.action, from_document.reason)


rule_strategy = st.fixed_dictionaries(
    {
        "action": st.sampled_from(["ACCEPT", "REJECT"]),
        "sharers": st.one_of(
            st.fixed_dictionaries({"accounts": st.lists(st.sampled_from(ACCOUNTS), min_size=1, max_size=2)}),
            st.fixed_dictionaries({"ous": st.lists(st.sampled_from(OUS), min_size=1, max_size=2)}),
        ),
    },
    optional={
        "resource_types": st.lists(st.sampled_from(TYPES), min_size=1, max_size=3),
        "permission_types": st.lists(st.sampled_from(PERMISSIONS), min_size=1, max_size=2),
        "resource_names": st.lists(st.sampled_from(["acme-*", "*", "other"]), min_size=1, max_size=2),
    },
)


@settings(max_examples=300)
@given(st.lists(rule_strategy, min_size=1, max_size=6), invitations, ancestries, st.sampled_from(["IGNORE", "REJECT"]))
def test_a_matching_reject_rule_always_beats_every_accept_rule(
    rules: list[dict[str, Any]], inv: Invitation, ancestry: OrgAncestry | None, non_matching: str
) -> None:
    document = {"version": 1, "non_matching_action": non_matching, "rules": rules}
    policy = load_document(json.dumps(document))
    decision = evaluate(policy, inv, ancestry)
    # Given a second policy: the same rules with every REJECT rule turned into an ACCEPT rule
    if decision.action is Action.ACCEPT:
        # Then an ACCEPT means no REJECT rule could match: dropping every ACCEPT rule leaves no REJECT
        rejects = [r for r in rules if r["action"] == "REJECT"]
        if rejects:
            only_rejects = load_document(json.dumps({**document, "rules": rejects, "non_matching_action": "IGNORE"}))
            assert evaluate(only_rejects, inv, ancestry).action is Action.IGNORE
    if decision.action is Action.REJECT and decision.rule is not None:
        assert policy.rules[decision.rule].action is Action.REJECT
    # And when some REJECT rule matches on its own, adding ACCEPT rules never changes the answer
    rejects_only = [r for r in rules if r["action"] == "REJECT"]
    if rejects_only:
        alone = evaluate(load_document(json.dumps({**document, "rules": rejects_only})), inv, ancestry)
        if alone.action is Action.REJECT and alone.rule is not None:
            assert decision.action is Action.REJECT
