"""Running the functions locally: a Lambda context object, and the capture of what a function logs and the
EMF metrics it prints. One of each for the tests, `make demo` and `make invoke`."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from simulator.sharers import RECIPIENT


class LambdaContext:
    """The parts of the Lambda context object that handlers and Powertools read. The time left counts down
    from remaining_ms, as a function's does from its timeout."""

    def __init__(
        self,
        function_name: str = "test",
        remaining_ms: float = 300_000,
        *,
        memory_mb: int = 256,
        region: str = "us-east-1",
        account: str = RECIPIENT,
        request_id: str | None = None,
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + remaining_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Capture:
    """Collects the functions' JSON logs and EMF metrics while they run.

    The logger and `sys.stdout` are process-wide, so only one capture may run at a time: a second one
    (from another thread, or nested) raises instead of silently stealing the first one's output. To
    capture handlers that run concurrently, wrap one capture around all of them.
    """

    _active_lock = threading.Lock()
    _active: Capture | None = None

    def __init__(self) -> None:
        self.logs = io.StringIO()
        self.stdout = io.StringIO()

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        from acceptor.observability import logger  # the product's logger: imported when a capture starts

        with Capture._active_lock:
            if Capture._active is not None:
                raise RuntimeError("another Capture is running; wrap one capture around concurrent handlers")
            Capture._active = self
        try:
            handler = logger.registered_handler
            if not isinstance(handler, logging.StreamHandler):
                raise RuntimeError(f"the logger writes through {type(handler).__name__}, not a stream: no capture")
            previous = handler.setStream(self.logs)
            try:
                with contextlib.redirect_stdout(self.stdout):
                    yield
            finally:
                handler.setStream(previous)
        finally:
            with Capture._active_lock:
                Capture._active = None

    def records(self, message: str) -> list[dict[str, Any]]:
        """The log records with this message, in order."""
        return [r for r in json_lines(self.logs.getvalue()) if r.get("message") == message]

    def metrics(self) -> dict[str, float]:
        """Every EMF metric printed, summed by name."""
        totals: dict[str, float] = {}
        for blob in json_lines(self.stdout.getvalue()):
            for directive in blob.get("_aws", {}).get("CloudWatchMetrics", []):
                for metric in directive.get("Metrics", []):
                    name = metric["Name"]
                    value = blob.get(name, 0)
                    totals[name] = totals.get(name, 0) + (sum(value) if isinstance(value, list) else value)
        return totals

    def metric_dimensions(self) -> list[list[str]]:
        """The dimension sets of every EMF metric directive printed, in order."""
        dims: list[list[str]] = []
        for blob in json_lines(self.stdout.getvalue()):
            for directive in blob.get("_aws", {}).get("CloudWatchMetrics", []):
                dims.extend(directive.get("Dimensions", []))
        return dims


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects among the lines of text; other lines are skipped."""
    out: list[dict[str, Any]] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            with contextlib.suppress(json.JSONDecodeError):
                out.append(json.loads(line))
    return out
