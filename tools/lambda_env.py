"""The environment `sam local invoke` would give a function: template values, then an env-vars overlay."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from policy.bounded import load_json
from tools.cfn_template import Resolver, function_properties, load_template

ENV_VARS_DEPTH = 8  # {"Parameters": {"NAME": "value"}} nests two levels
TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"
NEAR_MISS = 0.85  # difflib ratio of two names (case, "_" and "-" ignored) from which one is a typo of the other


class EnvVarsError(ValueError):
    """An env-vars file names a variable that looks like a typo of a known one; ``problems`` names each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "env-vars names that look like typos (SAM would ignore them):" + "".join(f"\n  - {p}" for p in problems)
        )


def declared_variables(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each function's environment as the template writes it (Globals, then its own), unresolved."""
    globals_vars = ((template.get("Globals") or {}).get("Function") or {}).get("Environment", {}).get("Variables", {})
    found = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") == "AWS::Serverless::Function":
            own = ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
            found[logical_id] = {**(globals_vars or {}), **own}
    return found


def _fold(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def _near(name: str, known: list[str]) -> str | None:
    folded = {_fold(k): k for k in known}
    if _fold(name) in folded:
        return folded[_fold(name)]
    close = difflib.get_close_matches(_fold(name), list(folded), n=1, cutoff=NEAR_MISS)
    return folded[close[0]] if close else None


def env_vars_problems(env_vars: dict[str, Any], template: dict[str, Any]) -> list[str]:
    """Keys of an env-vars file that SAM would silently ignore although they look meant for us: a near
    miss of a declared variable or of a function, or a stack parameter's name where its variable belongs.
    Unrelated keys are allowed (landing-zone tooling injects variables of its own)."""
    declared = declared_variables(template)
    every = sorted({var for variables in declared.values() for var in variables})
    parameters = {
        value["Ref"]: var
        for variables in declared.values()
        for var, value in variables.items()
        if isinstance(value, dict) and set(value) == {"Ref"}
    }
    problems = []
    for section, variables in env_vars.items():
        if section != "Parameters" and section not in declared:
            near = _near(section, ["Parameters", *declared])
            if near:
                problems.append(f"section {section!r} is neither Parameters nor a function; did you mean {near}?")
            continue
        known = every if section == "Parameters" else sorted(declared[section])
        for key in variables:
            if key in known:
                continue
            if key in parameters:
                problems.append(
                    f"{section}: {key} is the stack parameter; the functions' variable is {parameters[key]}"
                )
                continue
            near = _near(key, known)
            if near:
                problems.append(f"{section}: {key} is not a variable of the functions; did you mean {near}?")
    return problems


def read_env_vars_file(path: str | Path | None) -> dict[str, Any]:
    """Read a file in `sam local invoke --env-vars` format: {"Parameters": {...}, "<FunctionId>": {...}}."""
    if path is None:
        return {}
    try:
        data = load_json(Path(path).read_text(encoding="utf-8"), ENV_VARS_DEPTH)
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot read env-vars file {path}: {err}") from err
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError(f'{path}: expected {{"Parameters": {{...}}, "<FunctionId>": {{...}}}}')
    return data


def function_environment(
    function: str,
    env_vars: dict[str, Any] | None = None,
    *,
    template_path: Path = TEMPLATE,
    region: str = "us-east-1",
    parameter_overrides: dict[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """(resolved function properties, its environment variables with the overlay applied).

    As in SAM, the overlay sets only variables the template declares; "Parameters" applies to every
    function and the function's own section wins.
    """
    template = load_template(template_path)
    problems = env_vars_problems(env_vars or {}, template)
    if problems:
        raise EnvVarsError(problems)
    props = function_properties(template, function, Resolver(template, parameter_overrides, region=region))
    declared = {
        k: "" if v is None else str(v) for k, v in (props.get("Environment") or {}).get("Variables", {}).items()
    }
    overlay = {**(env_vars or {}).get("Parameters", {}), **(env_vars or {}).get(function, {})}
    for name, value in overlay.items():
        if name in declared:
            declared[name] = "" if value is None else str(value)
    return props, declared
