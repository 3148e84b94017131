"""Test-wide setup: no real AWS, no network beyond loopback, deterministic Powertools settings."""

from __future__ import annotations

import os
import socket

import pytest

REAL_AWS = os.environ.get("RUN_AWS_TESTS") == "1"

# Before any product module is imported: the Logger and Metrics read these once.
if not REAL_AWS:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
        }
    )
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_WELLARCHITECTED"):
        os.environ.pop(var, None)
os.environ.update(
    {
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1") if REAL_AWS else "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "wa-share-acceptor",
        "POWERTOOLS_METRICS_NAMESPACE": "WellArchitectedShareAcceptor",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }
)
_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> None:
    host = address[0] if isinstance(address, tuple) else address
    if self.family in (socket.AF_INET, socket.AF_INET6) and str(host) not in ("127.0.0.1", "::1", "localhost"):
        raise RuntimeError(f"tests must not reach the network (tried {address!r})")
    _real_connect(self, address)  # type: ignore[arg-type]


if not REAL_AWS:
    socket.socket.connect = _loopback_only  # type: ignore[method-assign]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `aws` need real credentials: skipped unless RUN_AWS_TESTS=1."""
    if REAL_AWS:
        return
    skip = pytest.mark.skip(reason="integration test against real AWS; set RUN_AWS_TESTS=1 to run")
    for item in items:
        if "aws" in item.keywords:
            item.add_marker(skip)
