"""Policy documents end to end: the same scenarios decided from the environment variables and from a
document (a shipped file or an SSM parameter under moto), a central parameter read by ARN, caching, and
a missing or invalid document stopping the run before any invitation is touched."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from acceptor.policy_source import PolicySource, PolicyUnavailable
from acceptor.settings import ConfigurationError, load_settings
from handlers import share_event, sweep
from policy import load_policy
from simulator import Simulator
from simulator.harness import Capture, LambdaContext
from simulator.sharers import World
from tests.support.handlers import SCHEDULED, TRUSTED, components, invoke
from tests.support.policy_scenario import DOCUMENT, DOCUMENT_ENV, ENV_FORM, outcome, scenario

ROOT = Path(__file__).resolve().parents[2]
PARAMETER = "/wa-share-acceptor/policy"


@pytest.fixture
def ssm() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("ssm", region_name="us-east-1")


def test_the_same_scenario_as_variables_and_as_a_document_decides_alike(
    sim: Simulator, world: World, tmp_path: Path
) -> None:
    shares = scenario(world)
    env_run = invoke(sweep.lambda_handler, SCHEDULED, components(sim, ENV_FORM, sleep=lambda _s: None))
    env_statuses = [world.status(s) for s in shares]
    assert env_statuses == ["ACCEPTED", "REJECTED", "ACCEPTED", "REJECTED", "REJECTED", "REJECTED"]

    # The same invitations again, in a fresh world, decided from the document shipped with the code
    other = Simulator(strict=sim.strict)
    other_world = World(other)
    other_shares = scenario(other_world)
    (tmp_path / "policy.json").write_text(json.dumps(DOCUMENT))
    comps = components(other, {**DOCUMENT_ENV, "POLICY_FILE": "policy.json"})
    comps.policy_source._code_dir = tmp_path  # the function's code directory, as /var/task in Lambda
    doc_run = invoke(sweep.lambda_handler, SCHEDULED, comps)
    assert [other_world.status(s) for s in other_shares] == env_statuses
    assert outcome(doc_run) == outcome(env_run)
    rules = {r["resource_name"]: r.get("rule_id") for r in doc_run.decisions}  # None values are not logged
    assert rules["payments-api"] == "trusted" and rules["vendor-profile"] == "vendor"
    assert rules["shadow"] is None  # NonMatchingAction decided it, no rule


def test_a_central_parameter_read_by_arn_decides_and_is_cached(sim: Simulator, world: World, ssm: Any) -> None:
    arn = ssm.put_parameter(Name=PARAMETER, Value=json.dumps(DOCUMENT), Type="String", Tier="Advanced")
    arn = ssm.get_parameter(Name=PARAMETER)["Parameter"]["ARN"]
    env = {**DOCUMENT_ENV, "POLICY_PARAMETER": arn, "POLICY_CACHE_SECONDS": "300"}
    comps = components(sim, env, ssm_client=ssm)
    first = world.workload(TRUSTED, "payments-api", "READONLY")
    run = invoke(sweep.lambda_handler, SCHEDULED, comps)
    assert world.status(first) == "ACCEPTED" and run.decisions[0]["rule_id"] == "trusted"
    # A change of the parameter is not seen while the cached copy is fresh...
    ssm.put_parameter(Name=PARAMETER, Value=json.dumps({**DOCUMENT, "rules": DOCUMENT["rules"][:1]}), Overwrite=True)
    second = world.workload(TRUSTED, "ledger-readonly", "READONLY")
    invoke(sweep.lambda_handler, SCHEDULED, comps)
    assert world.status(second) == "ACCEPTED"


def test_a_changed_parameter_applies_at_the_next_run_without_a_cache(sim: Simulator, world: World, ssm: Any) -> None:
    ssm.put_parameter(Name=PARAMETER, Value=json.dumps(DOCUMENT), Type="String")
    comps = components(
        sim, {**DOCUMENT_ENV, "POLICY_PARAMETER": PARAMETER, "POLICY_CACHE_SECONDS": "0"}, ssm_client=ssm
    )
    stricter = {**DOCUMENT, "rules": [*DOCUMENT["rules"], {"action": "REJECT", "sharers": {"accounts": [TRUSTED]}}]}
    ssm.put_parameter(Name=PARAMETER, Value=json.dumps(stricter), Overwrite=True)
    share = world.workload(TRUSTED, "payments-api", "READONLY")
    run = invoke(sweep.lambda_handler, SCHEDULED, comps)
    assert world.status(share) == "REJECTED" and run.decisions[0]["rule"] == 2


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "ParameterNotFound"),
        ("{not json", "not valid JSON"),
        (json.dumps({**DOCUMENT, "version": 9}), "$.version"),
        (json.dumps({"version": 1, "rules": [{"action": "ACCEPT", "sharers": {"ous": ["r-ab12"]}}]}), "ORGANIZATIONS"),
        ("[" * 2_000 + "]" * 2_000, "$: is nested more than 16 levels deep"),
        ("rules: " + "[" * 1_500 + "]" * 1_500, "$: is nested more than 16 levels deep"),  # YAML
    ],
)
@pytest.mark.parametrize("handler", [sweep.lambda_handler, share_event.lambda_handler])
def test_a_missing_or_invalid_document_stops_the_run_before_anything_is_touched(
    sim: Simulator, world: World, ssm: Any, value: str | None, problem: str, handler: Any
) -> None:
    if value is not None:
        ssm.put_parameter(Name=PARAMETER, Value=value, Type="String")
    share = world.workload(TRUSTED, "payments-api", "READONLY")
    comps = components(sim, {**DOCUMENT_ENV, "POLICY_PARAMETER": PARAMETER}, ssm_client=ssm)
    sim.reset_stats()
    event = SCHEDULED if handler is sweep.lambda_handler else sim.events[-1]
    capture = Capture()
    with capture.running(), pytest.raises(PolicyUnavailable) as err:
        handler(event, LambdaContext(), components=comps)
    assert problem in str(err.value)
    assert sim.stats.get("total", 0) == 0 and world.status(share) == "PENDING"
    [logged] = capture.records("policy unavailable; no invitation was touched")
    assert problem in logged["error"] and logged["policy_source"] == f"SSM parameter {PARAMETER}"
    assert capture.metrics()["PolicyLoadFailures"] == 1


def test_dry_run_on_the_stack_wins_over_the_document(sim: Simulator, world: World, tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        f"version: 1\ndry_run: false\nrules:\n  - {{action: ACCEPT, sharers: {{accounts: ['{TRUSTED}']}}}}\n"
    )
    comps = components(sim, {**DOCUMENT_ENV, "POLICY_FILE": "p.yaml", "DRY_RUN": "true"})
    comps.policy_source._code_dir = tmp_path
    share = world.workload(TRUSTED, "payments-api", "READONLY")
    run = invoke(sweep.lambda_handler, SCHEDULED, comps)
    assert run.result["dry_run"] is True and run.decisions[0]["result"] == "dry_run"
    assert world.status(share) == "PENDING"


def test_a_document_and_the_variables_it_replaces_cannot_both_be_set() -> None:
    with pytest.raises(ConfigurationError) as err:
        load_settings(
            {"POLICY_PARAMETER": PARAMETER, "ALLOWED_SOURCE_ACCOUNTS": TRUSTED, "NON_MATCHING_ACTION": "REJECT"}
        )
    assert len(err.value.problems) == 2
    assert all("POLICY_PARAMETER names a policy document" in p for p in err.value.problems)
    with pytest.raises(ConfigurationError, match="both set"):
        load_settings({"POLICY_PARAMETER": PARAMETER, "POLICY_FILE": "policy.json"})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("POLICY_PARAMETER", "has space"),
        ("POLICY_PARAMETER", "arn:aws:ssm:us-east-1:12345:parameter/x"),
        ("POLICY_FILE", "/etc/passwd"),
        ("POLICY_FILE", "../outside.json"),
        ("POLICY_FILE", "config/../../outside.json"),
        ("POLICY_CACHE_SECONDS", "3601"),
        ("POLICY_CACHE_SECONDS", "\uff11\uff10"),  # fullwidth 10
    ],
)
def test_bad_policy_locations_are_named(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        load_settings({name: value})
    assert any(name in p for p in err.value.problems)


def test_a_shipped_file_that_is_missing_names_the_file(tmp_path: Path) -> None:
    source = PolicySource(load_policy({}), policy_file="policy.json", code_dir=tmp_path)
    with pytest.raises(PolicyUnavailable, match=r"policy file policy\.json cannot be read"):
        source.current()
    (tmp_path / "policy.json").write_text(json.dumps(DOCUMENT))
    assert source.current().rules[0].id == "vendor"  # a failure is never cached


def test_a_central_parameter_is_read_in_the_region_its_arn_names(monkeypatch: pytest.MonkeyPatch) -> None:
    with mock_aws():
        central = boto3.client("ssm", region_name="us-east-1")
        central.put_parameter(Name=PARAMETER, Value=json.dumps(DOCUMENT), Type="String", Tier="Advanced")
        arn = central.get_parameter(Name=PARAMETER)["Parameter"]["ARN"]
        monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # the function runs in another region
        monkeypatch.setenv("AWS_REGION", "eu-west-1")
        source = PolicySource(load_policy({}), parameter=arn, cache_seconds=0)
        assert [rule.id for rule in source.current().rules] == ["vendor", "trusted"]
        by_name = PolicySource(load_policy({}), parameter=PARAMETER, cache_seconds=0)
        with pytest.raises(PolicyUnavailable, match="ParameterNotFound"):
            by_name.current()  # a name is this region's parameter: there is none in eu-west-1
