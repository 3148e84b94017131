"""Load a policy document (JSON or YAML, schema version 1) into the rule model.

    {"version": 1, "non_matching_action": "IGNORE", "dry_run": false,
     "rules": [{"id": "security-lenses", "action": "ACCEPT",
                "sharers": {"accounts": ["333333333333"], "ous": ["ou-ab12-abcdefgh"]},
                "resource_types": ["LENS", "PROFILE"], "permission_types": ["READONLY"],
                "resource_names": ["acme-*"]}]}

Every problem is collected and reported at once with the JSON path of the bad value
(``$.rules[2].sharers.accounts[0]``). The published schema is ``policy.schema.json`` beside this file;
this module is the validator the functions use (no jsonschema at run time), and a contract test keeps
the two in agreement.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from policy.bounded import TooDeep, deeper_than, load_json
from policy.identifiers import ACCOUNT_ID, OU_OR_ROOT_ID
from policy.model import PERMISSION_TYPES, RESOURCE_TYPES, Action, NonMatchingAction, Policy, Rule, make_rule, shown

VERSION = 1
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
MAX_RULES = 1000
MAX_NAME_PATTERNS = 100
MAX_DEPTH = 16  # a valid document nests 5 levels: $ > rules > rule > sharers > accounts
RULE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_ROOT_MEMBERS = ("version", "description", "non_matching_action", "dry_run", "rules")
_RULE_MEMBERS = ("id", "description", "action", "sharers", "resource_types", "permission_types", "resource_names")
_SHARER_MEMBERS = ("accounts", "ous")


class DocIssue(NamedTuple):
    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


class PolicyDocumentError(ValueError):
    """The policy document is invalid; ``issues`` lists every problem with its JSON path."""

    def __init__(self, issues: list[DocIssue], source: str = "document") -> None:
        self.issues = issues
        self.source = source
        super().__init__(f"invalid policy document ({source}):\n" + "\n".join(f"  - {i}" for i in issues))


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKey(key)
        found[key] = value
    return found


def parse_text(text: str, source: str = "document") -> Any:
    """The document's data: JSON, or YAML when it is not JSON. Raises PolicyDocumentError.

    Bounded: at most MAX_DOCUMENT_BYTES and MAX_DEPTH levels of nesting. A key that appears twice in one
    object is refused in both forms (the last would silently win, and could drop a deny rule). A leading
    byte-order mark is dropped, so a JSON document that starts with one is still read (and checked) as JSON.
    """
    if len(text.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise PolicyDocumentError([DocIssue("$", f"is larger than {MAX_DOCUMENT_BYTES} bytes")], source)
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise PolicyDocumentError([DocIssue("$", "the document is empty")], source)
    try:
        return load_json(text, MAX_DEPTH, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as err:
        raise PolicyDocumentError([DocIssue("$", f"member {str(err)!r} appears twice")], source) from err
    except TooDeep as err:
        raise PolicyDocumentError([DocIssue("$", str(err))], source) from err
    except ValueError as json_error:
        if text.lstrip().startswith(("{", "[")):
            raise PolicyDocumentError([DocIssue("$", f"is not valid JSON: {json_error}")], source) from json_error
    return _parse_yaml(text, source)


def _parse_yaml(text: str, source: str) -> Any:
    import yaml  # only for YAML documents: not needed at cold start

    class UniqueKeyLoader(yaml.SafeLoader):
        """The safe loader, refusing a key written twice in one mapping."""

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _value in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    again = key in seen
                except TypeError:
                    continue  # an unhashable key: the safe loader refuses it
                if again:
                    raise _DuplicateKey(f"{key!r} (line {key_node.start_mark.line + 1})")
                seen.add(key)
            return super().construct_mapping(node, deep)

    try:
        data = yaml.load(text, Loader=UniqueKeyLoader)
    except RecursionError:
        raise PolicyDocumentError([DocIssue("$", str(TooDeep(MAX_DEPTH)))], source) from None
    except _DuplicateKey as err:
        raise PolicyDocumentError([DocIssue("$", f"key {err} appears twice")], source) from err
    except yaml.YAMLError as err:
        raise PolicyDocumentError([DocIssue("$", f"is neither valid JSON nor valid YAML: {err}")], source) from err
    if deeper_than(data, MAX_DEPTH):
        raise PolicyDocumentError([DocIssue("$", str(TooDeep(MAX_DEPTH)))], source)
    return data


def load_document(text: str, *, source: str = "document") -> Policy:
    """The policy this document describes. Raises PolicyDocumentError naming every problem."""
    return policy_from_data(parse_text(text, source), source=source)


def policy_from_data(data: Any, *, source: str = "document") -> Policy:
    issues: list[DocIssue] = []
    if not isinstance(data, dict):
        raise PolicyDocumentError([DocIssue("$", f"must be an object, not {_kind(data)}")], source)
    _unknown_members(data, _ROOT_MEMBERS, "$", issues)
    version = data.get("version")
    if "version" not in data:
        issues.append(DocIssue("$.version", f"is required (the schema version, {VERSION})"))
    elif type(version) is not int or version != VERSION:
        issues.append(DocIssue("$.version", f"{shown(version)} is not a supported version (only {VERSION})"))
    _text(data, "description", "$", issues)
    non_matching = NonMatchingAction.IGNORE
    if "non_matching_action" in data:
        raw = data["non_matching_action"]
        if raw in ("IGNORE", "REJECT"):
            non_matching = NonMatchingAction(raw)
        else:
            issues.append(DocIssue("$.non_matching_action", f"{shown(raw)} is not IGNORE or REJECT"))
    dry_run = data.get("dry_run", False)
    if type(dry_run) is not bool:
        issues.append(DocIssue("$.dry_run", f"{shown(dry_run)} is not true or false"))
        dry_run = True
    rules: list[Rule] = []
    raw_rules = data.get("rules")
    if "rules" not in data:
        issues.append(DocIssue("$.rules", "is required: a list of rules"))
    elif not isinstance(raw_rules, list) or not raw_rules:
        issues.append(DocIssue("$.rules", f"must be a non-empty list of rules, not {_kind(raw_rules)}"))
    elif len(raw_rules) > MAX_RULES:
        issues.append(DocIssue("$.rules", f"holds {len(raw_rules)} rules, more than {MAX_RULES}"))
    else:
        ids: dict[str, int] = {}
        for position, raw in enumerate(raw_rules):
            rule = _rule(raw, position, f"$.rules[{position}]", issues)
            rule_id = raw.get("id") if isinstance(raw, dict) else None
            if isinstance(rule_id, str) and RULE_ID.fullmatch(rule_id):  # checked even when the rule has errors
                if rule_id in ids:
                    issues.append(
                        DocIssue(f"$.rules[{position}].id", f"{rule_id!r} is also the id of rule {ids[rule_id]}")
                    )
                ids.setdefault(rule_id, position)
            if rule is not None:
                rules.append(rule)
    if issues:
        raise PolicyDocumentError(issues, source)
    return Policy(tuple(rules), non_matching, dry_run, None, source)


def _rule(raw: Any, position: int, path: str, issues: list[DocIssue]) -> Rule | None:
    if not isinstance(raw, dict):
        issues.append(DocIssue(path, f"must be an object, not {_kind(raw)}"))
        return None
    before = len(issues)
    _unknown_members(raw, _RULE_MEMBERS, path, issues)
    _text(raw, "description", path, issues)
    rule_id = raw.get("id")
    if rule_id is not None and not (isinstance(rule_id, str) and RULE_ID.fullmatch(rule_id)):
        issues.append(
            DocIssue(f"{path}.id", f"{shown(rule_id)} is not 1-64 of A-Z a-z 0-9 _ . - (letter or digit first)")
        )
    action = raw.get("action")
    if "action" not in raw:
        issues.append(DocIssue(f"{path}.action", "is required: ACCEPT or REJECT"))
    elif action not in ("ACCEPT", "REJECT"):
        issues.append(DocIssue(f"{path}.action", f"{shown(action)} is not ACCEPT or REJECT"))
    accounts, ous = _sharers(raw, f"{path}.sharers", issues)
    types = _choices(raw, "resource_types", RESOURCE_TYPES, path, issues)
    default_permissions = ("READONLY",) if action == "ACCEPT" else PERMISSION_TYPES
    permissions = _choices(raw, "permission_types", PERMISSION_TYPES, path, issues) or frozenset(default_permissions)
    names = _name_patterns(raw, f"{path}.resource_names", issues)
    if len(issues) > before:
        return None
    return make_rule(
        position,
        Action(str(action)),
        accounts=accounts,
        ous=ous,
        resource_types=types or frozenset(RESOURCE_TYPES),
        permission_types=permissions,
        resource_names=names,
        rule_id=rule_id,
    )


def _sharers(raw: dict[str, Any], path: str, issues: list[DocIssue]) -> tuple[frozenset[str], frozenset[str]]:
    sharers = raw.get("sharers")
    if "sharers" not in raw:
        issues.append(DocIssue(path, 'is required: {"accounts": [...], "ous": [...]}'))
        return frozenset(), frozenset()
    if not isinstance(sharers, dict):
        issues.append(DocIssue(path, f"must be an object with accounts and/or ous, not {_kind(sharers)}"))
        return frozenset(), frozenset()
    _unknown_members(sharers, _SHARER_MEMBERS, path, issues)
    accounts = _ids(sharers, "accounts", ACCOUNT_ID, "a 12-digit AWS account id", path, issues)
    ous = _ids(sharers, "ous", OU_OR_ROOT_ID, "an OU id (ou-...) or root id (r-...)", path, issues)
    if not accounts and not ous and not any(i.path.startswith(path) for i in issues):
        issues.append(DocIssue(path, "names no account and no OU: a rule must name its sharers"))
    return accounts, ous


def _ids(
    holder: dict[str, Any], member: str, pattern: re.Pattern[str], what: str, path: str, issues: list[DocIssue]
) -> frozenset[str]:
    if member not in holder:
        return frozenset()
    values = holder[member]
    if not isinstance(values, list):
        issues.append(DocIssue(f"{path}.{member}", f"must be a list, not {_kind(values)}"))
        return frozenset()
    found = set()
    for i, value in enumerate(values):
        if isinstance(value, str) and pattern.fullmatch(value):
            found.add(value)
        else:
            issues.append(DocIssue(f"{path}.{member}[{i}]", f"{shown(value)} is not {what}"))
    return frozenset(found)


def _choices(
    raw: dict[str, Any], member: str, allowed: tuple[str, ...], path: str, issues: list[DocIssue]
) -> frozenset[str]:
    if member not in raw:
        return frozenset()
    values = raw[member]
    if not isinstance(values, list) or not values:
        issues.append(DocIssue(f"{path}.{member}", f"must be a non-empty list of {', '.join(allowed)}"))
        return frozenset()
    found = set()
    for i, value in enumerate(values):
        if value in allowed:  # exact: documents are not case-folded
            found.add(value)
        else:
            issues.append(DocIssue(f"{path}.{member}[{i}]", f"{shown(value)} is not one of {', '.join(allowed)}"))
    return frozenset(found)


def _name_patterns(raw: dict[str, Any], path: str, issues: list[DocIssue]) -> tuple[str, ...]:
    if "resource_names" not in raw:
        return ()
    values = raw["resource_names"]
    if not isinstance(values, list) or not values or len(values) > MAX_NAME_PATTERNS:
        issues.append(DocIssue(path, f"must be a list of 1 to {MAX_NAME_PATTERNS} name patterns"))
        return ()
    import unicodedata  # only documents with name patterns need it

    found: list[str] = []
    for i, value in enumerate(values):
        if (
            isinstance(value, str)
            and 1 <= len(value) <= 256
            and not any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in value)
        ):
            if value not in found:
                found.append(value)
        else:
            issues.append(
                DocIssue(
                    f"{path}[{i}]", f"{shown(value)} is not a name pattern (1-256 characters, no control characters)"
                )
            )
    return tuple(found)


def _text(holder: dict[str, Any], member: str, path: str, issues: list[DocIssue]) -> None:
    if member in holder and not (isinstance(holder[member], str) and len(holder[member]) <= 1024):
        issues.append(DocIssue(f"{path}.{member}", "must be a string of at most 1024 characters"))


def _unknown_members(holder: dict[Any, Any], known: tuple[str, ...], path: str, issues: list[DocIssue]) -> None:
    for key in holder:
        if key not in known:
            issues.append(DocIssue(f"{path}.{key}" if isinstance(key, str) else path, f"unknown member {shown(key)}"))


def _kind(value: Any) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return kinds.get(type(value), "null" if value is None else f"a {type(value).__name__}")
