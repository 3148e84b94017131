"""The environment `sam local invoke` would give a function: template values, then an env-vars overlay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from policy.bounded import load_json
from tools.cfn_template import Resolver, function_properties, load_template

ENV_VARS_DEPTH = 8  # {"Parameters": {"NAME": "value"}} nests two levels
TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"


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
    props = function_properties(template, function, Resolver(template, parameter_overrides, region=region))
    declared = {
        k: "" if v is None else str(v) for k, v in (props.get("Environment") or {}).get("Variables", {}).items()
    }
    overlay = {**(env_vars or {}).get("Parameters", {}), **(env_vars or {}).get(function, {})}
    for name, value in overlay.items():
        if name in declared:
            declared[name] = "" if value is None else str(value)
    return props, declared
