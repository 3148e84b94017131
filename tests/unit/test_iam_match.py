"""The test-support IAM evaluator (tests/iam_match.py) against the IAM User Guide's documented semantics."""

from __future__ import annotations

import pytest

from tests.iam_match import Request, arn_like, condition_holds, denied, statement_applies, wildcard_match

ROLE = "arn:aws:iam::123456789012:role/AdminRole"


@pytest.mark.parametrize(
    ("pattern", "value", "ok"),
    [
        ("abc", "abc", True),
        ("abc", "abcd", False),  # the whole value must match
        ("a*c", "ac", True),  # * matches the empty run
        ("a*c", "a/b:c", True),  # in a plain string, * crosses / and :
        ("a?c", "abc", True),
        ("a?c", "ac", False),  # ? is exactly one character
        ("a?c", "abbc", False),
        ("a.c", "abc", False),  # regex characters are literal
        ("a+", "aa", False),
        ("ABC", "abc", False),  # StringLike is case-sensitive
    ],
)
def test_wildcards(pattern: str, value: str, ok: bool) -> None:
    assert wildcard_match(pattern, value) is ok


def test_ignore_case_only_when_asked() -> None:
    assert wildcard_match("ABC*", "abcd", ignore_case=True)
    assert not wildcard_match("ABC*", "abcd")


@pytest.mark.parametrize(
    ("pattern", "value", "ok"),
    [
        ("arn:aws:iam::*:role/*", ROLE, True),
        ("arn:aws:iam::*:role/*", "arn:aws:iam::123456789012:user/User", False),
        ("arn:aws:ec2:*:*:instance/i-?????", "arn:aws:ec2:us-east-1:123456789012:instance/i-12345", True),
        ("arn:aws:ec2:*:*:instance/i-?????", "arn:aws:ec2:us-east-1:123456789012:instance/i-123456", False),
        ("arn:aws:iam::????????????:role/*", ROLE, True),
        ("arn:aws:iam::????????????:role/*", "arn:aws:iam::12345678901:role/AdminRole", False),
        # a wildcard never spans a colon: * in the account part cannot eat the service part
        ("arn:aws:*:role/AdminRole", ROLE, False),
        ("arn:*", ROLE, False),
        ("*", ROLE, False),
        # the last part keeps its colons (resource ids such as alarm:name)
        ("arn:aws:cloudwatch:*:*:alarm:x-*", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:x-a:b", True),
        # the resource part's * crosses "/": a path is part of what it matches
        ("arn:aws:iam::*:role/x-*", "arn:aws:iam::123456789012:role/x-path/name", True),
        ("arn:aws:iam::*:role/x-*", "arn:aws:iam::123456789012:role/path/x-name", False),
        ("arn:aws:iam::*:role/AdminRole", "arn:aws:iam::123456789012:role/adminrole", False),  # case-sensitive
        ("arn:aws:iam::*:role/AdminRole", "not-an-arn", False),
    ],
)
def test_arn_like(pattern: str, value: str, ok: bool) -> None:
    assert arn_like(pattern, value) is ok


@pytest.mark.parametrize(
    ("operator", "values", "request_value", "holds"),
    [
        ("ArnLike", ["arn:aws:iam::*:role/*"], None, False),  # missing key: positive operators fail
        ("ArnNotLike", ["arn:aws:iam::*:role/*"], None, True),  # ... and negated ones hold
        ("ArnNotLike", ["arn:aws:iam::*:role/*"], ROLE, False),
        ("ArnNotLike", ["arn:aws:iam::*:user/*", "arn:aws:iam::*:role/Other"], ROLE, True),  # matches none
        ("ArnLike", ["arn:aws:iam::*:user/*", "arn:aws:iam::*:role/Admin*"], ROLE, True),  # values are ORed
        ("ArnEquals", "arn:aws:iam::*:role/*", ROLE, True),  # behaves as ArnLike
        ("StringLike", "x-*", "x-y", True),
        ("StringNotLike", "x-*", "X-y", True),
        ("StringEquals", "x", "X", False),
        ("StringEqualsIgnoreCase", "x", "X", True),
        ("StringNotEqualsIgnoreCase", "x", "X", False),
        ("StringNotEquals", "x", "y", True),
    ],
)
def test_conditions(operator: str, values: object, request_value: str | None, holds: bool) -> None:
    assert condition_holds(operator, values, request_value) is holds


@pytest.mark.parametrize("operator", ["ArnLikeIfExists", "ForAnyValue:StringLike", "Bool", "NumericLessThan"])
def test_unimplemented_operators_are_refused(operator: str) -> None:
    with pytest.raises(ValueError, match="not implemented"):
        condition_holds(operator, "x", "x")


def test_statement_needs_action_resource_and_every_condition() -> None:
    statement = {
        "Effect": "Deny",
        "Action": ["lambda:Update*"],
        "Resource": "arn:aws:lambda:*:*:function:x-*",
        "Condition": {
            "ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Deployer"},
            "StringEquals": {"aws:RequestedRegion": "us-east-1"},
        },
    }
    fn = "arn:aws:lambda:us-east-1:123456789012:function:x-sweep"
    call = Request("Lambda:UpdateFunctionCode", fn, ROLE, {"aws:requestedregion": "us-east-1"})
    assert statement_applies(statement, call)  # action names and condition keys ignore case
    assert denied({"Statement": [statement]}, call)
    assert not statement_applies(
        statement, Request("lambda:InvokeFunction", fn, ROLE, {"aws:RequestedRegion": "us-east-1"})
    )
    other = "arn:aws:lambda:us-east-1:123456789012:function:y-sweep"
    assert not statement_applies(
        statement, Request("lambda:UpdateFunctionCode", other, ROLE, {"aws:RequestedRegion": "us-east-1"})
    )
    assert not statement_applies(
        statement, Request("lambda:UpdateFunctionCode", fn, ROLE, {"aws:RequestedRegion": "eu-west-1"})
    )
    deployer = "arn:aws:iam::123456789012:role/Deployer"
    assert not statement_applies(
        statement, Request("lambda:UpdateFunctionCode", fn, deployer, {"aws:RequestedRegion": "us-east-1"})
    )
    allow = dict(statement, Effect="Allow")
    assert not denied({"Statement": [allow]}, call)


def test_unknown_statement_elements_are_refused() -> None:
    with pytest.raises(ValueError, match="NotAction"):
        statement_applies({"Effect": "Deny", "NotAction": "x:y", "Resource": "*"}, Request("x:y", "*", ROLE))
