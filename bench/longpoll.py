"""
Long polling of presque, measured against a real daemon.

Starts a private redis-server and one presque daemon, as bench.run does,
then drives them with treq from this process's reactor:

1. end-to-end latency: 50 consumers long-poll one queue (wait=20, lease=30,
   an ack after each job) while producers POST jobs at each steady rate;
   a job's latency runs from its POST being sent to a consumer reading it;
2. idle waiters: 1,000 requests wait on an empty queue for 10 s, while
   Redis's commands and the CPU time of the daemon are counted.

It prints figures; it asserts nothing.

    .venv/bin/python -m bench.longpoll [--duration 10] [--rates 200,1000,2000]

The summary, the daemon's non-access log lines and Redis's log are kept in
bench/results/<date-time>-longpoll/.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from treq.client import HTTPClient
from twisted.internet import defer, reactor
from twisted.python.failure import Failure
from twisted.web.client import Agent, HTTPConnectionPool

from bench.children import Children, run_benchmark
from bench.daemon_log import scan_daemon_log
from bench.errors import BenchError
from bench.longpoll_flow import CONSUMERS, MAX_POSTS_IN_FLIGHT, Flow, measure_rate
from bench.longpoll_idle import WAITERS, Idle, measure_idle
from bench.longpoll_report import longpoll_report
from bench.measure import progress
from bench.presque_client import purge, queue_counts
from bench.servers import start_daemon, start_redis, twistd_of

RESULTS_DIR = Path(__file__).resolve().with_name("results")
DEFAULT_DURATION = 10
DEFAULT_RATES = (200, 1000, 2000)
# An unreported run first, so that the first rate does not pay for the warm-up.
WARM_UP_RATE, WARM_UP_SECONDS = 200, 1
# Descriptors the idle waiters need here and in the daemon (which inherits them).
FILES_NEEDED = WAITERS + 1000


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.longpoll", description=__doc__.split("\n\n")[0].strip()
    )
    parser.add_argument(
        "--duration",
        type=int,
        default=DEFAULT_DURATION,
        help=f"seconds of POSTs per rate (default {DEFAULT_DURATION})",
    )
    parser.add_argument(
        "--rates",
        default=",".join(map(str, DEFAULT_RATES)),
        help="jobs per second to POST, comma-separated (default %(default)s)",
    )
    args = parser.parse_args(argv)
    if args.duration < 1:
        parser.error("--duration must be at least 1")
    try:
        args.rates = [int(rate) for rate in args.rates.split(",")]
    except ValueError:
        parser.error("--rates must be whole numbers, comma-separated")
    if not args.rates or min(args.rates) < 1:
        parser.error("--rates must be at least 1 each")
    return args


def raise_file_limit() -> None:
    """Let this process and the daemon it starts open enough connections."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < FILES_NEEDED:
        if hard != resource.RLIM_INFINITY and hard < FILES_NEEDED:
            raise BenchError(f"open files are limited to {hard}; {FILES_NEEDED} are needed")
        resource.setrlimit(resource.RLIMIT_NOFILE, (FILES_NEEDED, hard))


def in_reactor(work: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run the reactor until C{work()} is done; its result. Ctrl-C or SIGTERM stop it."""
    outcome: list[Any] = []

    def start() -> None:
        done = defer.Deferred.fromCoroutine(work())
        done.addBoth(outcome.append)
        done.addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(start)
    reactor.run()
    if not outcome:
        raise KeyboardInterrupt
    if isinstance(outcome[0], Failure):
        outcome[0].raiseException()
    return outcome[0]


async def measure_all(
    port: int, redis_port: int, rates: list[int], duration: int, pids: dict[str, int]
) -> tuple[list[Flow], Idle, list[str]]:
    """Every rate, then the idle waiters; the queue is purged around each run."""
    base = f"http://127.0.0.1:{port}"
    pool = HTTPConnectionPool(reactor, persistent=True)
    pool.maxPersistentPerHost = CONSUMERS + MAX_POSTS_IN_FLIGHT + 16
    http = HTTPClient(Agent(reactor, pool=pool))
    notes: list[str] = []
    progress(f"warming up: {WARM_UP_RATE} jobs/s for {WARM_UP_SECONDS}s")
    purge(port)
    await measure_rate(http, base, WARM_UP_RATE, WARM_UP_SECONDS, pids)
    flows = []
    for rate in rates:
        progress(f"{rate:,} jobs/s for {duration}s")
        purge(port)
        flows.append(await measure_rate(http, base, rate, duration, pids))
        left = queue_counts(port)["job_count"]
        if left:
            notes.append(f"{rate:,} jobs/s: {left:,} jobs still ready after the run")
    await pool.closeCachedConnections()
    purge(port)
    progress(f"{WAITERS:,} idle waiters")
    idle = await measure_idle(base, pids["daemon"], redis_port, pids)
    return flows, idle, notes


def log_notes(daemon_log: Path, run_dir: Path) -> list[str]:
    """Keep the daemon's non-access lines; note its problems after start-up."""
    scanned = scan_daemon_log(daemon_log)
    (run_dir / "presque.log").write_text("".join(scanned.other_lines))
    if not scanned.problems:
        return []
    return [
        f"daemon log: {len(scanned.problems)} warning/error lines after start-up,"
        f" first: {scanned.problems[0]}"
    ]


def benchmark(args: argparse.Namespace, children: Children, workdir: Path) -> None:
    """Start the servers, measure, print and keep the report."""
    redis_port = start_redis(children, workdir)
    port, daemon_log = start_daemon(children, workdir, redis_port, twistd_of(None))
    pids = {
        "daemon": children.pid("presque"),
        "redis": children.pid("redis-server"),
        "bench": os.getpid(),
    }
    flows, idle, notes = in_reactor(
        lambda: measure_all(port, redis_port, args.rates, args.duration, pids)
    )
    children.stop_all()  # the daemon's log is complete once it has stopped
    run_dir = RESULTS_DIR / time.strftime("%Y%m%d-%H%M%S-longpoll")
    run_dir.mkdir(parents=True)
    notes += log_notes(daemon_log, run_dir)
    shutil.copy(workdir / "redis.log", run_dir / "redis.log")
    text = longpoll_report(flows, idle, notes, args.duration, run_dir)
    (run_dir / "summary.txt").write_text(text + "\n")
    print(text)


def main(argv: list[str]) -> int:
    """Run the benchmark; always stop what it started."""
    args = parse_args(argv)

    def work(children: Children, workdir: Path) -> None:
        raise_file_limit()
        benchmark(args, children, workdir)

    return run_benchmark("presque-longpoll-", work)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
