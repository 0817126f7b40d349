"""
HTTP throughput of presque, measured with wrk against a real daemon.

Starts a private redis-server, one presque daemon (twistd, default settings,
its log written to a file as in production) and a bare twisted.web server,
the ceiling of the stack. Then runs every scenario with wrk at 1 and at 50
connections and prints one table. It prints figures; it asserts nothing.

    .venv/bin/python -m bench.run [--duration 10] [--quick] [--against PATH] [--scrape [this]]
                                  [--processes N] [--only TEXT ...] [--perl DIR]

With --against PATH (another presque checkout, with its own .venv), a second
daemon from PATH runs beside this checkout's, with its own private Redis; each
presque scenario is run on both in turn and the table adds "this/against".

With --scrape, every daemon's /metrics is fetched every second meanwhile,
as Prometheus would; with --scrape this, only this checkout's daemon's, so
that "this/against" against a copy of the same checkout is what being
scraped costs.

With --perl DIR (or PRESQUE_PERL=DIR), the original presque (Perl, 2010),
installed in DIR by harness/perl-presque, runs beside this checkout's daemon
with its own private Redis; POST /q and GET /q at 50 connections are run on
both in turn, and the table adds "this/perl", against the target of 5 times.

With --only TEXT (given once or more), only the scenarios whose name holds
one of the TEXTs run: C{--only lease+} compares acking a leased batch job by
job with settling it in one request.

Raw wrk outputs, the table, the daemon's non-access log lines and Redis's log
are kept in bench/results/<date-time>/.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.children import Children, run_benchmark
from bench.daemon_log import daemon_log_notes
from bench.measure import Run, run_all, warm_up
from bench.perl_peer import log_notes as perl_log_notes
from bench.report import report
from bench.scenarios import SCENARIOS
from bench.scraper import scraping
from bench.servers import AGAINST, PERL, THIS, Servers, describe_perl, start_servers
from bench.wrk import require_wrk
from harness.daemon import ROOT

RESULTS_DIR = Path(__file__).resolve().with_name("results")
DEFAULT_DURATION = 10
QUICK_DURATION = 3


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.split("\n\n")[0].strip()
    )
    parser.add_argument(
        "--duration",
        type=int,
        default=None,
        help=f"seconds per wrk run (default {DEFAULT_DURATION})",
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_DURATION}s runs, unless --duration is given"
    )
    parser.add_argument(
        "--against",
        type=Path,
        metavar="PATH",
        help="another presque checkout (with PATH/.venv/bin/twistd) to measure beside this one",
    )
    parser.add_argument(
        "--scrape",
        nargs="?",
        const="all",
        choices=("all", "this"),
        help="GET /metrics of every daemon (or of this checkout's only) every second meanwhile",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="[server] processes of this checkout's daemon (the --against one keeps its default)",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="TEXT",
        help="run only the scenarios whose name holds TEXT (may be given more than once)",
    )
    parser.add_argument(
        "--perl",
        type=Path,
        metavar="DIR",
        default=os.environ.get("PRESQUE_PERL") or None,
        help="the original presque (Perl), installed in DIR by harness/perl-presque, to measure"
        " beside this checkout on POST /q and GET /q (default: $PRESQUE_PERL)",
    )
    args = parser.parse_args(argv)
    if args.processes < 1:
        parser.error("--processes must be at least 1")
    args.scenarios = [s for s in SCENARIOS if not args.only or any(t in s.name for t in args.only)]
    if not args.scenarios:
        parser.error(f"--only: no scenario's name holds {' or '.join(args.only)}")
    if args.duration is None:
        args.duration = QUICK_DURATION if args.quick else DEFAULT_DURATION
    if args.duration < 1:
        parser.error("--duration must be at least 1")
    if args.against is not None:
        args.against = args.against.resolve()
        if not (args.against / ".venv" / "bin" / "twistd").exists():
            parser.error(f"--against: no {args.against}/.venv/bin/twistd")
    if args.perl is not None:
        args.perl = Path(args.perl).resolve()
        if not (args.perl / "presque" / "app.psgi").is_file():
            parser.error(f"--perl: no {args.perl}/presque/app.psgi (see harness/perl-presque)")
        if not any(scenario.perl for scenario in args.scenarios):
            print("bench: --perl: no scenario of the original presque is selected", file=sys.stderr)
            args.perl = None
    return args


def describe_checkout(path: Path) -> str:
    """C{path}, its commit and whether it has uncommitted changes (read-only git)."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(path), *args],
            capture_output=True,
            text=True,
            timeout=30,
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("log", "-1", "--format=%h %s")
    if not commit:
        return str(path)
    changed = git("status", "--porcelain", "--untracked-files=no")
    return f"{path} at {commit}" + (" (with uncommitted changes)" if changed else "")


def keep_logs(servers: Servers, run_dir: Path, comparing: bool) -> list[str]:
    """Keep each daemon's non-access lines and each Redis's log; the notes on them."""
    notes = []
    for daemon in servers.daemons:
        notes += daemon_log_notes(daemon, run_dir, comparing)
        kept = "redis.log" if daemon.label == THIS else f"redis-{daemon.label}.log"
        shutil.copy(daemon.redis_log, run_dir / kept)
    if servers.perl is not None:
        notes += perl_log_notes(servers.perl, run_dir)
    return notes


def benchmark(args: argparse.Namespace, children: Children, workdir: Path) -> None:
    """Start the servers, run the scenarios of C{args}, print and keep the report."""
    duration, against, scrape, perl = args.duration, args.against, args.scrape, args.perl
    checkouts = {}
    if against is not None or perl is not None:
        checkouts[THIS] = describe_checkout(ROOT)
    if against is not None:
        checkouts[AGAINST] = describe_checkout(against)
    if perl is not None:
        checkouts[PERL] = describe_perl(perl)
    servers = start_servers(children, workdir, against, args.processes, perl)
    run_dir = RESULTS_DIR / time.strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True)
    run = Run(servers, children, duration, run_dir, scenarios=list(args.scenarios))
    warm_up(run)
    if scrape:
        scraped = [d for d in servers.daemons if scrape == "all" or d.label == THIS]
        with scraping([daemon.port for daemon in scraped], run.notes):
            rows = run_all(run)
    else:
        rows = run_all(run)
    children.stop_all()  # the daemons' logs are complete once they have stopped
    notes = run.notes + keep_logs(servers, run_dir, run.labelled)
    text = report(rows, notes, duration, run_dir, checkouts)
    (run_dir / "summary.txt").write_text(text + "\n")
    print(text)


def main(argv: list[str]) -> int:
    """Run the benchmark; always stop what it started."""
    args = parse_args(argv)

    def work(children: Children, workdir: Path) -> None:
        require_wrk()
        benchmark(args, children, workdir)

    return run_benchmark("presque-bench-", work)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
