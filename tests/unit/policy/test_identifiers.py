"""Each identifier rule, once: what it takes and what it refuses."""

from __future__ import annotations

import pytest

from policy.identifiers import (
    ACCOUNT_ID,
    IAM_ROLE_ARN_PATTERN,
    OU_OR_ROOT_ID,
    is_account_id,
    is_invitation_id,
    principal_account,
)

FULLWIDTH_ONE = "\uff11"


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("123456789012", True),
        ("12345678901", False),
        ("1234567890123", False),
        ("123456789012\n", False),
        (FULLWIDTH_ONE * 12, False),
        ("12345678901a", False),
        (123456789012, False),
        (None, False),
    ],
)
def test_an_account_id_is_exactly_twelve_ascii_digits(value: object, ok: bool) -> None:
    assert is_account_id(value) is ok
    assert (isinstance(value, str) and ACCOUNT_ID.fullmatch(value) is not None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("0123456789abcdef0123456789abcdef", True),
        ("0123456789ABCDEF0123456789ABCDEF", False),
        ("0123456789abcdef0123456789abcde", False),
        ("0123456789abcdef0123456789abcdef\n", False),
        (7, False),
    ],
)
def test_an_invitation_id_is_32_lower_case_hex_digits(value: object, ok: bool) -> None:
    assert is_invitation_id(value) is ok


@pytest.mark.parametrize(
    ("value", "account"),
    [
        ("arn:aws:iam::123456789012:user/alice", "123456789012"),
        ("arn:aws-us-gov:iam::123456789012:role/path/to/Admin+=,.@_-", "123456789012"),
        ("arn:aws-cn:iam::123456789012:role/a", "123456789012"),
        ("arn:aws:iam::123456789012:group/devs", None),
        ("arn:aws:iam::123456789012:user/", None),
        ("arn:aws:iam::123456789012:user/alice\n", None),
        ("arn:aws:iam::12345678901:user/alice", None),
        ("arn:aws:sts::123456789012:assumed-role/r/s", None),
        ("arn:aws:iam::123456789012:user/" + "a" * 129, None),
        ("arn:aws:iam::123456789012:user/" + "p/" * 1100 + "a", None),  # longer than any ARN
        ("123456789012", None),
        (None, None),
    ],
)
def test_one_grammar_for_iam_user_and_role_arns(value: object, account: str | None) -> None:
    assert principal_account(value) == account


def test_the_role_arn_and_ou_patterns() -> None:
    import re

    assert re.fullmatch(IAM_ROLE_ARN_PATTERN, "arn:aws:iam::123456789012:role/org-lookup")
    assert not re.fullmatch(IAM_ROLE_ARN_PATTERN, "arn:aws:iam::123456789012:user/org-lookup")
    assert OU_OR_ROOT_ID.fullmatch("ou-ab12-abcdefgh") and OU_OR_ROOT_ID.fullmatch("r-ab12")
    assert not OU_OR_ROOT_ID.fullmatch("ou-AB12-abcdefgh") and not OU_OR_ROOT_ID.fullmatch("o-abcdefghij")


def test_a_principal_arn_may_be_2048_characters_and_no_more() -> None:
    prefix = "arn:aws:iam::123456789012:user/"
    path = ("a" * 500 + "/") * 4
    longest = prefix + path + "b" * (2048 - len(prefix) - len(path))
    assert len(longest) == 2048 and principal_account(longest) == "123456789012"
    assert principal_account(longest + "b") is None
