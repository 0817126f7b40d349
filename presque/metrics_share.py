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

import json
import os
import shutil
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


class FolderRemoval(Service):
    """Removes the daemon's folder of figures when it stops, after its serving processes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def stopService(self) -> None:
        super().stopService()
        shutil.rmtree(self.folder, ignore_errors=True)
