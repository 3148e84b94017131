"""Decision events: each decision record, and each run's summary, as an EventBridge event.

``DecisionEvents`` is a sink: the recorder hands it each decision record *after* the record is logged,
and it only buffers it (no call, no wait, nothing that can raise into the run). ``flush(deadline)`` sends
the buffer at the end of the run, after the work: ``PutEvents`` batches of at most 10 entries and
256 KB (the entry size measured as EventBridge documents it), a few batches at once, each attempt only
when its short client timeouts fit the time left, retries (throttling, internal errors, lost
connections) only inside the deadline. Whatever could not be sent is counted, never raised: the log
record is the audit trail, the event its copy for the hub.

The decision event's ``detail`` is the decision record itself (the same keys, at the top level) plus
``account``, ``region`` and ``schema_version``; its JSON Schema is ``decision_event.schema.json`` next to
this module, and a contract test keeps records, events and schema in agreement.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from acceptor.deadline import Deadline

SOURCE = "wa-share-acceptor"
DECIDED = "Share Invitation Decided"
RUN_FINISHED = "Share Acceptor Run Finished"
SCHEMA_VERSION = "1"

MAX_ENTRIES = 10  # PutEvents: at most 10 entries per request
MAX_REQUEST_BYTES = 256 * 1024  # and the entries' total size under 256 KB
CONNECT_TIMEOUT, READ_TIMEOUT = 1.0, 2.0
ATTEMPT_SECONDS = CONNECT_TIMEOUT + READ_TIMEOUT  # the most one attempt can take
MAX_ATTEMPTS = 3
SENDERS = 4  # batches sent at once
SDK_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 1},
    connect_timeout=CONNECT_TIMEOUT,
    read_timeout=READ_TIMEOUT,
)
# Whole-call and per-entry error codes worth another attempt; every other code is final.
_RETRYABLE = frozenset(
    {"ThrottlingException", "InternalException", "InternalFailure", "ServiceUnavailable", "ServiceUnavailableException"}
)
# Fields a run event carries from the summary (the lists of failures stay in the log record).
_RUN_FIELDS = (
    "dry_run",
    "complete",
    "invitations",
    "accept",
    "reject",
    "ignore",
    "results",
    "failed",
    "not_found",
    "list_error",
    "not_listed",
    "org_lookup_failures",
    "malformed_items",
    "answer_lost",
    "ignored_events",
    "invalid_events",
)
_LIST_ERROR_LIMIT = 2048


def entry_size(entry: Mapping[str, Any]) -> int:
    """A PutEvents entry's size as EventBridge computes it: Time counts 14 bytes; Source, DetailType,
    Detail and each Resources item count their UTF-8 bytes (eventbridge/latest/userguide/eb-putevent-size)."""
    size = 14 if entry.get("Time") is not None else 0
    size += len(str(entry["Source"]).encode()) + len(str(entry["DetailType"]).encode())
    if entry.get("Detail") is not None:
        size += len(str(entry["Detail"]).encode())
    for resource in entry.get("Resources") or ():
        size += len(str(resource).encode())
    return size


def batches(entries: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Entries in order, in requests of at most 10 entries whose sizes add up to under 256 KB."""
    out: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    used = 0
    for entry in entries:
        size = entry_size(entry)
        if current and (len(current) == MAX_ENTRIES or used + size >= MAX_REQUEST_BYTES):
            out.append(current)
            current, used = [], 0
        current.append(entry)
        used += size
    if current:
        out.append(current)
    return out


class FlushResult(NamedTuple):
    published: int
    failed: int
    errors: dict[str, int]  # error code -> entries lost to it


class DecisionEvents:
    """Buffers decision and run events for one run at a time and sends them with ``flush``.

    Thread-safe: workers call ``decision`` concurrently. ``client`` is an EventBridge (``events``)
    client; without one, a client with short timeouts is built on first flush.
    """

    def __init__(
        self,
        bus: str,
        *,
        account: str | None = None,
        region: str | None = None,
        client: Any = None,
        client_factory: Callable[[], Any] | None = None,
        log: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        senders: int = SENDERS,
    ) -> None:
        self.bus = bus
        self.account = account
        self.region = region
        self._client = client
        self._factory = client_factory
        self._log = log
        self._sleep = sleep
        self._senders = max(1, senders)
        self._lock = threading.Lock()
        self._pending: list[dict[str, Any]] = []
        self._oversized = 0
        self._decisions = 0  # decision events buffered since the last run event
        self.published = 0
        self.failed = 0

    # -- the sink -------------------------------------------------------------------------------

    def decision(self, record: Mapping[str, Any]) -> None:
        """Buffer one decision record's event. Never raises."""
        try:
            self._add(DECIDED, {**record, **self._origin()})
        except Exception as err:  # a record that will not serialize is the log's alone
            self._count_lost(1, type(err).__name__)
        with self._lock:
            self._decisions += 1

    def run_finished(self, function: str, status: str, summary: Mapping[str, Any]) -> None:
        """Buffer the run's summary event (send it with the run's last flush). Never raises."""
        try:
            detail: dict[str, Any] = {"function": function, "status": status}
            detail.update({k: summary[k] for k in _RUN_FIELDS if k in summary})
            if isinstance(detail.get("list_error"), str):
                detail["list_error"] = detail["list_error"][:_LIST_ERROR_LIMIT]
            with self._lock:
                detail["decision_events"], self._decisions = self._decisions, 0  # what the hub should hold
            self._add(RUN_FINISHED, {**detail, **self._origin()})
        except Exception as err:
            self._count_lost(1, type(err).__name__)

    def _origin(self) -> dict[str, Any]:
        return {"account": self.account, "region": self.region, "schema_version": SCHEMA_VERSION}

    def _add(self, detail_type: str, detail: dict[str, Any]) -> None:
        entry = {
            "Source": SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, separators=(",", ":"), default=str),
            "EventBusName": self.bus,
        }
        if entry_size(entry) >= MAX_REQUEST_BYTES:
            with self._lock:
                self._oversized += 1
            return
        with self._lock:
            self._pending.append(entry)

    # -- sending --------------------------------------------------------------------------------

    def flush(self, deadline: Deadline | None = None) -> FlushResult:
        """Send everything buffered within ``deadline``'s hard limit; count what could not be sent."""
        deadline = deadline or Deadline.unlimited()
        with self._lock:
            entries, self._pending = self._pending, []
            oversized, self._oversized = self._oversized, 0
        errors: dict[str, int] = {"EntryTooLarge": oversized} if oversized else {}
        published = failed = 0
        groups = batches(entries)
        if groups:
            workers = min(self._senders, len(groups))
            if workers == 1:
                results = [self._send(group, deadline) for group in groups]
            else:
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    results = list(pool.map(lambda g: self._send(g, deadline), groups))
            for sent, lost in results:
                published += sent
                for code, n in lost.items():
                    errors[code] = errors.get(code, 0) + n
                    failed += n
        failed += oversized
        with self._lock:
            self.published += published
            self.failed += failed
        if failed:
            self._warn("decision events not sent", failed=failed, published=published, errors=errors)
        return FlushResult(published, failed, errors)

    def _send(self, entries: list[dict[str, Any]], deadline: Deadline) -> tuple[int, dict[str, int]]:
        """One batch: (entries published, error code -> entries lost). Never raises.

        Only throttling, internal errors and lost connections are retried, and only the entries they
        hit; an attempt starts only when its connect and read timeouts fit before the hard deadline."""
        sent = 0
        lost: dict[str, int] = {}
        todo = entries
        last_code = "OutOfTime"
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                delay = min(1.0, 0.1 * 2**attempt) * random.uniform(0.5, 1.0)
                if deadline.left_hard() < delay + ATTEMPT_SECONDS:
                    break
                self._sleep(delay)
            if deadline.left_hard() < ATTEMPT_SECONDS:
                break
            try:
                answer = self._events().put_events(Entries=todo)
            except ClientError as err:
                last_code = str(err.response.get("Error", {}).get("Code") or "ClientError")
                if last_code in _RETRYABLE:
                    continue
                return sent, _add_lost(lost, last_code, len(todo))
            except (BotoCoreError, OSError) as err:  # timeouts, refused or lost connections
                last_code = type(err).__name__
                continue
            except Exception as err:  # an unexpected client failure costs only these events
                return sent, _add_lost(lost, type(err).__name__, len(todo))
            results = answer.get("Entries") if isinstance(answer, dict) else None
            if not isinstance(results, list) or len(results) != len(todo):
                # Which entries arrived is unknown: count them lost rather than send duplicates.
                return sent, _add_lost(lost, "MalformedAnswer", len(todo))
            retry: list[dict[str, Any]] = []
            for entry, result in zip(todo, results, strict=True):
                code = result.get("ErrorCode") if isinstance(result, dict) else None
                if code is None and isinstance(result, dict) and isinstance(result.get("EventId"), str):
                    sent += 1
                elif isinstance(code, str) and code in _RETRYABLE:
                    retry.append(entry)
                    last_code = code
                else:
                    _add_lost(lost, code if isinstance(code, str) and code else "MalformedAnswer", 1)
            if not retry:
                return sent, lost
            todo = retry
        return sent, _add_lost(lost, last_code, len(todo))

    def _events(self) -> Any:
        if self._client is None:
            if self._factory is not None:
                self._client = self._factory()
            else:
                import boto3

                self._client = boto3.client("events", config=SDK_CONFIG)
        return self._client

    def _count_lost(self, n: int, code: str) -> None:
        with self._lock:
            self.failed += n
        self._warn("decision event not buffered", error=code)

    def _warn(self, message: str, **fields: Any) -> None:
        if self._log is not None:
            self._log.warning(message, extra=fields)


def _add_lost(lost: dict[str, int], code: str, n: int) -> dict[str, int]:
    lost[code] = lost.get(code, 0) + n
    return lost
