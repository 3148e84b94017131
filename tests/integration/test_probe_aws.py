"""`make probe-aws`, offline: the probe runs against the simulator in both modes, with a small CloudTrail
fake fed from the simulator's recorded events, and must report what each mode does and delete all it made."""

from __future__ import annotations

import json
import os
import signal
from typing import Any

import pytest

from simulator import Simulator
from tools.probe_aws import Probe, Timing, interruptible, main

SHARER, RECIPIENT = "222222222222", "111111111111"
TYPES = ["LENS", "PROFILE", "TEMPLATE", "WORKLOAD"]


class FakeCloudTrail:
    """cloudtrail.lookup_events over sim.events: the sharer's records by event name, two a page. Records
    appear only after `lag` lookups, as CloudTrail's do after some minutes."""

    def __init__(self, sim: Simulator, account: str, lag: int = 0, on_lookup: Any = None) -> None:
        self.sim, self.account, self.lag, self.on_lookup = sim, account, lag, on_lookup
        self.lookups = 0

    def lookup_events(
        self, LookupAttributes: list[dict[str, str]], StartTime: Any, NextToken: str | None = None
    ) -> Any:
        self.lookups += 1
        if self.on_lookup:
            self.on_lookup()
        [attribute] = LookupAttributes
        assert attribute["AttributeKey"] == "EventName" and StartTime is not None
        if self.lookups <= self.lag:
            return {"Events": []}
        records = [
            {"EventName": e["detail"]["eventName"], "CloudTrailEvent": json.dumps(e["detail"])}
            for e in self.sim.events
            if e["account"] == self.account and e["detail"]["eventName"] == attribute["AttributeValue"]
        ]
        start = int(NextToken or 0)
        page: dict[str, Any] = {"Events": records[start : start + 2]}
        if start + 2 < len(records):
            page["NextToken"] = str(start + 2)
        return page


class Clock:
    """A fake monotonic clock that sleeping moves forward."""

    def __init__(self) -> None:
        self.now, self.sleeps = 0.0, 0

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.sleeps += 1


def make_probe(sim: Simulator, cloudtrail: Any = None, clock: Clock | None = None, **timing: Any) -> Probe:
    clock = clock or Clock()
    return Probe(
        sim.client(SHARER),
        sim.client(RECIPIENT),
        cloudtrail or FakeCloudTrail(sim, SHARER),
        SHARER,
        RECIPIENT,
        "us-east-1",
        Timing(**{"poll_s": 15.0, "sleep": clock.sleep, "clock": lambda: clock.now} | timing),
    )


def assert_all_deleted(sim: Simulator, probe: Probe) -> None:
    assert sim.service.state.resources == {}
    assert {sim.share_status(share_id) for share_id in probe.report["shares"].values()} == {"REVOKED"}
    assert probe.report["cleanup"]["failed"] == []


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_the_probe_reports_each_behaviour_and_deletes_everything(strict: bool) -> None:
    sim = Simulator(strict=strict)
    probe = make_probe(sim)

    report = probe.run()

    assert report["errors"] == [] and report["interrupted"] is None
    assert sorted(report["created"]) == TYPES and sorted(report["shares"]) == TYPES
    for rtype in TYPES:
        typed = report["typed_listing"][rtype]
        assert typed["listed"] is True
        assert typed["carries_share_resource_type"] is (not strict)
        assert typed["share_resource_type"] == (None if strict else rtype)
    untyped = report["untyped_listing"]
    if strict:
        assert (untyped["answer"], untyped["listed"], untyped["summaries_carry_share_resource_type"]) == (
            "WORKLOAD only",
            ["WORKLOAD"],
            [],
        )
    else:
        assert (untyped["answer"], untyped["listed"], untyped["summaries_carry_share_resource_type"]) == (
            "all types",
            TYPES,
            TYPES,
        )
    assert report["share_id_is_invitation_id"] == dict.fromkeys(TYPES, True)
    assert report["client_request_token_retry"] == {"same_share_id": True, "error_code": None}
    assert report["settled_update"] == {
        "accept": "ok",
        "again_error_code": "ConflictException",
        "again_http_status": 409,
    }
    assert report["reopened_share"] == {
        "status_after_update": "PENDING",
        "listed_again": True,
        "same_invitation_id": True,
        "permission": "CONTRIBUTOR",
    }
    for rtype in TYPES:
        record = report["cloudtrail"][f"Create{rtype.capitalize()}Share"]
        assert record["found"] is True
        assert {"SharedWith", "ClientRequestToken"} <= set(record["requestParameters"])
        assert record["share_id_key"] == "ShareId" and "ShareId" in record["responseElements"]
    assert_all_deleted(sim, probe)
    json.dumps(report)  # one JSON report


def test_cloudtrail_not_yet_after_a_bounded_wait() -> None:
    sim, clock = Simulator(), Clock()
    cloudtrail = FakeCloudTrail(sim, SHARER, lag=10**6)
    probe = make_probe(sim, cloudtrail, clock, cloudtrail_wait_s=60.0)

    report = probe.run()

    assert {r["status"] for r in report["cloudtrail"].values()} == {"not yet"}
    assert not any(r["found"] for r in report["cloudtrail"].values())
    assert clock.now <= 60.0 and cloudtrail.lookups == 4 * 5  # four event names, five looks in 60 s
    assert_all_deleted(sim, probe)


def test_cloudtrail_records_that_arrive_within_the_wait_are_found() -> None:
    sim, clock = Simulator(), Clock()
    probe = make_probe(sim, FakeCloudTrail(sim, SHARER, lag=6), clock, cloudtrail_wait_s=900.0)

    report = probe.run()

    assert all(r["found"] for r in report["cloudtrail"].values())
    assert clock.now >= 15.0  # it waited at least one poll


def test_a_signal_stops_the_probe_and_everything_is_still_deleted() -> None:
    sim = Simulator()
    kill = FakeCloudTrail(sim, SHARER, on_lookup=lambda: os.kill(os.getpid(), signal.SIGTERM))
    probe = make_probe(sim, kill)
    before = signal.getsignal(signal.SIGTERM)

    with interruptible(probe):
        report = probe.run()

    assert report["interrupted"] == "SIGTERM"
    assert report["cleanup"]["deleted"] and "signals_during_cleanup" not in report
    assert_all_deleted(sim, probe)
    assert signal.getsignal(signal.SIGTERM) == before  # the handlers are restored


def test_a_signal_during_cleanup_is_noted_and_cleanup_finishes() -> None:
    sim = Simulator()
    probe = make_probe(sim)
    sharer_delete = probe.sharer.delete_workload

    def delete_workload(**params: Any) -> Any:
        os.kill(os.getpid(), signal.SIGINT)
        return sharer_delete(**params)

    probe.sharer.delete_workload = delete_workload
    with interruptible(probe):
        report = probe.run()

    assert report["signals_during_cleanup"] == ["SIGINT"]
    assert_all_deleted(sim, probe)


def test_an_unexpected_failure_still_deletes_everything() -> None:
    sim = Simulator()

    def broken() -> None:
        raise RuntimeError("CloudTrail fake broke")

    probe = make_probe(sim, FakeCloudTrail(sim, SHARER, on_lookup=broken))
    with pytest.raises(RuntimeError, match="CloudTrail fake broke"):
        probe.run()
    assert_all_deleted(sim, probe)


def test_a_failed_step_is_reported_and_the_rest_still_runs() -> None:
    sim = Simulator()
    probe = make_probe(sim)

    def no_profiles(**_params: Any) -> Any:
        raise probe.sharer.exceptions.AccessDeniedException(
            {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "CreateProfile"
        )

    probe.sharer.create_profile = no_profiles
    report = probe.run()

    assert report["errors"] == [
        {"step": "create PROFILE", "code": "AccessDeniedException", "message": report["errors"][0]["message"]}
    ]
    assert "not allowed" in report["errors"][0]["message"]
    assert sorted(report["shares"]) == ["LENS", "TEMPLATE", "WORKLOAD"]
    assert report["untyped_listing"]["answer"] == "all types"
    assert_all_deleted(sim, probe)


def test_the_command_line_needs_both_profiles_and_a_region(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--sharer-profile", "a", "--region", "eu-west-1"])
    assert info.value.code == 2
    assert "--recipient-profile" in capsys.readouterr().err


def test_an_aws_error_that_stops_a_step_is_reported_and_everything_deleted() -> None:
    sim = Simulator()
    probe = make_probe(sim)

    def throttled(**_params: Any) -> Any:
        raise probe.sharer.exceptions.ThrottlingException(
            {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "UpdateWorkloadShare"
        )

    probe.sharer.update_workload_share = throttled
    report = probe.run()

    assert [e["step"] for e in report["errors"]] == ["update workload share"]
    assert report["reopened_share"]["status_after_update"] is None
    assert all(r["found"] for r in report["cloudtrail"].values())  # the later steps still ran
    assert_all_deleted(sim, probe)


def test_a_listing_that_fails_outright_stops_the_probe_but_not_the_cleanup() -> None:
    sim = Simulator()
    probe = make_probe(sim)
    calls = {"n": 0}
    real = probe.recipient.list_share_invitations

    def failing_after_typed(**params: Any) -> Any:
        calls["n"] += 1
        if "ShareResourceType" not in params:
            return real(**params)
        if calls["n"] > 5:  # after the four typed listings and the untyped one
            raise probe.recipient.exceptions.InternalServerException(
                {"Error": {"Code": "InternalServerException", "Message": "boom"}}, "ListShareInvitations"
            )
        return real(**params)

    probe.recipient.list_share_invitations = failing_after_typed
    report = probe.run()

    assert report["errors"][-1]["step"] == "stopped" and report["errors"][-1]["code"] == "InternalServerException"
    assert "cloudtrail" not in report
    assert_all_deleted(sim, probe)
