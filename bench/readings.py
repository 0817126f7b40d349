"""
What bench.longpoll reads around a measurement, outside HTTP: the CPU
time and open descriptors of a process (from /proc) and Redis's command
counters (C{INFO commandstats}).
"""

from __future__ import annotations

import math
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from harness.redis import redis_command

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of C{pid} so far, from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The fields after the command name, which is in parentheses: the
    # third field of the line (state) is at index 0, utime (14th) at 11.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU time all cores spent busy so far (not idle, not waiting for I/O), from /proc/stat."""
    first_line = Path("/proc/stat").read_text().split("\n", 1)[0]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, first_line.split()[1:9])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def open_fds(pid: int) -> int:
    """How many file descriptors C{pid} has open (its sockets among them)."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def redis_calls(port: int) -> dict[str, int]:
    """Calls per command so far, from C{INFO commandstats}."""
    info = redis_command(port, "INFO", "commandstats")
    return {
        name: int(calls) for name, calls in re.findall(r"^cmdstat_([^:]+):calls=(\d+)", info, re.M)
    }


@dataclass(frozen=True)
class Snapshot:
    """CPU seconds of some processes and Redis's command counters, at one time."""

    at: float
    cpu: dict[str, float]
    calls: dict[str, int]


def snapshot(pids: dict[str, int], redis_port: int | None = None) -> Snapshot:
    """
    Read the CPU time of each of C{pids} (by name), of the whole machine (as
    C{"all"}) and, if given, Redis's counters.
    """
    calls = redis_calls(redis_port) if redis_port is not None else {}
    cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
    cpu["all"] = machine_busy_seconds()
    return Snapshot(time.monotonic(), cpu, calls)


def cpu_percent(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """Each CPU use between two snapshots, in % of one core (C{"all"} up to N x 100)."""
    seconds = after.at - before.at
    return {name: 100 * (after.cpu[name] - before.cpu[name]) / seconds for name in before.cpu}


def command_deltas(before: Snapshot, after: Snapshot) -> dict[str, int]:
    """
    Redis commands run between two snapshots, by command, most first. The
    benchmark's own C{INFO} (the first snapshot's, counted by the second)
    is left out: nothing else sends INFO.
    """
    deltas = {
        name: after.calls[name] - before.calls.get(name, 0)
        for name in after.calls
        if name != "info" and after.calls[name] > before.calls.get(name, 0)
    }
    return dict(sorted(deltas.items(), key=lambda item: -item[1]))


def percentile(ordered: list[float], fraction: float) -> float:
    """The nearest-rank percentile of an ascending, non-empty list."""
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]
