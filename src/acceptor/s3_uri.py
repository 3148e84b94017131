"""``s3://bucket/key`` and ``s3://bucket/key?versionId=...``: the one place that says what a policy
document's S3 location may be. Pure: settings, the S3 provider and the tools all parse with it.

Narrower than S3 on purpose: a key is ``/``-separated segments of ASCII letters, digits and ``!_.'()-``
(no ``*``, ``?`` or ``$``, which would widen or template the IAM resource ARN derived from it; no empty,
``.`` or ``..`` segment), a bucket follows the general-purpose naming rules, a version id is S3's
URL-safe alphabet. The template's ``PolicyS3Uri`` AllowedPattern is this grammar, and a contract test
keeps the two in agreement.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from policy.config import non_ascii_note

# All used with fullmatch.
_BUCKET = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
_SEGMENT = r"[A-Za-z0-9!_.'()-]{1,255}"
_KEY = rf"{_SEGMENT}(?:/{_SEGMENT}){{0,63}}"
_VERSION_ID = r"[A-Za-z0-9._-]{1,1024}"
S3_URI = re.compile(rf"s3://(?P<bucket>{_BUCKET})/(?P<key>{_KEY})(?:\?versionId=(?P<version>{_VERSION_ID}))?")
MAX_KEY_BYTES = 1024  # S3's limit on a key
_IP_ADDRESS = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")


class S3Location(NamedTuple):
    bucket: str
    key: str
    version_id: str | None = None

    @property
    def uri(self) -> str:
        suffix = f"?versionId={self.version_id}" if self.version_id else ""
        return f"s3://{self.bucket}/{self.key}{suffix}"

    @property
    def unpinned(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def object_arn(self, partition: str = "aws") -> str:
        return f"arn:{partition}:s3:::{self.bucket}/{self.key}"


def parse_s3_uri(value: str) -> S3Location:
    """The location this URI names. Raises ValueError naming the value and what is wrong with it."""
    match = S3_URI.fullmatch(value)
    if match is None:
        raise ValueError(
            f"{value!r} is not s3://<bucket>/<key> or s3://<bucket>/<key>?versionId=<id> (key segments of ASCII "
            f"letters, digits and !_.'()-){non_ascii_note(value)}"
        )
    bucket, key = match["bucket"], match["key"]
    if ".." in bucket or ".-" in bucket or "-." in bucket or _IP_ADDRESS.fullmatch(bucket):
        raise ValueError(f"{value!r}: {bucket!r} is not a valid S3 bucket name")
    if any(segment in (".", "..") for segment in key.split("/")):
        raise ValueError(f"{value!r}: a key segment is '.' or '..'")
    if len(key.encode("ascii")) > MAX_KEY_BYTES:
        raise ValueError(f"{value!r}: the key is longer than {MAX_KEY_BYTES} bytes")
    return S3Location(bucket, key, match["version"])
