"""Where the policy comes from: the eight environment variables, a document shipped with the function
(``POLICY_FILE``), a document in an SSM parameter (``POLICY_PARAMETER``, by name or by the ARN of a
parameter shared through AWS RAM) or an S3 object (``POLICY_S3_URI``, ``acceptor.s3_policy``), both
read with Powertools Parameters and cached ``POLICY_CACHE_SECONDS``. A parsed document is reused while
its text (S3: its ETag and version) is unchanged.

``current()`` gives the policy for this run or raises ``PolicyUnavailable`` naming the problem; the
handlers then stop before any invitation is touched. A failure is never cached: the next run asks again.
``DRY_RUN=true`` in the environment forces dry run whatever a document says.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from acceptor import aws_errors
from policy import Policy, PolicyDocumentError, load_document

# Short timeouts, two attempts: a run waits at most about 10 s for its policy, and only when not cached.
SSM_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=2, read_timeout=3)
CODE_DIR = Path(__file__).resolve().parent.parent  # the function's code: src/ here, /var/task in Lambda


class PolicyUnavailable(Exception):
    """The policy document could not be read or is invalid; nothing may be decided."""


class PolicySource:
    """The policy for each run. Thread-safe."""

    def __init__(
        self,
        env_policy: Policy,
        *,
        parameter: str | None = None,
        policy_file: str | None = None,
        cache_seconds: float = 300.0,
        organizations: bool = False,
        ssm_client: Any = None,
        code_dir: Path = CODE_DIR,
        s3_uri: str | None = None,
        s3_region: str | None = None,
        s3_client: Any = None,
    ) -> None:
        self._env_policy = env_policy
        self._parameter = parameter
        self._file = policy_file
        self._cache_seconds = cache_seconds
        self._organizations = organizations
        self._ssm_client = ssm_client
        self._code_dir = code_dir
        self._s3_uri = s3_uri
        self._s3_region = s3_region
        self._s3_client = s3_client
        self._provider: Any = None
        self._compiled: tuple[object, Policy] | None = None  # (what identifies the document, its policy)
        self._lock = threading.Lock()

    @property
    def where(self) -> str:
        if self._s3_uri:
            return f"S3 object {self._s3_uri}"
        if self._parameter:
            return f"SSM parameter {self._parameter}"
        if self._file:
            return f"file {self._file}"
        return "environment variables"

    def current(self) -> Policy:
        if not self._parameter and not self._file and not self._s3_uri:
            return self._env_policy
        identity, text = self._read()
        with self._lock:
            if self._compiled is not None and self._compiled[0] == identity:
                return self._compiled[1]
        try:
            policy = load_document(text, source=self.where)
        except PolicyDocumentError as err:
            self._forget()
            raise PolicyUnavailable(str(err)) from err
        if policy.uses_ous and not self._organizations:
            self._forget()
            raise PolicyUnavailable(
                f"invalid policy document ({self.where}): rules name OUs but ORGANIZATIONS_ROLE_ARN is empty: "
                "OU rules need the read-only Organizations role (templates/org-lookup-role.yaml)"
            )
        if self._env_policy.dry_run and not policy.dry_run:
            policy = policy.with_dry_run(True)  # DRY_RUN=true on the stack wins over the document
        with self._lock:
            self._compiled = (identity, policy)
        return policy

    def _forget(self) -> None:
        """An invalid document is not kept for the cache period: the next run reads it again (from S3
        conditionally: a fixed object is downloaded, an unchanged one costs a 304)."""
        with self._lock:
            if self._provider is not None:
                self._provider.clear_cache()

    @property
    def s3_transfers(self) -> Any:
        """What reading the S3 object has cost so far (``s3_policy.Transfers``), or None."""
        return self._provider.transfers if self._s3_uri and self._provider is not None else None

    def _read(self) -> tuple[object, str]:
        """The document's text and what identifies it: the text itself, or an S3 object's ETag and version."""
        if self._file:
            path = self._code_dir / self._file
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as err:
                raise PolicyUnavailable(f"policy file {self._file} cannot be read: {err}") from err
            return text, text
        if self._s3_uri:
            return self._read_s3()
        text = self._read_parameter()
        return text, text

    def _read_s3(self) -> tuple[object, str]:
        from acceptor.s3_policy import S3PolicyError, S3PolicyProvider, s3_client

        assert self._s3_uri is not None
        with self._lock:
            if self._provider is None:
                if self._s3_client is None:
                    self._s3_client = s3_client(self._s3_region)
                self._provider = S3PolicyProvider(self._s3_client)
            provider = self._provider
        try:
            document = provider.document(self._s3_uri, max_age=int(self._cache_seconds))
        except S3PolicyError as err:
            raise PolicyUnavailable(str(err)) from err
        return ("s3", self._s3_uri, *document.identity), document.text

    def _read_parameter(self) -> str:
        from aws_lambda_powertools.utilities.parameters import SSMProvider
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        assert self._parameter is not None
        with self._lock:
            if self._provider is None:
                if self._ssm_client is None:
                    import boto3

                    # SSM answers only for its own region: a parameter shared by ARN is read where it lives,
                    # so one central parameter serves every region's stack.
                    region = self._parameter.split(":")[3] if self._parameter.startswith("arn:") else None
                    self._ssm_client = boto3.client("ssm", region_name=region, config=SSM_CONFIG)
                self._provider = SSMProvider(boto3_client=self._ssm_client)
            provider = self._provider
        try:
            value = provider.get(self._parameter, max_age=int(self._cache_seconds))
        except (GetParameterError, ClientError, BotoCoreError) as err:
            raise PolicyUnavailable(f"ssm:GetParameter for {self._parameter} failed: {_describe(err)}") from err
        if not isinstance(value, str):
            raise PolicyUnavailable(f"SSM parameter {self._parameter} did not hold text")
        return value


def _describe(err: Exception) -> str:
    """Powertools wraps the SDK's error in GetParameterError: describe the SDK's."""
    return aws_errors.describe(err.__cause__ if isinstance(err.__cause__, ClientError) else err)


def read_s3_policy(uri: str, *, organizations: bool, s3_client: Any = None, region: str | None = None) -> Policy:
    """The policy in the S3 object ``uri``, read and validated exactly as the functions do.

    ``organizations``: whether the stack has OrganizationsRoleArn (without it, OU rules are refused).
    Raises PolicyUnavailable; when the document itself is invalid its ``__cause__`` is the
    PolicyDocumentError listing every problem with its JSON path."""
    from policy import load_policy

    env_policy = load_policy({"DRY_RUN": "false"})  # the document's own dry_run stands
    source = PolicySource(
        env_policy, s3_uri=uri, s3_region=region, s3_client=s3_client, cache_seconds=0, organizations=organizations
    )
    return source.current()
