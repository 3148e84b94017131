"""Publish a policy document to S3: validate it as the functions would, upload it, print the new version.

    python -m tools.policy_publish --policy policy.yaml --uri s3://bucket/key
    make policy-publish POLICY=policy.yaml URI=s3://bucket/key

The document is validated by the functions' own parser (``policy.load_document``); an invalid one is
refused with every problem and its JSON path, and nothing is uploaded. A valid one is uploaded, read back
by its new version exactly as the functions read S3 (``read_s3_policy``), and its version id printed with
the pinned URI (``...?versionId=``) for PolicyS3Uri when the stacks pin versions. Rules that name OUs are
published with a warning: stacks without OrganizationsRoleArn refuse such a document.

Exit codes: 0 published, 1 the document is invalid (nothing uploaded), 2 anything else (unreadable file,
a bad URI, the upload or the read-back failed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from acceptor.policy_source import PolicyUnavailable, read_s3_policy
from acceptor.s3_policy import describe, s3_client
from acceptor.s3_uri import parse_s3_uri
from policy import PolicyDocumentError, load_document
from policy.document import MAX_DOCUMENT_BYTES
from tools.check_policy import InvalidPolicy

_CONTENT_TYPES = {".json": "application/json", ".yaml": "application/yaml", ".yml": "application/yaml"}


class PublishError(Exception):
    """The document could not be published; exit code 2."""


def publish(path: str, uri: str, *, client: Any) -> dict[str, Any]:
    """Validate ``path``, upload it to ``uri``, read it back. Raises InvalidPolicy (nothing uploaded) or
    PublishError. Returns what was published: uri, version_id, bytes, rules, warnings."""
    try:
        location = parse_s3_uri(uri)
    except ValueError as err:
        raise PublishError(f"URI: {err}") from err
    if location.version_id:
        raise PublishError(f"URI: {uri!r} names a version; publish to s3://{location.bucket}/{location.key}")
    if path.startswith("s3://"):
        raise PublishError(f"POLICY: {path!r} is already in S3; publish a local file")
    body = _read(path)
    try:  # the very bytes to upload, parsed as the functions parse them
        policy = load_document(body.decode("utf-8"), source=path)
    except PolicyDocumentError as bad:
        raise InvalidPolicy(f"invalid policy document {path}:", [str(i) for i in bad.issues]) from bad
    warnings = []
    if policy.uses_ous:
        warnings.append("rules name OUs: stacks without OrganizationsRoleArn refuse this document")
    try:
        answer = client.put_object(
            Bucket=location.bucket,
            Key=location.key,
            Body=body,
            ContentType=_CONTENT_TYPES.get(Path(path).suffix.lower(), "text/plain"),
        )
    except (ClientError, BotoCoreError) as err:
        raise PublishError(f"s3:PutObject to {uri} failed: {describe(err)}") from err
    version = answer.get("VersionId") if isinstance(answer, dict) else None
    if not isinstance(version, str) or not version or version == "null":
        warnings.append("the bucket is not versioned: no version to pin or roll back to (templates/policy-bucket.yaml)")
        version = None
    pinned = location._replace(version_id=version).uri
    try:
        read_back = read_s3_policy(pinned, organizations=True, s3_client=client)
    except PolicyUnavailable as err:
        raise PublishError(f"uploaded, but reading it back as the functions do failed: {err}") from err
    if _rules(read_back) != _rules(policy):
        raise PublishError(f"uploaded, but {pinned} does not hold the document just published")
    return {
        "uri": pinned,
        "version_id": version,
        "bytes": len(body),
        "rules": len(read_back.rules),
        "warnings": warnings,
    }


def _rules(policy: Any) -> dict[str, Any]:
    """The policy as described, without where it came from."""
    described: dict[str, Any] = policy.describe()
    described.pop("source", None)
    return described


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            body = handle.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as err:
        raise PublishError(f"cannot read {path}: {err.strerror or err}") from err
    if len(body) > MAX_DOCUMENT_BYTES:
        raise InvalidPolicy(f"invalid policy document {path}:", [f"$: is larger than {MAX_DOCUMENT_BYTES} bytes"])
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidPolicy(f"invalid policy document {path}:", [f"$: is not UTF-8 text: {err}"]) from err
    return body


def main(
    argv: list[str] | None = None, *, client: Any = None, out: IO[str] | None = None, err: IO[str] | None = None
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    parser = argparse.ArgumentParser(prog="make policy-publish", description=__doc__.splitlines()[0])
    parser.add_argument("--policy", "-p", required=True, help="the policy document, JSON or YAML (POLICY=file)")
    parser.add_argument("--uri", "-u", required=True, help="where to publish it: s3://bucket/key (URI=...)")
    parser.add_argument("--region", help="the bucket's region, when not the default one")
    args = parser.parse_args(argv)
    try:
        try:
            s3 = client or s3_client(args.region)
        except BotoCoreError as failed:
            raise PublishError(f"cannot create an S3 client: {failed}") from failed
        published = publish(args.policy, args.uri, client=s3)
    except InvalidPolicy as bad:
        print(bad.title, file=err)
        for line in bad.lines:
            print(f"  - {line}", file=err)
        print("policy-publish: nothing was uploaded", file=err)
        return 1
    except PublishError as failed:
        print(f"policy-publish: {failed}", file=err)
        return 2
    for warning in published["warnings"]:
        print(f"policy-publish: warning: {warning}", file=err)
    print(f"published {args.policy} ({published['bytes']} bytes, {published['rules']} rules) to {args.uri}", file=out)
    print(f"version id: {published['version_id']}", file=out)
    if published["version_id"]:
        print(f"pinned URI: {published['uri']}", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
