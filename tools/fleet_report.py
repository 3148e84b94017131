"""`make fleet-report`: the organization at a glance, from the fleet hub's log group.

    python -m tools.fleet_report --log-group /aws/events/wa-share-acceptor-hub [--days 7] [--format json]

Per account and region: invitations accepted and rejected in the period, waiting for a person (with the
soonest expiry: first sighting + 7 days), failed (latest result), and the last complete sweep; then the
accounts with no complete sweep in the last two sweep intervals. Read-only: ``logs:FilterLogEvents`` on
the hub log group, with the caller's credentials (run it in the hub account and region).

Exit codes: 0 done, 2 the log group could not be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from fleet import hub_log, report

DEFAULT_LOG_GROUP = "/aws/events/wa-share-acceptor-hub"
COLUMNS = ("account", "region", "accepted", "rejected", "waiting", "soonest_expiry", "failed", "last_completed_run")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def text_table(rows: list[report.Row]) -> str:
    cells = [list(COLUMNS)] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells)


def main(argv: list[str] | None = None, *, logs: Any = None, now: datetime | None = None, out: IO[str] | None = None,
         err: IO[str] | None = None) -> int:  # fmt: skip
    out, err = out or sys.stdout, err or sys.stderr
    parser = argparse.ArgumentParser(prog="make fleet-report", description=__doc__.splitlines()[0])
    parser.add_argument("--log-group", default=DEFAULT_LOG_GROUP, help="the hub log group (HUB_LOG_GROUP=...)")
    parser.add_argument("--days", type=int, default=7, choices=range(1, 31), metavar="1..30", help="the period")
    parser.add_argument("--sweep-interval-minutes", type=int, default=60, help="the members' sweep interval")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    now = now or datetime.now(UTC)
    interval = timedelta(minutes=args.sweep_interval_minutes)
    if logs is None:
        import boto3

        logs = boto3.client("logs")
    # A waiting invitation's first sighting may be up to 7 days before the period
    start = now - max(timedelta(days=args.days), report.INVITATION_LIFETIME) - timedelta(days=1)
    try:
        events = hub_log.read(logs, args.log_group, start)  # to the present: lines arrive after their events
    except (ClientError, BotoCoreError) as error:
        print(f"fleet-report: cannot read {args.log_group}: {error}", file=err)
        return 2
    period_start = now - timedelta(days=args.days)
    in_period = hub_log.Events(
        [d for d in events.decisions if d.time >= period_start or d.result in report.WAITING],
        events.runs,
        events.skipped,
    )
    rows = report.table(in_period, now, interval)
    silent = report.silent(events, now, interval)
    if args.format == "json":
        body = {
            "generated": now.isoformat(),
            "days": args.days,
            "rows": [r.as_json() for r in rows],
            "no_complete_sweep_in_two_intervals": [{"account": a, "region": r} for a, r in silent],
            "skipped_lines": events.skipped,
        }
        print(json.dumps(body, indent=1), file=out)
        return 0
    print(f"Fleet report, last {args.days} days, {now:%Y-%m-%d %H:%M} UTC ({args.log_group})", file=out)
    print(text_table(rows) if rows else "no decision or run events in the period", file=out)
    if silent:
        print(f"\nNo complete sweep in the last two intervals ({2 * args.sweep_interval_minutes} min):", file=out)
        for account, region in silent:
            print(f"  {account} {region}", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
