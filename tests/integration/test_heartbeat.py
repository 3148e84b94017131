"""The sweep's heartbeat and what a dry run reports: SweepsCompleted only for a sweep that listed
everything in time, and problems counted without the DryRun dimension so the alarms see them."""

from __future__ import annotations

from handlers import sweep
from simulator import Faults, Simulator
from simulator.harness import LambdaContext
from tests.support.handlers import SCHEDULED, Run, components, invoke, seed


def dry_run_records(run: Run) -> list[str]:
    """The EMF records that carry DryRun=true."""
    return [line for line in run.capture.stdout.getvalue().splitlines() if '"DryRun"' in line]


def test_a_complete_sweep_beats_once(sim: Simulator) -> None:
    seed(sim, 2)
    run = invoke(sweep.lambda_handler, SCHEDULED, components(sim))
    assert run.result["complete"] is True
    assert run.metrics["SweepsCompleted"] == 1


def test_a_sweep_out_of_time_does_not_beat(sim: Simulator) -> None:
    seed(sim, 10)
    sim.faults = Faults(latency_s=0.02)
    comps = components(sim, {"MAX_WORKERS": "1", "SAFETY_MARGIN_SECONDS": "1"})
    run = invoke(sweep.lambda_handler, SCHEDULED, comps, LambdaContext(remaining_ms=1_250))
    assert run.result["complete"] is False
    assert "SweepsCompleted" not in run.metrics


def test_a_dry_run_that_cannot_list_does_not_beat_and_counts_the_failure_for_the_alarm(sim: Simulator) -> None:
    # Given a dry-run stack whose every API call fails (as an SCP or AccessDenied would)
    seed(sim, 2)
    sim.faults = Faults(error_rate=1.0)
    run = invoke(sweep.lambda_handler, SCHEDULED, components(sim, {"DRY_RUN": "true"}))
    # Then no heartbeat, and the failure is counted without DryRun, where DecisionFailuresAlarm looks
    assert run.result["list_error"]
    assert "SweepsCompleted" not in run.metrics
    assert run.metrics["DecisionFailures"] >= 1
    assert not any("DecisionFailures" in record for record in dry_run_records(run))


def test_a_dry_run_sweep_beats_and_splits_only_decisions(sim: Simulator) -> None:
    seed(sim, 2)
    run = invoke(sweep.lambda_handler, SCHEDULED, components(sim, {"DRY_RUN": "true"}))
    assert run.metrics["SweepsCompleted"] == 1
    records = dry_run_records(run)
    assert any("InvitationsAccepted" in record for record in records)
    assert not any("SweepsCompleted" in record or "DecisionFailures" in record for record in records)
