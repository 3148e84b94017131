"""Policy configuration: defaults, parsing, and errors that name the variable and the value."""

from __future__ import annotations

import pytest

from policy import NonMatchingAction, PolicyConfigError, load_policy, policy_as_env, policy_warnings


def test_defaults() -> None:
    policy = load_policy({})
    assert policy.simple.allowed_accounts == frozenset()
    assert policy.simple.allowed_ous == frozenset()
    assert policy.simple.denied_accounts == frozenset()
    assert policy.simple.denied_ous == frozenset()
    assert policy.simple.allowed_resource_types == {"WORKLOAD", "LENS", "PROFILE", "TEMPLATE"}
    assert policy.simple.allowed_permission_types == {"READONLY"}
    assert policy.non_matching_action is NonMatchingAction.IGNORE
    assert policy.dry_run is False
    assert not policy.uses_ous


def test_empty_strings_mean_defaults() -> None:
    env = dict.fromkeys(
        (
            "ALLOWED_SOURCE_ACCOUNTS",
            "ALLOWED_RESOURCE_TYPES",
            "ALLOWED_PERMISSION_TYPES",
            "NON_MATCHING_ACTION",
            "DRY_RUN",
        ),
        "",
    )
    assert load_policy(env) == load_policy({})


def test_lists_are_trimmed_deduplicated_and_normalised() -> None:
    policy = load_policy(
        {
            "ALLOWED_SOURCE_ACCOUNTS": " 111111111111 ,222222222222,,111111111111 ",
            "ALLOWED_SOURCE_OUS": "ou-ab12-abcdefgh, r-ab12",
            "DENIED_SOURCE_ACCOUNTS": "333333333333",
            "DENIED_SOURCE_OUS": "ou-zz99-zzzzzzzz",
            "ALLOWED_RESOURCE_TYPES": "workload, Lens",
            "ALLOWED_PERMISSION_TYPES": "readonly,CONTRIBUTOR",
            "NON_MATCHING_ACTION": "reject",
            "DRY_RUN": "TRUE",
        }
    )
    assert policy.simple.allowed_accounts == {"111111111111", "222222222222"}
    assert policy.simple.allowed_ous == {"ou-ab12-abcdefgh", "r-ab12"}
    assert policy.simple.denied_accounts == {"333333333333"}
    assert policy.simple.denied_ous == {"ou-zz99-zzzzzzzz"}
    assert policy.simple.allowed_resource_types == {"WORKLOAD", "LENS"}
    assert policy.simple.allowed_permission_types == {"READONLY", "CONTRIBUTOR"}
    assert policy.non_matching_action is NonMatchingAction.REJECT
    assert policy.dry_run is True
    assert policy.uses_ous


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("ALLOWED_SOURCE_ACCOUNTS", "12345", "12-digit"),
        ("ALLOWED_SOURCE_ACCOUNTS", "1234567890123", "12-digit"),
        ("ALLOWED_SOURCE_ACCOUNTS", "12345678901a", "12-digit"),
        ("ALLOWED_SOURCE_ACCOUNTS", "arn:aws:iam::123456789012:root", "ARN"),
        ("DENIED_SOURCE_ACCOUNTS", "abc", "12-digit"),
        ("ALLOWED_SOURCE_OUS", "ou-1", "OU id"),
        ("ALLOWED_SOURCE_OUS", "o-abcdefghij", "OU id"),
        ("DENIED_SOURCE_OUS", "arn:aws:organizations::1:ou/o-x/ou-ab12-abcdefgh", "ARN"),
        ("ALLOWED_RESOURCE_TYPES", "STACK", "WORKLOAD"),
        ("ALLOWED_PERMISSION_TYPES", "ADMIN", "READONLY"),
        ("NON_MATCHING_ACTION", "ACCEPT", "IGNORE or REJECT"),
        ("DRY_RUN", "yes", "true or false"),
        ("DRY_RUN", "1", "true or false"),
    ],
)
def test_each_bad_value_is_named(variable: str, value: str, words: str) -> None:
    with pytest.raises(PolicyConfigError) as err:
        load_policy({variable: value})
    [issue] = err.value.errors
    assert issue.variable == variable
    assert issue.value == value
    assert variable in str(err.value) and repr(value) in str(err.value) and words in str(err.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(PolicyConfigError) as err:
        load_policy({"ALLOWED_SOURCE_ACCOUNTS": "1,111111111111,2", "DRY_RUN": "maybe", "NON_MATCHING_ACTION": "x"})
    assert [(e.variable, e.value) for e in err.value.errors] == [
        ("NON_MATCHING_ACTION", "x"),
        ("ALLOWED_SOURCE_ACCOUNTS", "1"),
        ("ALLOWED_SOURCE_ACCOUNTS", "2"),
        ("DRY_RUN", "maybe"),
    ]


def test_unknown_variables_are_not_this_modules_business() -> None:
    assert load_policy({"SOMETHING_ELSE": "x"}) == load_policy({})


def test_policy_as_env_round_trips() -> None:
    policy = load_policy(
        {
            "ALLOWED_SOURCE_ACCOUNTS": "111111111111",
            "DENIED_SOURCE_OUS": "r-ab12",
            "ALLOWED_PERMISSION_TYPES": "CONTRIBUTOR",
            "DRY_RUN": "true",
        }
    )
    assert load_policy(policy_as_env(policy)) == policy


def test_describe_is_plain_sorted_data() -> None:
    described = load_policy({"ALLOWED_SOURCE_ACCOUNTS": "222222222222,111111111111"}).describe()
    assert described["variables"]["allowed_source_accounts"] == ["111111111111", "222222222222"]
    assert described["rules"][0]["sharers"]["accounts"] == ["111111111111", "222222222222"]
    assert described["non_matching_action"] == "IGNORE"
    assert described["dry_run"] is False


def test_warnings() -> None:
    assert policy_warnings(load_policy({})) == ["no allowed source accounts or OUs: nothing will be accepted"]
    both = load_policy(
        {
            "ALLOWED_SOURCE_ACCOUNTS": "111111111111",
            "DENIED_SOURCE_ACCOUNTS": "111111111111",
            "ALLOWED_SOURCE_OUS": "r-ab12",
            "DENIED_SOURCE_OUS": "r-ab12",
        }
    )
    assert policy_warnings(both) == [
        "accounts both allowed and denied (deny wins): 111111111111",
        "OUs both allowed and denied (deny wins): r-ab12",
    ]
