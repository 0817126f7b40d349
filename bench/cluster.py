"""
presque's throughput on a Redis Cluster of one master and of three, side by side.

Starts on loopback a cluster of 1 master and one of 3 (no replicas;
harness.cluster), each with its own presque daemon ([redis] cluster,
[server] processes = auto, every other setting the shipped default: the
access log on). Picks 24 queues that the 3 masters hold 8 each (their slots
by CLUSTER KEYSLOT), then for each scenario drives them with wrk at 50
connections, a queue per request in turn (cluster_queues.lua), on one
set-up then on the other, the first of each pair taking turns. It prints
jobs/s of each, the ratio 3/1, and for each master its share of the
commands and its CPU time per 1,000 jobs (INFO deltas). It prints figures;
it asserts nothing.

    .venv/bin/python -m bench.cluster [--duration 5] [--rounds 2] [--only TEXT]

The summary, the raw wrk outputs and the daemons' non-access log lines are
kept in bench/results/<date-time>-cluster/.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import resource
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.children import Children, run_benchmark
from bench.cluster_setup import (
    Setup,
    counters,
    prefill,
    purge,
    read,
    serving_processes,
    spread_queues,
    start_setup,
)
from bench.daemon_log import scan_daemon_log
from bench.errors import BenchError, waiting_for
from bench.measure import check_errors, progress, settle_redis
from bench.readings import cpu_seconds
from bench.scenarios import JOBS_PER_BATCH
from bench.wrk import parse_wrk, wrk_command
from harness.cluster import Cluster
from harness.polling import wait_until
from harness.processes import child_pids

RESULTS_DIR = Path(__file__).resolve().with_name("results")
SETUPS = (1, 3)  # masters
QUEUES = 24
CONNECTIONS = 50
#: Pre-fill this many times the jobs a GET run is expected to take.
PREFILL_MARGIN = 1.5
#: A serving process that took less than this share of presque's CPU time
#: during the warm-up is taken as not serving yet.
SERVING_SHARE = 0.2
WARM_UP_SECONDS = 2
WARM_UP_TRIES = 10


@dataclass(frozen=True)
class Load:
    """One kind of request, sent to every queue in turn."""

    name: str
    path: str  # %s: the queue
    body: str  # "job", "batch" (cluster_queues.lua's BODY), "": a GET
    jobs_per_request: int
    takes_jobs: bool = False  # a GET: the queues are pre-filled
    rate_estimate: float = 0.0  # requests/s the pre-fill is sized for; generous

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


LOADS = (
    # Batches first: Redis does the most work per request there, so that the
    # storage is the likeliest bottleneck.
    Load(f"POST /qb x{JOBS_PER_BATCH}", "/qb/%s", "batch", JOBS_PER_BATCH),
    Load(
        f"GET /qb x{JOBS_PER_BATCH}",
        f"/qb/%s?batch_size={JOBS_PER_BATCH}",
        "",
        JOBS_PER_BATCH,
        takes_jobs=True,
        rate_estimate=2500,
    ),
    Load("POST /q", "/q/%s", "job", 1),
)


@dataclass(frozen=True)
class Measured:
    """One wrk run on one set-up."""

    masters: int
    jobs: int
    seconds: float  # wrk's
    requests_per_second: float
    p99_ms: float
    commands: list[int]  # per master
    redis_cpu: list[float]  # per master, CPU seconds
    rewrites: int
    wall: float  # seconds between the two readings, around wrk
    presque_cpu: float
    wrk_cpu: float
    machine: float  # busy CPU seconds of every core

    @property
    def jobs_per_second(self) -> float:
        return self.jobs / self.seconds


@dataclass
class Bench:
    """What the runs share."""

    children: Children
    setups: list[Setup]
    queues: list[str]
    duration: int
    run_dir: Path
    notes: list[str] = field(default_factory=list)


# -- starting -----------------------------------------------------------------


def until_serving(bench: Bench, setup: Setup) -> None:
    """
    Wait until the daemon has its serving children, then warm up until each
    of its processes takes a fair share of the requests (a child accepts
    only once its own Redis connections are ready).
    """
    daemon = setup.pids[0]
    wanted = serving_processes() - 1
    with waiting_for(f"{setup.label}: the serving processes do not start"):
        wait_until(lambda: len(child_pids(daemon)) >= wanted, 30, f"not {wanted} children")
    setup.pids = [daemon, *child_pids(daemon)]
    warm_up = Load("warm-up GET /q", "/q/%s", "", 0)
    for _ in range(WARM_UP_TRIES):
        before = [cpu_seconds(pid) for pid in setup.pids]
        run_wrk(bench, setup, warm_up, WARM_UP_SECONDS)
        spent = [cpu_seconds(pid) - was for pid, was in zip(setup.pids, before, strict=True)]
        if min(spent) >= SERVING_SHARE * sum(spent):
            progress(f"{setup.label}: {len(spent)} serving processes, each serving")
            return
    raise BenchError(f"{setup.label}: CPU seconds of the warm-up by process: {spent}")


# -- the queues over HTTP -----------------------------------------------------


# -- measuring ----------------------------------------------------------------


def waited_children_cpu() -> float:
    """
    CPU seconds of this process's children that it waited for: of the wrk
    runs, the only children that end while it measures.
    """
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(bench: Bench, setup: Setup, load: Load, duration: int) -> str:
    """wrk at L{CONNECTIONS} on C{setup}, each request to the next queue; its output."""
    args = wrk_command(
        f"http://127.0.0.1:{setup.port}/", CONNECTIONS, duration, "cluster_queues.lua"
    )
    env = {
        **os.environ,
        "JOBS_PER_BATCH": str(JOBS_PER_BATCH),
        "QUEUES": ",".join(bench.queues),
        "QUEUE_PATH": load.path,
        "BODY": load.body,
    }
    return bench.children.run("wrk", args, timeout=duration + 60, env=env)


def measure(bench: Bench, setup: Setup, load: Load, round_: int) -> Measured:
    """One run of C{load} on C{setup}, between two purges of the queues."""
    label = f"{load.name} ({setup.label}, round {round_})"
    purge(setup, bench.queues)
    if load.takes_jobs:
        wanted = math.ceil(
            load.rate_estimate * load.jobs_per_request * bench.duration * PREFILL_MARGIN
        )
        started = time.monotonic()
        loaded = prefill(setup, bench.queues, wanted)
        progress(f"{label}: pre-filled {loaded:,} jobs in {time.monotonic() - started:.1f}s")
    for port in setup.master_ports:
        settle_redis(port)
    counted = counters(setup, bench.queues)
    progress(f"{label}: wrk for {bench.duration}s")
    waited = waited_children_cpu()
    before = read(setup)
    output = run_wrk(bench, setup, load, bench.duration)
    after = read(setup)
    wrk_cpu = waited_children_cpu() - waited
    (bench.run_dir / f"{load.slug}-{setup.masters}m-r{round_}.txt").write_text(output)
    result = parse_wrk(output)
    check_errors(label, result, bench.notes)
    now = counters(setup, bench.queues)
    moved = "job_processed" if load.takes_jobs else "job_count"
    if load.takes_jobs and now["dry"]:
        bench.notes.append(f"{label}: {now['dry']} queues ran dry: raise rate_estimate")
    if after.rewrites > before.rewrites:
        bench.notes.append(f"{label}: {after.rewrites - before.rewrites} AOF rewrite(s) in the run")
    purge(setup, bench.queues)
    return Measured(
        masters=setup.masters,
        jobs=now[moved] - counted[moved],
        seconds=result.seconds,
        requests_per_second=result.requests_per_second,
        p99_ms=result.p99_ms,
        commands=[b - a for a, b in zip(before.commands, after.commands, strict=True)],
        redis_cpu=[b - a for a, b in zip(before.redis_cpu, after.redis_cpu, strict=True)],
        rewrites=after.rewrites - before.rewrites,
        wall=after.at - before.at,
        presque_cpu=after.presque_cpu - before.presque_cpu,
        wrk_cpu=wrk_cpu,
        machine=after.machine - before.machine,
    )


def measure_load(bench: Bench, load: Load, rounds: int) -> list[Measured]:
    """C{rounds} runs of C{load} on each set-up, the first of each pair taking turns."""
    runs = []
    for round_ in range(1, rounds + 1):
        order = bench.setups if round_ % 2 else bench.setups[::-1]
        runs += [measure(bench, setup, load, round_) for setup in order]
    return runs


# -- the report ---------------------------------------------------------------


def percent(value: float, total: float) -> str:
    return f"{100 * value / total:.0f} %" if total else "-"


def load_report(load: Load, runs: list[Measured]) -> list[str]:
    """
    The lines of one load: for each set-up its jobs/s by round, their mean,
    3/1 and where the CPU went; then the ratio by round, and per master its
    share of the commands and its Redis CPU per 1,000 jobs.
    """
    lines = []
    by_setup = {masters: [run for run in runs if run.masters == masters] for masters in SETUPS}
    mean = {m: sum(r.jobs for r in rs) / sum(r.seconds for r in rs) for m, rs in by_setup.items()}
    for masters, mine in by_setup.items():
        wall = sum(run.wall for run in mine)
        redis = sum(sum(run.redis_cpu) for run in mine)
        presque = sum(run.presque_cpu for run in mine)
        wrk = sum(run.wrk_cpu for run in mine)
        machine = sum(run.machine for run in mine)
        others = max(0.0, machine - redis - presque - wrk)
        rounds = " ".join(f"{run.jobs_per_second:>9,.0f}" for run in mine)
        ratio = f"{mean[masters] / mean[SETUPS[0]]:.2f}x" if masters != SETUPS[0] else ""
        name = load.name if masters == SETUPS[0] else ""
        cpu = " ".join(f"{percent(seconds, wall):>7}" for seconds in (redis, presque, wrk, others))
        lines.append(
            f"{name:<14} {masters:>2} {rounds} {mean[masters]:>9,.0f} {ratio:>6} {cpu}"
            f" {percent(machine, wall):>7} {max(run.p99_ms for run in mine):>7.1f}"
        )
    pairs = zip(by_setup[SETUPS[0]], by_setup[SETUPS[-1]], strict=True)
    by_round = " ".join(f"{b.jobs_per_second / a.jobs_per_second:.2f}x" for a, b in pairs)
    lines.append(f"{'':<14}    3/1 by round: {by_round}")
    single = None
    for masters, mine in by_setup.items():
        commands = [sum(column) for column in zip(*(run.commands for run in mine), strict=True)]
        cpu = [sum(column) for column in zip(*(run.redis_cpu for run in mine), strict=True)]
        jobs = sum(run.jobs for run in mine)
        per_job = [1000 * seconds / jobs for seconds in cpu] if jobs else []
        shares = " ".join(f"{percent(n, sum(commands)):>4}" for n in commands)
        line = (
            f"{'':<14} {masters:>2} commands {shares:<14} Redis CPU s/1000 jobs"
            f" {' '.join(f'{x:.4f}' for x in per_job)}"
        )
        if masters == SETUPS[0]:
            single = per_job[0] if per_job else None
        elif per_job and single:
            line += (
                f", all {sum(per_job):.4f} ({sum(per_job) / single:.2f}x);"
                f" a master {sum(per_job) / len(per_job) / single:.2f}x of 1's"
            )
        lines.append(line)
    return lines


NOTE = """\
On this machine's {cpus} CPUs the masters share the cores with presque's {processes} serving
processes and with wrk: three masters bring no CPU of their own. What spreads is
the storage work: each of the 3 masters runs a third of the commands, and its
Redis CPU per job falls to about 0.4 x the single master's with batches, less
far with single jobs, where a master's cost is mostly per read and reply (the
calls of one reactor turn, split over three masters, take three reads instead
of one), so that the three together cost more than the one. End-to-end jobs/s
grows only where the single master held requests up: the machine then had CPU
left with one master, which three masters use. Where presque's processes fill
the CPUs, it stays flat or drops, the masters' extra cost taking CPU from them.
With a core or a host per master, what spreads is each master's share of a job."""


def spreading(load: Load, runs: list[Measured]) -> str:
    """What C{runs} say of one master's work per job and of the machine's CPUs, in words."""
    one = [run for run in runs if run.masters == SETUPS[0]]
    three = [run for run in runs if run.masters == SETUPS[-1]]

    def per_job(mine: list[Measured]) -> list[float]:
        jobs = sum(run.jobs for run in mine)
        columns = zip(*(run.redis_cpu for run in mine), strict=True)
        return [sum(column) / jobs for column in columns] if jobs else []

    def busy(mine: list[Measured]) -> float:
        return 100 * sum(run.machine for run in mine) / sum(run.wall for run in mine)

    single, spread = per_job(one), per_job(three)
    if not single or not spread or not single[0]:
        return f"{load.name}: no jobs moved"
    redis_share = 100 * sum(sum(run.redis_cpu) for run in one) / sum(run.wall for run in one)
    return (
        f"{load.name}: Redis CPU per job of the busiest of 3 masters"
        f" {max(spread) / single[0]:.2f} x the single master's, of the three together"
        f" {sum(spread) / single[0]:.2f} x; the single master used {redis_share:.0f} % of a"
        f" core; the machine's CPUs were {busy(one):.0f} % busy with 1 master,"
        f" {busy(three):.0f} % with 3, of {100 * (os.cpu_count() or 1)} %."
    )


def report(
    bench: Bench, results: list[tuple[Load, list[Measured]]], held: Counter[int], rounds: int
) -> str:
    """The printed summary."""
    load_average = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    three = bench.setups[-1]
    spread = " ".join(str(held[port]) for port in three.master_ports)
    lines = [
        f"bench.cluster: {len(bench.queues)} queues, held {spread} by the {three.masters} masters"
        f" (CLUSTER KEYSLOT); wrk -t1 -c{CONNECTIONS}, {bench.duration} s runs, {rounds} rounds",
        f"presque: processes = auto ({serving_processes()} serving processes), access log on;"
        f" Redis: AOF everysec, no replicas; {os.cpu_count()} CPUs, load average"
        f" {load_average} at the end",
        "",
        f"{'':<14} {'m':>2} {'jobs/s by round':>{10 * rounds - 1}} {'mean':>9} {'3/1':>6}"
        f" {'Redis':>7} {'presque':>7} {'wrk':>7} {'others':>7} {'machine':>7} {'p99 ms':>7}",
    ]
    for load, runs in results:
        lines += load_report(load, runs)
    lines += [
        "",
        "m: masters. jobs/s: from the queues' counters, over wrk's time; mean: over the",
        "rounds; 3/1: the means' ratio. CPU in % of one core over the runs: Redis (every",
        "master: used_cpu_sys + used_cpu_user), presque (its processes), wrk, others",
        "(the machine's busy time minus those), machine (every core; 100 % per core).",
        "p99: the worst run's. commands: each master's share of total_commands_processed.",
        "",
        NOTE.format(cpus=os.cpu_count(), processes=serving_processes()),
        "",
        *(spreading(load, runs) for load, runs in results),
    ]
    if bench.notes:
        lines += ["", "Notes:", *(f"- {note}" for note in bench.notes)]
    lines.append(f"\nresults in {bench.run_dir}")
    return "\n".join(lines)


def log_notes(setup: Setup, run_dir: Path) -> list[str]:
    """Keep the daemon's non-access lines; note its problems after start-up."""
    scanned = scan_daemon_log(setup.log)
    (run_dir / f"presque-{setup.masters}m.log").write_text("".join(scanned.other_lines))
    if not scanned.problems:
        return []
    return [
        f"daemon log ({setup.label}): {len(scanned.problems)} warning/error lines,"
        f" first: {scanned.problems[0]}"
    ]


# -- the command line ---------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cluster", description=__doc__.split("\n\n")[0].strip()
    )
    parser.add_argument("--duration", type=int, default=5, help="seconds of each wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each set-up per scenario")
    parser.add_argument(
        "--only", action="append", default=[], help="run the scenarios whose name holds TEXT"
    )
    args = parser.parse_args(argv)
    if args.duration < 1 or args.rounds < 1:
        parser.error("--duration and --rounds must be at least 1")
    return args


def benchmark(args: argparse.Namespace, children: Children, workdir: Path) -> None:
    loads = [load for load in LOADS if not args.only or any(t in load.name for t in args.only)]
    if not loads:
        raise BenchError(f"no scenario holds {args.only}")
    started: list[Cluster] = []
    try:
        setups = [start_setup(children, workdir, masters, started) for masters in SETUPS]
        queues, held = spread_queues(setups[-1], QUEUES)
        run_dir = RESULTS_DIR / time.strftime("%Y%m%d-%H%M%S-cluster")
        run_dir.mkdir(parents=True)
        bench = Bench(children, setups, queues, args.duration, run_dir)
        for setup in setups:
            until_serving(bench, setup)
        results = [(load, measure_load(bench, load, args.rounds)) for load in loads]
        children.stop_all()  # the daemons' logs are complete once they have stopped
        for setup in setups:
            bench.notes += log_notes(setup, run_dir)
        text = report(bench, results, held, args.rounds)
        (run_dir / "summary.txt").write_text(text + "\n")
        print(text)
    finally:
        children.stop_all()  # the daemons first, then their masters
        for cluster in started:
            cluster.stop()
            for server in cluster.servers:
                shutil.rmtree(server.dir, ignore_errors=True)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    return run_benchmark(
        "presque-bench-cluster-", lambda children, workdir: benchmark(args, children, workdir)
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
