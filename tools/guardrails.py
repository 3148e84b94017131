"""Render the guardrail service control policies (templates/guardrails/*.json) for one deployment.

    python -m tools.guardrails --role-name-prefix wa-share-acceptor [--break-glass-roles BreakGlass] ...

writes dist/guardrails/<name>.json (each SCP within the 5,120-character limit), manifest.json (the inputs,
which `make check-deploy` reads back), and with --target-ids the parameters of
templates/guardrails/guardrails.yaml, then prints the paths. Exit 2 on any bad input, naming every bad value.

The sources are plain IAM JSON with placeholders. In a string, `${Partition}` and `${RoleNamePrefix}` are
replaced; a list item that is exactly `${<List>Arns}` becomes the ARN patterns of that list (none when it
is empty). A statement left with no Resource is dropped, and an SCP left with no statement is not written.
docs/guardrails.md explains each statement.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "templates" / "guardrails"
SCP_NAMES = ("decisions", "stack")
SCP_LIMIT = 5120  # characters of one SCP (AWS Organizations quota, not adjustable)
PARAMETER_LIMIT = 4096  # bytes of one CloudFormation parameter value (how guardrails.yaml receives an SCP)
STACK_PARAMETERS = {"decisions": "DecisionsPolicy", "stack": "StackPolicy"}

# Service-managed StackSets create `stacksets-exec-<id>` in every target account; self-managed StackSets
# use the role the administrator names, by default AWSCloudFormationStackSetExecutionRole.
DEFAULT_DEPLOYER_ROLES = ("stacksets-exec-*", "AWSCloudFormationStackSetExecutionRole")
DEFAULT_PREFIX = "wa-share-acceptor"  # template.yaml's RoleNamePrefix default (a test keeps them equal)

_PREFIX = re.compile(r"[A-Za-z0-9_-]{1,40}")  # template.yaml's RoleNamePrefix AllowedPattern
_PARTITION = re.compile(r"aws(?:-[a-z]{1,16}){0,3}")
# A role name, optionally under a path: IAM name characters except "," (the list separator), plus "*".
_ROLE_SEGMENT = r"[A-Za-z0-9+=.@_*-]{1,64}"
_ROLE = re.compile(rf"(?:{_ROLE_SEGMENT}/){{0,8}}{_ROLE_SEGMENT}")
_MIN_LITERAL = 4  # characters besides "*" in a role name pattern (its last segment): no "*" or "a*" that admits all
_PARAMETER_PATH = r"[A-Za-z0-9_.-]{1,1011}(?:/[A-Za-z0-9_.-]{1,1011}){0,14}"  # template.yaml's PolicyParameter
_PARAMETER_NAME = re.compile(rf"/?{_PARAMETER_PATH}")
_PARAMETER_ARN = re.compile(
    rf"arn:aws(?:-[a-z]+)*:ssm:[a-z]{{2}}(?:-[a-z]+)+-[0-9]{{1,2}}:[0-9]{{12}}:parameter/{_PARAMETER_PATH}"
)
_S3_URI = re.compile(
    r"s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>[A-Za-z0-9!_.'()/=+,@-]{1,1024})"
    r"(?:\?versionId=[A-Za-z0-9._-]{1,1024})?"
)
_TARGET = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32}|[0-9]{12}")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z]+)\}")


class GuardrailError(ValueError):
    """Bad input, or an SCP that would not fit; the message names every problem."""


@dataclass(frozen=True)
class GuardrailSettings:
    """Who may do what, for one deployment of the acceptor (its RoleNamePrefix)."""

    role_name_prefix: str
    break_glass_roles: tuple[str, ...] = ()
    deployer_roles: tuple[str, ...] = DEFAULT_DEPLOYER_ROLES
    invitee_roles: tuple[str, ...] = ()
    policy_parameter: str = ""
    policy_s3_uri: str = ""
    policy_owner_roles: tuple[str, ...] = ()
    partition: str = "aws"
    target_ids: tuple[str, ...] = field(default=(), compare=False)

    def role_arns(self, names: Iterable[str], account: str = "????????????") -> list[str]:
        """ArnLike patterns of roles with these names (and paths) in any account of the organization.

        As principals (aws:PrincipalArn) the account is twelve `?`, so that only an account id matches; as
        resources (what may be created or changed) it is `*`: a Resource element names no account shape.
        """
        return [f"arn:{self.partition}:iam::{account}:role/{name}" for name in names]

    def policy_parameter_arns(self) -> list[str]:
        if not self.policy_parameter:
            return []
        if self.policy_parameter.startswith("arn:"):
            return [self.policy_parameter]
        # a name: the parameter of that name in every account and region the SCP covers
        return [f"arn:{self.partition}:ssm:*:*:parameter/{self.policy_parameter.lstrip('/')}"]

    def policy_object_arns(self) -> list[str]:
        if not self.policy_s3_uri:
            return []
        match = _S3_URI.fullmatch(self.policy_s3_uri)
        assert match is not None  # parse_settings checked it
        bucket = match["bucket"]
        return [f"arn:{self.partition}:s3:::{bucket}/{match['key']}", f"arn:{self.partition}:s3:::{bucket}"]

    def lists(self) -> dict[str, list[str]]:
        return {
            "BreakGlassRoleArns": self.role_arns(self.break_glass_roles),
            "DeployerRoleArns": self.role_arns(self.deployer_roles),
            "InviteeRoleArns": self.role_arns(self.invitee_roles),
            "PolicyOwnerRoleArns": self.role_arns(self.policy_owner_roles),
            # every role named in an exemption, as resources: only deployers may create or change them
            "ExemptRoleResources": self.role_arns(
                (*self.deployer_roles, *self.break_glass_roles, *self.invitee_roles, *self.policy_owner_roles), "*"
            ),
            "PolicyParameterArns": self.policy_parameter_arns(),
            "PolicyObjectArns": self.policy_object_arns(),
        }

    def scalars(self) -> dict[str, str]:
        return {"Partition": self.partition, "RoleNamePrefix": self.role_name_prefix}


def _split(name: str, raw: str | None, problems: list[str]) -> tuple[str, ...]:
    if raw is None or not raw.strip():
        return ()
    items = [item.strip() for item in raw.split(",")]
    if any(not item for item in items):
        problems.append(f"{name}: {raw!r} has an empty entry")
    seen: set[str] = set()
    for item in items:
        if item and item in seen:
            problems.append(f"{name}: {item!r} is listed twice")
        seen.add(item)
    return tuple(item for item in items if item)


def _check_roles(name: str, roles: Sequence[str], problems: list[str]) -> None:
    for role in roles:
        last = role.rsplit("/", 1)[-1]
        if not _ROLE.fullmatch(role):
            problems.append(
                f"{name}: {role!r} is not a role name (optionally path/name): ASCII letters, digits, +=.@_- and *"
            )
        elif "*" in last and len(last.replace("*", "")) < _MIN_LITERAL:
            problems.append(f"{name}: {role!r} is too broad: a name with * needs {_MIN_LITERAL} other characters")


def parse_settings(values: Mapping[str, str | None]) -> GuardrailSettings:
    """Settings from the make/CLI variables (upper-case names as `make guardrails` takes them)."""
    problems: list[str] = []
    prefix = (values.get("RoleNamePrefix") or "").strip()
    if not _PREFIX.fullmatch(prefix):
        problems.append(
            f"RoleNamePrefix: {prefix!r} is not 1-40 ASCII letters, digits, _ or - (the acceptor's RoleNamePrefix)"
        )
    partition = (values.get("PARTITION") or "aws").strip()
    if not _PARTITION.fullmatch(partition):
        problems.append(f"PARTITION: {partition!r} is not a partition such as aws, aws-cn or aws-us-gov")
    break_glass = _split("BREAK_GLASS_ROLES", values.get("BREAK_GLASS_ROLES"), problems)
    deployer_raw = values.get("DEPLOYER_ROLES")
    deployers = DEFAULT_DEPLOYER_ROLES if deployer_raw is None else _split("DEPLOYER_ROLES", deployer_raw, problems)
    if not deployers:
        problems.append("DEPLOYER_ROLES: empty: nothing could deploy or update the acceptor under the guardrails")
    invitees = _split("INVITEE_ROLES", values.get("INVITEE_ROLES"), problems)
    owners = _split("POLICY_OWNER_ROLES", values.get("POLICY_OWNER_ROLES"), problems)
    for name, roles in (
        ("BREAK_GLASS_ROLES", break_glass),
        ("DEPLOYER_ROLES", deployers),
        ("INVITEE_ROLES", invitees),
        ("POLICY_OWNER_ROLES", owners),
    ):
        _check_roles(name, roles, problems)
    for role in invitees:
        if role in deployers:
            problems.append(f"INVITEE_ROLES: {role!r} is a deployer role: it must not answer invitations")
    parameter = (values.get("POLICY_PARAMETER") or "").strip()
    if parameter and not (_PARAMETER_NAME.fullmatch(parameter) or _PARAMETER_ARN.fullmatch(parameter)):
        problems.append(
            f"POLICY_PARAMETER: {parameter!r} is neither a parameter name (/wa-share-acceptor/policy) nor an ARN"
        )
    elif parameter.startswith("arn:") and not parameter.startswith(f"arn:{partition}:"):
        problems.append(f"POLICY_PARAMETER: {parameter!r} is not in partition {partition!r}")
    s3_uri = (values.get("POLICY_S3_URI") or "").strip()
    if s3_uri and not _S3_URI.fullmatch(s3_uri):
        problems.append(
            f"POLICY_S3_URI: {s3_uri!r} is not s3://<bucket>/<key>[?versionId=...] "
            "(keys of ASCII letters, digits and !_.'()/=+,@- only: no * or ?, which IAM reads as wildcards)"
        )
    if (parameter or s3_uri) and not owners:
        which = "POLICY_PARAMETER" if parameter else "POLICY_S3_URI"
        problems.append(f"POLICY_OWNER_ROLES: empty, but {which} is set: name the roles that may change the policy")
    if owners and not (parameter or s3_uri):
        problems.append("POLICY_OWNER_ROLES: set, but neither POLICY_PARAMETER nor POLICY_S3_URI names a policy")
    targets = _split("TARGET_IDS", values.get("TARGET_IDS"), problems)
    for target in targets:
        if not _TARGET.fullmatch(target):
            problems.append(f"TARGET_IDS: {target!r} is not an OU id (ou-...), a root id (r-...) or an account id")
    if problems:
        raise GuardrailError("; ".join(problems))
    return GuardrailSettings(
        role_name_prefix=prefix,
        break_glass_roles=break_glass,
        deployer_roles=deployers,
        invitee_roles=invitees,
        policy_parameter=parameter,
        policy_s3_uri=s3_uri,
        policy_owner_roles=owners,
        partition=partition,
        target_ids=targets,
    )


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise GuardrailError(f"duplicate keys {duplicates}")
    return dict(pairs)


def load_source(name: str, directory: Path = SOURCES) -> dict[str, Any]:
    path = directory / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_reject_duplicates)
    except (OSError, ValueError) as exc:
        raise GuardrailError(f"{path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("Statement"), list):
        raise GuardrailError(f"{path}: not a policy with a Statement list")
    return data


def _substitute(node: Any, settings: GuardrailSettings, where: str) -> Any:
    lists, scalars = settings.lists(), settings.scalars()
    if isinstance(node, dict):
        return {k: _substitute(v, settings, f"{where}.{k}") for k, v in node.items()}
    if isinstance(node, list):
        out: list[Any] = []
        for item in node:
            whole = _PLACEHOLDER.fullmatch(item) if isinstance(item, str) else None
            if whole and whole[1] in lists:
                out.extend(v for v in lists[whole[1]] if v not in out)
            else:
                value = _substitute(item, settings, where)
                if value not in out:
                    out.append(value)
        return out
    if isinstance(node, str):

        def replace(match: re.Match[str]) -> str:
            if match[1] not in scalars:
                kind = "a list: it must be a whole list item" if match[1] in lists else "unknown"
                raise GuardrailError(f"{where}: placeholder ${{{match[1]}}} is {kind}")
            return scalars[match[1]]

        return _PLACEHOLDER.sub(replace, node)
    return node


def render_policy(source: Mapping[str, Any], settings: GuardrailSettings, name: str = "scp") -> dict[str, Any] | None:
    """One SCP for these settings; None when none of its statements applies."""
    statements = []
    for index, statement in enumerate(source["Statement"]):
        rendered = _substitute(statement, settings, f"{name}.Statement[{statement.get('Sid', index)}]")
        if rendered.get("Resource") == []:
            continue  # e.g. no POLICY_PARAMETER: nothing to protect
        statements.append(rendered)
    if not statements:
        return None
    return {"Version": source["Version"], "Statement": statements}


def serialize(policy: Mapping[str, Any], name: str) -> str:
    """Indented when that fits the SCP limit, otherwise minimized; over the limit either way is an error."""
    pretty = json.dumps(policy, indent=2) + "\n"
    if len(pretty) <= SCP_LIMIT:
        return pretty
    compact = json.dumps(policy, separators=(",", ":"))
    if len(compact) > SCP_LIMIT:
        raise GuardrailError(
            f"{name}: {len(compact)} characters even minimized, over the SCP limit of {SCP_LIMIT}: "
            "name fewer roles, or cover several with one name pattern (BreakGlass-*)"
        )
    return compact


def render(settings: GuardrailSettings, directory: Path = SOURCES) -> dict[str, str]:
    """name -> the SCP's text, for every SCP that applies to these settings."""
    out = {}
    for name in SCP_NAMES:
        policy = render_policy(load_source(name, directory), settings, name)
        if policy is not None:
            out[name] = serialize(policy, name)
    return out


def stack_parameters(settings: GuardrailSettings, texts: Mapping[str, str]) -> list[dict[str, str]]:
    """Parameters of templates/guardrails/guardrails.yaml (the minimized SCPs and the targets)."""
    params = [{"ParameterKey": "TargetIds", "ParameterValue": ",".join(settings.target_ids)}]
    for name, key in STACK_PARAMETERS.items():
        compact = json.dumps(json.loads(texts[name]), separators=(",", ":")) if name in texts else ""
        if len(compact.encode()) > PARAMETER_LIMIT:
            raise GuardrailError(
                f"{name}: {len(compact)} characters, over the {PARAMETER_LIMIT} a stack parameter holds; "
                f"create it with aws organizations create-policy --content file://dist/guardrails/{name}.json instead"
            )
        params.append({"ParameterKey": key, "ParameterValue": compact})
    return params


# ---------------------------------------------------------------- the deployed RoleNamePrefix


def manifest(settings: GuardrailSettings) -> dict[str, Any]:
    data = asdict(settings)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}


def load_manifest(path: str | Path) -> GuardrailSettings:
    """The settings `make guardrails` rendered, from its manifest.json (for make check-deploy)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"), object_pairs_hook=_reject_duplicates)
    if not isinstance(data, dict):
        raise GuardrailError(f"{path}: not a guardrails manifest")
    names = {
        "role_name_prefix": "RoleNamePrefix",
        "break_glass_roles": "BREAK_GLASS_ROLES",
        "deployer_roles": "DEPLOYER_ROLES",
        "invitee_roles": "INVITEE_ROLES",
        "policy_parameter": "POLICY_PARAMETER",
        "policy_s3_uri": "POLICY_S3_URI",
        "policy_owner_roles": "POLICY_OWNER_ROLES",
        "partition": "PARTITION",
        "target_ids": "TARGET_IDS",
    }
    values: dict[str, str | None] = {}
    for key, value in data.items():
        if key not in names:
            raise GuardrailError(f"{path}: unknown key {key!r}")
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            values[names[key]] = ",".join(value)
        elif isinstance(value, str):
            values[names[key]] = value
        else:
            raise GuardrailError(f"{path}: {key} is {value!r}, not a string or a list of strings")
    return parse_settings(values)


def prefix_mismatch(
    guardrails_prefix: str, deployed: Mapping[str, str], *, source: str = "the deployment"
) -> str | None:
    """A warning when the acceptor would deploy with another RoleNamePrefix than the guardrails protect.

    `deployed` holds the acceptor stack's parameters (samconfig overrides, a StackSets parameters file);
    without RoleNamePrefix the stack takes the template's default. None when they agree.
    """
    deployed_prefix = deployed.get("RoleNamePrefix") or DEFAULT_PREFIX
    if deployed_prefix == guardrails_prefix:
        return None
    how = "" if "RoleNamePrefix" in deployed else " (the template default: RoleNamePrefix is not set)"
    return (
        f"guardrails protect RoleNamePrefix {guardrails_prefix!r} but {source} uses {deployed_prefix!r}{how}: "
        "under these SCPs its functions could not answer any invitation, and nothing would protect them"
    )


def deployed_parameters(*, parameters_file: str | None = None, config_env: str | None = None) -> dict[str, str]:
    """The acceptor stack's parameters from a StackSets/CloudFormation parameters file or a samconfig env."""
    if parameters_file:
        data = json.loads(Path(parameters_file).read_text(encoding="utf-8"), object_pairs_hook=_reject_duplicates)
        if not isinstance(data, list) or not all(
            isinstance(p, dict) and isinstance(p.get("ParameterKey"), str) and isinstance(p.get("ParameterValue"), str)
            for p in data
        ):
            raise GuardrailError(f"{parameters_file}: not a list of {{ParameterKey, ParameterValue}} strings")
        return {p["ParameterKey"]: p["ParameterValue"] for p in data}
    if config_env:
        config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
        env = config.get(config_env)
        if not isinstance(env, dict):
            raise GuardrailError(f"CONFIG_ENV: samconfig.toml has no environment {config_env!r}")
        overrides = env.get("deploy", {}).get("parameters", {}).get("parameter_overrides", "")
        words = shlex.split(overrides) if isinstance(overrides, str) else [str(w) for w in overrides]
        return dict(word.split("=", 1) for word in words if "=" in word)
    return {}


# ---------------------------------------------------------------- command line


def write(settings: GuardrailSettings, output_dir: Path) -> list[Path]:
    texts = render(settings)
    params = stack_parameters(settings, texts) if settings.target_ids else None
    output_dir.mkdir(parents=True, exist_ok=True)
    for stale in output_dir.glob("*.json"):
        stale.unlink()  # an SCP that no longer applies must not be left behind to be attached
    paths = []
    for name, text in texts.items():
        path = output_dir / f"{name}.json"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    if params is not None:
        path = output_dir / "stack-parameters.json"
        path.write_text(json.dumps(params, indent=2) + "\n", encoding="utf-8")
        paths.append(path)
    path = output_dir / "manifest.json"
    path.write_text(json.dumps(manifest(settings), indent=2) + "\n", encoding="utf-8")
    paths.append(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make guardrails", description=__doc__.split("\n\n")[0])
    parser.add_argument("--role-name-prefix", dest="RoleNamePrefix", default=None)
    for option in ("break-glass-roles", "deployer-roles", "invitee-roles", "policy-parameter", "policy-s3-uri"):
        parser.add_argument(f"--{option}", dest=option.upper().replace("-", "_"), default=None)
    parser.add_argument("--policy-owner-roles", dest="POLICY_OWNER_ROLES", default=None)
    parser.add_argument("--partition", dest="PARTITION", default=None)
    parser.add_argument("--target-ids", dest="TARGET_IDS", default=None)
    parser.add_argument("--output-dir", default=str(ROOT / "dist" / "guardrails"))
    parser.add_argument("--parameters", help="the acceptor's StackSets parameters file, to compare RoleNamePrefix")
    parser.add_argument("--config-env", help="the acceptor's samconfig environment, to compare RoleNamePrefix")
    args = vars(parser.parse_args(argv))
    # make passes every variable, set or not: an empty one means "not given" (DEPLOYER_ROLES keeps its default)
    values = {k: (v if v != "" else None) for k, v in args.items() if k.isupper() or k == "RoleNamePrefix"}
    try:
        settings = parse_settings(values)
        paths = write(settings, Path(args["output_dir"]))
        deployed = deployed_parameters(parameters_file=args["parameters"], config_env=args["config_env"])
    except (GuardrailError, OSError, ValueError) as exc:
        print(f"guardrails: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    source = args["parameters"] or (f"samconfig env {args['config_env']!r}" if args["config_env"] else None)
    if source:
        warning = prefix_mismatch(settings.role_name_prefix, deployed, source=source)
        if warning:
            print(f"guardrails: warning: {warning}", file=sys.stderr)
    elif settings.role_name_prefix != DEFAULT_PREFIX:
        print(
            f"guardrails: note: RoleNamePrefix {settings.role_name_prefix!r} is not the template default "
            f"{DEFAULT_PREFIX!r}: deploy every acceptor stack with it (check with PARAMETERS= or CONFIG_ENV=)",
            file=sys.stderr,
        )
    if not settings.target_ids:
        print("guardrails: no TARGET_IDS: stack-parameters.json not written (docs/guardrails.md)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
