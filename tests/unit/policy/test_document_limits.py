"""What a policy document may not do: nest without bound, repeat a key (in JSON or YAML, with or without a
byte-order mark), or hide a duplicate rule id behind the rule's other errors."""

from __future__ import annotations

import json

import pytest

from policy import PolicyDocumentError, load_document
from policy.bounded import TooDeep, deeper_than, load_json
from policy.document import MAX_DEPTH

RULE = {"id": "platform", "action": "ACCEPT", "sharers": {"accounts": ["222222222222"]}}
DOCUMENT = {"version": 1, "rules": [RULE]}


def issues(text: str) -> list[str]:
    with pytest.raises(PolicyDocumentError) as err:
        load_document(text)
    return [str(issue) for issue in err.value.issues]


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,  # deeper than json can recurse
        "[" * 2_000 + "]" * 2_000,  # json reads it: the depth check refuses it
        json.dumps({**DOCUMENT, "description": [[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]}),
        "a: " + "[" * 5_000 + "]" * 5_000,  # YAML, deeper than its composer can recurse
        "rules:\n" + "".join("  " * n + "- \n" for n in range(1, 40)),  # YAML block nesting
    ],
)
def test_a_document_nested_too_deep_is_refused_naming_the_limit(text: str) -> None:
    assert issues(text) == [f"$: is nested more than {MAX_DEPTH} levels deep"]


def test_the_depth_limit_leaves_room_for_every_valid_document() -> None:
    assert not deeper_than(DOCUMENT, 5) and deeper_than(DOCUMENT, 4)
    assert load_document(json.dumps(DOCUMENT)).rules[0].id == "platform"
    assert not deeper_than("x", 0) and deeper_than([], 0) and not deeper_than([], 1)
    assert deeper_than({"a": ({"b": 1},)}, 2) and not deeper_than({"a": ({"b": 1},)}, 3)
    with pytest.raises(TooDeep) as err:
        load_json("[[[]]]", 2)
    assert err.value.limit == 2 and str(err.value) == "is nested more than 2 levels deep"
    assert load_json("[[]]", 2) == [[]]


def test_a_yaml_key_written_twice_is_refused() -> None:
    # Given a YAML document whose second `rules:` would silently replace the first (a deny rule)
    text = (
        "version: 1\n"
        "rules:\n"
        "  - {action: REJECT, sharers: {accounts: ['555555555555']}}\n"
        "rules:\n"
        "  - {action: ACCEPT, sharers: {accounts: ['222222222222']}}\n"
    )
    # Then the document is refused, naming the key and its line
    assert issues(text) == ["$: key 'rules' (line 4) appears twice"]
    nested = "version: 1\nrules:\n  - action: ACCEPT\n    action: REJECT\n    sharers: {accounts: ['222222222222']}\n"
    assert issues(nested) == ["$: key 'action' (line 4) appears twice"]
    flow = "version: 1\nrules: [{action: ACCEPT, sharers: {accounts: [], accounts: []}}]\n"
    assert issues(flow) == ["$: key 'accounts' (line 2) appears twice"]


def test_yaml_without_duplicates_and_with_merge_keys_still_loads() -> None:
    text = (
        "version: 1\n"
        "rules:\n"
        "  - &base {action: ACCEPT, sharers: {accounts: ['222222222222']}}\n"
        "  - <<: *base\n"
        "    id: copy\n"
    )
    policy = load_document(text)
    assert [r.id for r in policy.rules] == [None, "copy"]


def test_a_json_document_with_a_byte_order_mark_is_read_as_json() -> None:
    duplicated = '\ufeff{"version": 1, "rules": [], "rules": [' + json.dumps(RULE) + "]}"
    assert issues(duplicated) == ["$: member 'rules' appears twice"]
    assert load_document("\ufeff" + json.dumps(DOCUMENT)).rules[0].id == "platform"
    assert issues("\ufeff{not json") == [
        "$: is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    ]


def test_a_duplicate_rule_id_is_reported_even_when_that_rule_has_other_errors() -> None:
    broken = {"id": "platform", "action": "ALLOW", "sharers": {"accounts": ["12"]}}
    found = issues(json.dumps({"version": 1, "rules": [RULE, broken]}))
    assert found == [
        "$.rules[1].action: 'ALLOW' is not ACCEPT or REJECT",
        "$.rules[1].sharers.accounts[0]: '12' is not a 12-digit AWS account id",
        "$.rules[1].id: 'platform' is also the id of rule 0",
    ]
    first_broken = issues(json.dumps({"version": 1, "rules": [broken, RULE]}))
    assert first_broken[-1] == "$.rules[1].id: 'platform' is also the id of rule 0"


def test_a_yaml_mapping_with_an_unhashable_key_is_invalid_yaml() -> None:
    [issue] = issues("version: 1\n? [a, b]\n: 1\nrules: []\n")
    assert issue.startswith("$: is neither valid JSON nor valid YAML: while constructing a mapping")
    assert "found unhashable key" in issue
