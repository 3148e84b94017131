"""Per-container wiring: settings parsed once, clients and caches built on first use and reused.

Nothing here runs at import time. Tests and tools pass their own ``Components`` to the handlers.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from acceptor.concurrency import ConcurrencyLimit
from acceptor.continuation import Chain, DynamoLease, LambdaInvoker
from acceptor.deadline import Deadline
from acceptor.decision_events import DecisionEvents
from acceptor.engine import Acceptor
from acceptor.observability import logger
from acceptor.policy_source import PolicySource
from acceptor.settings import Settings, load_settings
from acceptor.throttle import AdaptiveRate
from acceptor.wellarchitected import Clients, ShareInvitations
from policy.identifiers import is_account_id


class Components(NamedTuple):
    settings: Settings
    acceptor: Acceptor
    policy_source: PolicySource
    decision_events: DecisionEvents | None = None  # None: DECISION_EVENT_BUS is empty
    chain: Chain = Chain(None, None)  # the sweep's continuation (off without a lease table)


def share_invitations(
    clients: Clients,
    cap: int,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> ShareInvitations:
    """The Well-Architected adapter as the functions use it: paced, with at most ``cap`` requests in flight
    and the number in flight adapted to latency and throttling (``acceptor.concurrency``)."""
    rate = AdaptiveRate(clock=clock, sleep=sleep)
    limit = ConcurrencyLimit(cap, clock=clock, paced_rate=lambda: rate.rate)
    return ShareInvitations(clients=clients, rate=rate, concurrency=limit, sleep=sleep, clock=clock)


_cached: Components | None = None


def build(
    settings: Settings,
    *,
    wellarchitected_client: Any = None,
    wellarchitected_factory: Callable[[Any], Any] | None = None,
    ancestry: Any = None,
    notifier: Any = None,
    sts_client: Any = None,
    ssm_client: Any = None,
    s3_client: Any = None,
    events_client: Any = None,
    dynamodb_client: Any = None,
    lambda_client: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Components:
    """Wire the acceptor for these settings; real AWS clients unless some are given.

    ``wellarchitected_client`` serves every call as it is; ``wellarchitected_factory(config)`` builds the
    clients whose timeouts fit the time left (the default builds real ones).
    """
    if ancestry is None and settings.organizations_role_arn:
        from acceptor.organizations import OrgAncestryResolver

        ancestry = OrgAncestryResolver(
            settings.organizations_role_arn, sts_client=sts_client, ttl_seconds=settings.org_cache_ttl_seconds
        )
    if notifier is None and settings.notification_topic_arn:
        from acceptor.notifications import SnsNotifier

        notifier = SnsNotifier(settings.notification_topic_arn, log=logger)
    events = None
    if settings.decision_event_bus:
        # The account is known from each invocation's context; the region from the runtime.
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        events = DecisionEvents(settings.decision_event_bus, region=region, client=events_client, log=logger)
    clients = Clients(wellarchitected_client, wellarchitected_factory)
    clients.fitting(float("inf"))  # the usual client, built with the container rather than on first use
    acceptor = Acceptor(
        share_invitations(clients, settings.max_workers, sleep=sleep),
        ancestry=ancestry,
        log=logger,
        notifier=notifier,
        sinks=(events.decision,) if events else (),
        max_workers=settings.max_workers,
        sleep=sleep,
    )
    source = PolicySource(
        settings.policy,
        parameter=settings.policy_parameter,
        policy_file=settings.policy_file,
        cache_seconds=settings.policy_cache_seconds,
        organizations=bool(settings.organizations_role_arn) or ancestry is not None,
        ssm_client=ssm_client,
        s3_uri=settings.policy_s3_uri,
        s3_region=settings.policy_s3_region,
        s3_client=s3_client,
    )
    chain = Chain(None, None)
    # `sam local invoke` resolves the table's Ref to a placeholder: a local run neither locks nor continues.
    if settings.sweep_lock_table and os.environ.get("AWS_SAM_LOCAL") != "true":
        chain = Chain(
            DynamoLease(settings.sweep_lock_table, dynamodb_client),
            LambdaInvoker(lambda_client),
            max_runs=settings.max_chain_runs,
        )
    return Components(settings, acceptor, source, events, chain)


def components(env: Mapping[str, str] | None = None) -> Components:
    """This container's components, built on first use. Invalid settings raise every time."""
    global _cached
    if _cached is None:
        # What the imports and the clients allocate lives as long as the container. Frozen, the cyclic
        # collector stops rescanning it on every collection: cold start drops by about a tenth (see
        # docs/benchmarks.md) and warm invocations scan less.
        gc.freeze()
        _cached = build(load_settings(os.environ if env is None else env))
        gc.freeze()
    return _cached


def reset() -> None:
    global _cached
    _cached = None


def deadline(context: Any, settings: Settings) -> Deadline:
    """This invocation's budget: work stops ``safety_margin_seconds`` before the Lambda timeout."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return Deadline.unlimited()
    return Deadline.within(remaining() / 1000.0, settings.safety_margin_seconds)


def run_seconds(context: Any, default: float = 900.0) -> float:
    """The time this invocation was given (what is left at its start); ``default`` when unknown."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() / 1000.0 if remaining is not None else default


def own_account(context: Any) -> str | None:
    """This function's account, from its ARN (arn:aws:lambda:<region>:<account>:function:<name>).

    None when unknown, and under `sam local invoke` (AWS_SAM_LOCAL), whose context names a placeholder."""
    arn = getattr(context, "invoked_function_arn", None)
    if not isinstance(arn, str) or os.environ.get("AWS_SAM_LOCAL") == "true":
        return None
    parts = arn.split(":")
    account = parts[4] if len(parts) > 4 else ""
    return account if is_account_id(account) else None
