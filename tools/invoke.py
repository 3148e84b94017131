"""Run a function of template.yaml in-process, the way `sam local invoke` would, with real boto3.

    python -m tools.invoke SweepFunction --event events/scheduled-sweep.json [--env-vars events/env.json]

Handler, CodeUri, Timeout and Environment come from template.yaml (parameter defaults, overlaid by
--parameter-overrides), then the env-vars file in SAM's format. AWS_ENDPOINT_URL_WELLARCHITECTED in
your shell points the function at the simulator; without it, it calls real AWS with your credentials.
Decision events go where AWS_ENDPOINT_URL_EVENTBRIDGE points (a local moto server, say); when the
simulator is used and no EventBridge endpoint is set, they are turned off (DECISION_EVENT_BUS="") so that
a local run never reaches AWS. An env-vars file that sets DECISION_EVENT_BUS decides for itself.
Prints the function's logs, then the return value as one JSON line. Exit 1 if the function raised.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from policy.bounded import TooDeep, load_json
from simulator.harness import LambdaContext
from tools.lambda_env import TEMPLATE, function_environment, read_env_vars_file

EVENT_DEPTH = 64  # an EventBridge or SQS event nests a few levels; deeper is refused, not a RecursionError


def _read_event(path: str) -> Any:
    """The event, or a ValueError naming the file and what is wrong with it."""
    where = "stdin" if path == "-" else path
    try:
        raw = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"event file {where} is not UTF-8 text: {err}") from err
    except OSError as err:
        raise ValueError(f"cannot read event file {where}: {err.strerror or err}") from err
    try:
        return load_json(raw, EVENT_DEPTH)
    except TooDeep as err:
        raise ValueError(f"event file {where}: {err}") from err
    except json.JSONDecodeError as err:
        raise ValueError(f"event file {where} is not JSON: {err}") from err


def _overrides(pairs: list[str]) -> dict[str, str]:
    result = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--parameter-overrides takes Name=Value, not {pair!r}")
        result[name] = value
    return result


def invoke(
    function: str,
    event: Any,
    env_vars: dict[str, Any] | None = None,
    *,
    parameter_overrides: dict[str, str] | None = None,
    template_path: Path = TEMPLATE,
) -> Any:
    """Set the function's environment, import its handler fresh and call it. Returns its result."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    props, env = function_environment(
        function, env_vars, template_path=template_path, region=region, parameter_overrides=parameter_overrides
    )
    own_bus = any("DECISION_EVENT_BUS" in (v or {}) for v in (env_vars or {}).values() if isinstance(v, dict))
    local = bool(os.environ.get("AWS_ENDPOINT_URL_WELLARCHITECTED"))
    if local and not own_bus and not os.environ.get("AWS_ENDPOINT_URL_EVENTBRIDGE"):
        env["DECISION_EVENT_BUS"] = ""
        print("invoke: decision events off (simulator, no AWS_ENDPOINT_URL_EVENTBRIDGE)", file=sys.stderr)
    module_name, _, handler_name = str(props["Handler"]).rpartition(".")
    code_dir = (template_path.parent / str(props.get("CodeUri", "."))).resolve()
    os.environ.update(env)
    os.environ.update(
        {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_LAMBDA_FUNCTION_NAME": function,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(props.get("MemorySize", 128)),
            "AWS_SAM_LOCAL": "true",  # as `sam local invoke` sets it: the context's account is a placeholder
        }
    )
    if str(code_dir) not in sys.path:
        sys.path.insert(0, str(code_dir))
    handler = getattr(importlib.import_module(module_name), handler_name)
    if "acceptor.runtime" in sys.modules:  # a fresh container: nothing cached from an earlier invoke
        sys.modules["acceptor.runtime"].reset()
    context = LambdaContext(
        function,
        float(props.get("Timeout", 3)) * 1000,
        memory_mb=int(props.get("MemorySize", 128)),
        region=region,
        account="123456789012",  # the placeholder `sam local invoke` gives
    )
    return handler(event, context)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make invoke", description=__doc__.splitlines()[0])
    parser.add_argument("function", help="logical id in template.yaml, e.g. SweepFunction")
    parser.add_argument("--event", "-e", required=True, help="JSON event file ('-' for stdin)")
    parser.add_argument("--env-vars", "-n", help="env-vars file in `sam local invoke` format")
    parser.add_argument("--parameter-overrides", nargs="*", default=[], metavar="Name=Value")
    args = parser.parse_args(argv)
    try:
        event = _read_event(args.event)
        env_vars = read_env_vars_file(args.env_vars)
        overrides = _overrides(args.parameter_overrides)
        # An unknown function, a typo in the env-vars file or an unknown parameter: named, before any import.
        function_environment(args.function, env_vars, parameter_overrides=overrides)
    except (OSError, ValueError) as err:
        print(f"invoke: {err}", file=sys.stderr)
        return 2
    try:
        result = invoke(args.function, event, env_vars, parameter_overrides=overrides)
    except Exception:  # the function raised: show it like the Lambda runtime would
        traceback.print_exc()
        return 1
    sys.stdout.flush()
    print(json.dumps(result, default=str, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
