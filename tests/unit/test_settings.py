"""Operational settings: defaults, ranges, ARNs, and every problem reported at once."""

from __future__ import annotations

import pytest

from acceptor.settings import ConfigurationError, load_settings

BASE = {"ALLOWED_SOURCE_ACCOUNTS": "222222222222"}
ROLE = "arn:aws:iam::999999999999:role/wa-share-acceptor-org-lookup"


def test_defaults() -> None:
    s = load_settings(BASE)
    assert (s.org_cache_ttl_seconds, s.max_workers, s.safety_margin_seconds, s.hint_lookup_attempts) == (
        900.0,
        4,
        10.0,
        2,
    )
    assert s.organizations_role_arn is None and s.notification_topic_arn is None
    assert s.policy.allowed_accounts == {"222222222222"}


def test_values_are_parsed() -> None:
    s = load_settings(
        {
            **BASE,
            "ORG_CACHE_TTL_SECONDS": "60",
            "MAX_WORKERS": "16",
            "SAFETY_MARGIN_SECONDS": "2.5",
            "HINT_LOOKUP_ATTEMPTS": "3",
            "ORGANIZATIONS_ROLE_ARN": ROLE,
            "NOTIFICATION_TOPIC_ARN": "arn:aws:sns:eu-west-1:111111111111:wa-share-acceptor",
        }
    )
    assert (s.org_cache_ttl_seconds, s.max_workers, s.safety_margin_seconds, s.hint_lookup_attempts) == (
        60,
        16,
        2.5,
        3,
    )
    assert s.organizations_role_arn == ROLE
    assert s.notification_topic_arn == "arn:aws:sns:eu-west-1:111111111111:wa-share-acceptor"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MAX_WORKERS", "four", "MAX_WORKERS: 'four' is not a whole number"),
        ("MAX_WORKERS", "0", "MAX_WORKERS: '0' is outside 1..64"),
        ("MAX_WORKERS", "2.5", "MAX_WORKERS: '2.5' is not a whole number"),
        ("ORG_CACHE_TTL_SECONDS", "-1", "ORG_CACHE_TTL_SECONDS: '-1' is outside 0..86400"),
        ("SAFETY_MARGIN_SECONDS", "soon", "SAFETY_MARGIN_SECONDS: 'soon' is not a number"),
        ("HINT_LOOKUP_ATTEMPTS", "11", "HINT_LOOKUP_ATTEMPTS: '11' is outside 1..10"),
        ("ORGANIZATIONS_ROLE_ARN", "wa-lookup", "ORGANIZATIONS_ROLE_ARN: 'wa-lookup' is not an IAM role ARN"),
        ("ORGANIZATIONS_ROLE_ARN", "arn:aws:iam::999999999999:user/bob", "is not an IAM role ARN"),
        ("NOTIFICATION_TOPIC_ARN", "arn:aws:sqs:us-east-1:111111111111:q", "is not an SNS topic ARN"),
    ],
)
def test_each_bad_value_is_named(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings({**BASE, name: value})
    assert any(message in p for p in caught.value.problems), caught.value.problems


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(
            {
                "ALLOWED_SOURCE_ACCOUNTS": "12",
                "MAX_WORKERS": "x",
                "DRY_RUN": "maybe",
                "DENIED_SOURCE_OUS": "ou-ab12-abcdefgh",
            }
        )
    problems = "\n".join(caught.value.problems)
    for expected in (
        "ALLOWED_SOURCE_ACCOUNTS: '12'",
        "MAX_WORKERS: 'x'",
        "DRY_RUN: 'maybe'",
        "DENIED_SOURCE_OUS set but ORGANIZATIONS_ROLE_ARN is empty",
    ):
        assert expected in problems
    assert str(caught.value).startswith("invalid configuration:")


def test_ou_rules_need_the_role_and_name_both_variables() -> None:
    with pytest.raises(ConfigurationError, match="ALLOWED_SOURCE_OUS and DENIED_SOURCE_OUS set but"):
        load_settings({"ALLOWED_SOURCE_OUS": "r-ab12", "DENIED_SOURCE_OUS": "ou-ab12-abcdefgh"})
    ok = load_settings({"ALLOWED_SOURCE_OUS": "r-ab12", "ORGANIZATIONS_ROLE_ARN": ROLE})
    assert ok.policy.allowed_ous == {"r-ab12"}
    assert load_settings({"ALLOWED_SOURCE_OUS": " , "}).organizations_role_arn is None  # empty list: no OU rule
