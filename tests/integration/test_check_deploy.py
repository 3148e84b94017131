"""`make check-deploy`: the one check before any deployment, in each of its three input forms."""

from __future__ import annotations

import copy
import io
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from acceptor.settings import ConfigurationError, load_settings
from tools import check_deploy
from tools.cfn_template import load_template
from tools.check_deploy import Deployment, Finding, load_deployment, main, run_checks

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
SAMCONFIG_ENVS = sorted(
    k for k, v in tomllib.loads((ROOT / "samconfig.toml").read_text()).items() if isinstance(v, dict)
)


def _errors(findings: list[Finding]) -> list[str]:
    return [f.text for f in findings if f.level == "error"]


def _warnings(findings: list[Finding]) -> list[str]:
    return [f.text for f in findings if f.level == "warning"]


def _samconfig(tmp_path: Path, overrides: str) -> Path:
    path = tmp_path / "samconfig.toml"
    path.write_text(
        f'version = 0.1\n[prod.deploy.parameters]\nstack_name = "x"\nparameter_overrides = {json.dumps(overrides)}\n'
    )
    return path


def _parameters_file(tmp_path: Path, pairs: dict[str, str]) -> Path:
    path = tmp_path / "params.json"
    path.write_text(json.dumps([{"ParameterKey": k, "ParameterValue": v} for k, v in pairs.items()]))
    return path


def _check(tmp_path: Path, form: str, pairs: dict[str, str], **kwargs: Any) -> list[Finding]:
    """The findings for these parameters given in one of the three forms."""
    overrides = " ".join(f'{k}="{v}"' for k, v in pairs.items())
    if form == "samconfig":
        deployment = load_deployment(config_env="prod", samconfig_path=_samconfig(tmp_path, overrides), **kwargs)
    elif form == "parameters":
        deployment = load_deployment(parameters=str(_parameters_file(tmp_path, pairs)), **kwargs)
    else:
        deployment = load_deployment(overrides=overrides, **kwargs)
    return run_checks(deployment)


FORMS = ["samconfig", "parameters", "overrides"]

# ---------------------------------------------------------------- names


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    ("wrong", "right"),
    [
        ("DenySourceAccounts", "DeniedSourceAccounts"),
        ("DeniedSourceAccount", "DeniedSourceAccounts"),
        ("dryrun", "DryRun"),
        ("NotificationEmial", "NotificationEmail"),
        ("AllowedSourceOu", "AllowedSourceOUs"),
        ("SweepIntervalMinute", "SweepIntervalMinutes"),
    ],
)
def test_a_misspelled_parameter_is_refused_with_the_nearest_name(
    form: str, wrong: str, right: str, tmp_path: Path
) -> None:
    findings = _check(tmp_path, form, {wrong: "555555555555", "DryRun": "true"})
    assert f"{wrong} is not a parameter of template.yaml; did you mean {right}?" in _errors(findings)


@pytest.mark.parametrize("form", FORMS)
def test_a_functions_variable_used_as_a_parameter_names_the_parameter(form: str, tmp_path: Path) -> None:
    findings = _check(tmp_path, form, {"DENIED_SOURCE_ACCOUNTS": "555555555555"})
    assert any(
        "DENIED_SOURCE_ACCOUNTS is the functions' environment variable: the parameter is DeniedSourceAccounts" in e
        for e in _errors(findings)
    )


@pytest.mark.parametrize("form", FORMS)
def test_an_unrelated_name_is_refused_and_the_parameters_listed(form: str, tmp_path: Path) -> None:
    (error,) = _errors(_check(tmp_path, form, {"Xq": "1"}))
    assert error.startswith("Xq is not a parameter of template.yaml (parameters: AllowedSourceAccounts, ")


def test_a_name_given_twice_is_an_error(tmp_path: Path) -> None:
    deployment = load_deployment(overrides="DryRun=true DryRun=false")
    assert "DryRun is given more than once; the last value would win" in _errors(run_checks(deployment))


# ---------------------------------------------------------------- the template's constraints


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("AllowedSourceAccounts", "12345678901", "does not match the template's AllowedPattern"),
        ("AllowedSourceAccounts", "\uff11" * 12, "does not match the template's AllowedPattern"),
        ("SweepIntervalMinutes", "45", "is not one of the template's AllowedValues: 5, 10, 15, 20, 30, 60"),
        ("DryRun", "False", "is not one of the template's AllowedValues: true, false"),
        ("SweepConcurrency", "65", "is above the template's MaxValue 64"),
        ("ShareEventMaxConcurrency", "1", "is below the template's MinValue 2"),
        ("PolicyCacheSeconds", "1e3", "is not a number (Type: Number)"),
        ("PolicyParameter", "/p" + "a" * 2048, "more than the template's MaxLength 2048"),
        ("RoleNamePrefix", "a" * 41, "does not match the template's AllowedPattern ^[A-Za-z0-9_-]{1,40}$"),
    ],
)
def test_a_value_outside_the_template_is_refused_with_the_templates_rule(
    form: str, name: str, value: str, rule: str, tmp_path: Path
) -> None:
    errors = _errors(_check(tmp_path, form, {name: value}))
    assert any(e.startswith(f"{name}: ") and rule in e for e in errors), errors
    # The template already refuses it: the functions are not asked about the same value again.
    assert not any(e.startswith(f"refused by the functions: {name} ") for e in errors)


def test_the_constraint_description_is_quoted(tmp_path: Path) -> None:
    errors = _errors(_check(tmp_path, "overrides", {"DeniedSourceOUs": "ou-1"}))
    assert any("(comma-separated OU ids (ou-...) or root ids (r-...))" in e for e in errors)


def test_the_templates_rules_hold(tmp_path: Path) -> None:
    errors = _errors(_check(tmp_path, "overrides", {"PolicyParameter": "/p", "PolicyFile": "policy.yaml"}))
    assert "template rule OnePolicyDocument: Set at most one of PolicyParameter, PolicyFile and PolicyS3Uri." in errors


# ---------------------------------------------------------------- the functions' parsers


def _functions_words(env: dict[str, str]) -> list[str]:
    try:
        load_settings(env)
    except ConfigurationError as err:
        return err.problems
    raise AssertionError("the functions accept it")


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    ("pairs", "env", "parameter"),
    [
        # The template's pattern admits any "aws..." partition; the functions know only aws and aws-*.
        (
            {"OrganizationsRoleArn": "arn:awsx:iam::123456789012:role/r"},
            {"ORGANIZATIONS_ROLE_ARN": "arn:awsx:iam::123456789012:role/r"},
            "OrganizationsRoleArn",
        ),
        # OU rules without the Organizations role: each parameter is fine alone.
        (
            {"AllowedSourceOUs": "ou-ab12-abcdefgh"},
            {"ALLOWED_SOURCE_OUS": "ou-ab12-abcdefgh"},
            None,
        ),
        # A policy document replaces the policy parameters.
        (
            {"PolicyParameter": "/wa/policy", "DeniedSourceAccounts": "555555555555"},
            {"POLICY_PARAMETER": "/wa/policy", "DENIED_SOURCE_ACCOUNTS": "555555555555"},
            "DeniedSourceAccounts",
        ),
    ],
)
def test_a_value_the_template_admits_but_the_functions_refuse_is_refused_in_their_words(
    form: str, pairs: dict[str, str], env: dict[str, str], parameter: str | None, tmp_path: Path
) -> None:
    errors = _errors(_check(tmp_path, form, pairs))
    assert not any("the template's" in e or e.startswith("template rule") for e in errors), errors
    for words in _functions_words(env):
        expected = f"refused by the functions: {parameter} ({words})" if parameter else words
        assert any(expected in e for e in errors), (expected, errors)


# ---------------------------------------------------------------- Lambda's 4 KB environment


def _accounts(n: int) -> str:
    return ",".join(f"{100000000000 + i:012d}" for i in range(n))


def test_an_environment_over_4_kb_is_an_error(tmp_path: Path) -> None:
    # 300 accounts: 3,899 characters, under CloudFormation's 4,096 per value, over Lambda's 4 KB in all
    findings = _check(tmp_path, "parameters", {"AllowedSourceAccounts": _accounts(300)})
    errors = _errors(findings)
    assert any(e.startswith("SweepFunction environment: ") and "over Lambda's 4 KB limit" in e for e in errors)
    assert any(e.startswith("ShareEventFunction environment: ") for e in errors)


def test_an_environment_close_to_4_kb_is_a_warning_that_says_how_close(tmp_path: Path) -> None:
    findings = _check(tmp_path, "parameters", {"AllowedSourceAccounts": _accounts(240)})
    assert not _errors(findings)
    (warning,) = [w for w in _warnings(findings) if w.startswith("SweepFunction environment")]
    assert "of 4,096 bytes (" in warning and "close to Lambda's 4 KB limit" in warning


def test_the_environment_is_measured_as_deployed(tmp_path: Path) -> None:
    deployment = load_deployment(overrides="NotificationEmail=ops@example.com DryRun=true")
    run_checks(deployment)
    env = deployment.environments["SweepFunction"]
    # A Ref to the topic is an ARN once deployed, counted at its longest, and one the functions accept.
    assert env["NOTIFICATION_TOPIC_ARN"].startswith("arn:") and len(env["NOTIFICATION_TOPIC_ARN"]) > 256
    size = len(json.dumps(env, separators=(",", ":")).encode())
    assert any(f"SweepFunction environment: {size:,} of 4,096 bytes" in n for n in deployment.notes)


# ---------------------------------------------------------------- the policy document


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


GOOD_DOCUMENT = """
version: 1
non_matching_action: IGNORE
rules:
  - id: platform
    action: ACCEPT
    sharers: {accounts: ["222222222222"]}
"""


def test_the_document_policy_parameter_will_hold_is_validated(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.yaml", "version: 1\nrules:\n  - action: ACCEPTT\n    sharers: {accounts: ['1']}\n")
    findings = _check(tmp_path, "overrides", {"PolicyParameter": "/wa/policy"}, policy=str(bad))
    errors = _errors(findings)
    assert errors and all(e.startswith(f"--policy {bad}: invalid policy document: ") for e in errors)
    assert any("rules[0]" in e for e in errors)


def test_a_valid_document_becomes_the_effective_policy(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.yaml", GOOD_DOCUMENT)
    out = io.StringIO()
    code = main(["--overrides", "PolicyParameter=/wa/policy DryRun=true", "--policy", str(good)], out=out)
    text = out.getvalue()
    assert code == 0, text
    assert "effective policy (compiled rules):" in text
    described = json.loads(text[text.index("{") : text.rindex("}") + 1])
    assert described["rules"][0]["id"] == "platform" and described["dry_run"] is True  # DryRun=true wins


def test_a_document_with_ou_rules_needs_the_organizations_role(tmp_path: Path) -> None:
    doc = _write(
        tmp_path / "ou.yaml", "version: 1\nrules:\n  - action: ACCEPT\n    sharers: {ous: [ou-ab12-abcdefgh]}\n"
    )
    errors = _errors(_check(tmp_path, "overrides", {"PolicyParameter": "/wa/policy"}, policy=str(doc)))
    assert any("ORGANIZATIONS_ROLE_ARN is empty" in e for e in errors)


def test_a_policy_file_that_is_not_shipped_is_an_error(tmp_path: Path) -> None:
    errors = _errors(_check(tmp_path, "overrides", {"PolicyFile": "no-such-policy.yaml"}))
    assert any(
        e.startswith("PolicyFile no-such-policy.yaml: policy file no-such-policy.yaml cannot be read") for e in errors
    )


def test_a_policy_parameter_without_its_document_is_a_warning_not_a_read(tmp_path: Path) -> None:
    findings = _check(tmp_path, "overrides", {"PolicyParameter": "/wa/policy"})
    assert not _errors(findings)
    assert any("PolicyParameter /wa/policy: its document was not checked (offline)" in w for w in _warnings(findings))


# ---------------------------------------------------------------- the notification route


@pytest.mark.parametrize("form", FORMS)
def test_live_without_a_notification_route_is_a_warning_naming_the_risk(form: str, tmp_path: Path) -> None:
    findings = _check(tmp_path, form, {"DryRun": "false", "AllowedSourceAccounts": "222222222222"})
    assert not _errors(findings)
    (warning,) = [w for w in _warnings(findings) if w.startswith("DryRun=false")]
    assert "NotificationEmail" in warning and "reach no one" in warning
    quiet = _check(tmp_path, form, {"DryRun": "false", "NotificationEmail": "ops@example.com"})
    assert not [w for w in _warnings(quiet) if w.startswith("DryRun=false")]
    dry = _check(tmp_path, form, {"DryRun": "true"})
    assert not [w for w in _warnings(dry) if w.startswith("DryRun=false")]


def test_every_notification_route_the_template_declares_counts() -> None:
    # Given a template that also routes decisions to a central event bus
    template = copy.deepcopy(TEMPLATE)
    template["Parameters"]["CentralEventBusArn"] = {"Type": "String", "Default": ""}
    live = [("DryRun", "false"), ("AllowedSourceAccounts", "222222222222")]

    def route_warnings(given: list[tuple[str, str]]) -> list[str]:
        deployment = Deployment(template=template, source="test", given=given)
        return [w for w in _warnings(run_checks(deployment)) if w.startswith("DryRun=false")]

    # Then neither route set warns, naming both, and either one set is enough
    (warning,) = route_warnings(live)
    assert "NotificationEmail and CentralEventBusArn empty" in warning
    bus = "arn:aws:events:us-east-1:999999999999:event-bus/hub"
    assert route_warnings([*live, ("CentralEventBusArn", bus)]) == []
    assert route_warnings([*live, ("NotificationEmail", "ops@example.com")]) == []


# ---------------------------------------------------------------- the command


def test_every_samconfig_environment_passes(capsys: pytest.CaptureFixture[str]) -> None:
    for env in SAMCONFIG_ENVS:
        assert main(["--config-env", env]) == 0, capsys.readouterr().out


def test_errors_exit_1_and_unreadable_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--overrides", "DenySourceAccounts=555555555555"]) == 1
    assert "check-deploy: refused: 1 error(s)" in capsys.readouterr().out
    assert main(["--config-env", "prd"]) == 2
    assert "has no environment [prd] (it has default, dev, prod); did you mean prod?" in capsys.readouterr().err
    duplicate = _write(
        tmp_path / "dup.json", '[{"ParameterKey": "DryRun", "ParameterKey": "X", "ParameterValue": "1"}]'
    )
    assert main(["--parameters", str(duplicate)]) == 2
    assert "key 'ParameterKey' appears twice" in capsys.readouterr().err
    assert (
        main(["--parameters", str(_write(tmp_path / "n.json", '[{"ParameterKey": "DryRun", "ParameterValue": true}]'))])
        == 2
    )
    assert "the ParameterValue of DryRun is not a string (true)" in capsys.readouterr().err
    assert main(["--overrides", "DryRun"]) == 2
    assert "parameter override 'DryRun' is not Key=Value" in capsys.readouterr().err
    assert main(["--parameters", str(tmp_path / "missing.json")]) == 2


def test_overrides_replace_the_samconfig_list_as_sam_deploy_does(tmp_path: Path) -> None:
    samconfig = _samconfig(tmp_path, 'DenySourceAccounts="555555555555"')
    replaced = load_deployment(config_env="prod", overrides="DryRun=true", samconfig_path=samconfig)
    assert replaced.given == [("DryRun", "true")] and "replacing samconfig.toml [prod]" in replaced.source


def test_the_long_parameter_form_and_use_previous_value(tmp_path: Path) -> None:
    assert check_deploy.parse_overrides("ParameterKey=DryRun,ParameterValue=true LogLevel='DEBUG'") == [
        ("DryRun", "true"),
        ("LogLevel", "DEBUG"),
    ]
    kept = _write(tmp_path / "kept.json", '[{"ParameterKey": "AllowedSourceAccounts", "UsePreviousValue": true}]')
    findings = run_checks(load_deployment(parameters=str(kept)))
    assert "AllowedSourceAccounts: UsePreviousValue keeps the deployed value; not checked here" in _warnings(findings)


def test_checks_are_a_list_others_extend() -> None:
    # A later check (a RoleNamePrefix comparison, an S3 policy document) is one more function in CHECKS.
    seen: list[str] = []

    def extra(d: Deployment) -> list[Finding]:
        seen.append(d.effective("RoleNamePrefix"))
        return [Finding("error", "extra check")]

    deployment = load_deployment(overrides="RoleNamePrefix=acme")
    findings = run_checks(deployment, [*check_deploy.CHECKS, extra])
    assert seen == ["acme"] and _errors(findings)[-1] == "extra check"


# ---------------------------------------------------------------- a document in S3


def test_a_policy_s3_uri_without_its_document_is_a_warning_not_a_read(tmp_path: Path) -> None:
    findings = _check(tmp_path, "overrides", {"PolicyS3Uri": "s3://acme-wa-policy/policy.yaml"})
    assert not _errors(findings)
    assert any(
        "PolicyS3Uri s3://acme-wa-policy/policy.yaml: its document was not checked (offline)" in w
        for w in _warnings(findings)
    )


def test_the_document_a_policy_s3_uri_will_hold_is_validated_from_a_file(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.yaml", "version: 1\nrules:\n  - action: ACCEPTT\n    sharers: {accounts: ['1']}\n")
    errors = _errors(_check(tmp_path, "overrides", {"PolicyS3Uri": "s3://acme-wa-policy/p.yaml"}, policy=str(bad)))
    assert errors and all(e.startswith(f"--policy {bad}: invalid policy document: ") for e in errors)


def test_policy_given_as_the_s3_uri_reads_the_object_as_the_functions_do(tmp_path: Path) -> None:
    import boto3
    from moto import mock_aws

    uri = "s3://acme-wa-policy/policy.yaml"
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="acme-wa-policy")
        s3.put_object(Bucket="acme-wa-policy", Key="policy.yaml", Body=GOOD_DOCUMENT.encode())
        good = run_checks(load_deployment(overrides=f"PolicyS3Uri={uri} DryRun=true", policy=uri))
        s3.put_object(Bucket="acme-wa-policy", Key="policy.yaml", Body=b"version: 1\nrules:\n  - action: NOPE\n")
        bad = run_checks(load_deployment(overrides=f"PolicyS3Uri={uri}", policy=uri))
        missing = run_checks(load_deployment(overrides=f"PolicyS3Uri={uri}x", policy=uri + "x"))
    assert not _errors(good) and not any("not checked" in w for w in _warnings(good))
    assert _errors(bad) and all(e.startswith(f"POLICY {uri}: invalid policy document: ") for e in _errors(bad))
    assert any(e.startswith(f"POLICY {uri}x: ") for e in _errors(missing))


# ---------------------------------------------------------------- another template (the share-event router)


def test_the_router_template_is_checked_against_its_own_parameters(tmp_path: Path) -> None:
    router = ROOT / "templates" / "sharer-forwarding.yaml"
    good = _parameters_file(tmp_path, {"OrganizationId": "o-abcd123456"})
    findings = run_checks(load_deployment(parameters=str(good), template_path=router))
    assert not _errors(findings), findings
    typo = _parameters_file(tmp_path, {"OrganisationId": "o-abcd123456"})
    errors = _errors(run_checks(load_deployment(parameters=str(typo), template_path=router)))
    assert any("OrganisationId" in e and "OrganizationId" in e for e in errors), errors
    out = io.StringIO()
    assert main(["--template", str(router), "--parameters", str(typo)], out=out) == 1
