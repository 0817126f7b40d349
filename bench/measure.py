"""
Measuring: each scenario at each connection count, one table row per run.

Around a presque run the queue is purged, pre-filled for a GET scenario, and
Redis settled; its counters before and after give the jobs/s, and a GET
scenario whose queue ran dry gets a note. With a second daemon (C{--against})
each presque run is made on both, one right after the other, the first of
the pair taking turns, so that both meet the same machine noise.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.children import Children
from bench.errors import waiting_for
from bench.presque_client import prefill, purge, queue_counts
from bench.scenarios import CONNECTIONS, QUEUE, SCENARIOS, Scenario, prefill_size
from bench.servers import AGAINST, THIS, Presque, Servers
from bench.wrk import WrkResult, parse_wrk, run_wrk, wrk_command
from harness.polling import wait_until
from harness.redis import redis_command

REWRITE_TIMEOUT = 300.0


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    scenario: Scenario
    connections: int
    wrk: WrkResult
    jobs_per_second: float | None
    daemon: str | None = None  # the label of the presque daemon (THIS, AGAINST); None: bare
    ratio: float | None = None  # req/s over the bare baseline's
    against_ratio: float | None = None  # on this checkout's rows: req/s over --against's


@dataclass
class Run:
    """What the measurements of one benchmark run share."""

    servers: Servers
    children: Children
    duration: int
    run_dir: Path
    notes: list[str] = field(default_factory=list)
    #: The scenarios to run (every one unless --only says otherwise), in order.
    scenarios: list[Scenario] = field(default_factory=lambda: list(SCENARIOS))

    @property
    def comparing(self) -> bool:
        """Whether a second daemon (--against) is measured too."""
        return len(self.servers.daemons) > 1


def progress(message: str) -> None:
    """A progress line on stderr."""
    print(f"... {message}", file=sys.stderr, flush=True)


def measure(run: Run, scenario: Scenario, connections: int, daemon: Presque | None) -> Row:
    """Run one scenario at C{connections} on C{daemon} (None: the bare server)."""
    label = f"{scenario.name} c={connections}"
    if daemon is not None and run.comparing:
        label += f" ({daemon.label})"
    before = prepare_queue(run, scenario, label, daemon) if daemon is not None else None
    progress(f"{label}: wrk for {run.duration}s")
    port = run.servers.bare if daemon is None else daemon.port
    url = f"http://127.0.0.1:{port}{scenario.path}"
    args = wrk_command(url, connections, run.duration, scenario.script)
    output = run_wrk(run.children, args, run.duration)
    tail = "" if daemon is None or daemon.label == THIS else f"-{daemon.label}"
    (run.run_dir / f"{scenario.slug}-c{connections}{tail}.txt").write_text(
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
    return Row(
        scenario, connections, result, jobs_per_second, None if daemon is None else daemon.label
    )


def prepare_queue(run: Run, scenario: Scenario, label: str, daemon: Presque) -> dict[str, int]:
    """Purge the queue, pre-fill it for a GET scenario; return its counters."""
    port = daemon.port
    purge(port)
    if scenario.takes_jobs:
        wanted = prefill_size(scenario, run.duration)
        started = time.monotonic()
        loaded = prefill(port, wanted)
        elapsed = time.monotonic() - started
        progress(f"{label}: pre-filled {loaded:,} jobs in {elapsed:.1f}s")
    settle_redis(daemon.redis)
    return queue_counts(port)


def rewrite_pending(port: int) -> bool:
    """Whether Redis is rewriting its append-only file, or about to."""
    info = redis_command(port, "INFO", "persistence")
    return "aof_rewrite_in_progress:1" in info or "aof_rewrite_scheduled:1" in info


def wait_for_rewrite(port: int) -> None:
    """Block until no append-only file rewrite is pending."""
    wait_until(
        lambda: not rewrite_pending(port),
        REWRITE_TIMEOUT,
        f"still rewrites its AOF after {REWRITE_TIMEOUT:.0f}s",
    )


def settle_redis(port: int) -> None:
    """
    Compact the append-only file now, so that no rewrite set off by the
    pre-fill or by an earlier run lands in the next measurement. Rewrites
    that the measured load sets off itself still count, as in production.
    """
    with waiting_for(f"redis on port {port}"):
        wait_for_rewrite(port)
        redis_command(port, "BGREWRITEAOF")
        wait_for_rewrite(port)


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
    """
    Fill in each row's ratio to its bare baseline at the same connections,
    and on this checkout's rows the ratio to the --against daemon's.
    """
    rate = {
        (row.scenario.name, row.connections, row.daemon): row.wrk.requests_per_second
        for row in rows
    }
    completed = []
    for row in rows:
        ratio = against_ratio = None
        base = rate.get((row.scenario.baseline or "", row.connections, None))
        if base:
            ratio = row.wrk.requests_per_second / base
        other = rate.get((row.scenario.name, row.connections, AGAINST))
        if row.daemon == THIS and other:
            against_ratio = row.wrk.requests_per_second / other
        completed.append(
            Row(
                row.scenario,
                row.connections,
                row.wrk,
                row.jobs_per_second,
                row.daemon,
                ratio,
                against_ratio,
            )
        )
    return completed


def warm_up(run: Run) -> None:
    """One unrecorded second of reads on each server."""
    progress("warming up")
    servers = run.servers
    urls = [f"http://127.0.0.1:{servers.bare}/"]
    urls += [f"http://127.0.0.1:{daemon.port}/j/{QUEUE}" for daemon in servers.daemons]
    for url in urls:
        run_wrk(run.children, wrk_command(url, 10, 1, None), 1)


def run_all(run: Run) -> list[Row]:
    """
    Every scenario at every connection count, with the ratios. A presque
    run is made on each daemon in turn, the first of the pair alternating;
    the rows keep this checkout's first.
    """
    rows = []
    pairs = 0
    for scenario in run.scenarios:
        for connections in CONNECTIONS:
            if scenario.server != "presque":
                rows.append(measure(run, scenario, connections, None))
                continue
            daemons = run.servers.daemons
            order = daemons if pairs % 2 == 0 else daemons[::-1]
            pairs += 1
            measured = {d.label: measure(run, scenario, connections, d) for d in order}
            rows += [measured[d.label] for d in daemons]
    return with_ratios(rows)
