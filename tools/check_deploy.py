"""Check exactly what you deploy, before you deploy it: read-only and offline.

    python -m tools.check_deploy --config-env prod                  # samconfig.toml [prod] parameter_overrides
    python -m tools.check_deploy --parameters stackset-params.json  # a StackSets / CloudFormation parameters file
    python -m tools.check_deploy --overrides 'DryRun=false AllowedSourceAccounts=222222222222'
    python -m tools.check_deploy --parameters p.json --policy policy.yaml   # the document PolicyParameter will hold

Every name must be a parameter of template.yaml (an unknown one is an error naming the nearest valid
name); every value must pass the template's own constraints (AllowedPattern, AllowedValues,
MinValue/MaxValue, MinLength/MaxLength, the template's Rules) and then the functions' own parsers
(acceptor.settings, policy.config), whose words the errors keep. The functions' environment is
measured against Lambda's 4 KB limit, the policy document named by PolicyFile (or given with
--policy for PolicyParameter) is validated as the functions load it, and the effective policy (the
compiled rules) is printed. Exit codes: 0 no error (warnings allowed), 1 an error, 2 unreadable input.

Checks are plain functions in ``CHECKS``: each reads a ``Deployment`` and returns ``Finding``s. Add one by
appending a function.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import shlex
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from acceptor.policy_source import PolicySource, PolicyUnavailable, read_s3_policy
from acceptor.settings import ConfigurationError, Settings, load_settings
from policy import Policy, PolicyDocumentError, policy_warnings
from router.settings import load_router_settings
from tools.cfn_template import Resolver, function_properties, load_template
from tools.lambda_env import declared_variables

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
SAMCONFIG = ROOT / "samconfig.toml"
ENVIRONMENT_LIMIT = 4096  # bytes: Lambda's limit on all of a function's environment variables together
ENVIRONMENT_WARN = 0.8  # warn from this share of the limit: landing-zone tooling adds variables of its own
MAX_INPUT_BYTES = 1024 * 1024
# Parameters that route what a live stack does to people. Counted only when the template declares them.
NOTIFICATION_ROUTES = ("NotificationEmail", "CentralEventBusArn")
# A generated ARN in the environment (a Ref to a resource), counted at its longest: partition, region and
# a 256-character name (the most SNS and most services allow).
_STAND_IN = {
    "AWS::SNS::Topic": "arn:aws-us-gov:sns:ap-southeast-2:123456789012:" + "n" * 256,
    "AWS::SQS::Queue": "https://sqs.ap-southeast-2.amazonaws.com/123456789012/" + "n" * 80,  # Ref is the URL
    "AWS::DynamoDB::Table": "n" * 255,  # Ref is the table's name
}
_GENERIC_STAND_IN = "arn:aws-us-gov:service:ap-southeast-2:123456789012:" + "n" * 256
_NUMBER = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,15})?")
_OVERRIDE_KEY = re.compile(r"[A-Za-z0-9]{1,255}")


class InputError(Exception):
    """The input could not be read (a file, a samconfig environment, the override syntax). Exit code 2."""


@dataclass(frozen=True)
class Finding:
    level: str  # "error" or "warning"
    text: str


@dataclass
class Deployment:
    """What is about to be deployed, and what the checks learned about it so far."""

    template: dict[str, Any]
    source: str  # where the values came from, for the report
    given: list[tuple[str, str]]  # (name, value) as read, in order, duplicates included
    kept: list[str] = field(default_factory=list)  # UsePreviousValue names: the deployed value stays
    policy_document: Path | None = None  # --policy: the document PolicyParameter or PolicyS3Uri will hold
    policy_uri: str | None = None  # --policy s3://...: the object to read (the only online step, when asked)
    code_dir: Path = ROOT / "src"
    rejected: set[str] = field(default_factory=set)  # names whose values the template refuses
    environments: dict[str, dict[str, str]] = field(default_factory=dict)  # per function, as deployed
    settings: Settings | None = None
    policy: Policy | None = None
    notes: list[str] = field(default_factory=list)  # facts for the report (sizes, the policy's source)

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.template.get("Parameters") or {})

    @property
    def values(self) -> dict[str, str]:
        """The given values of known parameters (the last one when a name is given twice)."""
        known = self.parameters
        return {name: value for name, value in self.given if name in known}

    def effective(self, name: str) -> str:
        """The value the stack gets: the given one, else the template's default."""
        if name in self.values:
            return self.values[name]
        default = self.parameters.get(name, {}).get("Default")
        return "" if default is None else str(default)

    def environment_parameters(self) -> dict[str, str]:
        """Environment variable -> the parameter it comes from (a plain Ref in the functions' environment)."""
        found: dict[str, str] = {}
        for variables in declared_variables(self.template).values():
            for var, value in variables.items():
                if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in self.parameters:
                    found[var] = value["Ref"]
        return found


Check = Callable[[Deployment], list[Finding]]


def _fold(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def nearest_name(name: str, candidates: list[str], aliases: dict[str, str] | None = None) -> str | None:
    """The valid name closest to ``name``: an alias (a function's variable for its parameter), the same
    name in another case or spelling (``DRY_RUN``, ``dryrun``), else the closest by difflib."""
    if aliases and name in aliases:
        return aliases[name]
    folded = {_fold(c): c for c in candidates}
    if aliases:
        folded |= {_fold(alias): target for alias, target in aliases.items()}
    if _fold(name) in folded:
        return folded[_fold(name)]
    close = difflib.get_close_matches(_fold(name), list(folded), n=1, cutoff=0.5)
    return folded[close[0]] if close else None


# ---------------------------------------------------------------- reading the three forms


def parse_overrides(text: str) -> list[tuple[str, str]]:
    """A `sam deploy --parameter-overrides` string: ``Key=Value`` or ``ParameterKey=K,ParameterValue=V``
    items, separated by spaces, values optionally quoted."""
    try:
        tokens = shlex.split(text)
    except ValueError as err:
        raise InputError(f"parameter overrides {text!r}: {err}") from err
    pairs = []
    for token in tokens:
        long_form = re.fullmatch(r"ParameterKey=([^,]*),ParameterValue=(.*)", token, re.DOTALL)
        if long_form:
            pairs.append((long_form.group(1), long_form.group(2)))
            continue
        name, sep, value = token.partition("=")
        if not sep or not name:
            raise InputError(f"parameter override {token!r} is not Key=Value")
        pairs.append((name, value))
    return pairs


def read_samconfig(config_env: str, path: Path = SAMCONFIG) -> list[tuple[str, str]]:
    """The ``parameter_overrides`` that ``sam deploy --config-env <config_env>`` uses."""
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise InputError(f"cannot read {path.name}: {err}") from err
    envs = sorted(k for k, v in config.items() if isinstance(v, dict))
    if config_env not in envs:
        near = difflib.get_close_matches(config_env, envs, n=1, cutoff=0.5)
        hint = f"; did you mean {near[0]}?" if near else ""
        raise InputError(f"{path.name} has no environment [{config_env}] (it has {', '.join(envs)}){hint}")
    section = config[config_env]
    for command in ("deploy", "global"):
        overrides = ((section.get(command) or {}).get("parameters") or {}).get("parameter_overrides")
        if overrides is not None:
            if isinstance(overrides, list):
                return [pair for item in overrides for pair in parse_overrides(str(item))]
            return parse_overrides(str(overrides))
    return []


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise InputError(f"key {key!r} appears twice in one object")
        seen[key] = value
    return seen


def read_parameters_file(path: str | Path) -> tuple[list[tuple[str, str]], list[str]]:
    """A CloudFormation / StackSets parameters file: ``[{"ParameterKey": ..., "ParameterValue": ...}]``.
    Returns (pairs, names kept at their previous value)."""
    file = Path(path)
    try:
        if file.stat().st_size > MAX_INPUT_BYTES:
            raise InputError(f"{path} is larger than {MAX_INPUT_BYTES} bytes")
        data = json.loads(file.read_text(encoding="utf-8"), object_pairs_hook=_no_duplicate_keys)
    except InputError as err:
        raise InputError(f"{path}: {err}") from err
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read {path}: {getattr(err, 'strerror', None) or err}") from err
    except json.JSONDecodeError as err:
        raise InputError(f"{path} is not JSON: {err}") from err
    if not isinstance(data, list):
        raise InputError(f'{path}: expected a JSON list of {{"ParameterKey": ..., "ParameterValue": ...}}')
    pairs, kept = [], []
    for index, item in enumerate(data):
        where = f"{path}[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("ParameterKey"), str):
            raise InputError(f"{where}: expected an object with a string ParameterKey")
        unknown = sorted(set(item) - {"ParameterKey", "ParameterValue", "UsePreviousValue", "ResolvedValue"})
        if unknown:
            raise InputError(f"{where}: unknown field(s) {', '.join(unknown)}")
        name = item["ParameterKey"]
        if item.get("UsePreviousValue") is True:
            if "ParameterValue" in item:
                raise InputError(f"{where}: {name} has both ParameterValue and UsePreviousValue")
            kept.append(name)
            pairs.append((name, ""))
            continue
        value = item.get("ParameterValue")
        if not isinstance(value, str):
            raise InputError(f"{where}: the ParameterValue of {name} is not a string ({json.dumps(value)})")
        pairs.append((name, value))
    return pairs, kept


# ---------------------------------------------------------------- the checks


def check_names(d: Deployment) -> list[Finding]:
    """Every name is a template parameter, given once."""
    params = list(d.parameters)
    aliases = d.environment_parameters()
    findings = []
    seen: set[str] = set()
    for name, _ in d.given:
        if name in d.parameters:
            if name in seen:
                findings.append(Finding("error", f"{name} is given more than once; the last value would win"))
            seen.add(name)
            continue
        near = nearest_name(name, params, aliases)
        if name in aliases:
            hint = f"; {name} is the functions' environment variable: the parameter is {near}"
        elif near:
            hint = f"; did you mean {near}?"
        else:
            hint = f" (parameters: {', '.join(params)})"
        findings.append(Finding("error", f"{name} is not a parameter of template.yaml{hint}"))
    for name in d.kept:
        if name in d.parameters:
            findings.append(Finding("warning", f"{name}: UsePreviousValue keeps the deployed value; not checked here"))
    return findings


def _constraint_problem(name: str, value: str, spec: dict[str, Any]) -> str | None:
    """The template rule ``value`` breaks, in the template's words; None when it passes."""
    kind = str(spec.get("Type", "String"))
    described = f" ({spec['ConstraintDescription']})" if spec.get("ConstraintDescription") else ""
    if kind == "Number":
        if not _NUMBER.fullmatch(value):
            return f"{name}: {value!r} is not a number (Type: Number)"
        number = float(value)
        if "MinValue" in spec and number < float(spec["MinValue"]):
            return f"{name}: {value} is below the template's MinValue {spec['MinValue']}"
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            return f"{name}: {value} is above the template's MaxValue {spec['MaxValue']}"
    if kind == "String":
        if "MinLength" in spec and len(value) < int(spec["MinLength"]):
            return f"{name}: {value!r} is shorter than the template's MinLength {spec['MinLength']}"
        if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
            return f"{name}: {len(value)} characters, more than the template's MaxLength {spec['MaxLength']}"
        pattern = spec.get("AllowedPattern")
        # CloudFormation matches the whole value with Java regular expressions, whose \d, \s and \w are ASCII.
        if pattern is not None and not re.fullmatch(str(pattern), value, re.ASCII):
            return f"{name}: {value!r} does not match the template's AllowedPattern {pattern}{described}"
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(v) for v in allowed]:
        shown = ", ".join(str(v) for v in allowed)
        return f"{name}: {value!r} is not one of the template's AllowedValues: {shown}"
    return None


def check_template_constraints(d: Deployment) -> list[Finding]:
    """Every given value passes its parameter's constraints in template.yaml."""
    findings = []
    for name, value in d.values.items():
        if name in d.kept:
            continue
        problem = _constraint_problem(name, value, d.parameters[name])
        if problem:
            d.rejected.add(name)
            findings.append(Finding("error", problem))
    return findings


def _resolver(d: Deployment) -> Resolver:
    """Parameter values as deployed: the given ones the template admits, else the defaults."""
    overrides = {k: v for k, v in d.values.items() if k not in d.rejected and k not in d.kept}
    return Resolver(d.template, overrides)


def check_template_rules(d: Deployment) -> list[Finding]:
    """The template's Rules (assertions across parameters) hold."""
    findings = []
    resolver = _resolver(d)
    for rule_name, rule in (d.template.get("Rules") or {}).items():
        condition = rule.get("RuleCondition")
        if condition is not None and resolver.resolve(condition) is not True:
            continue
        for assertion in rule.get("Assertions") or []:
            if resolver.resolve(assertion.get("Assert")) is False:
                text = assertion.get("AssertDescription") or "its assertion fails"
                findings.append(Finding("error", f"template rule {rule_name}: {text}"))
    return findings


def _stand_in(value: str, resources: dict[str, Any]) -> str:
    """A Ref or GetAtt to a resource resolves to its logical id locally; deployed, it is an ARN."""
    logical_id = value.split(".")[0]
    if logical_id in resources and value:
        return _STAND_IN.get(str(resources[logical_id].get("Type")), _GENERIC_STAND_IN)
    return value


def check_function_settings(d: Deployment) -> list[Finding]:
    """Each function's environment, as the stack would set it, passes the functions' own parser."""
    resolver = _resolver(d)
    resources = d.template.get("Resources") or {}
    variables_to_parameters = d.environment_parameters()
    problems: dict[str, None] = {}
    for function in declared_variables(d.template):
        props = function_properties(d.template, function, resolver)
        variables = (props.get("Environment") or {}).get("Variables") or {}
        env = {k: _stand_in("" if v is None else str(v), resources) for k, v in variables.items()}
        d.environments[function] = env
        try:
            if str(props.get("Handler", "")).startswith("handlers.router."):
                # the share-event router (templates/sharer-forwarding.yaml); Lambda sets AWS_REGION itself
                load_router_settings({"AWS_REGION": "ap-southeast-2", **env})
                continue
            settings = load_settings(env)
        except ConfigurationError as err:
            for problem in err.problems:
                var = problem.split(":", 1)[0]
                parameter = variables_to_parameters.get(var)
                problems.setdefault(f"{parameter} ({problem})" if parameter else problem, None)
            continue
        if d.settings is None:
            d.settings = settings
            d.code_dir = ROOT / str(props.get("CodeUri") or "src")
    return [Finding("error", f"refused by the functions: {p}") for p in problems]


def check_environment_size(d: Deployment) -> list[Finding]:
    """Each function's environment against Lambda's 4 KB limit, measured as the JSON Lambda stores."""
    findings = []
    for function, env in d.environments.items():
        size = len(json.dumps(env, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        share = size / ENVIRONMENT_LIMIT
        measured = f"{function} environment: {size:,} of {ENVIRONMENT_LIMIT:,} bytes ({share:.0%})"
        fact = f"{measured}, {ENVIRONMENT_LIMIT - size:,} left for variables landing-zone tooling adds"
        if size > ENVIRONMENT_LIMIT:
            findings.append(Finding("error", f"{measured}: over Lambda's 4 KB limit; the deploy would fail"))
        elif share >= ENVIRONMENT_WARN:
            findings.append(
                Finding(
                    "warning",
                    f"{fact}: close to Lambda's 4 KB limit; long lists belong in a policy document "
                    "(PolicyParameter or PolicyFile)",
                )
            )
        d.notes.append(fact)
    return findings


def check_policy_document(d: Deployment) -> list[Finding]:
    """The policy the functions would run: the variables, or the document PolicyFile (or --policy for
    PolicyParameter) names, loaded as the functions load it."""
    settings = d.settings
    if settings is None:
        return []  # the settings were refused: reported already
    if not (settings.policy_file or settings.policy_parameter or settings.policy_s3_uri):
        d.policy = settings.policy
        d.notes.append("policy: the policy parameters (AllowedSourceAccounts ...)")
        return []
    if settings.policy_s3_uri and d.policy_uri is not None:
        return _check_s3_document(d, settings, d.policy_uri)
    if settings.policy_s3_uri and d.policy_document is None:
        d.notes.append(f"policy: S3 object {settings.policy_s3_uri} (not read: this check is offline)")
        return [
            Finding(
                "warning",
                f"PolicyS3Uri {settings.policy_s3_uri}: its document was not checked (offline); give the document "
                "you publish there with POLICY=<file>, or read the object itself with POLICY=<the s3:// URI>",
            )
        ]
    if settings.policy_parameter and d.policy_document is None:
        d.notes.append(f"policy: SSM parameter {settings.policy_parameter} (not read: this check is offline)")
        return [
            Finding(
                "warning",
                f"PolicyParameter {settings.policy_parameter}: its document was not checked (offline); give the "
                "document you put there with POLICY=<file>, or read it with `make check-policy ENV_VARS=<file>`",
            )
        ]
    if (settings.policy_parameter or settings.policy_s3_uri) and d.policy_document is not None:
        code_dir, name, where = d.policy_document.parent, d.policy_document.name, f"--policy {d.policy_document}"
    else:
        code_dir, name, where = d.code_dir, str(settings.policy_file), f"PolicyFile {settings.policy_file}"
    source = PolicySource(
        settings.policy,
        policy_file=name,
        cache_seconds=0,
        organizations=bool(settings.organizations_role_arn),
        code_dir=code_dir,
    )
    try:
        d.policy = source.current()
    except PolicyUnavailable as err:
        cause = err.__cause__
        if isinstance(cause, PolicyDocumentError):
            return [Finding("error", f"{where}: invalid policy document: {issue}") for issue in cause.issues]
        return [Finding("error", f"{where}: {err}")]
    d.notes.append(f"policy: the document {where}")
    return []


def _check_s3_document(d: Deployment, settings: Settings, uri: str) -> list[Finding]:
    """POLICY=s3://...: the object read and validated exactly as the functions read it (the one online step,
    asked for by name, with the caller's credentials)."""
    where = f"POLICY {uri}"
    try:
        d.policy = read_s3_policy(
            uri, organizations=bool(settings.organizations_role_arn), region=settings.policy_s3_region
        )
    except PolicyUnavailable as err:
        cause = err.__cause__
        if isinstance(cause, PolicyDocumentError):
            return [Finding("error", f"{where}: invalid policy document: {issue}") for issue in cause.issues]
        return [Finding("error", f"{where}: {err}")]
    if uri != settings.policy_s3_uri:
        d.notes.append(f"policy: read {uri}, which is not PolicyS3Uri {settings.policy_s3_uri}")
    d.notes.append(f"policy: the document {where}")
    return []


def check_policy_warnings(d: Deployment) -> list[Finding]:
    """What the policy's own tooling warns about (nothing accepted, an account both allowed and denied)."""
    return [Finding("warning", w) for w in policy_warnings(d.policy)] if d.policy is not None else []


def check_notification_route(d: Deployment) -> list[Finding]:
    """A live stack with nowhere to send what it did or failed to do."""
    live = not d.policy.dry_run if d.policy is not None else d.effective("DryRun") == "false"
    routes = [name for name in NOTIFICATION_ROUTES if name in d.parameters]
    if not live or not routes or any(d.effective(name).strip() for name in routes):
        return []
    return [
        Finding(
            "warning",
            f"DryRun=false with no notification route ({' and '.join(routes)} empty): the stack accepts and "
            "rejects for real, and its alarms, failures and invitations left pending reach no one; a policy "
            "mistake shows only in logs and metrics nobody is sent",
        )
    ]


CHECKS: list[Check] = [
    check_names,
    check_template_constraints,
    check_template_rules,
    check_function_settings,
    check_environment_size,
    check_policy_document,
    check_policy_warnings,
    check_notification_route,
]


def run_checks(d: Deployment, checks: list[Check] | None = None) -> list[Finding]:
    findings: list[Finding] = []
    for check in CHECKS if checks is None else checks:
        findings.extend(check(d))
    return findings


# ---------------------------------------------------------------- the command


def load_deployment(
    *,
    config_env: str | None = None,
    parameters: str | None = None,
    overrides: str | None = None,
    policy: str | None = None,
    template_path: Path = TEMPLATE,
    samconfig_path: Path = SAMCONFIG,
) -> Deployment:
    """Read the input. ``overrides`` with ``config_env`` replace its list, as `sam deploy` does."""
    if parameters and (config_env or overrides):
        raise InputError("PARAMETERS is a stack set's whole parameter list: give it alone")
    try:
        template = load_template(template_path)
    except (OSError, ValueError) as err:
        raise InputError(f"cannot read {template_path}: {err}") from err
    kept: list[str] = []
    if parameters:
        given, kept = read_parameters_file(parameters)
        source = f"parameters file {parameters}"
    elif overrides is not None:
        given = parse_overrides(overrides)
        source = "OVERRIDES"
        if config_env:
            read_samconfig(config_env, samconfig_path)  # the environment must exist
            source += f" (replacing samconfig.toml [{config_env}]'s parameter_overrides, as sam deploy does)"
    else:
        env = config_env or "default"
        given = read_samconfig(env, samconfig_path)
        source = f"samconfig.toml [{env}] parameter_overrides"
    uri = policy if policy and policy.startswith("s3://") else None
    document = Path(policy) if policy and uri is None else None
    if document is not None and not document.is_file():
        raise InputError(f"POLICY file {policy} does not exist")
    return Deployment(
        template=template, source=source, given=given, kept=kept, policy_document=document, policy_uri=uri
    )


def report(d: Deployment, findings: list[Finding], out: IO[str]) -> None:
    print(f"check-deploy: {d.source}: {len(d.given)} parameter(s) given", file=out)
    for finding in findings:
        print(f"{finding.level}: {finding.text}", file=out)
    for note in d.notes:
        print(note, file=out)
    if d.policy is not None:
        print("effective policy (compiled rules):", file=out)
        print(json.dumps(d.policy.describe(), indent=2), file=out)
    errors = sum(f.level == "error" for f in findings)
    warnings = sum(f.level == "warning" for f in findings)
    verdict = "refused" if errors else "ok"
    print(f"check-deploy: {verdict}: {errors} error(s), {warnings} warning(s)", file=out)


def main(argv: list[str] | None = None, *, out: IO[str] | None = None, err: IO[str] | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    parser = argparse.ArgumentParser(prog="make check-deploy", description=__doc__.splitlines()[0])
    parser.add_argument("--template", default=str(TEMPLATE), help="the template to deploy (TEMPLATE=...)")
    parser.add_argument("--config-env", help="samconfig.toml environment (CONFIG_ENV=prod)")
    parser.add_argument("--parameters", help="StackSets / CloudFormation parameters JSON file (PARAMETERS=file)")
    parser.add_argument("--overrides", help="a --parameter-overrides string (OVERRIDES='Key=Value ...')")
    parser.add_argument(
        "--policy",
        help="the policy document PolicyParameter or PolicyS3Uri will hold (POLICY=file), or an s3:// URI to read",
    )
    args = parser.parse_args(argv)
    try:
        deployment = load_deployment(
            config_env=args.config_env or None,
            parameters=args.parameters or None,
            overrides=args.overrides,
            policy=args.policy or None,
            template_path=Path(args.template),
        )
    except InputError as failed:
        print(f"check-deploy: {failed}", file=err)
        return 2
    findings = run_checks(deployment)
    report(deployment, findings, out)
    return 1 if any(f.level == "error" for f in findings) else 0


if __name__ == "__main__":
    sys.exit(main())
