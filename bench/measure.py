"""
Measuring: each scenario at each connection count, one table row per run.

Around a presque run the queue is purged, pre-filled for a GET scenario, and
Redis settled; its counters before and after give the jobs/s, and a GET
scenario whose queue ran dry gets a note. With a second daemon (C{--against})
each presque run is made on both, one right after the other, the first of
the pair taking turns, so that both meet the same machine noise. With the
original presque (C{--perl}), its scenarios at its connections are run on it
too, in the same turns.
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import perl_peer
from bench.children import Children
from bench.errors import waiting_for
from bench.presque_client import prefill, purge, queue_counts
from bench.scenarios import CONNECTIONS, PERL_CONNECTIONS, QUEUE, SCENARIOS, Scenario, prefill_size
from bench.servers import AGAINST, PERL, THIS, Presque, Servers
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
    daemon: str | None = None  # the label of the daemon (THIS, AGAINST, PERL); None: bare
    ratio: float | None = None  # req/s over the bare baseline's
    against_ratio: float | None = None  # on this checkout's rows: req/s over --against's
    perl_ratio: float | None = None  # on this checkout's rows: req/s over --perl's


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

    @property
    def labelled(self) -> bool:
        """Whether progress and notes name the daemon: more than one is measured."""
        return self.comparing or self.servers.perl is not None


def progress(message: str) -> None:
    """A progress line on stderr."""
    print(f"... {message}", file=sys.stderr, flush=True)


def measure(run: Run, scenario: Scenario, connections: int, daemon: Presque | None) -> Row:
    """Run one scenario at C{connections} on C{daemon} (None: the bare server)."""
    label = f"{scenario.name} c={connections}"
    if daemon is not None and run.labelled:
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
    if daemon is not None and daemon.label == PERL:
        run.notes.append(perl_peer.closes_note(label, result))
        result = perl_peer.without_closes(result)
    check_errors(label, result, run.notes)
    jobs_per_second = None
    if daemon is not None and before is not None:
        after = queue_counts(port)
        jobs_per_second = jobs_moved(scenario, before, after) / result.seconds
        if scenario.takes_jobs and after["job_count"] <= 0:
            run.notes.append(f"{label}: the queue ran dry (job_count 0 after the run)")
        empty_queue(daemon)
    return Row(
        scenario, connections, result, jobs_per_second, None if daemon is None else daemon.label
    )


def prepare_queue(run: Run, scenario: Scenario, label: str, daemon: Presque) -> dict[str, int]:
    """Purge the queue, pre-fill it for a GET scenario; return its counters."""
    port = daemon.port
    perl = daemon.label == PERL
    empty_queue(daemon)
    if scenario.takes_jobs:
        wanted = prefill_size(scenario, run.duration, perl)
        started = time.monotonic()
        loaded = perl_peer.prefill(daemon, wanted) if perl else prefill(port, wanted)
        elapsed = time.monotonic() - started
        progress(f"{label}: pre-filled {loaded:,} jobs in {elapsed:.1f}s")
    settle_redis(daemon.redis)
    return queue_counts(port)


def empty_queue(daemon: Presque) -> None:
    """No job and no counter left in the queue (DELETE /q; the Perl one's Redis emptied)."""
    if daemon.label == PERL:
        perl_peer.reset(daemon)
    else:
        purge(daemon.port)


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
    and on this checkout's rows the ratios to the --against daemon's and to
    the original presque's (--perl).
    """
    rate = {
        (row.scenario.name, row.connections, row.daemon): row.wrk.requests_per_second
        for row in rows
    }

    def over(row: Row, name: str, daemon: str | None) -> float | None:
        other = rate.get((name, row.connections, daemon))
        return row.wrk.requests_per_second / other if other else None

    completed = []
    for row in rows:
        this = row.daemon == THIS
        completed.append(
            dataclasses.replace(
                row,
                ratio=over(row, row.scenario.baseline or "", None),
                against_ratio=over(row, row.scenario.name, AGAINST) if this else None,
                perl_ratio=over(row, row.scenario.name, PERL) if this else None,
            )
        )
    return completed


def warm_up(run: Run) -> None:
    """One unrecorded second of reads on each server."""
    progress("warming up")
    servers = run.servers
    urls = [f"http://127.0.0.1:{servers.bare}/"]
    urls += [f"http://127.0.0.1:{daemon.port}/j/{QUEUE}" for daemon in measured(servers)]
    for url in urls:
        run_wrk(run.children, wrk_command(url, 10, 1, None), 1)


def measured(servers: Servers) -> tuple[Presque, ...]:
    """Every daemon under test: this checkout's, --against's, the original presque."""
    return (*servers.daemons, *([servers.perl] if servers.perl is not None else []))


def daemons_of(servers: Servers, scenario: Scenario, connections: int) -> tuple[Presque, ...]:
    """The daemons a presque run is made on: the original presque too, on its scenarios."""
    if servers.perl is not None and scenario.perl and connections == PERL_CONNECTIONS:
        return measured(servers)
    return servers.daemons


def run_all(run: Run) -> list[Row]:
    """
    Every scenario at every connection count, with the ratios. A presque
    run is made on each daemon in turn, the first of the group taking turns
    from one group of the same daemons to the next (with two, alternating);
    the rows keep this checkout's first.
    """
    rows = []
    turns: dict[int, itertools.count[int]] = {}
    for scenario in run.scenarios:
        for connections in CONNECTIONS:
            if scenario.server != "presque":
                rows.append(measure(run, scenario, connections, None))
                continue
            daemons = daemons_of(run.servers, scenario, connections)
            first = next(turns.setdefault(len(daemons), itertools.count())) % len(daemons)
            order = daemons[first:] + daemons[:first]
            runs = {d.label: measure(run, scenario, connections, d) for d in order}
            rows += [runs[d.label] for d in daemons]
    return with_ratios(rows)
