"""Check a policy before deploying it, and preview what it would do.

    python -m tools.check_policy --policy policy.yaml            # a policy document (JSON or YAML)
    python -m tools.check_policy --env-vars my-env.json          # the eight variables (SAM env-vars format)
    python -m tools.check_policy --policy policy.yaml --what-if [--deployed deployed.yaml] [--format json]

Validates the policy and prints the compiled rules as JSON, or every error (a document's with its JSON
path, a variable's with its name and value) with exit code 1. Without ``--policy`` the template's
defaults are overlaid with the env-vars file, as the functions would see them.

``--what-if`` lists the pending invitations of the current credentials' account and region, all four
resource types, with ``ListShareInvitations`` only (the client it is given can do nothing else; set
``AWS_ENDPOINT_URL_WELLARCHITECTED`` to use the simulator), and prints what the policy would do with
each and which rule decides. ``--deployed`` (a document or an env-vars file) adds the invitations whose
action would change from the deployed policy's. OU rules need ``--organizations-role-arn`` (or
``ORGANIZATIONS_ROLE_ARN`` in an env-vars file); without it they stay undecided, as in the functions.

Exit codes: 0 done, 1 a policy is invalid, 2 anything else (unreadable file, listing failed).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, NamedTuple

from botocore.exceptions import BotoCoreError

from acceptor.listing import Lister
from acceptor.organizations import OrgAncestryResolver, ancestries_of
from acceptor.policy_source import PolicySource, PolicyUnavailable
from acceptor.settings import ConfigurationError, load_settings
from acceptor.wellarchitected import ShareInvitations
from policy import (
    RESOURCE_TYPES,
    Decision,
    Invitation,
    OrgAncestry,
    Policy,
    PolicyDocumentError,
    evaluate,
    load_document,
    policy_warnings,
)
from tools.lambda_env import function_environment, read_env_vars_file

ROOT = Path(__file__).resolve().parents[1]
MAX_POLICY_FILE_BYTES = 4 * 1024 * 1024  # what policy.load_document accepts
_FUNCTIONS = ("SweepFunction", "ShareEventFunction")
_NO_ROLE = "no Organizations role given (--organizations-role-arn)"


class PreviewError(Exception):
    """The preview could not be made (a file, the listing); exit code 2."""


class InvalidPolicy(Exception):
    """A policy (document or variables) is invalid; ``lines`` name every problem. Exit code 1."""

    def __init__(self, title: str, lines: list[str]) -> None:
        self.title = title
        self.lines = lines
        super().__init__(title)


class Loaded(NamedTuple):
    policy: Policy
    label: str  # where it came from, for the output
    organizations_role_arn: str | None = None
    extra: dict[str, Any] | None = None  # the operational settings, for the env-vars form


# ---------------------------------------------------------------- loading


def _read_text(path: str) -> str:
    try:
        file = Path(path)
        if file.stat().st_size > MAX_POLICY_FILE_BYTES:
            raise PreviewError(f"{path} is larger than {MAX_POLICY_FILE_BYTES} bytes")
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise PreviewError(f"{path} is not UTF-8 text: {err}") from err
    except OSError as err:
        raise PreviewError(f"cannot read {path}: {err.strerror or err}") from err


def load_policy_file(path: str) -> Loaded:
    """A policy document. Raises InvalidPolicy naming every problem with its JSON path."""
    try:
        policy = load_document(_read_text(path), source=path)
    except PolicyDocumentError as err:
        raise InvalidPolicy(f"invalid policy document {path}:", [str(issue) for issue in err.issues]) from err
    return Loaded(policy, f"document {path}")


def load_env_vars(path: str | None, function: str = "SweepFunction", *, ssm_client: Any = None) -> Loaded:
    """The policy and settings a function gets: template defaults, then the env-vars overlay. When they
    name a policy document (POLICY_FILE, POLICY_PARAMETER), it is read the way the function reads it."""
    try:
        props, env = function_environment(function, read_env_vars_file(path))
        settings = load_settings(env)
    except ConfigurationError as err:
        raise InvalidPolicy("invalid configuration:", list(err.problems)) from err
    except ValueError as err:
        raise PreviewError(str(err)) from err
    extra = {
        "organizations_role_arn": settings.organizations_role_arn,
        "max_workers": settings.max_workers,
        "notification_topic_arn": settings.notification_topic_arn,
    }
    label = f"variables {path}" if path else "variables (template defaults)"
    policy = settings.policy
    if settings.policy_parameter or settings.policy_file:
        source = PolicySource(
            settings.policy,
            parameter=settings.policy_parameter,
            policy_file=settings.policy_file,
            cache_seconds=0,
            organizations=bool(settings.organizations_role_arn),
            ssm_client=ssm_client,
            code_dir=ROOT / str(props.get("CodeUri") or "src"),
        )
        try:
            policy = source.current()
        except BotoCoreError as err:  # no region or no credentials for the SSM client
            raise PreviewError(f"{label}: cannot read {source.where}: {err}") from err
        except PolicyUnavailable as err:
            cause = err.__cause__
            if isinstance(cause, PolicyDocumentError):
                title = f"invalid policy document ({label}, {source.where}):"
                raise InvalidPolicy(title, [str(issue) for issue in cause.issues]) from err
            if cause is None:
                raise InvalidPolicy(f"invalid policy ({label}):", [str(err)]) from err
            raise PreviewError(f"{label}: {err}") from err
        label = f"{label}: {source.where}"
    return Loaded(policy, label, settings.organizations_role_arn, extra)


def _looks_like_env_vars(text: str) -> bool:
    """An env-vars file is a JSON object of objects keyed by "Parameters" or a function's logical id."""
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return (
        isinstance(data, dict)
        and bool(data)
        and "version" not in data
        and "rules" not in data
        and any(key in data for key in ("Parameters", *_FUNCTIONS))
    )


def load_deployed(path: str, *, ssm_client: Any = None) -> Loaded:
    """The deployed policy: a policy document, or an env-vars file (the eight variables, or the document
    they name)."""
    if _looks_like_env_vars(_read_text(path)):
        return load_env_vars(path, ssm_client=ssm_client)
    return load_policy_file(path)


def organizations_role(value: str) -> str:
    """The role ARN, checked as the functions check ORGANIZATIONS_ROLE_ARN."""
    try:
        arn = load_settings({"ORGANIZATIONS_ROLE_ARN": value}).organizations_role_arn
    except ConfigurationError as err:
        raise PreviewError("; ".join(err.problems)) from err
    if arn is None:
        raise PreviewError("--organizations-role-arn is empty")
    return arn


# ---------------------------------------------------------------- what if


class _ListOnly:
    """The one call a preview may make. Any other attribute (update_share_invitation...) does not exist."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def list_share_invitations(self, **params: Any) -> Any:
        return self._client.list_share_invitations(**params)


def list_pending(client: Any) -> list[dict[str, Any]]:
    """Every pending invitation the client's account sees, read by the functions' own listing (each type
    listed explicitly, a summary without a type given the one asked for, items that are not objects
    skipped, duplicates by id listed once)."""
    listed = Lister(ShareInvitations(_ListOnly(client), max_attempts=4)).read(RESOURCE_TYPES)
    for resource_type in RESOURCE_TYPES:
        if resource_type in listed.errors:
            raise PreviewError(f"listing {resource_type} invitations failed: {listed.errors[resource_type]}")
    return listed.items


class Row(NamedTuple):
    invitation: Invitation
    decision: Decision
    deployed: Decision | None = None

    @property
    def changed(self) -> bool:
        return self.deployed is not None and self.deployed.action != self.decision.action


def preview(
    policy: Policy,
    summaries: list[Any],
    *,
    deployed: Policy | None = None,
    lookup: Callable[[str], OrgAncestry] | None = None,
) -> list[Row]:
    """What ``policy`` (and ``deployed``) would decide for each listed summary. Pure but for ``lookup``."""
    invitations = [Invitation.from_summary(s) for s in summaries]
    needed = policy.uses_ous or (deployed is not None and deployed.uses_ous)
    ancestries = ancestries_of((i.shared_by for i in invitations), lookup, missing=_NO_ROLE) if needed else {}
    rows = []
    for inv in invitations:
        ancestry = ancestries.get(inv.shared_by) if isinstance(inv.shared_by, str) else None
        decision = evaluate(policy, inv, ancestry if policy.uses_ous else None)
        before = None
        if deployed is not None:
            before = evaluate(deployed, inv, ancestry if deployed.uses_ous else None)
        rows.append(Row(inv, decision, before))
    return rows


def _rule(decision: Decision | None) -> str:
    if decision is None or decision.rule is None:
        return "-"
    return f"#{decision.rule}" + (f" {decision.rule_id}" if decision.rule_id else "")


def _decision_json(decision: Decision) -> dict[str, Any]:
    return {
        "action": decision.action.value,
        "reason": decision.reason,
        "rule": decision.rule,
        "rule_id": decision.rule_id,
        "detail": decision.detail,
    }


def _row_json(row: Row) -> dict[str, Any]:
    inv = row.invitation
    data: dict[str, Any] = {
        "share_invitation_id": inv.share_invitation_id,
        "resource_type": inv.resource_type,
        "resource_name": inv.resource_name,
        "shared_by": inv.shared_by,
        "shared_with": inv.shared_with,
        "permission_type": inv.permission_type,
        **_decision_json(row.decision),
    }
    if row.deployed is not None:
        data["deployed"] = _decision_json(row.deployed)
        data["changed"] = row.changed
    return data


def _cell(value: object, width: int) -> str:
    # Names are the sharer's free text: control characters (a terminal escape) and non-ASCII are shown escaped.
    text = "-" if value is None else str(value).encode("unicode_escape").decode("ascii")
    return text if len(text) <= width else text[: width - 1] + "~"


def _print_rows(rows: list[Row], out: IO[str]) -> None:
    columns = (("INVITATION", 32), ("TYPE", 8), ("NAME", 24), ("SHARED BY", 12), ("PERM", 11), ("ACTION", 6))
    print("  ".join(f"{title:<{width}}" for title, width in columns) + "  RULE / REASON", file=out)
    for row in rows:
        inv, dec = row.invitation, row.decision
        print(
            f"{_cell(inv.share_invitation_id, 32):<32}  {_cell(inv.resource_type, 8):<8}  "
            f"{_cell(inv.resource_name, 24):<24}  {_cell(inv.shared_by, 12):<12}  "
            f"{_cell(inv.permission_type, 11):<11}  {dec.action.value:<6}  {_rule(dec)} {dec.reason}",
            file=out,
        )


def _counts(rows: list[Row], deployed: bool = False) -> dict[str, int]:
    counts = {"ACCEPT": 0, "REJECT": 0, "IGNORE": 0}
    for row in rows:
        decision = row.deployed if deployed else row.decision
        if decision is not None:
            counts[decision.action.value] += 1
    return counts


# ---------------------------------------------------------------- the command


def _default_client() -> Any:
    import boto3  # boto3 honours AWS_ENDPOINT_URL_WELLARCHITECTED (the simulator)

    from acceptor.wellarchitected import SDK_CONFIG

    return boto3.client("wellarchitected", config=SDK_CONFIG)


def _default_lookup(role_arn: str) -> Callable[[str], OrgAncestry]:
    return OrgAncestryResolver(role_arn).lookup


def main(
    argv: list[str] | None = None,
    *,
    wellarchitected_client: Any = None,
    lookup: Callable[[str], OrgAncestry] | None = None,
    ssm_client: Any = None,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
) -> int:
    """The command. Tests inject the Well-Architected and SSM clients and the Organizations lookup."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = argparse.ArgumentParser(prog="make check-policy", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--policy", "-p", help="a policy document, JSON or YAML (make check-policy POLICY=file)")
    source.add_argument("--env-vars", "-n", help="env-vars file in `sam local invoke` format (ENV_VARS=file)")
    parser.add_argument("--function", default="SweepFunction", choices=_FUNCTIONS)
    parser.add_argument("--what-if", action="store_true", help="preview against the pending invitations (WHAT_IF=1)")
    parser.add_argument("--deployed", help="the deployed policy: a document or an env-vars file (DEPLOYED=file)")
    parser.add_argument("--organizations-role-arn", help="role for OU rules in the preview (ORG_ROLE_ARN=arn)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="of the preview (FORMAT=json)")
    args = parser.parse_args(argv)
    if args.deployed and not args.what_if:
        parser.error("--deployed compares previews: add --what-if (WHAT_IF=1)")
    try:
        if args.policy:
            candidate = load_policy_file(args.policy)
        else:
            candidate = load_env_vars(args.env_vars, args.function, ssm_client=ssm_client)
        deployed = load_deployed(args.deployed, ssm_client=ssm_client) if args.deployed else None
        if not args.what_if:
            _print_checked(candidate, out)
            return 0
        role = args.organizations_role_arn
        role = (
            organizations_role(role)
            if role
            else candidate.organizations_role_arn or (deployed.organizations_role_arn if deployed else None)
        )
        if lookup is None and role:
            lookup = _default_lookup(role)
        if lookup is None and (candidate.policy.uses_ous or (deployed is not None and deployed.policy.uses_ous)):
            print(
                "check-policy: rules name OUs and no Organizations role was given (ORG_ROLE_ARN): "
                "their invitations show as left pending (org_lookup_failed)",
                file=err,
            )
        try:
            client = wellarchitected_client or _default_client()
        except BotoCoreError as failed:  # no region, an unknown profile...
            raise PreviewError(f"cannot create a Well-Architected client: {failed}") from failed
        summaries = list_pending(client)
        rows = preview(candidate.policy, summaries, deployed=deployed.policy if deployed else None, lookup=lookup)
    except InvalidPolicy as bad:
        print(bad.title, file=err)
        for line in bad.lines:
            print(f"  - {line}", file=err)
        return 1
    except PreviewError as failed:
        print(f"check-policy: {failed}", file=err)
        return 2
    _print_preview(candidate, deployed, rows, args.format, out)
    return 0


def _print_checked(loaded: Loaded, out: IO[str]) -> None:
    checked: dict[str, Any] = {"policy": loaded.policy.describe()}
    if loaded.extra is not None:
        checked |= loaded.extra
    checked["warnings"] = policy_warnings(loaded.policy) + _ou_warning(loaded)
    print(json.dumps(checked, indent=2), file=out)


def _ou_warning(loaded: Loaded) -> list[str]:
    if not loaded.policy.uses_ous or loaded.organizations_role_arn:
        return []
    return [
        "rules name OUs: the functions need OrganizationsRoleArn (templates/org-lookup-role.yaml) and refuse "
        "this document without it; a preview needs ORG_ROLE_ARN to decide them"
    ]


def _print_preview(candidate: Loaded, deployed: Loaded | None, rows: list[Row], fmt: str, out: IO[str]) -> None:
    changed = [row for row in rows if row.changed]
    if fmt == "json":
        report: dict[str, Any] = {
            "policy": candidate.label,
            "invitations": [_row_json(row) for row in rows],
            "counts": _counts(rows),
        }
        if deployed is not None:
            report |= {
                "deployed": deployed.label,
                "deployed_counts": _counts(rows, deployed=True),
                "changes": [_row_json(row) for row in changed],
            }
        print(json.dumps(report, indent=2), file=out)
        return
    print(f"what {candidate.label} would do with {len(rows)} pending invitation(s) (read-only preview):", file=out)
    if rows:
        _print_rows(rows, out)
    counts = _counts(rows)
    print(f"ACCEPT {counts['ACCEPT']}, REJECT {counts['REJECT']}, IGNORE (left pending) {counts['IGNORE']}", file=out)
    if candidate.policy.dry_run:
        print("the policy is in dry run: the functions would decide, log and count, but update nothing", file=out)
    if deployed is None:
        return
    print(f"\nchanges from the deployed policy ({deployed.label}): {len(changed)}", file=out)
    for row in changed:
        inv = row.invitation
        assert row.deployed is not None
        print(
            f"  {_cell(inv.share_invitation_id, 32)} {_cell(inv.resource_type, 8)} '{_cell(inv.resource_name, 40)}' "
            f"from {_cell(inv.shared_by, 12)}: {row.deployed.action.value} ({_rule(row.deployed)} "
            f"{row.deployed.reason}) -> {row.decision.action.value} ({_rule(row.decision)} {row.decision.reason})",
            file=out,
        )


if __name__ == "__main__":
    sys.exit(main())
