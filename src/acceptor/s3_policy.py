"""The policy document as an S3 object (``POLICY_S3_URI``): a Powertools Parameters provider.

``S3PolicyProvider`` is a ``BaseProvider`` subclass, the way Powertools documents custom stores, so the
cache period (``max_age``, from ``POLICY_CACHE_SECONDS``) is Powertools' own. What it adds:

- After the cache period the object is asked for again **conditionally** (``If-None-Match`` with the ETag
  last read): S3 answers 304 Not Modified with no body when nothing changed, and the provider hands back
  the document it already holds, the very same object, so the caller can tell that nothing needs parsing.
- A version pinned in the URI (``?versionId=``) is read with ``VersionId``.
- The size is checked from ``ContentLength`` before the body is read, and the read itself is bounded, so
  an object larger than a policy document may be (``policy.document.MAX_DOCUMENT_BYTES``) is never held.
- Every field of the answer is type-checked; every failure is an ``S3PolicyError`` naming the URI and
  the cause (``NoSuchBucket``, ``NoSuchKey``, ``AccessDenied``, too large, not UTF-8...).

The client is injected (tests pass moto's); ``s3_client()`` builds the real one with short timeouts.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from aws_lambda_powertools.utilities.parameters import BaseProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from acceptor.s3_uri import S3Location, parse_s3_uri
from policy.document import MAX_DOCUMENT_BYTES

# Short timeouts, two attempts, as for SSM: a run waits a few seconds at most for its policy, and only
# when the cached copy has expired. The read timeout allows a 4 MB body on a slow link.
S3_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=2, read_timeout=5)


class S3PolicyError(Exception):
    """The object could not be read as a policy document's text; the message names the URI and why."""


class S3Document(NamedTuple):
    text: str
    etag: str
    version_id: str | None
    size: int  # bytes downloaded for it

    @property
    def identity(self) -> tuple[str, str | None]:
        """What says two reads hold the same document: its ETag and version."""
        return (self.etag, self.version_id)


class Transfers(NamedTuple):
    """What the provider has cost so far: GetObject calls, 304 answers, bodies and bytes downloaded."""

    requests: int = 0
    not_modified: int = 0
    downloads: int = 0
    bytes: int = 0


def s3_client(region: str | None = None) -> Any:
    """The real S3 client: ``region`` is the bucket's (``POLICY_S3_REGION``), else the function's own."""
    import boto3

    return boto3.client("s3", region_name=region or None, config=S3_CONFIG)


class S3PolicyProvider(BaseProvider):
    """Reads policy documents from S3 by URI; values are cached ``max_age`` seconds by Powertools."""

    def __init__(self, client: Any, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> None:
        super().__init__(client=client)  # type: ignore[no-untyped-call]  # Powertools leaves BaseProvider.__init__ untyped
        self._client = client
        self._max_bytes = max_bytes
        self._held: dict[str, S3Document] = {}  # URI -> the last document read, for If-None-Match
        self.transfers = Transfers()

    def document(self, uri: str, *, max_age: int) -> S3Document:
        """The document at ``uri``: cached for ``max_age`` seconds, then revalidated. Raises S3PolicyError."""
        try:
            value = self.get(uri, max_age=max_age)
        except GetParameterError as err:
            # Powertools wraps whatever _get raised; the cause is the error to report.
            cause = err.__cause__ or err.__context__
            if isinstance(cause, S3PolicyError):
                raise cause from None
            raise S3PolicyError(f"s3:GetObject for {uri} failed: {err}") from err
        if not isinstance(value, dict) or not isinstance(value.get("document"), S3Document):
            raise S3PolicyError(f"s3:GetObject for {uri} returned no document")
        document: S3Document = value["document"]
        return document

    def _get(self, name: str, **sdk_options: Any) -> dict[str, Any]:
        location = parse_s3_uri(name)
        held = self._held.get(name)
        params: dict[str, Any] = {"Bucket": location.bucket, "Key": location.key, **sdk_options}
        if location.version_id:
            params["VersionId"] = location.version_id
        if held is not None:
            params["IfNoneMatch"] = held.etag
        self.transfers = self.transfers._replace(requests=self.transfers.requests + 1)
        try:
            response = self._client.get_object(**params)
        except ClientError as err:
            if held is not None and _not_modified(err):
                self.transfers = self.transfers._replace(not_modified=self.transfers.not_modified + 1)
                return {"document": held}
            raise S3PolicyError(f"s3:GetObject for {name} failed: {describe(err)}") from err
        except BotoCoreError as err:
            raise S3PolicyError(f"s3:GetObject for {name} failed: {describe(err)}") from err
        document = self._read(name, location, response)
        self._held[name] = document
        return {"document": document}

    def _get_multiple(self, path: str, **sdk_options: Any) -> dict[str, str]:
        raise S3PolicyError(f"{path}: a policy document is one S3 object; get_multiple does not apply (use document())")

    def _read(self, uri: str, location: S3Location, response: Any) -> S3Document:
        body = response.get("Body") if isinstance(response, dict) else None
        try:
            if body is None or not callable(getattr(body, "read", None)):
                raise S3PolicyError(f"s3:GetObject for {uri} returned no body")
            length = response.get("ContentLength")
            if type(length) is not int or length < 0:
                raise S3PolicyError(f"s3:GetObject for {uri} returned no valid ContentLength: {length!r}")
            if length > self._max_bytes:
                raise S3PolicyError(
                    f"{uri} is {length} bytes, larger than a policy document may be ({self._max_bytes} bytes); "
                    "nothing was downloaded"
                )
            etag = response.get("ETag")
            if not isinstance(etag, str) or not etag:
                raise S3PolicyError(f"s3:GetObject for {uri} returned no ETag")
            version = response.get("VersionId")
            if version is not None and not isinstance(version, str):
                raise S3PolicyError(f"s3:GetObject for {uri} returned a VersionId that is not text: {version!r}")
            if location.version_id and version not in (None, location.version_id):
                raise S3PolicyError(f"s3:GetObject for {uri} returned version {version!r}, not the one pinned")
            try:
                data = body.read(self._max_bytes + 1)  # bounded, whatever ContentLength said
            except (BotoCoreError, OSError) as err:
                raise S3PolicyError(f"reading {uri} failed: {describe(err)}") from err
        finally:
            close = getattr(body, "close", None)
            if callable(close):
                close()
        if not isinstance(data, bytes):
            raise S3PolicyError(f"s3:GetObject for {uri} returned a body that is not bytes")
        self.transfers = self.transfers._replace(
            downloads=self.transfers.downloads + 1, bytes=self.transfers.bytes + len(data)
        )
        if len(data) > self._max_bytes:
            raise S3PolicyError(f"{uri} is larger than a policy document may be ({self._max_bytes} bytes)")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise S3PolicyError(f"{uri} is not UTF-8 text: {err}") from err
        return S3Document(text, etag, version or location.version_id, len(data))


def _not_modified(err: ClientError) -> bool:
    status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = err.response.get("Error", {}).get("Code")
    return status == 304 or code in ("304", "NotModified")


def describe(err: Exception) -> str:
    """``Code: Message`` of an AWS error, else the exception's type and text."""
    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        return f"{error.get('Code') or 'Unknown'}: {error.get('Message') or ''}".rstrip(": ")
    return f"{type(err).__name__}: {err}"
