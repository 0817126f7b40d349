"""
The figures of every serving process of one daemon (C{[server] processes}),
added up, so that a scrape of the shared port, whichever process answers
it, tells about the whole daemon.

Each process writes its own figures (requests, Redis calls, waits, waiters:
those that differ from process to process) to a file of its own in a folder
the daemon made, once a second; a scrape adds the other processes' latest
files to its own live figures (theirs are then at most a second old). A
process that ended leaves its file: its counts stay in the totals, as
Prometheus counters must never go down, and its gauges (waiters, streams)
no longer count.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from prometheus_client.metrics_core import Metric
from twisted.application.service import Service
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

log = Logger()

#: Seconds between two writes of a process's figures.
WRITE_EVERY = 1.0

#: Samples whose values are times of creation: the earliest one stands, not their sum.
_CREATED = "_created"


class SharedFigures:
    """This process's file in C{folder}, and the sum of all of them."""

    def __init__(self, folder: Path, own: Callable[[], Iterable[Metric]]) -> None:
        self.folder = folder
        self.own = own
        self.pid = os.getpid()
        self.path = folder / f"{self.pid}.json"

    def write(self) -> None:
        """Write this process's figures, whole or not at all (a rename)."""
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps(self._own()))
        partial.replace(self.path)

    def collect(self) -> list[Metric]:
        """This process's figures, with the other processes' added."""
        merged: dict[str, Metric] = {}
        values: dict[tuple[str, str, tuple[tuple[str, str], ...]], float] = {}
        for alive, families in self._all():
            for name, documentation, kind, samples in families:
                if kind == "gauge" and not alive:
                    continue
                if name not in merged:
                    merged[name] = Metric(name, documentation, kind)
                for sample_name, labels, value in samples:
                    key = (name, sample_name, tuple(sorted(labels.items())))
                    if key not in values:
                        values[key] = value
                    elif sample_name.endswith(_CREATED):
                        values[key] = min(values[key], value)
                    else:
                        values[key] += value
        for (name, sample_name, labels), value in values.items():
            merged[name].add_sample(sample_name, dict(labels), value)
        return list(merged.values())

    def _own(self) -> list[list[object]]:
        return [
            [family.name, family.documentation, family.type, [_sample(s) for s in family.samples]]
            for family in self.own()
        ]

    def _all(self) -> Iterable[tuple[bool, list]]:
        yield True, self._own()
        for path in sorted(self.folder.glob("*.json")):
            if path == self.path:
                continue
            try:
                families = json.loads(path.read_text())
            except (OSError, ValueError):
                continue  # gone, or being replaced: the next scrape reads it
            yield _alive(int(path.stem)), families


def _sample(sample: object) -> list[object]:
    return [sample.name, sample.labels, sample.value]  # type: ignore[attr-defined]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class FiguresWriter(Service):
    """Writes a process's figures (L{SharedFigures.write}) every second, and once more at stop."""

    def __init__(self, shared: SharedFigures, reactor: Any) -> None:
        self.shared = shared
        self._loop = LoopingCall(self._write)
        self._loop.clock = reactor

    def _write(self) -> None:
        try:
            self.shared.write()
        except OSError as error:
            log.warn("writing this process's figures failed: {error}", error=error)

    def startService(self) -> None:
        super().startService()
        self._loop.start(WRITE_EVERY, now=True)

    def stopService(self) -> None:
        super().stopService()
        if self._loop.running:
            self._loop.stop()
        self._write()


#: The start of the name of every daemon's folder of figures, in the temporary directory.
FOLDER_PREFIX = "presque-figures-"
#: Seconds a folder must have gone unwritten before it may be stale: every
#: process of a live daemon writes to it every second (L{WRITE_EVERY}), so
#: this covers a daemon between making its folder and its first write.
QUIET = 10.0


class FiguresFolder(Service):
    """
    A daemon's folder of figures, made by L{make}, and removed when the
    daemon stops, after its serving processes.

    The daemon holds a lock (C{flock}) on the folder as long as it lives,
    which the kernel releases however it ends: a daemon killed by SIGKILL
    cannot remove its folder, so the next daemon's L{make} removes every
    folder whose lock is free (L{remove_stale_folders}). A lock is immune to
    the reuse of pids and reads the same from every pid namespace sharing
    the directory, where a pid says nothing.
    """

    def __init__(self, path: Path, lock: int) -> None:
        self.path = path
        self._lock = lock

    @classmethod
    def make(cls, parent: Path | None = None) -> FiguresFolder:
        """A new folder in C{parent} (the temporary directory), once the stale ones are gone."""
        parent = Path(parent or tempfile.gettempdir())
        remove_left_folders(parent)
        path = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX, dir=parent))
        lock = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        # Blocking: another daemon's sweep may hold it a moment, and leaves
        # a folder this new alone (QUIET).
        fcntl.flock(lock, fcntl.LOCK_EX)
        return cls(path, lock)

    def stopService(self) -> None:
        super().stopService()
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._lock)


def remove_left_folders(parent: Path | None = None) -> None:
    """
    Remove the folders of figures that killed daemons left in C{parent}
    (the temporary directory), saying so: what every daemon does at start,
    whatever its own C{processes}, so that none is left for good by a
    daemon that ran several and then one (L{remove_stale_folders}).
    """
    for stale in remove_stale_folders(Path(parent or tempfile.gettempdir())):
        log.info("removed {folder}, left by a daemon that was killed", folder=stale)


def remove_stale_folders(parent: Path, quiet: float = QUIET) -> list[Path]:
    """
    Remove the folders of figures in C{parent} that no daemon uses any
    more, and say which. A folder is stale when it is a directory (not a
    symlink) of this user, no process holds its lock, nothing was written
    to it for C{quiet} seconds, and none of its files is a live process's.
    The last two also keep the folders of daemons of earlier versions,
    which took no lock: each of their processes writes its file there
    every second.
    """
    removed = []
    for path in sorted(parent.glob(FOLDER_PREFIX + "*")):
        try:
            folder = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue  # a symlink, a file, gone, or not ours to read
        try:
            if _stale(path, folder, quiet):
                # Under its lock, so that no other sweep meanwhile thinks it alive.
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        finally:
            os.close(folder)
    return removed


def _stale(path: Path, folder: int, quiet: float) -> bool:
    status = os.fstat(folder)
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.geteuid():
        return False
    try:
        fcntl.flock(folder, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # its daemon lives
    if time.time() - status.st_mtime < quiet:
        return False
    for entry in os.scandir(folder):
        pid, _, _ = entry.name.partition(".")
        if not (pid.isascii() and pid.isdigit()):
            continue
        try:
            written = entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            return False  # replaced meanwhile: a process writes there
        if _wrote(int(pid), written):
            return False
    return True


def _wrote(pid: int, written: float) -> bool:
    """
    Whether process C{pid} may have written a file last at C{written}: it
    lives, and it did not start after that, as a process given the pid of a
    dead writer did. Unsure (no /proc): yes.
    """
    if not _alive(pid):
        return False
    started = _start_time(pid)
    # /proc tells a start to the clock tick, the clock a write more finely.
    return started is None or started <= written + 1.0


def _start_time(pid: int) -> float | None:
    """When process C{pid} started (seconds since the epoch), from /proc; None if unknown."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    # Field 22, counted after the command's closing parenthesis (the
    # command may hold spaces and parentheses): clock ticks after boot.
    fields = stat_line.rpartition(")")[2].split()
    try:
        ticks = int(fields[19])
    except (IndexError, ValueError):
        return None
    return time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")
