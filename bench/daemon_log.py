"""
What the presque daemon's log says after a benchmark: its size and its problems.

Access lines are only counted; the other lines are kept in the results, and
warnings and errors logged once the daemon was ready get a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bench.scenarios import QUEUE
from bench.servers import THIS, Presque

# Lines of the daemon's log that deserve a look.
LOG_PROBLEMS = ("#error]", "#critical]", "#warn]", "Traceback", "Unhandled")
ACCESS_LOG_MARK = "[presque.access#"
# The access line of the start-up probe that found the daemon ready: the 503s
# the probe may get before it are expected.
READY_MARK = f"GET /j/{QUEUE} 200 "


@dataclass
class DaemonLog:
    """What the daemon's log says."""

    access_lines: int = 0
    other_lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def scan_daemon_log(path: Path) -> DaemonLog:
    """Count the access lines; keep the others, and the problems once the daemon was ready."""
    scanned = DaemonLog()
    ready = False
    with path.open(encoding="utf-8", errors="replace") as log:
        for line in log:
            if ACCESS_LOG_MARK in line:
                scanned.access_lines += 1
                ready = ready or READY_MARK in line
                continue
            scanned.other_lines.append(line)
            if ready and any(mark in line for mark in LOG_PROBLEMS):
                scanned.problems.append(line.rstrip())
    return scanned


def daemon_log_notes(daemon: Presque, run_dir: Path, comparing: bool = False) -> list[str]:
    """
    Keep the daemon's non-access lines (presque.log, or presque-against.log);
    note the log's size and any problem in it.
    """
    scanned = scan_daemon_log(daemon.daemon_log)
    kept = "presque.log" if daemon.label == THIS else f"presque-{daemon.label}.log"
    (run_dir / kept).write_text("".join(scanned.other_lines))
    size = daemon.daemon_log.stat().st_size / 1e6
    whose = f"daemon log ({daemon.label})" if comparing else "daemon log"
    notes = [f"{whose}: {scanned.access_lines:,} access lines, {size:.1f} MB, in a file"]
    if scanned.problems:
        notes.append(
            f"{whose}: {len(scanned.problems)} warning/error lines after start-up,"
            f" first: {scanned.problems[0]}"
        )
    return notes
