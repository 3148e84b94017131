"""Validate an allowlist configuration before deploying it.

    python -m tools.check_policy --env-vars my-policy.json [--function SweepFunction]

Takes the template's defaults, overlays the env-vars file (SAM's format), and prints the effective
policy as JSON, or every error (each naming the variable and the bad value) with exit code 1.
"""

from __future__ import annotations

import argparse
import json
import sys

from acceptor.settings import ConfigurationError, load_settings
from policy import policy_warnings
from tools.lambda_env import function_environment, read_env_vars_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make check-policy", description=__doc__.splitlines()[0])
    parser.add_argument("--env-vars", "-n", help="env-vars file in `sam local invoke` format")
    parser.add_argument("--function", default="SweepFunction")
    args = parser.parse_args(argv)
    try:
        _, env = function_environment(args.function, read_env_vars_file(args.env_vars))
        settings = load_settings(env)
    except ConfigurationError as err:
        print("invalid configuration:", file=sys.stderr)
        for problem in err.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    except ValueError as err:
        print(f"check-policy: {err}", file=sys.stderr)
        return 2
    effective = {
        "policy": settings.policy.describe(),
        "organizations_role_arn": settings.organizations_role_arn,
        "max_workers": settings.max_workers,
        "notification_topic_arn": settings.notification_topic_arn,
        "warnings": policy_warnings(settings.policy),
    }
    print(json.dumps(effective, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
