"""Operational settings: defaults, ranges, ARNs, and every problem reported at once."""

from __future__ import annotations

import pytest

from acceptor.settings import ConfigurationError, load_settings
from tests.unit.policy.hostile import fullwidth, unicode_digits

BASE = {"ALLOWED_SOURCE_ACCOUNTS": "222222222222"}
ROLE = "arn:aws:iam::999999999999:role/wa-share-acceptor-org-lookup"


def test_defaults() -> None:
    s = load_settings(BASE)
    assert (s.org_cache_ttl_seconds, s.max_workers, s.safety_margin_seconds, s.hint_lookup_attempts) == (
        900.0,
        32,
        10.0,
        2,
    )
    assert s.organizations_role_arn is None and s.notification_topic_arn is None
    assert s.policy.simple.allowed_accounts == {"222222222222"}


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
    assert ok.policy.simple.allowed_ous == {"r-ab12"}
    assert load_settings({"ALLOWED_SOURCE_OUS": "  "}).organizations_role_arn is None  # blank: no OU rule
    with pytest.raises(ConfigurationError) as caught:  # separators only: an error, and no role demanded
        load_settings({"ALLOWED_SOURCE_OUS": " , "})
    assert caught.value.problems == [
        "ALLOWED_SOURCE_OUS: ' , ' holds only separators; leave it empty to use the default"
    ]


# ---------------------------------------------------------------- hostile values

NUMBERS = ("ORG_CACHE_TTL_SECONDS", "MAX_WORKERS", "SAFETY_MARGIN_SECONDS", "HINT_LOOKUP_ATTEMPTS")
TOPIC = "arn:aws:sns:eu-west-1:111111111111:wa-share-acceptor"


def refused(name: str, value: str) -> None:
    """load_settings refuses this value, with exactly one problem that names the variable and the value."""
    with pytest.raises(ConfigurationError) as caught:
        load_settings({**BASE, name: value})
    assert caught.value.problems == [p for p in caught.value.problems if p.startswith(f"{name}: {value!r} ")]
    assert len(caught.value.problems) == 1, caught.value.problems


@pytest.mark.parametrize("name", NUMBERS)
@pytest.mark.parametrize(
    "value", ["\uff11\uff12", "\uff11.\uff15", "nan", "inf", "-inf", "1_000", "1e3", "+5", "0x10", "1.", ".5", "5 5"]
)
def test_numbers_are_plain_ascii_decimals(name: str, value: str) -> None:
    """Python's int() and float() accept every one of these."""
    refused(name, value)


def test_python_would_have_taken_them() -> None:
    assert int("\uff11\uff12") == 12 and float("\uff11.\uff15") == 1.5 and int("1_000") == 1000 and float("1e3") == 1000


@pytest.mark.parametrize(
    ("name", "value", "expected"), [("MAX_WORKERS", " 8\n", 8), ("SAFETY_MARGIN_SECONDS", "2.50", 2.5)]
)
def test_ascii_numbers_with_ascii_space_are_fine(name: str, value: str, expected: float) -> None:
    assert load_settings({**BASE, name: value})._asdict()[name.lower()] == expected


def test_every_unicode_digit_is_refused_by_every_setting() -> None:
    digits = unicode_digits()
    assert len(digits) > 700
    for digit in digits:
        for name in NUMBERS:
            refused(name, "1" + digit)
        refused("SAFETY_MARGIN_SECONDS", "1." + digit)
        refused("ORGANIZATIONS_ROLE_ARN", ROLE.replace("999999999999", "99999999999" + digit))
        refused("NOTIFICATION_TOPIC_ARN", TOPIC.replace("111111111111", digit + "11111111111"))
        refused("NOTIFICATION_TOPIC_ARN", TOPIC.replace("west-1", "west-" + digit))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ORGANIZATIONS_ROLE_ARN", ROLE + "\u00e9"),  # \w took any Unicode letter
        ("ORGANIZATIONS_ROLE_ARN", ROLE.replace("role/", "role/\u0131")),
        ("ORGANIZATIONS_ROLE_ARN", "arn:aws:iam::999999999999:role/"),
        ("ORGANIZATIONS_ROLE_ARN", "arn:aws:iam::999999999999:role/a//b"),
        ("ORGANIZATIONS_ROLE_ARN", "arn:aws:iam::999999999999:role/x\nnot-an-arn"),
        ("ORGANIZATIONS_ROLE_ARN", "arn:AWS:iam::999999999999:role/x"),
        ("ORGANIZATIONS_ROLE_ARN", ROLE + "x" * 2048),
        ("NOTIFICATION_TOPIC_ARN", TOPIC + "\u00e9"),
        ("NOTIFICATION_TOPIC_ARN", TOPIC + ".fifo\nx"),
        ("NOTIFICATION_TOPIC_ARN", "arn:aws:sns:eu-west-1:111111111111:"),
        ("NOTIFICATION_TOPIC_ARN", fullwidth(TOPIC)),
    ],
)
def test_arns_are_ascii_and_whole(name: str, value: str) -> None:
    refused(name, value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ORGANIZATIONS_ROLE_ARN", "arn:aws-us-gov:iam::999999999999:role/service-role/wa+lookup=,.@_-1"),
        ("ORGANIZATIONS_ROLE_ARN", "arn:aws-cn:iam::999999999999:role/a/b/c/lookup"),
        ("NOTIFICATION_TOPIC_ARN", "arn:aws-iso-b:sns:us-isob-east-1:111111111111:Topic_1-x"),
        ("NOTIFICATION_TOPIC_ARN", "arn:aws:sns:ap-southeast-5:111111111111:t"),
    ],
)
def test_real_arns_are_accepted(name: str, value: str) -> None:
    assert load_settings({**BASE, name: f" {value}\n"})._asdict()[name.lower()] == value


def test_errors_name_the_invisible_characters() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings({**BASE, "MAX_WORKERS": "\uff11\uff12", "ORGANIZATIONS_ROLE_ARN": ROLE + "\u00a0x"})
    assert caught.value.problems == [
        f"ORGANIZATIONS_ROLE_ARN: {ROLE + chr(0xA0) + 'x'!r} is not an IAM role ARN; it holds non-ASCII U+00A0",
        "MAX_WORKERS: '\uff11\uff12' is not a whole number (ASCII digits 0-9); it holds non-ASCII U+FF11, U+FF12",
    ]


def test_continuation_settings() -> None:
    # Given nothing: no lease table (no continuation) and a chain bound below Lambda's recursion stop
    s = load_settings(BASE)
    assert (s.sweep_lock_table, s.max_chain_runs) == (None, 12)
    s = load_settings({**BASE, "SWEEP_LOCK_TABLE": "stack-SweepLockTable-1AB2", "MAX_CHAIN_RUNS": "3"})
    assert (s.sweep_lock_table, s.max_chain_runs) == ("stack-SweepLockTable-1AB2", 3)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SWEEP_LOCK_TABLE", "a b", "SWEEP_LOCK_TABLE: 'a b' is not a DynamoDB table name"),
        ("SWEEP_LOCK_TABLE", "t\u00e9ble", "is not a DynamoDB table name"),
        ("MAX_CHAIN_RUNS", "16", "MAX_CHAIN_RUNS: '16' is outside 1..15"),
        ("MAX_CHAIN_RUNS", "0", "MAX_CHAIN_RUNS: '0' is outside 1..15"),
    ],
)
def test_bad_continuation_settings_are_named(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        load_settings({**BASE, name: value})
    assert any(message in p for p in err.value.problems)
