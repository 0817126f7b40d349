"""
The original presque (Perl, 2010) as the peer of C{--perl DIR}: what it needs
that a presque daemon does not.

Its handlers send their Redis commands without waiting for the replies:
C{DELETE /q} answers 204 before the jobs are deleted, C{POST /qb} answers
201 before they are queued. So its queue is reset with C{FLUSHDB} on its
private Redis, which holds nothing else, and after a pre-fill through its
C{POST /qb} the benchmark waits until C{GET /j} counts the jobs.

Twiggy answers in HTTP/1.0 without a Content-Length and closes the
connection after each answer; wrk reads the answer up to that close, counts
the request, then counts the close as a read error. Those read errors are
not errors: they are left out of the table's errors and said in a note.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from bench import presque_client
from bench.errors import waiting_for
from bench.servers import Presque
from bench.wrk import WrkResult
from harness.polling import wait_until
from harness.redis import redis_command

PREFILL_TIMEOUT = 300.0


def reset(daemon: Presque) -> None:
    """No job, no counter left: its private Redis emptied."""
    with waiting_for(f"redis on port {daemon.redis}"):
        redis_command(daemon.redis, "FLUSHDB")


def prefill(daemon: Presque, jobs: int) -> int:
    """Pre-fill through its C{POST /qb}; return once it has queued them all."""
    loaded = presque_client.prefill(daemon.port, jobs)
    with waiting_for("the original presque does not queue its pre-fill"):
        wait_until(
            lambda: presque_client.queue_counts(daemon.port)["job_count"] >= loaded,
            PREFILL_TIMEOUT,
            f"fewer than {loaded:,} jobs queued after {PREFILL_TIMEOUT:.0f}s",
        )
    return loaded


def without_closes(result: WrkResult) -> WrkResult:
    """One of its runs' figures without the read errors that are closes."""
    return dataclasses.replace(
        result, socket_errors=result.socket_errors - result.read_errors, read_errors=0
    )


def closes_note(label: str, result: WrkResult) -> str:
    """What the read errors of one of its runs are."""
    return (
        f"{label}: {result.read_errors:,} read errors in {result.requests:,} requests are"
        " Twiggy closing each connection after its answer (HTTP/1.0, no Content-Length),"
        " not counted as errors"
    )


def log_notes(daemon: Presque, run_dir: Path) -> list[str]:
    """Keep its log (presque-perl.log) and its Redis's; note what the log holds."""
    shutil.copy(daemon.daemon_log, run_dir / "presque-perl.log")
    shutil.copy(daemon.redis_log, run_dir / "redis-perl.log")
    lines = daemon.daemon_log.read_text(errors="replace").splitlines()
    note = f"daemon log (perl): {len(lines):,} lines (no access log)"
    if lines:
        note += f", first: {lines[0]}"
    return [note]
