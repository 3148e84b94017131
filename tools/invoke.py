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
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

from tools.lambda_env import TEMPLATE, function_environment, read_env_vars_file


class LocalContext:
    """The parts of the Lambda context object that handlers and Powertools read."""

    def __init__(self, function_name: str, timeout_seconds: float, memory_mb: int, region: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:{region}:123456789012:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


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
    context = LocalContext(function, float(props.get("Timeout", 3)), int(props.get("MemorySize", 128)), region)
    return handler(event, context)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make invoke", description=__doc__.splitlines()[0])
    parser.add_argument("function", help="logical id in template.yaml, e.g. SweepFunction")
    parser.add_argument("--event", "-e", required=True, help="JSON event file ('-' for stdin)")
    parser.add_argument("--env-vars", "-n", help="env-vars file in `sam local invoke` format")
    parser.add_argument("--parameter-overrides", nargs="*", default=[], metavar="Name=Value")
    args = parser.parse_args(argv)
    try:
        raw = sys.stdin.read() if args.event == "-" else Path(args.event).read_text(encoding="utf-8")
        event = json.loads(raw)
        env_vars = read_env_vars_file(args.env_vars)
        overrides = _overrides(args.parameter_overrides)
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
