"""
What a Redis master failover costs presque, with and without min_replicas.

For each setting, starts a Sentinel deployment on loopback (a master, two
replicas, three sentinels) and a presque daemon that follows it; measures
POST /q with wrk (what waiting for a replica costs), then plays a failover
under load (harness.failover: producers and leasing consumers, the master
killed with SIGKILL) and prints what was lost. It prints figures; it
asserts nothing.

    .venv/bin/python -m bench.failover [--duration 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.wrk import parse_wrk, wrk_command
from harness.daemon import Daemon
from harness.failover import Outcome, play
from harness.sentinel import Sentinels, sentinel_config

SETTINGS = (0, 1)


def post_rate(daemon: Daemon, duration: int) -> float:
    """POST /q requests per second at 50 connections."""
    command = wrk_command(f"{daemon.url}/q/bench", 50, duration, "post_job.lua")
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse_wrk(output).requests_per_second


def one_setting(min_replicas: int, duration: int) -> tuple[float, Outcome]:
    """The POST rate and the failover's outcome with C{min_replicas}."""
    from twisted.internet import defer, reactor

    sentinels = Sentinels().start()
    folder = Path(tempfile.mkdtemp(prefix="presque-bench-failover-"))
    daemon = Daemon(folder, config=sentinel_config(folder, sentinels, min_replicas)).start()
    try:
        daemon.until_redis_answers()
        rate = post_rate(daemon, duration)
        outcomes: list[Outcome] = []
        done = defer.Deferred.fromCoroutine(play(daemon.url, sentinels.fail_over))
        done.addCallback(outcomes.append).addBoth(lambda _: reactor.stop())
        reactor.run()
        return rate, outcomes[0]
    finally:
        daemon.stop()
        sentinels.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds of each wrk run")
    # Twisted's reactor runs once per process: each setting plays in a child.
    parser.add_argument("--only", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.only is not None:
        print(row(options.only, options.duration))
        return
    print(
        f"{'min_replicas':>12} {'POST/s':>8} {'posted':>7} {'lost':>5} {'unsure':>6}"
        f" {'acked twice':>11} {'no service (s)':>14}  refused"
    )
    for min_replicas in SETTINGS:
        command = [sys.executable, "-m", "bench.failover", "--duration", str(options.duration)]
        command += ["--only", str(min_replicas)]
        line = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        print(f"{min_replicas:>12} {line.strip()}")


def row(min_replicas: int, duration: int) -> str:
    """Play one setting; its row of the table."""
    rate, outcome = one_setting(min_replicas, duration)
    refused = ", ".join(f"{count} x {status}" for status, count in sorted(outcome.refused.items()))
    return (
        f"{rate:>8.0f} {len(outcome.posted):>7} {len(outcome.lost):>5} {len(outcome.unsure):>6}"
        f" {len(outcome.acked_twice):>11} {outcome.without_service:>14.1f}  {refused}"
    )


if __name__ == "__main__":
    main()
