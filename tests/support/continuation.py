"""In-memory stand-ins for the sweep's lease and the Lambda invoke of its continuation."""

from __future__ import annotations

from typing import Any


class FakeLease:
    """The DynamoDB lease's rule, in memory: free, expired, or the same chain's."""

    def __init__(self) -> None:
        self.holder: str | None = None
        self.until = 0.0
        self.log: list[tuple[str, str]] = []

    def acquire(self, chain: str, until: float, now: float) -> bool:
        if self.holder is None or self.until < now or self.holder == chain:
            self.holder, self.until = chain, until
            self.log.append(("acquire", chain))
            return True
        return False

    def release(self, chain: str) -> None:
        if self.holder == chain:
            self.holder = None
            self.log.append(("release", chain))


class FakeInvoker:
    def __init__(self, fail: Exception | None = None) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.fail = fail

    def invoke_async(self, function_arn: str, payload: dict[str, Any]) -> None:
        if self.fail is not None:
            raise self.fail
        self.sent.append((function_arn, payload))
