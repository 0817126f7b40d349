"""
Several serving processes per daemon (C{[server] processes}): the daemon
binds the listening sockets, and once Redis is ready starts the other
serving processes (L{presque.child}), which inherit those sockets and
accept on them too: the kernel hands each connection to one of them.

The daemon supervises them: one that dies is started again (after a pause
that grows while they keep dying), and a stop sends each a SIGTERM, which
drains it as it drains the daemon, then waits for all of them. The daemon
alone runs the embedded Redis and the periodic work; each process has its
own connections to Redis and answers every route.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twisted.application.service import Service
from twisted.internet import defer, protocol
from twisted.internet.error import ProcessExitedAlready
from twisted.logger import Logger, eventFromJSON, globalLogPublisher

from presque.config import Config

log = Logger()

#: Pauses before starting again a process that died (seconds): the first
#: death is answered at once, a process that keeps dying slows down.
RESTART_DELAYS = (0.0, 1.0, 2.0, 5.0, 10.0)
#: A process that lived this long (seconds) died by accident, not at start.
STEADY_AFTER = 30.0
#: The longest log record of a child kept (bytes); a longer one is dropped.
MAX_LOG_RECORD = 1024 * 1024
#: The file descriptor of a child's first inherited socket.
FIRST_INHERITED_FD = 3


@dataclass(frozen=True)
class ChildPlan:
    """What a serving child is told on its standard input."""

    config: Config
    #: The endpoint description of each inherited socket, in the order of their descriptors.
    listen: tuple[str, ...]
    #: The folder where each serving process writes its figures (L{presque.metrics_share}).
    figures: Path
    #: The daemon's pid: a child whose parent is another process by then stops at once.
    daemon: int
    #: Whether the child writes its log itself, as twistd's text lines on the
    #: daemon's standard output (L{presque.logs.TextLog}), rather than
    #: sending its events to the daemon, which logs them wherever its own go.
    shares_text_log: bool = False


class ServingProcesses(Service):
    """
    Runs C{count} serving processes besides this one over the sockets of
    C{listeners} (L{presque.listeners.Listener}s), once C{ready} fires.
    """

    def __init__(
        self,
        plan: ChildPlan,
        listeners: Sequence[Any],
        count: int,
        ready: defer.Deferred[None],
        reactor: Any,
    ) -> None:
        self.plan = plan
        self.listeners = listeners
        self.count = count
        self.ready = ready
        self.reactor = reactor
        self._children: dict[int, _Child] = {}
        self._deaths: dict[int, int] = {}

    def startService(self) -> None:
        super().startService()
        self.ready.addCallback(lambda _: self._start_all())

    def _start_all(self) -> None:
        if not self.running:
            return
        for slot in range(self.count):
            self._start(slot)

    def _start(self, slot: int) -> None:
        if not self.running:
            return
        ports = [listener.port for listener in self.listeners]
        if any(port is None for port in ports):
            return
        # stdin: the plan; stdout: its log events, or the daemon's own
        # stdout; stderr: the daemon's own.
        fds: dict[int, int | str] = {0: "w", 1: 1 if self.plan.shares_text_log else "r", 2: 2}
        for offset, port in enumerate(ports):
            fds[FIRST_INHERITED_FD + offset] = port.fileno()
        child = _Child(self, slot, self.reactor.seconds())
        self.reactor.spawnProcess(
            child,
            sys.executable,
            [sys.executable, "-m", "presque.child"],
            env=os.environ.copy(),
            childFDs=fds,
        )
        child.transport.writeToChild(0, pickle.dumps(self.plan))
        child.transport.closeChildFD(0)
        self._children[slot] = child
        log.info("serving process {slot} started (pid {pid})", slot=slot + 2, pid=child.pid)

    def _ended(self, child: _Child, reason: Any) -> None:
        if self._children.get(child.slot) is child:
            del self._children[child.slot]
        child.ended.callback(None)
        if not self.running:
            return
        lived = self.reactor.seconds() - child.started
        deaths = 0 if lived > STEADY_AFTER else self._deaths.get(child.slot, 0) + 1
        self._deaths[child.slot] = deaths
        delay = RESTART_DELAYS[min(deaths, len(RESTART_DELAYS)) - 1] if deaths else 0.0
        log.warn(
            "serving process {slot} (pid {pid}) ended: {reason}; starting it again in {delay:g} s",
            slot=child.slot + 2,
            pid=child.pid,
            reason=reason.getErrorMessage(),
            delay=delay,
        )
        self.reactor.callLater(delay, self._start, child.slot)

    def stopService(self) -> defer.Deferred[None]:
        super().stopService()
        children = list(self._children.values())
        for child in children:
            child.signal(signal.SIGTERM)
        # Each drains as the daemon does, within its shutdown grace; past
        # that and a margin, it is killed.
        grace = self.plan.config.server.shutdown_grace + 5
        waits = [
            child.ended.addTimeout(grace, self.reactor).addErrback(lambda _, c=child: c.kill())
            for child in children
        ]
        return defer.gatherResults(waits).addCallback(lambda _: None)


class _Child(protocol.ProcessProtocol):
    """
    One serving child: told its plan on stdin; its log events, one JSON
    record a line on its stdout, are published in the daemon's log, so that
    they go wherever the daemon's go (a file that rotates, the journal).
    """

    def __init__(self, owner: ServingProcesses, slot: int, started: float) -> None:
        self.owner = owner
        self.slot = slot
        self.started = started
        self.pid: int | None = None
        self.ended: defer.Deferred[None] = defer.Deferred()
        self._partial = b""

    def outReceived(self, data: bytes) -> None:
        *records, self._partial = (self._partial + data).split(b"\n")
        if len(self._partial) > MAX_LOG_RECORD:
            self._partial = b""
        for record in records:
            try:
                event = eventFromJSON(record.lstrip(b"\x1e").decode("utf-8"))
            except ValueError:
                continue
            event["presque_process"] = self.slot + 2
            globalLogPublisher(event)

    def connectionMade(self) -> None:
        self.pid = self.transport.pid

    def processEnded(self, reason: Any) -> None:
        self.owner._ended(self, reason)

    def signal(self, number: int) -> None:
        with contextlib.suppress(ProcessExitedAlready):
            self.transport.signalProcess(number)

    def kill(self) -> None:
        log.warn("serving process {slot} did not stop in time: killed", slot=self.slot + 2)
        self.signal(signal.SIGKILL)
