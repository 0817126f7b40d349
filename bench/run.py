#!/usr/bin/env python
"""
HTTP throughput of presque, measured with wrk against a real daemon.

Starts a private redis-server, one presque daemon (twistd, default settings,
its log written to a file as in production) and a bare twisted.web server,
the ceiling of the stack. Then runs every scenario with wrk at 1 and at 50
connections and prints one table. It prints figures; it asserts nothing.

    .venv/bin/python bench/run.py [--duration 10] [--quick]

Raw wrk outputs, the table, the daemon's non-access log lines and Redis's log
are kept in bench/results/<date-time>/.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from daemon_log import daemon_log_notes
from measure import Run, run_all, warm_up
from processes import Children, run_benchmark
from report import report
from servers import start_servers
from wrk import require_wrk

RESULTS_DIR = Path(__file__).resolve().with_name("results")
DEFAULT_DURATION = 10
QUICK_DURATION = 3


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    parser.add_argument(
        "--duration",
        type=int,
        default=None,
        help=f"seconds per wrk run (default {DEFAULT_DURATION})",
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_DURATION}s runs, unless --duration is given"
    )
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = QUICK_DURATION if args.quick else DEFAULT_DURATION
    if args.duration < 1:
        parser.error("--duration must be at least 1")
    return args


def benchmark(duration: int, children: Children, workdir: Path) -> None:
    """Start the servers, run everything, print and keep the report."""
    servers = start_servers(children, workdir)
    run_dir = RESULTS_DIR / time.strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True)
    run = Run(servers, children, duration, run_dir)
    warm_up(run)
    rows = run_all(run)
    children.stop_all()  # the daemon's log is complete once it has stopped
    notes = run.notes + daemon_log_notes(servers, run_dir)
    shutil.copy(servers.redis_log, run_dir / "redis.log")
    text = report(rows, notes, duration, run_dir)
    (run_dir / "summary.txt").write_text(text + "\n")
    print(text)


def main(argv: list[str]) -> int:
    """Run the benchmark; always stop what it started."""
    args = parse_args(argv)

    def work(children: Children, workdir: Path) -> None:
        require_wrk()
        benchmark(args.duration, children, workdir)

    return run_benchmark("presque-bench-", work)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
