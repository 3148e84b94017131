"""The README and docs/ stay true: links resolve, named make targets exist, facts equal the template."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.cfn_template import load_template
from tools.check_deploy import Deployment, run_checks

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TEMPLATE = load_template(ROOT / "template.yaml")
PARAMETERS = TEMPLATE["Parameters"]
FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
MAKE = re.compile(r"(?:^|[\s(;&|])make ([a-z][a-z0-9-]*)")


def _prose(text: str) -> str:
    """The text without fenced code blocks and code spans (links there are not links)."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered."""
    found: set[str] = set()
    for line in FENCE.sub("", path.read_text(encoding="utf-8")).splitlines():
        heading = re.match(r"#{1,6} +(.*?) *#*$", line)
        if not heading:
            continue
        slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower().replace("`", "")).replace(" ", "-")
        candidate, n = slug, 1
        while candidate in found:
            candidate, n = f"{slug}-{n}", n + 1
        found.add(candidate)
    return found


def _makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-zA-Z][a-zA-Z0-9_-]*):(?!=)", text, re.MULTILINE))


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target in LINK.findall(_prose(page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path_part, _, anchor = target.partition("#")
        resolved = (page.parent / path_part).resolve() if path_part else page
        if not resolved.exists():
            broken.append(f"{target}: no such file")
            continue
        if anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(f"{target}: no heading #{anchor} in {resolved.relative_to(ROOT)}")
    assert not broken, broken


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_every_make_target_named_exists(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    code = "\n".join([*FENCE.findall(text), *CODE_SPAN.findall(text)])
    missing = sorted(set(MAKE.findall(code)) - _makefile_targets())
    assert not missing, missing


def test_the_link_checker_sees_a_broken_link_and_anchor(tmp_path: Path) -> None:
    # The checker itself: a missing file and a missing heading are both reported.
    (tmp_path / "a.md").write_text("# Title\n\n## Two words\n\n[x](b.md) [y](a.md#two-words) [z](a.md#nope)\n")
    targets = LINK.findall(_prose((tmp_path / "a.md").read_text()))
    assert targets == ["b.md", "a.md#two-words", "a.md#nope"]
    assert _anchors(tmp_path / "a.md") == {"title", "two-words"}


def test_the_readme_stays_short() -> None:
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 250


# ---------------------------------------------------------------- docs/parameters.md equals the template


def _parameter_rows() -> dict[str, list[str]]:
    text = (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        if line.startswith("| `") and "|---" not in line:
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            name = cells[0].strip("`")
            if name in PARAMETERS or re.fullmatch(r"[A-Z][A-Za-z]+", name):
                rows[name] = cells
    return rows


def test_every_parameter_has_one_row_with_four_cells() -> None:
    rows = _parameter_rows()
    assert set(rows) == set(PARAMETERS)
    bad = {name: len(cells) for name, cells in rows.items() if len(cells) != 4}
    assert not bad, f"rows with a stray | (escape it as \\|): {bad}"


def test_the_environment_variable_column_equals_the_template() -> None:
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    by_parameter = {v["Ref"]: k for k, v in variables.items() if isinstance(v, dict) and set(v) == {"Ref"}}
    rows = _parameter_rows()
    for parameter, variable in by_parameter.items():
        assert rows[parameter][1] == f"`{variable}`", parameter


def test_documented_defaults_and_allowed_values_equal_the_template() -> None:
    rows = _parameter_rows()
    for name, spec in PARAMETERS.items():
        default = "" if spec.get("Default") is None else str(spec["Default"])
        cell = rows[name][3]
        if default == "":
            assert cell == "empty", name
        elif name != "AllowedResourceTypes":  # "all four"
            assert cell == f"`{default}`", name
        for allowed in spec.get("AllowedValues") or []:
            if name in ("SweepIntervalMinutes", "AllowedPermissionTypes", "HeartbeatPeriods"):
                assert re.search(rf"(?<![0-9A-Z,]){re.escape(str(allowed))}(?![0-9A-Z]|,[A-Z])", rows[name][2]), (
                    name,
                    allowed,
                )


def test_the_lookup_role_prefix_the_docs_name_exists() -> None:
    lookup = load_template(ROOT / "templates" / "org-lookup-role.yaml")["Parameters"]
    text = (ROOT / "docs" / "organizations.md").read_text(encoding="utf-8")
    assert "AcceptorRoleNamePrefix" in lookup and "AcceptorRoleNamePrefix=" in text


# ---------------------------------------------------------------- examples that must pass check-deploy


class _StrictLoader(yaml.SafeLoader):
    """YAML with duplicate keys refused."""


def _mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    keys = [loader.construct_object(k) for k, _ in node.value]
    assert len(keys) == len(set(keys)), f"duplicate key in {keys}"
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _blocks(page: str, language: str) -> list[str]:
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.DOTALL | re.MULTILINE)


def _passes_check_deploy(pairs: list[tuple[str, str]]) -> None:
    assert pairs and all(name in PARAMETERS for name, _ in pairs), [n for n, _ in pairs if n not in PARAMETERS]
    findings = run_checks(Deployment(template=TEMPLATE, source="docs", given=pairs))
    assert not [f.text for f in findings if f.level == "error"]


def test_the_control_tower_manifest_entry() -> None:
    (manifest,) = [yaml.load(b, Loader=_StrictLoader) for b in _blocks("landing-zones.md", "yaml") if "resources:" in b]
    assert manifest["version"] == "2021-03-15" or str(manifest["version"]) == "2021-03-15"
    (entry,) = manifest["resources"]
    assert entry["deploy_method"] == "stack_set"
    # The URL `make stackset-package` writes to dist/stackset-template.url
    assert re.fullmatch(
        r"https://([a-z0-9.-]+)-([a-z]{2}(-[a-z]+)+-[0-9])\.s3\.\2\.amazonaws\.com/wa-share-acceptor/template-[0-9a-f]{20}\.json",
        entry["resource_file"],
    )
    assert entry["deployment_targets"]["organizational_units"] and entry["regions"]
    assert all(set(p) == {"parameter_key", "parameter_value"} for p in entry["parameters"])
    _passes_check_deploy([(p["parameter_key"], p["parameter_value"]) for p in entry["parameters"]])


def test_the_landing_zone_accelerator_entry() -> None:
    (config,) = [
        yaml.load(b, Loader=_StrictLoader) for b in _blocks("landing-zones.md", "yaml") if "customizations:" in b
    ]
    (entry,) = config["customizations"]["cloudFormationStackSets"]
    assert entry["template"].endswith(".json") and "CAPABILITY_NAMED_IAM" in entry["capabilities"]
    assert entry["deploymentTargets"]["organizationalUnits"] and entry["regions"]
    assert all(set(p) == {"name", "value"} for p in entry["parameters"])
    _passes_check_deploy([(p["name"], p["value"]) for p in entry["parameters"]])


def test_the_stacksets_parameters_example_passes_check_deploy() -> None:
    (block,) = [b for b in _blocks("stacksets.md", "sh") if "stackset-params.json <<'JSON'" in b]
    document = block[block.index("<<'JSON'\n") + len("<<'JSON'\n") : block.index("\nJSON\n")]
    pairs = [(p["ParameterKey"], p["ParameterValue"]) for p in json.loads(document)]
    _passes_check_deploy(pairs)
