"""
Telling systemd how the daemon is (C{Type=notify} units), with the
datagrams of sd_notify(3) and no library.

C{READY=1} goes once every listener accepts connections, C{STOPPING=1} when
a stop begins, and C{WATCHDOG=1} every half of C{WatchdogSec} while the
reactor turns: a daemon stuck in a loop stops sending it and systemd
restarts it. Outside systemd (no C{NOTIFY_SOCKET}) nothing is sent.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import Any

from twisted.application.service import Service
from twisted.internet import defer
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

log = Logger()


class Notifier:
    """Sends sd_notify messages to the socket named by C{NOTIFY_SOCKET}."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        environ = os.environ if environ is None else environ
        path = environ.get("NOTIFY_SOCKET", "")
        # "@name" is a socket in the abstract namespace.
        self.address = "\0" + path[1:] if path.startswith("@") else path
        self.watchdog_interval = _watchdog_interval(environ)

    @property
    def enabled(self) -> bool:
        """Whether systemd listens."""
        return bool(self.address)

    def send(self, *states: str) -> None:
        """Send C{states} (C{"READY=1"}, ...) in one datagram; failures are logged, not raised."""
        if not self.enabled:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto("\n".join(states).encode("utf-8"), self.address)
        except OSError as error:
            log.warn("could not notify systemd: {error}", error=error)


def _watchdog_interval(environ: Mapping[str, str]) -> float | None:
    """Half of the watchdog period systemd asks for, in seconds, if it asks this process."""
    pid = environ.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 2e6 if usec > 0 else None


class SystemdNotification(Service):
    """Tells systemd that the daemon is ready once C{ready} fires, and alive until it stops."""

    def __init__(self, notifier: Notifier, ready: defer.Deferred[Any], reactor: Any) -> None:
        self.notifier = notifier
        self.ready = ready
        self.reactor = reactor
        self._watchdog: LoopingCall | None = None

    def startService(self) -> None:
        super().startService()
        if not self.notifier.enabled:
            return
        self.ready.addCallback(self._serving)
        interval = self.notifier.watchdog_interval
        if interval is not None:
            self._watchdog = LoopingCall(self.notifier.send, "WATCHDOG=1")
            self._watchdog.clock = self.reactor
            self._watchdog.start(interval, now=True)

    def _serving(self, result: Any) -> Any:
        if self.running:
            self.notifier.send("READY=1", "STATUS=serving")
        return result

    def stopService(self) -> None:
        super().stopService()
        self.notifier.send("STOPPING=1", "STATUS=stopping")
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None and watchdog.running:
            watchdog.stop()
