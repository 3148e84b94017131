"""The policy document in S3 (POLICY_S3_URI) under moto: the same decisions as a file and an SSM
parameter, a pinned version, the cache period and the conditional request after it (counted calls and
bytes, no parse when not modified), and every way the object can fail stopping the run untouched."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

import acceptor.policy_source as policy_source
from acceptor.policy_source import PolicyUnavailable, read_s3_policy
from acceptor.s3_policy import S3Document, S3PolicyProvider, s3_client
from acceptor.settings import ConfigurationError, load_settings
from handlers import share_event, sweep
from policy import PolicyDocumentError
from policy.document import MAX_DOCUMENT_BYTES
from simulator import Simulator
from simulator.harness import Capture, LambdaContext
from simulator.sharers import World
from tests.support.handlers import SCHEDULED, TRUSTED, components, invoke
from tests.support.policy_scenario import DOCUMENT, DOCUMENT_ENV, outcome, scenario

BUCKET = "acme-wa-policy"
KEY = "wa-share-acceptor/policy.json"
URI = f"s3://{BUCKET}/{KEY}"
STRICTER = {**DOCUMENT, "rules": [*DOCUMENT["rules"], {"action": "REJECT", "sharers": {"accounts": [TRUSTED]}}]}


class Clock:
    """Powertools' cache clock (``datetime.now`` in parameters.base), moved on by the tests."""

    def __init__(self) -> None:
        self.now_value = datetime(2026, 12, 3, 12, 0, 0)

    def now(self) -> datetime:
        return self.now_value

    def advance(self, seconds: float) -> None:
        self.now_value += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    import aws_lambda_powertools.utilities.parameters.base as base

    fake = Clock()
    monkeypatch.setattr(base, "datetime", fake)
    return fake


class Calls:
    """Every GetObject request the client sends (its parameters) and each answer's HTTP status."""

    def __init__(self, client: Any) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        client.meta.events.register("provide-client-params.s3.GetObject", self._request)
        client.meta.events.register("after-call.s3.GetObject", self._answer)

    def _request(self, params: dict[str, Any], **_: Any) -> None:
        self.requests.append(dict(params))

    def _answer(self, http_response: Any, **_: Any) -> None:
        self.statuses.append(http_response.status_code)

    def clear(self) -> None:
        self.requests.clear()
        self.statuses.clear()


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        yield client


def put(s3: Any, document: Any) -> str:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    version: str = s3.put_object(Bucket=BUCKET, Key=KEY, Body=body)["VersionId"]
    return version


def s3_components(sim: Simulator, s3: Any, uri: str = URI, cache: str = "300") -> Any:
    env = {**DOCUMENT_ENV, "POLICY_S3_URI": uri, "POLICY_CACHE_SECONDS": cache}
    return components(sim, env, s3_client=s3)


def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the documents the policy source parses."""
    seen: list[str] = []
    real = policy_source.load_document

    def counting(text: str, *, source: str = "document") -> Any:
        seen.append(source)
        return real(text, source=source)

    monkeypatch.setattr(policy_source, "load_document", counting)
    return seen


# ---------------------------------------------------------------- the same decisions from every source


def test_the_same_document_decides_alike_as_a_file_a_parameter_and_an_s3_object(
    sim: Simulator, tmp_path: Path, s3: Any
) -> None:
    # Given the same document in a shipped file, an SSM parameter and an S3 object
    (tmp_path / "policy.json").write_text(json.dumps(DOCUMENT))
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(Name="/wa-share-acceptor/policy", Value=json.dumps(DOCUMENT), Type="String")
    put(s3, DOCUMENT)
    sources = {
        "file": {"POLICY_FILE": "policy.json"},
        "ssm": {"POLICY_PARAMETER": "/wa-share-acceptor/policy"},
        "s3": {"POLICY_S3_URI": URI},
    }
    results = {}
    for name, env in sources.items():
        # When each decides the same invitations in a fresh world
        other = Simulator(strict=sim.strict)
        world = World(other)
        shares = scenario(world)
        comps = components(other, {**DOCUMENT_ENV, **env}, ssm_client=ssm, s3_client=s3)
        comps.policy_source._code_dir = tmp_path
        run = invoke(sweep.lambda_handler, SCHEDULED, comps)
        results[name] = (outcome(run), [world.status(s) for s in shares])
    # Then every source gives the same actions, reasons and final statuses
    assert results["file"] == results["ssm"] == results["s3"]
    assert results["s3"][1] == ["ACCEPTED", "REJECTED", "ACCEPTED", "REJECTED", "REJECTED", "REJECTED"]


# ---------------------------------------------------------------- versions, cache period, revalidation


def test_a_pinned_version_is_honoured(sim: Simulator, world: World, s3: Any, clock: Clock) -> None:
    # Given a first version that accepts TRUSTED and a newer one that rejects it
    first = put(s3, DOCUMENT)
    put(s3, STRICTER)
    calls = Calls(s3)
    comps = s3_components(sim, s3, f"{URI}?versionId={first}", cache="0")
    share = world.workload(TRUSTED, "payments-api", "READONLY")
    # When the stack is pinned to the first version
    run = invoke(sweep.lambda_handler, SCHEDULED, comps)
    # Then the first version decides, read by its VersionId
    assert world.status(share) == "ACCEPTED" and run.decisions[0]["rule_id"] == "trusted"
    assert [r.get("VersionId") for r in calls.requests] == [first]
    # and the newest version is never read, run after run
    invoke(sweep.lambda_handler, SCHEDULED, comps)
    assert [r.get("VersionId") for r in calls.requests] == [first, first]


def test_a_changed_object_is_picked_up_after_the_cache_period_with_one_conditional_request(
    sim: Simulator, world: World, s3: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(s3, DOCUMENT)
    calls = Calls(s3)
    parsed = parses(monkeypatch)
    comps = s3_components(sim, s3, cache="300")
    first = world.workload(TRUSTED, "payments-api", "READONLY")
    invoke(sweep.lambda_handler, SCHEDULED, comps)
    assert world.status(first) == "ACCEPTED"
    assert len(calls.requests) == 1 and "IfNoneMatch" not in calls.requests[0] and len(parsed) == 1
    # Given the object changes while the cached copy is fresh
    put(s3, STRICTER)
    calls.clear()
    clock.advance(299)
    second = world.workload(TRUSTED, "ledger", "READONLY")
    invoke(sweep.lambda_handler, SCHEDULED, comps)
    # Then within the cache period S3 is not asked at all
    assert calls.requests == [] and world.status(second) == "ACCEPTED"
    # When the cache period is over
    clock.advance(2)
    third = world.workload(TRUSTED, "reports", "READONLY")
    run = invoke(sweep.lambda_handler, SCHEDULED, comps)
    # Then one conditional request fetches the new document, and it decides
    [request] = calls.requests
    assert request["IfNoneMatch"].strip('"') and calls.statuses == [200]
    assert world.status(third) == "REJECTED" and run.decisions[0]["rule"] == 2
    assert len(parsed) == 2


def test_not_modified_costs_one_call_no_download_and_no_parse(
    sim: Simulator, world: World, s3: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(s3, DOCUMENT)
    calls = Calls(s3)
    parsed = parses(monkeypatch)
    comps = s3_components(sim, s3, cache="60")
    invoke(sweep.lambda_handler, SCHEDULED, comps)
    before = comps.policy_source.s3_transfers
    policy = comps.policy_source.current()
    assert before.downloads == 1 and before.bytes == len(json.dumps(DOCUMENT)) and len(parsed) == 1
    for run in range(3):
        # When the cache period passes and nothing changed
        calls.clear()
        clock.advance(61)
        share = world.workload(TRUSTED, f"workload-{run}", "READONLY")
        invoke(sweep.lambda_handler, SCHEDULED, comps)
        # Then one request, answered 304, no body downloaded, nothing parsed, the same policy object
        assert len(calls.requests) == 1 and "IfNoneMatch" in calls.requests[0]
        assert calls.statuses == [304]  # botocore raises it as an error; the provider keeps what it holds
        assert world.status(share) == "ACCEPTED"
    after = comps.policy_source.s3_transfers
    assert (after.requests, after.not_modified, after.downloads, after.bytes) == (4, 3, 1, before.bytes)
    assert len(parsed) == 1 and comps.policy_source.current() is policy


def test_without_a_cache_every_run_revalidates(sim: Simulator, world: World, s3: Any, clock: Clock) -> None:
    put(s3, DOCUMENT)
    calls = Calls(s3)
    comps = s3_components(sim, s3, cache="0")
    invoke(sweep.lambda_handler, SCHEDULED, comps)
    invoke(sweep.lambda_handler, SCHEDULED, comps)
    assert ["IfNoneMatch" in r for r in calls.requests] == [False, True]
    put(s3, STRICTER)
    share = world.workload(TRUSTED, "payments-api", "READONLY")
    run = invoke(sweep.lambda_handler, SCHEDULED, comps)
    assert world.status(share) == "REJECTED" and run.decisions[0]["rule"] == 2


# ---------------------------------------------------------------- failures stop the run untouched


def _stopped(sim: Simulator, world: World, comps: Any, handler: Any, problem: str) -> None:
    share = world.workload(TRUSTED, "payments-api", "READONLY")
    event = SCHEDULED if handler is sweep.lambda_handler else sim.events[-1]
    sim.reset_stats()
    capture = Capture()
    with capture.running(), pytest.raises(PolicyUnavailable) as err:
        handler(event, LambdaContext(), components=comps)
    assert problem in str(err.value)
    assert sim.stats.get("total", 0) == 0 and world.status(share) == "PENDING"
    [logged] = capture.records("policy unavailable; no invitation was touched")
    assert problem in logged["error"] and logged["policy_source"].startswith("S3 object s3://")
    assert capture.metrics()["PolicyLoadFailures"] == 1


HANDLERS = pytest.mark.parametrize("handler", [sweep.lambda_handler, share_event.lambda_handler])


@HANDLERS
@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        (f"s3://no-such-bucket-here/{KEY}", "NoSuchBucket"),
        (f"s3://{BUCKET}/other/policy.json", "NoSuchKey"),
        (f"{URI}?versionId=no-such-version", "NoSuchVersion"),
    ],
)
def test_a_missing_bucket_key_or_version_stops_the_run(
    sim: Simulator, world: World, s3: Any, handler: Any, uri: str, problem: str
) -> None:
    put(s3, DOCUMENT)
    _stopped(sim, world, s3_components(sim, s3, uri), handler, problem)


@HANDLERS
@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"{not json", "not valid JSON"),
        (json.dumps({**DOCUMENT, "version": 9}).encode(), "$.version"),
        (b"\xff\xfe{}", "not UTF-8 text"),
        (b"", "the document is empty"),
        (json.dumps({"version": 1, "rules": [{"action": "ACCEPT", "sharers": {"ous": ["r-ab12"]}}]}).encode(), "OU"),
    ],
)
def test_an_invalid_document_stops_the_run(
    sim: Simulator, world: World, s3: Any, handler: Any, body: bytes, problem: str
) -> None:
    put(s3, body)
    _stopped(sim, world, s3_components(sim, s3), handler, problem)


@HANDLERS
def test_a_too_large_object_stops_the_run_without_being_downloaded(
    sim: Simulator, world: World, s3: Any, handler: Any
) -> None:
    put(s3, b" " * (MAX_DOCUMENT_BYTES + 1))
    comps = s3_components(sim, s3)
    _stopped(sim, world, comps, handler, f"larger than a policy document may be ({MAX_DOCUMENT_BYTES} bytes)")
    transfers = comps.policy_source.s3_transfers
    assert (transfers.requests, transfers.downloads, transfers.bytes) == (1, 0, 0)


@HANDLERS
def test_access_denied_stops_the_run(sim: Simulator, world: World, s3: Any, handler: Any) -> None:
    put(s3, DOCUMENT)

    @set_initial_no_auth_action_count(2)  # creating the reader is allowed; from then on, IAM decides
    def denied() -> None:
        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_user(UserName="acceptor")
        key = iam.create_access_key(UserName="acceptor")["AccessKey"]
        reader = boto3.client(
            "s3",
            region_name="us-east-1",
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
        )
        _stopped(sim, world, s3_components(sim, reader), handler, "AccessDenied")

    denied()


def test_a_failure_is_not_cached_and_a_fixed_object_is_read_at_the_next_run(
    sim: Simulator, world: World, s3: Any, clock: Clock
) -> None:
    put(s3, b"{not json")
    comps = s3_components(sim, s3, cache="300")
    with pytest.raises(PolicyUnavailable), Capture().running():
        comps.policy_source.current()
    put(s3, DOCUMENT)
    share = world.workload(TRUSTED, "payments-api", "READONLY")
    invoke(sweep.lambda_handler, SCHEDULED, comps)  # no clock move: the failed read was not cached
    assert world.status(share) == "ACCEPTED"


def test_a_document_that_turns_invalid_stops_the_run_after_the_cache_period(
    sim: Simulator, world: World, s3: Any, clock: Clock
) -> None:
    # A valid policy read earlier is not used once the object it came from is found invalid.
    put(s3, DOCUMENT)
    comps = s3_components(sim, s3, cache="60")
    invoke(sweep.lambda_handler, SCHEDULED, comps)
    put(s3, json.dumps({**DOCUMENT, "version": 2}).encode())
    clock.advance(61)
    _stopped(sim, world, comps, sweep.lambda_handler, "$.version")


# ---------------------------------------------------------------- the provider's answers, type-checked


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.asked: list[int] = []
        self.closed = False

    def read(self, amount: int) -> bytes:
        self.asked.append(amount)
        return self.data[:amount]

    def close(self) -> None:
        self.closed = True


class _Answers:
    """A client whose GetObject answers are given: to test what S3 (or a proxy) might return."""

    def __init__(self, response: dict[str, Any]) -> None:
        self.response = response
        self.meta = boto3.client("s3", region_name="us-east-1").meta

    def get_object(self, **_: Any) -> dict[str, Any]:
        return self.response


@pytest.mark.parametrize(
    ("response", "problem"),
    [
        ({"ContentLength": 2, "ETag": '"e"'}, "no body"),
        ({"Body": _Body(b"{}"), "ContentLength": "2", "ETag": '"e"'}, "no valid ContentLength"),
        ({"Body": _Body(b"{}"), "ContentLength": True, "ETag": '"e"'}, "no valid ContentLength"),
        ({"Body": _Body(b"{}"), "ContentLength": 2}, "no ETag"),
        ({"Body": _Body(b"{}"), "ContentLength": 2, "ETag": '"e"', "VersionId": 7}, "VersionId that is not text"),
        ({"Body": _Body(b"x" * 11), "ContentLength": 2, "ETag": '"e"'}, "larger than a policy document"),
    ],
)
def test_malformed_answers_are_errors_naming_the_uri(response: dict[str, Any], problem: str) -> None:
    provider = S3PolicyProvider(_Answers(response), max_bytes=10)
    with pytest.raises(Exception, match=problem) as err:
        provider.document(URI, max_age=0)
    assert URI in str(err.value)


def test_the_read_is_bounded_even_when_content_length_lies() -> None:
    body = _Body(b"x" * 100)
    provider = S3PolicyProvider(_Answers({"Body": body, "ContentLength": 5, "ETag": '"e"'}), max_bytes=10)
    with pytest.raises(Exception, match="larger than"):
        provider.document(URI, max_age=0)
    assert body.asked == [11] and body.closed


def test_a_pinned_read_that_answers_another_version_is_refused() -> None:
    answer = {"Body": _Body(b"{}"), "ContentLength": 2, "ETag": '"e"', "VersionId": "v2"}
    provider = S3PolicyProvider(_Answers(answer))
    with pytest.raises(Exception, match="not the one pinned"):
        provider.document(f"{URI}?versionId=v1", max_age=0)
    document = S3PolicyProvider(_Answers({**answer, "Body": _Body(b"{}"), "VersionId": "v1"})).document(
        f"{URI}?versionId=v1", max_age=0
    )
    assert document == S3Document("{}", '"e"', "v1", 2)


# ---------------------------------------------------------------- configuration


def test_exactly_one_policy_source() -> None:
    for env in (
        {"POLICY_S3_URI": URI, "POLICY_PARAMETER": "/p"},
        {"POLICY_S3_URI": URI, "POLICY_FILE": "p.json"},
        {"POLICY_S3_URI": URI, "POLICY_FILE": "p.json", "POLICY_PARAMETER": "/p"},
    ):
        with pytest.raises(ConfigurationError, match="the policy document comes from one place"):
            load_settings(env)
    settings = load_settings({"POLICY_S3_URI": URI, "POLICY_S3_REGION": "eu-west-1"})
    assert (settings.policy_s3_uri, settings.policy_s3_region) == (URI, "eu-west-1")


def test_an_s3_document_and_the_variables_it_replaces_cannot_both_be_set() -> None:
    with pytest.raises(ConfigurationError) as err:
        load_settings({"POLICY_S3_URI": URI, "ALLOWED_SOURCE_ACCOUNTS": TRUSTED})
    assert err.value.problems == [
        "ALLOWED_SOURCE_ACCOUNTS: set, but POLICY_S3_URI names a policy document, which replaces it (leave it "
        "empty; write the rule in the document)"
    ]


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("POLICY_S3_URI", "s3://bucket", "is not s3://<bucket>/<key>"),
        ("POLICY_S3_URI", "https://bucket.s3.amazonaws.com/p.json", "is not s3://"),
        ("POLICY_S3_URI", "s3://bucket/p*.json", "is not s3://"),
        ("POLICY_S3_URI", "s3://bucket/a/../p.json", "'.' or '..'"),
        ("POLICY_S3_URI", "s3://Bucket/p.json", "is not s3://"),
        ("POLICY_S3_URI", "s3://bucket/p.json?versionId=", "is not s3://"),
        ("POLICY_S3_URI", "s3://bucket/p.json?versionId=a&x=1", "is not s3://"),
        ("POLICY_S3_URI", "s3://192.168.0.1/p.json", "not a valid S3 bucket name"),
        ("POLICY_S3_URI", "s3://bucket/p\u0131.json", "U+0131"),
        ("POLICY_S3_REGION", "eu west 1", "an AWS region name"),
    ],
)
def test_bad_s3_locations_are_named(name: str, value: str, problem: str) -> None:
    env = {"POLICY_S3_URI": URI, name: value}
    with pytest.raises(ConfigurationError) as err:
        load_settings(env)
    [found] = [p for p in err.value.problems if p.startswith(f"{name}:")]
    assert problem in found and repr(value) in found


def test_a_region_without_a_uri_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="POLICY_S3_REGION: 'eu-west-1' set, but POLICY_S3_URI is empty"):
        load_settings({"POLICY_S3_REGION": "eu-west-1"})


# ---------------------------------------------------------------- another region, the shared function


def test_the_bucket_region_is_the_clients_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")  # the function's own region
    assert s3_client("eu-west-1").meta.region_name == "eu-west-1"
    assert s3_client(None).meta.region_name == "ap-southeast-2"


def test_a_bucket_in_another_region_is_read_with_policy_s3_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    with mock_aws():
        central = boto3.client("s3", region_name="eu-west-1")
        central.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        central.put_object(Bucket=BUCKET, Key=KEY, Body=json.dumps(DOCUMENT).encode())
        policy = read_s3_policy(URI, organizations=False, region="eu-west-1")  # the real client, built here
        assert [rule.id for rule in policy.rules] == ["vendor", "trusted"]


def test_read_s3_policy_reports_every_problem_of_an_invalid_document(s3: Any) -> None:
    put(s3, {"version": 2, "rules": [{"action": "MAYBE", "sharers": {"accounts": ["1"]}}]})
    with pytest.raises(PolicyUnavailable) as err:
        read_s3_policy(URI, organizations=False, s3_client=s3)
    cause = err.value.__cause__
    assert isinstance(cause, PolicyDocumentError)
    assert {issue.path for issue in cause.issues} >= {"$.version", "$.rules[0].action"}
    ou_document = {"version": 1, "rules": [{"action": "ACCEPT", "sharers": {"ous": ["r-ab12"]}}]}
    put(s3, ou_document)
    with pytest.raises(PolicyUnavailable, match="ORGANIZATIONS_ROLE_ARN is empty"):
        read_s3_policy(URI, organizations=False, s3_client=s3)
    assert read_s3_policy(URI, organizations=True, s3_client=s3).uses_ous


def test_get_multiple_is_refused_with_the_modules_own_error(s3: Any) -> None:
    # A policy document is one object: Powertools' get_multiple has nothing to read, and says so
    # (Powertools wraps a provider's error in its GetParameterError).
    with pytest.raises(GetParameterError, match="a policy document is one S3 object; get_multiple does not apply"):
        S3PolicyProvider(s3).get_multiple(URI)
