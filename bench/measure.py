"""
Measuring: each scenario at each connection count, one table row per run.

Around a presque run the queue is purged, pre-filled for a GET scenario, and
Redis settled; its counters before and after give the jobs/s, and a GET
scenario whose queue ran dry gets a note.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from presque_client import prefill, purge, queue_counts
from processes import Children
from redis_client import settle_redis
from scenarios import CONNECTIONS, QUEUE, SCENARIOS, Scenario, prefill_size
from servers import Servers
from wrk import WrkResult, parse_wrk, run_wrk, wrk_command


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    scenario: Scenario
    connections: int
    wrk: WrkResult
    jobs_per_second: float | None
    ratio: float | None = None


@dataclass
class Run:
    """What the measurements of one benchmark run share."""

    servers: Servers
    children: Children
    duration: int
    run_dir: Path
    notes: list[str] = field(default_factory=list)


def progress(message: str) -> None:
    """A progress line on stderr."""
    print(f"... {message}", file=sys.stderr, flush=True)


def measure(run: Run, scenario: Scenario, connections: int) -> Row:
    """Run one scenario at C{connections}; read the queue's counters around it."""
    label = f"{scenario.name} c={connections}"
    before = prepare_queue(run, scenario, label) if scenario.server == "presque" else None
    progress(f"{label}: wrk for {run.duration}s")
    port = run.servers.port(scenario)
    url = f"http://127.0.0.1:{port}{scenario.path}"
    args = wrk_command(url, connections, run.duration, scenario.script)
    output = run_wrk(run.children, args, run.duration)
    (run.run_dir / f"{scenario.slug}-c{connections}.txt").write_text(
        f"$ {' '.join(args)}\n\n{output}"
    )
    result = parse_wrk(output)
    check_errors(label, result, run.notes)
    jobs_per_second = None
    if before is not None:
        after = queue_counts(port)
        jobs_per_second = jobs_moved(scenario, before, after) / result.seconds
        if scenario.takes_jobs and after["job_count"] <= 0:
            run.notes.append(f"{label}: the queue ran dry (job_count 0 after the run)")
        purge(port)
    return Row(scenario, connections, result, jobs_per_second)


def prepare_queue(run: Run, scenario: Scenario, label: str) -> dict[str, int]:
    """Purge the queue, pre-fill it for a GET scenario; return its counters."""
    port = run.servers.presque
    purge(port)
    if scenario.takes_jobs:
        wanted = prefill_size(scenario, run.duration)
        started = time.monotonic()
        loaded = prefill(port, wanted)
        elapsed = time.monotonic() - started
        progress(f"{label}: pre-filled {loaded:,} jobs in {elapsed:.1f}s")
    settle_redis(run.servers.redis)
    return queue_counts(port)


def jobs_moved(scenario: Scenario, before: dict[str, int], after: dict[str, int]) -> int:
    """Jobs taken (GET) or added (POST) during a run, from the queue's counters."""
    if scenario.takes_jobs:
        return after["job_processed"] - before["job_processed"]
    return after["job_count"] - before["job_count"]


def check_errors(label: str, result: WrkResult, notes: list[str]) -> None:
    """Note the non-2xx answers and the socket errors wrk counted."""
    if result.non_2xx:
        notes.append(f"{label}: {result.non_2xx:,} non-2xx answers of {result.requests:,}")
    if result.socket_errors:
        notes.append(f"{label}: {result.socket_errors:,} socket errors (see the raw output)")


def with_ratios(rows: list[Row]) -> list[Row]:
    """Fill in each row's ratio to its bare baseline at the same connections."""
    bare = {(row.scenario.name, row.connections): row.wrk.requests_per_second for row in rows}
    completed = []
    for row in rows:
        ratio = None
        base = bare.get((row.scenario.baseline or "", row.connections))
        if base:
            ratio = row.wrk.requests_per_second / base
        completed.append(Row(row.scenario, row.connections, row.wrk, row.jobs_per_second, ratio))
    return completed


def warm_up(run: Run) -> None:
    """One unrecorded second of reads on each server."""
    progress("warming up")
    servers = run.servers
    for url in (
        f"http://127.0.0.1:{servers.bare}/",
        f"http://127.0.0.1:{servers.presque}/j/{QUEUE}",
    ):
        run_wrk(run.children, wrk_command(url, 10, 1, None), 1)


def run_all(run: Run) -> list[Row]:
    """Every scenario at every connection count, with the ratios to bare."""
    rows = [
        measure(run, scenario, connections) for scenario in SCENARIOS for connections in CONNECTIONS
    ]
    return with_ratios(rows)
