"""Turn a SAM template (template.yaml, or templates/sharer-forwarding.yaml) into the plain CloudFormation
template that StackSets deploys.

    python -m tools.stackset_template --bucket-prefix my-org-artifacts \
        --key wa-share-acceptor/code-<sha>.zip \
        --output dist/stackset-template.json
    python -m tools.stackset_template --template templates/sharer-forwarding.yaml --functions   # RouterFunction

StackSets runs no transforms, and Lambda reads code only from a bucket in the function's own region.
So the functions' CodeUri becomes ``s3://<bucket-prefix>-<region>/<key>`` (``${AWS::Region}`` is
resolved by CloudFormation in each stack instance), and the SAM transform is applied here, offline,
with the same translator the service uses. The result has no ``Transform`` and no
``AWS::Serverless::*`` resource.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

from tools.cfn_template import load_template

ROOT = Path(__file__).resolve().parents[1]
_BUCKET_PREFIX = re.compile(r"^[a-z0-9][a-z0-9.-]{1,40}[a-z0-9]$")
_KEY = re.compile(r"^[\w!\-.*'()/]{1,900}\.zip$")


def stackset_template(template: dict[str, Any], bucket_prefix: str, key: str) -> dict[str, Any]:
    """The SAM template, code in ``<bucket_prefix>-<region>/<key>``, transformed to plain CloudFormation."""
    if not _BUCKET_PREFIX.match(bucket_prefix):
        raise ValueError(f"bucket prefix {bucket_prefix!r} is not a valid start of an S3 bucket name")
    if not _KEY.match(key):
        raise ValueError(f"artifact key {key!r} is not an S3 key ending in .zip")
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    sam = copy.deepcopy(template)
    code = {"Bucket": {"Fn::Sub": f"{bucket_prefix}-${{AWS::Region}}"}, "Key": key}
    globals_function = sam.get("Globals", {}).get("Function", {})
    globals_function.pop("CodeUri", None)
    for resource in sam["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = dict(code)
    # The session's region only tells the translator the partition; the ARNs it writes keep ${AWS::Region}.
    translator = Translator({}, Parser(), boto_session=boto3.session.Session(region_name="us-east-1"))
    result: dict[str, Any] = translator.translate(sam, parameter_values={}, get_managed_policy_map=dict)
    result.pop("Transform", None)
    leftovers = sorted(
        name
        for name, res in result.get("Resources", {}).items()
        if str(res.get("Type", "")).startswith("AWS::Serverless::")
    )
    if leftovers:
        raise ValueError(f"the transform left SAM resources behind: {', '.join(leftovers)}")
    return result


def function_ids(template: dict[str, Any]) -> list[str]:
    """The logical ids of the template's functions, in template order (``sam build`` makes a directory each)."""
    return [k for k, v in template.get("Resources", {}).items() if v.get("Type") == "AWS::Serverless::Function"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.stackset_template", description=__doc__.splitlines()[0])
    parser.add_argument("--template", default=str(ROOT / "template.yaml"))
    parser.add_argument("--functions", action="store_true", help="print the template's function ids and stop")
    parser.add_argument("--bucket-prefix", help="code lives in <prefix>-<region> in every region")
    parser.add_argument("--key", help="S3 key of the code zip (the same in every region)")
    parser.add_argument("--output")
    args = parser.parse_args(argv)
    if args.functions:
        try:
            print("\n".join(function_ids(load_template(args.template))))
        except (ValueError, OSError) as err:
            print(f"stackset-template: {err}", file=sys.stderr)
            return 2
        return 0
    if not (args.bucket_prefix and args.key and args.output):
        parser.error("--bucket-prefix, --key and --output are required")
    try:
        result = stackset_template(load_template(args.template), args.bucket_prefix, args.key)
    except (ValueError, OSError) as err:
        print(f"stackset-template: {err}", file=sys.stderr)
        return 2
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Compact: --template-body takes at most 51,200 bytes, and indentation would cost about 30% more.
    out.write_text(json.dumps(result, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{out}: {len(result['Resources'])} resources, {out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
