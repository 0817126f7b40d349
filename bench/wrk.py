"""
wrk, the load generator: its command line, a run, and the figures of its output.

Every run asks for C{--latency}, so that the output carries the percentiles.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from bench.children import Children
from bench.errors import BenchError
from bench.scenarios import JOBS_PER_BATCH

# The Lua scripts of the scenarios sit beside this file.
SCRIPTS_DIR = Path(__file__).resolve().parent
# One wrk thread outpaces a single-threaded Python server many times over; on
# two cores a second one would only take CPU from the daemon and Redis.
WRK_THREADS = 1

_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run reports."""

    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int  # connect, read, write and timeout errors
    read_errors: int = 0  # of which read errors (a server closing connections makes some)


def require_wrk() -> str:
    """The path of wrk, or a message saying how to install it."""
    found = shutil.which("wrk")
    if found is None:
        raise BenchError("wrk is not on PATH: install it (apt-get install wrk) and run again")
    return found


def wrk_command(url: str, connections: int, duration: int, script: str | None) -> list[str]:
    """The wrk command line of one run."""
    threads = min(WRK_THREADS, connections)
    args = [require_wrk(), f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    if script is not None:
        args += ["-s", str(SCRIPTS_DIR / script)]
    return [*args, url]


def run_wrk(children: Children, args: list[str], duration: int) -> str:
    """Run wrk and return what it prints."""
    env = {**os.environ, "JOBS_PER_BATCH": str(JOBS_PER_BATCH)}
    return children.run("wrk", args, timeout=duration + 60, env=env)


def to_ms(value: str, unit: str) -> float:
    """A wrk time (value and unit) in milliseconds."""
    return float(value) * _TIME_UNITS_MS[unit]


def parse_wrk(output: str) -> WrkResult:
    """The figures of a C{wrk --latency} output."""
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h),", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    latency = {
        percent: (value, unit)
        for percent, value, unit in re.findall(
            r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.M
        )
    }
    if total is None or rate is None or set(latency) != {"50", "99"}:
        raise BenchError(f"cannot read wrk's output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests=int(total.group(1)),
        seconds=to_ms(total.group(2), total.group(3)) / 1000,
        requests_per_second=float(rate.group(1)),
        p50_ms=to_ms(*latency["50"]),
        p99_ms=to_ms(*latency["99"]),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        read_errors=int(errors.group(2)) if errors else 0,
    )
