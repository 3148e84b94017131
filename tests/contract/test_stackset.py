"""What is handed to StackSets: a plain CloudFormation template, and the AWS CLI calls that roll it out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tools.cfn_template import load_template
from tools.stackset_template import main, stackset_template

ROOT = Path(__file__).resolve().parents[2]
KEY = "wa-share-acceptor/code-0123456789abcdef0123.zip"


@pytest.fixture(scope="module")
def converted() -> dict[str, Any]:
    return stackset_template(load_template(ROOT / "template.yaml"), "acme-artifacts", KEY)


def _walk(node: Any) -> Any:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_no_sam_leftovers(converted: dict[str, Any]) -> None:
    assert "Transform" not in converted
    types = {r["Type"] for r in converted["Resources"].values()}
    assert not [t for t in types if t.startswith("AWS::Serverless::")]
    assert "Globals" not in converted
    assert not [n for n in _walk(converted) if isinstance(n, dict) and ("CodeUri" in n or "Events" in n)]
    assert {"AWS::Lambda::Function", "AWS::Events::Rule", "AWS::Lambda::EventInvokeConfig"} <= types


def test_functions_read_code_from_their_own_regions_bucket(converted: dict[str, Any]) -> None:
    functions = {k: v for k, v in converted["Resources"].items() if v["Type"] == "AWS::Lambda::Function"}
    assert set(functions) == {"SweepFunction", "ShareEventFunction"}
    for fn in functions.values():
        assert fn["Properties"]["Code"] == {
            "S3Bucket": {"Fn::Sub": "acme-artifacts-${AWS::Region}"},
            "S3Key": KEY,
        }
        assert fn["Properties"]["Runtime"] == "python3.13"


def test_every_parameter_and_output_of_the_sam_template_survives(converted: dict[str, Any]) -> None:
    sam = load_template(ROOT / "template.yaml")
    assert set(converted["Parameters"]) == set(sam["Parameters"])
    assert set(converted["Outputs"]) == set(sam["Outputs"])
    assert "us-east-1" not in json.dumps(converted)  # nothing pinned to the region the translator ran in


def test_output_passes_cfn_lint_and_fits_a_template_url(tmp_path: Path) -> None:
    out = tmp_path / "stackset-template.json"
    assert main(["--bucket-prefix", "acme-artifacts", "--key", KEY, "--output", str(out)]) == 0
    # passed by TemplateURL (scripts/stackset.sh): CloudFormation takes up to 1 MB from S3
    assert out.stat().st_size < 1_000_000
    lint = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.mark.parametrize(
    ("prefix", "key", "message"),
    [("Acme_Artifacts", KEY, "bucket prefix"), ("acme", "code.tar.gz", "artifact key")],
)
def test_bad_bucket_or_key_is_named(prefix: str, key: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--bucket-prefix", prefix, "--key", key, "--output", "/dev/null"]) == 2
    assert message in capsys.readouterr().err


# ------------------------------------------------ scripts/stackset.sh against a recording `aws`

TEMPLATE_URL = "https://acme-art-us-east-1.s3.us-east-1.amazonaws.com/wa-share-acceptor/template-0123.json"


def _packaged(root: Path) -> None:
    """What `scripts/stackset.sh package` leaves for create and update."""
    (root / "dist").mkdir()
    (root / "dist" / "stackset-template.json").write_text("{}")
    (root / "dist" / "stackset-template.url").write_text(TEMPLATE_URL + "\n")


@pytest.fixture
def fake_aws(tmp_path: Path) -> tuple[Path, Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "aws.log"
    record = "import json, sys; print(json.dumps(sys.argv[1:]))"
    (bin_dir / "aws").write_text(
        f"#!/usr/bin/env bash\n{sys.executable} -c '{record}' \"$@\" >> {log}\n"
        '[[ "$2" == head-bucket ]] && exit 254\nexit 0\n'
    )
    (bin_dir / "aws").chmod(0o755)
    return bin_dir, log


def _run(command: str, fake: tuple[Path, Path], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    bin_dir, _ = fake
    full_env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PY": sys.executable, **env}
    return subprocess.run(
        [str(cwd / "scripts" / "stackset.sh"), command],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of what the script touches, so `dist/` is written outside the repository."""
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True)
    (root / "templates").mkdir()
    for name in ("scripts/stackset.sh", "template.yaml", "templates/sharer-forwarding.yaml"):
        (root / name).write_bytes((ROOT / name).read_bytes())
    (root / "scripts" / "stackset.sh").chmod(0o755)
    (root / "tools").symlink_to(ROOT / "tools")
    (root / "src").symlink_to(ROOT / "src")
    return root


def test_package_uploads_one_zip_per_region_and_writes_the_template(
    fake_aws: tuple[Path, Path], checkout: Path
) -> None:
    build = checkout / "build"
    (build / "handlers").mkdir(parents=True)
    (build / "handlers" / "sweep.py").write_text("# built\n")
    result = _run(
        "package",
        fake_aws,
        checkout,
        REGIONS="us-east-1,eu-west-1",
        ARTIFACT_BUCKET_PREFIX="acme-art",
        BUILD_DIR=str(build),
    )
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(checkout / "dist" / "code.zip") as archive:
        assert "handlers/sweep.py" in archive.namelist()  # code at the zip's root, as Lambda expects
    copies = [c for c in _calls(fake_aws[1]) if c[:2] == ["s3", "cp"]]
    uploads = [c for c in copies if c[2] == "dist/code.zip"]
    assert [c[3].split("/")[2] for c in uploads] == ["acme-art-us-east-1", "acme-art-eu-west-1"]
    key = uploads[0][3].split("/", 3)[3]
    assert key.startswith("wa-share-acceptor/code-") and key.endswith(".zip")
    template = json.loads((checkout / "dist" / "stackset-template.json").read_text())
    assert template["Resources"]["SweepFunction"]["Properties"]["Code"]["S3Key"] == key
    # The template goes to the first region's code bucket; create and update pass its URL (TemplateURL).
    (template_copy,) = [c for c in copies if c[2] == "dist/stackset-template.json"]
    template_key = template_copy[3].split("/", 3)[3]
    assert template_copy[3].startswith("s3://acme-art-us-east-1/wa-share-acceptor/template-")
    url = (checkout / "dist" / "stackset-template.url").read_text().strip()
    assert url == f"https://acme-art-us-east-1.s3.us-east-1.amazonaws.com/{template_key}"


def test_the_router_template_packages_the_same_way_into_its_own_stack_set(
    fake_aws: tuple[Path, Path], checkout: Path
) -> None:
    # Given the router's build (sam build names the directory after its function)
    build = checkout / ".aws-sam" / "build" / "RouterFunction"
    (build / "handlers").mkdir(parents=True)
    (build / "handlers" / "router.py").write_text("# built\n")
    env = {"TEMPLATE": "templates/sharer-forwarding.yaml", "STACK_SET_NAME": "wa-share-router"}
    # When packaging it, without naming the build directory
    result = _run("package", fake_aws, checkout, REGIONS="us-east-1", ARTIFACT_BUCKET_PREFIX="acme-art", **env)
    # Then its code goes under its stack set's name, and its template beside the acceptor's
    assert result.returncode == 0, result.stderr
    copies = [c for c in _calls(fake_aws[1]) if c[:2] == ["s3", "cp"]]
    (upload,) = [c for c in copies if c[2] == "dist/code.zip"]
    key = upload[3].split("/", 3)[3]
    assert key.startswith("wa-share-router/code-")
    (template_copy,) = [c for c in copies if c[2] == "dist/sharer-forwarding-stackset.json"]
    assert template_copy[3].startswith("s3://acme-art-us-east-1/wa-share-router/template-")
    template = json.loads((checkout / "dist" / "sharer-forwarding-stackset.json").read_text())
    assert template["Resources"]["RouterFunction"]["Properties"]["Code"]["S3Key"] == key
    assert not (checkout / "dist" / "stackset-template.json").exists()
    # And create, after checking the router's parameters against the router's template, rolls that
    # template out (by its URL) as the router's stack set
    params = checkout / "router-params.json"
    params.write_text(json.dumps([{"ParameterKey": "OrganizationId", "ParameterValue": "o-abcd123456"}]))
    created = _run(
        "create", fake_aws, checkout, TARGET_OUS="ou-ab12-sharers1", REGIONS="us-east-1", PARAMETERS=str(params), **env
    )
    assert created.returncode == 0, created.stderr
    create_set = next(c for c in _calls(fake_aws[1]) if c[:2] == ["cloudformation", "create-stack-set"])
    joined = " ".join(create_set)
    assert "--stack-set-name wa-share-router" in joined
    url = (checkout / "dist" / "sharer-forwarding-stackset.url").read_text().strip()
    assert f"--template-url {url}" in joined


def test_a_missing_template_is_named(fake_aws: tuple[Path, Path], checkout: Path) -> None:
    result = _run(
        "package", fake_aws, checkout, REGIONS="us-east-1", ARTIFACT_BUCKET_PREFIX="a-b", TEMPLATE="nope.yaml"
    )
    assert result.returncode == 2 and "TEMPLATE 'nope.yaml'" in result.stderr
    assert not fake_aws[1].exists()


def test_the_tool_lists_a_templates_functions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--template", str(ROOT / "templates" / "sharer-forwarding.yaml"), "--functions"]) == 0
    assert capsys.readouterr().out.split() == ["RouterFunction"]
    assert main(["--functions"]) == 0
    assert capsys.readouterr().out.split() == ["SweepFunction", "ShareEventFunction"]


def test_create_uses_service_managed_permissions_and_auto_deployment(
    fake_aws: tuple[Path, Path], checkout: Path, tmp_path: Path
) -> None:
    _packaged(checkout)
    params = tmp_path / "params.json"
    params.write_text('[{"ParameterKey": "AllowedSourceAccounts", "ParameterValue": "222222222222"}]')
    result = _run(
        "create",
        fake_aws,
        checkout,
        REGIONS="us-east-1 eu-west-1",
        TARGET_OUS="ou-ab12-aaaaaaaa,r-ab12",
        PARAMETERS=str(params),
        CALL_AS="DELEGATED_ADMIN",
    )
    assert result.returncode == 0, result.stderr
    create_set, create_instances = _calls(fake_aws[1])
    assert create_set[:2] == ["cloudformation", "create-stack-set"]
    joined = " ".join(create_set)
    for expected in (
        "--permission-model SERVICE_MANAGED",
        "--call-as DELEGATED_ADMIN",
        "--auto-deployment Enabled=true,RetainStacksOnAccountRemoval=false",
        "--capabilities CAPABILITY_NAMED_IAM",
        f"--parameters file://{params}",
        f"--template-url {TEMPLATE_URL}",
    ):
        assert expected in joined
    assert create_instances[:2] == ["cloudformation", "create-stack-instances"]
    assert "OrganizationalUnitIds=ou-ab12-aaaaaaaa,r-ab12" in create_instances
    regions = create_instances[create_instances.index("--regions") + 1 :][:2]
    assert regions == ["us-east-1", "eu-west-1"]


def test_update_and_buckets(fake_aws: tuple[Path, Path], checkout: Path, tmp_path: Path) -> None:
    _packaged(checkout)
    params = tmp_path / "params.json"
    params.write_text('[{"ParameterKey": "DryRun", "ParameterValue": "true"}]')
    updated = _run("update", fake_aws, checkout, PARAMETERS=str(params))
    assert updated.returncode == 0, updated.stderr
    assert "check-deploy: ok" in updated.stdout
    result = _run(
        "buckets",
        fake_aws,
        checkout,
        REGIONS="eu-west-1",
        ARTIFACT_BUCKET_PREFIX="acme-art",
        ORG_ID="o-abcdef1234",
    )
    assert result.returncode == 0, result.stderr
    calls = _calls(fake_aws[1])
    assert calls[0][:2] == ["cloudformation", "update-stack-set"]
    assert f"--template-url {TEMPLATE_URL}" in " ".join(calls[0]) and "--template-body" not in calls[0]
    assert f"file://{params}" in calls[0]
    create = next(c for c in calls if "create-bucket" in c)
    assert "LocationConstraint=eu-west-1" in create
    policy = json.loads(next(c for c in calls if "put-bucket-policy" in c)[-1])
    read = policy["Statement"][0]
    assert read["Action"] == "s3:GetObject" and read["Resource"] == "arn:aws:s3:::acme-art-eu-west-1/*"
    assert read["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abcdef1234"}}


@pytest.mark.parametrize(
    ("command", "env", "message"),
    [
        ("create", {}, "REGIONS is not set"),
        (
            "buckets",
            {"REGIONS": "us-east-1", "ARTIFACT_BUCKET_PREFIX": "a-b", "ORG_ID": "org-1"},
            "ORG_ID 'org-1'",
        ),
        (
            "package",
            {"REGIONS": "us-east-1", "ARTIFACT_BUCKET_PREFIX": "a-b", "BUILD_DIR": "/nonexistent"},
            "run 'make build' first",
        ),
        ("update", {}, "PARAMETERS is not set"),
        ("update", {"PARAMETERS": "/nonexistent.json"}, "PARAMETERS file '/nonexistent.json' does not exist"),
        ("create", {"REGIONS": "us-east-1", "TARGET_OUS": "r-ab12"}, "PARAMETERS is not set"),
        ("deploy", {}, "usage"),
    ],
)
def test_missing_settings_are_named_and_nothing_is_called(
    command: str, env: dict[str, str], message: str, fake_aws: tuple[Path, Path], checkout: Path
) -> None:
    result = _run(command, fake_aws, checkout, **env)
    assert result.returncode == 2 and message in result.stderr
    assert not fake_aws[1].exists()


def test_a_parameters_file_the_deploy_check_refuses_stops_the_rollout(
    fake_aws: tuple[Path, Path], checkout: Path, tmp_path: Path
) -> None:
    # Given a packaged stack set and a parameters file with a misspelled deny list
    _packaged(checkout)
    params = tmp_path / "params.json"
    params.write_text('[{"ParameterKey": "DenySourceAccounts", "ParameterValue": "555555555555"}]')
    # When it is rolled out, create or update
    for command, env in (("update", {}), ("create", {"REGIONS": "us-east-1", "TARGET_OUS": "r-ab12"})):
        result = _run(command, fake_aws, checkout, PARAMETERS=str(params), **env)
        # Then the check names the nearest parameter, and AWS is never called
        assert result.returncode == 2, result.stdout
        assert "did you mean DeniedSourceAccounts?" in result.stdout
        assert "the deploy check refused" in result.stderr
    assert not fake_aws[1].exists()


@pytest.mark.parametrize("target", ["stackset-create", "stackset-update"])
def test_make_stackset_targets_refuse_without_parameters(target: str, fake_aws: tuple[Path, Path]) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PARAMETERS", "MAKEFLAGS", "MAKELEVEL")}
    env |= {"PATH": f"{fake_aws[0]}:{os.environ['PATH']}", "REGIONS": "us-east-1", "TARGET_OUS": "r-ab12"}
    # -o: the shared virtualenv is taken as it is (never reinstalled by a test)
    result = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", target],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "PARAMETERS is not set" in result.stderr
    assert not fake_aws[1].exists()


COMPILE = [sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash"]  # as `make build`


def _compiled_build(root: Path) -> Path:
    """A built function directory precompiled the way `make build` does it."""
    build = root / "build"
    (build / "handlers").mkdir(parents=True)
    (build / "handlers" / "sweep.py").write_text("def lambda_handler(event, context):\n    return {'status': 'ok'}\n")
    (build / "handlers" / "__init__.py").write_text("")
    subprocess.run(
        [*COMPILE, "-s", str(build), "-p", "/var/task", str(build)],
        check=True,
        timeout=120,
    )
    return build


def test_package_keeps_the_bytecode_and_its_key_is_stable(fake_aws: tuple[Path, Path], checkout: Path) -> None:
    keys = []
    for n in range(2):  # two builds of the same source, compiled by separate interpreters
        build = _compiled_build(checkout / f"b{n}")
        result = _run(
            "package", fake_aws, checkout, REGIONS="us-east-1", ARTIFACT_BUCKET_PREFIX="a-b", BUILD_DIR=str(build)
        )
        assert result.returncode == 0, result.stderr
        with zipfile.ZipFile(checkout / "dist" / "code.zip") as archive:
            names = archive.namelist()
        tag = sys.implementation.cache_tag
        assert f"handlers/__pycache__/sweep.{tag}.pyc" in names  # Lambda cannot write it at cold start
        keys.append(json.loads(fake_aws[1].read_text().splitlines()[-1])[3])
    assert keys[0] == keys[1], "the same source must give the same content-addressed key"


def test_make_build_fails_without_python313(tmp_path: Path) -> None:
    # Given a machine without python3.13 (no .venv, a PATH with no python3.13)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    args = ["make", "--no-print-directory", "-o", ".venv-sam/.installed", "build", "VENV=/nonexistent"]
    if any(Path(d, "python3.13").exists() for d in env["PATH"].split(":")):
        pytest.fail("this check needs a PATH without python3.13")
    # When building, Then it fails and says why; only an explicit ALLOW_SKIP_BUILD=1 skips
    failed = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert failed.returncode != 0 and "no python3.13" in failed.stderr
    skipped = subprocess.run(
        [*args, "ALLOW_SKIP_BUILD=1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert skipped.returncode == 0 and "skipped (ALLOW_SKIP_BUILD=1)" in skipped.stdout


def test_tags_reach_create_and_update(fake_aws: tuple[Path, Path], checkout: Path, tmp_path: Path) -> None:
    _packaged(checkout)
    params = tmp_path / "params.json"
    params.write_text("[]")
    tags = "Project=wa-share-acceptor Owner=platform-team"
    env = {"REGIONS": "us-east-1", "TARGET_OUS": "r-ab12", "TAGS": tags, "PARAMETERS": str(params)}
    assert _run("create", fake_aws, checkout, **env).returncode == 0
    assert _run("update", fake_aws, checkout, TAGS=tags, PARAMETERS=str(params)).returncode == 0
    create_set, _, update_set = _calls(fake_aws[1])
    for call in (create_set, update_set):
        i = call.index("--tags")
        assert call[i + 1 : i + 3] == ["Key=Project,Value=wa-share-acceptor", "Key=Owner,Value=platform-team"]


@pytest.mark.parametrize("bad", ["Project", "Pro ject=x=y", "Project=a;b", "=x"])
def test_a_bad_tag_is_named_and_nothing_is_called(
    bad: str, fake_aws: tuple[Path, Path], checkout: Path, tmp_path: Path
) -> None:
    _packaged(checkout)
    params = tmp_path / "params.json"
    params.write_text("[]")
    result = _run("update", fake_aws, checkout, TAGS=bad, PARAMETERS=str(params))
    assert result.returncode == 2 and "TAGS entry" in result.stderr
    assert not fake_aws[1].exists()


def test_a_missing_parameters_file_is_named_and_nothing_is_called(fake_aws: tuple[Path, Path], checkout: Path) -> None:
    (checkout / "dist").mkdir()
    (checkout / "dist" / "stackset-template.json").write_text("{}")
    result = _run("update", fake_aws, checkout, PARAMETERS="/nonexistent.json")
    assert result.returncode == 2 and "PARAMETERS file '/nonexistent.json' does not exist" in result.stderr
    assert not fake_aws[1].exists()
