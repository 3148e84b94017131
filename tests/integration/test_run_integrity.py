"""A run never overruns its budget, never loses a decision record, and one odd answer never stops it.

A lying or hung Well-Architected endpoint sits in front of the simulator: over real HTTP for the time
budget (socket timeouts must be cut to the time left), in-process for malformed answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from acceptor.deadline import Deadline
from acceptor.notifications import SnsNotifier
from acceptor.settings import ConfigurationError
from handlers import share_event, sweep
from simulator import Simulator
from tests.integration.conftest import DENIED, SCHEDULED, TRUSTED, Context, components, invoke
from tools.demo import RECIPIENT, World

# -- a hung endpoint ------------------------------------------------------------------------------


class Hanging:
    """An HTTP front of the simulator that never answers the requests ``hang(method, path)`` picks."""

    def __init__(self, sim: Simulator, hang: Callable[[str, str], bool]) -> None:
        self.release = threading.Event()
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path, _, query = self.path.partition("?")
                if hang(self.command, path):
                    front.release.wait(60)  # never answers within any test's budget
                    return
                status, headers, payload = sim.handle(self.command, path, query, dict(self.headers), body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PATCH = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def factory(self, account: str = RECIPIENT) -> Callable[[Config], Any]:
        def build(config: Config) -> Any:
            session = boto3.session.Session(
                aws_access_key_id=account, aws_secret_access_key="x", region_name="us-east-1"
            )
            return session.client("wellarchitected", endpoint_url=self.url, config=config)

        return build

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hanging() -> Iterator[Callable[..., Hanging]]:
    fronts: list[Hanging] = []

    def make(sim: Simulator, hang: Callable[[str, str], bool]) -> Hanging:
        fronts.append(Hanging(sim, hang))
        return fronts[-1]

    yield make
    for front in fronts:
        front.close()


def test_a_sweep_against_hung_updates_returns_before_its_timeout_with_every_decision_recorded(
    sim: Simulator, hanging: Callable[..., Hanging]
) -> None:
    world = World(sim)
    shares = [world.workload(TRUSTED, f"w-{n}", "READONLY") for n in range(3)]
    hung = shares[1].share_id
    front = hanging(sim, lambda method, path: method == "PATCH" and path.endswith(hung))
    comps = components(sim, {"MAX_WORKERS": "4", "SAFETY_MARGIN_SECONDS": "3"}, wellarchitected_factory=front.factory())
    # Given a 9 s function whose update of one invitation never answers
    started = time.monotonic()
    run = invoke(sweep.lambda_handler, SCHEDULED, comps, Context(remaining_ms=9_000))
    elapsed = time.monotonic() - started
    # Then it returns before the timeout, and what it did is on record
    assert elapsed < 9.0, elapsed
    assert run.result["status"] == "failed" and run.result["complete"] is True
    by_id = {r["share_invitation_id"]: r for r in run.decisions}
    assert {s.share_id for s in shares} <= set(by_id)
    assert by_id[hung]["result"] == "failed" and by_id[hung]["error_code"] == "ReadTimeoutError"
    assert [by_id[s.share_id]["result"] for s in shares if s.share_id != hung] == ["accepted", "accepted"]
    assert run.metrics["InvitationsAccepted"] == 2 and run.metrics["DecisionFailures"] == 1


def test_a_share_event_against_a_hung_listing_returns_before_its_timeout(
    sim: Simulator, hanging: Callable[..., Hanging]
) -> None:
    world = World(sim)
    share = world.workload(TRUSTED, "payments-api", "READONLY")
    front = hanging(sim, lambda method, path: method == "GET")
    comps = components(sim, {"SAFETY_MARGIN_SECONDS": "2"}, wellarchitected_factory=front.factory())
    started = time.monotonic()
    run = invoke(share_event.lambda_handler, sim.events[-1], comps, Context(remaining_ms=6_000))
    assert time.monotonic() - started < 6.0
    assert run.result["status"] == "failed" and run.result["complete"] is False
    assert "ReadTimeoutError" in run.result["list_error"]
    assert world.status(share) == "PENDING"


def test_the_digest_to_a_hung_sns_endpoint_fits_the_deadline(sim: Simulator, hanging: Callable[..., Hanging]) -> None:
    front = hanging(sim, lambda _method, _path: True)
    sns = boto3.client(
        "sns",
        endpoint_url=front.url,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=2, read_timeout=3),
    )
    warnings: list[str] = []

    class Log:
        def warning(self, message: str, extra: dict[str, Any]) -> None:
            warnings.append(message)

    notifier = SnsNotifier("arn:aws:sns:us-east-1:111111111111:t", client=sns, log=Log())
    from acceptor.outcomes import Summary

    started = time.monotonic()
    notifier.notify([], Summary(dry_run=False), Deadline.within(30))
    assert time.monotonic() - started < 4.5  # one attempt, short timeouts: not botocore's 60 s x retries
    assert warnings == ["notification not sent"]
    started = time.monotonic()
    notifier.notify([], Summary(dry_run=False), Deadline.within(4))
    assert time.monotonic() - started < 0.5 and warnings[-1] == "notification not sent: no time left"


# -- one odd answer, one raising worker -------------------------------------------------------------


class Lying:
    """A client that passes calls to the simulator, except where a test changes the answer."""

    def __init__(
        self,
        real: Any,
        *,
        pages: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None,
        update: Callable[[Callable[..., Any], dict[str, Any]], Any] | None = None,
    ) -> None:
        self._real, self._pages, self._update = real, pages, update
        self.meta = real.meta

    def list_share_invitations(self, **params: Any) -> Any:
        answer = self._real.list_share_invitations(**params)
        return self._pages(params, answer) if self._pages else answer

    def update_share_invitation(self, **params: Any) -> Any:
        if self._update:
            return self._update(self._real.update_share_invitation, params)
        return self._real.update_share_invitation(**params)


def test_a_worker_that_raises_fails_its_invitation_and_the_others_continue(sim: Simulator, world: World) -> None:
    shares = [world.workload(TRUSTED, f"w-{n}", "READONLY") for n in range(4)]
    odd = shares[2].share_id

    def update(real: Callable[..., Any], params: dict[str, Any]) -> Any:
        if params["ShareInvitationId"] == odd:
            raise KeyError("ShareInvitation")  # a malformed answer the adapter does not expect
        return real(**params)

    client = Lying(sim.client(account=RECIPIENT), update=update)
    run = invoke(sweep.lambda_handler, SCHEDULED, components(sim, {"MAX_WORKERS": "4"}, client=client))
    results = {r["share_invitation_id"]: r for r in run.decisions}
    assert results[odd]["result"] == "failed" and results[odd]["error_code"] == "KeyError"
    assert all(world.status(s) == "ACCEPTED" for s in shares if s.share_id != odd)
    assert all(results[s.share_id]["result"] == "accepted" for s in shares if s.share_id != odd)
    assert run.metrics["InvitationsAccepted"] == 3 and run.metrics["DecisionFailures"] == 1


def test_junk_items_in_a_page_are_skipped_and_counted(sim: Simulator, world: World) -> None:
    share = world.workload(TRUSTED, "payments-api", "READONLY")

    def pages(params: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if params["ShareResourceType"] == "WORKLOAD":
            answer = {**answer, "ShareInvitationSummaries": [None, 7, "x", *answer["ShareInvitationSummaries"]]}
        return answer

    client = Lying(sim.client(account=RECIPIENT), pages=pages)
    run = invoke(sweep.lambda_handler, SCHEDULED, components(sim, client=client))
    assert world.status(share) == "ACCEPTED"
    assert run.result["malformed_items"] == 3 and run.metrics["ListItemsMalformed"] == 3
    assert len(run.logs("listed item is not an object; skipped")) == 3


def test_a_listing_that_fails_part_way_acts_on_what_was_read_and_says_so(sim: Simulator, world: World) -> None:
    sim.load_world(
        {
            "accounts": {
                TRUSTED: {"workloads": [{"name": f"w-{n:03d}", "shares": [{"with": RECIPIENT}]} for n in range(60)]}
            }
        }
    )

    def pages(params: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if params.get("NextToken"):
            raise ClientError(
                {"Error": {"Code": "InternalServerException"}, "ResponseMetadata": {"HTTPStatusCode": 500}}, "List"
            )
        return answer

    client = Lying(sim.client(account=RECIPIENT), pages=pages)
    run = invoke(sweep.lambda_handler, SCHEDULED, components(sim, client=client))
    assert run.result["accept"] == 50  # the first page, read whole, was acted on
    assert run.result["complete"] is False and run.result["status"] == "failed"
    assert run.result["list_error"].startswith("WORKLOAD: ") and "InternalServerException" in run.result["list_error"]
    assert run.metrics["DecisionFailures"] == 1


def test_a_summary_without_a_resource_type_gets_the_type_that_was_asked(sim: Simulator, world: World) -> None:
    lens = world.lens(TRUSTED, "platform-lens")
    workload = world.workload(TRUSTED, "payments-api", "READONLY")

    def pages(params: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        items = [{k: v for k, v in s.items() if k != "ShareResourceType"} for s in answer["ShareInvitationSummaries"]]
        return {**answer, "ShareInvitationSummaries": items}

    client = Lying(sim.client(account=RECIPIENT), pages=pages)
    run = invoke(sweep.lambda_handler, SCHEDULED, components(sim, {"ALLOWED_RESOURCE_TYPES": "LENS"}, client=client))
    assert world.status(lens) == "ACCEPTED" and world.status(workload) == "PENDING"
    types = {r["share_invitation_id"]: r["resource_type"] for r in run.decisions}
    assert types == {lens.share_id: "LENS", workload.share_id: "WORKLOAD"}


def test_an_update_applied_whose_answer_was_lost_counts_as_applied(sim: Simulator, world: World) -> None:
    share = world.workload(TRUSTED, "payments-api", "READONLY")
    denied = world.workload(DENIED, "vendor-portal", "READONLY")
    lost = {share.share_id, denied.share_id}

    def update(real: Callable[..., Any], params: dict[str, Any]) -> Any:
        answer = real(**params)  # applied...
        if params["ShareInvitationId"] in lost:
            lost.discard(params["ShareInvitationId"])
            raise ClientError(  # ...but the answer is lost to a 5xx
                {"Error": {"Code": "InternalServerException"}, "ResponseMetadata": {"HTTPStatusCode": 503}}, "Update"
            )
        return answer

    client = Lying(sim.client(account=RECIPIENT), update=update)
    run = invoke(sweep.lambda_handler, SCHEDULED, components(sim, client=client))
    assert world.status(share) == "ACCEPTED" and world.status(denied) == "REJECTED"
    records = {r["share_invitation_id"]: r for r in run.decisions}
    assert records[share.share_id]["result"] == "accepted" and records[share.share_id]["answer_lost"] is True
    assert records[denied.share_id]["result"] == "rejected"
    assert run.metrics["InvitationsAccepted"] == 1 and run.metrics["InvitationsRejected"] == 1
    assert run.metrics["UpdatesAnswerLost"] == 2 and "InvitationsAlreadySettled" not in {
        k for k, v in run.metrics.items() if v
    }


def test_a_bad_configuration_fails_the_run_even_with_a_bad_event(monkeypatch: pytest.MonkeyPatch) -> None:
    from acceptor import runtime

    for name, value in {"ALLOWED_SOURCE_ACCOUNTS": "not-an-account", "DRY_RUN": "true"}.items():
        monkeypatch.setenv(name, value)
    runtime.reset()
    try:
        for handler in (sweep.lambda_handler, share_event.lambda_handler):
            with pytest.raises(ConfigurationError, match="not-an-account"):
                handler({"garbage": True}, Context())
    finally:
        runtime.reset()
