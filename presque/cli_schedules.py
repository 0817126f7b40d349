"""
C{presque schedules} and C{presque schedule ...}: show and manage the
schedules of recurring jobs.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from presque.cli_text import Failed, compact, table
from presque.client import Client


def list_schedules(client: Client, args: argparse.Namespace) -> None:
    """Every schedule in a table: when it runs, its queue, its next and last runs."""
    schedules = client.schedules(limit=1000)
    if args.json:
        print(json.dumps(schedules, indent=2, ensure_ascii=False))
        return
    if not schedules:
        print("no schedules")
        return
    rows = [["NAME", "QUEUE", "WHEN", "NEXT RUN", "LAST RUN"]]
    for schedule in schedules:
        rows.append(
            [
                schedule["name"],
                schedule["queue"],
                _when(schedule),
                "paused" if schedule["paused"] else _time(schedule["next_run"]),
                _last(schedule["last_run"]),
            ]
        )
    table(rows, sys.stdout)


def set_schedule(client: Client, args: argparse.Namespace) -> None:
    """Write a schedule from the command's options."""
    try:
        job = json.loads(args.job)
    except ValueError:
        raise Failed(f"the job is not JSON: {args.job}") from None
    definition: dict[str, Any] = {"queue": args.queue, "job": job}
    options = {
        "cron": args.cron,
        "tz": args.tz,
        "every": args.every,
        "priority": args.priority,
        "uniq": args.uniq,
        "group": args.group,
        "overlap": args.overlap,
        "missed": args.missed,
    }
    definition.update({key: value for key, value in options.items() if value is not None})
    shown = client.put_schedule(args.schedule, **definition)
    print(f"{shown['name']}: {_when(shown)}, next run {_time(shown['next_run'])}")


def act_on_schedule(client: Client, args: argparse.Namespace) -> None:
    """Pause, resume or delete a schedule."""
    if args.action == "delete":
        client.delete_schedule(args.schedule)
        print(f"{args.schedule}: deleted")
        return
    change = client.pause_schedule if args.action == "pause" else client.resume_schedule
    shown = change(args.schedule)
    state = "paused" if shown["paused"] else f"next run {_time(shown['next_run'])}"
    print(f"{args.schedule}: {state}")


def _when(schedule: dict[str, Any]) -> str:
    if schedule.get("cron"):
        return f"cron {schedule['cron']} ({schedule['tz']})"
    return f"every {schedule['every']} s"


def _time(at: float | None) -> str:
    return "-" if at is None else datetime.fromtimestamp(at).isoformat(" ", "seconds")


def _last(last: dict[str, Any] | None) -> str:
    if last is None:
        return "-"
    outcome = f"skipped ({last['skipped']})" if last["skipped"] else compact(last["job"])
    return f"{_time(last['at'])} {outcome}"


def add_schedule_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add C{schedules} and C{schedule set|pause|resume|delete} to C{commands}."""
    sub = commands.add_parser(
        "schedules", parents=[common], help="list the schedules of recurring jobs"
    )
    sub.set_defaults(run=list_schedules)
    sub.add_argument("--json", action="store_true", help="the server's JSON")
    schedule = commands.add_parser(
        "schedule", help="manage a schedule of recurring jobs", description="Manage a schedule."
    )
    actions = schedule.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub = actions.add_parser("set", parents=[common], help="write a schedule (or replace it)")
    sub.set_defaults(run=set_schedule)
    sub.add_argument("schedule", metavar="NAME")
    sub.add_argument("--queue", required=True, help="the queue the jobs go to")
    sub.add_argument("--job", required=True, metavar="JSON", help="the job to post")
    when = sub.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", metavar="EXPR", help="a cron expression, such as '0 7 * * mon-fri'")
    when.add_argument("--every", type=float, metavar="S", help="every S seconds")
    sub.add_argument("--tz", metavar="ZONE", help="the cron's time zone (default: UTC)")
    sub.add_argument("--priority", type=int, metavar="N", help="0-9, higher first")
    sub.add_argument("--uniq", metavar="KEY", help="refused while a job with KEY is queued")
    sub.add_argument("--group", metavar="KEY", help="the jobs' group")
    sub.add_argument("--overlap", choices=["allow", "skip"], help="skip a run while the last runs")
    sub.add_argument("--missed", choices=["skip", "run_once"], help="runs missed while down")
    for action, help in (
        ("pause", "pause a schedule"),
        ("resume", "resume a schedule"),
        ("delete", "delete a schedule"),
    ):
        sub = actions.add_parser(action, parents=[common], help=help, description=help)
        sub.set_defaults(run=act_on_schedule)
        sub.add_argument("schedule", metavar="NAME")
