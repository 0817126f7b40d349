"""
Log observers for the daemon and for twistd's C{--logger} option, and what
the daemon keeps out of its log.

Without C{--logger}, C{--syslog} or C{--logfile}, C{twistd -n presque}
writes twistd's text lines on standard output through L{text_observer}:
the same lines, written once per reactor turn rather than once per event.

C{twistd -n --logger presque.logs.json_observer presque ...} writes one JSON
object per line on standard output, ready for journald, Loki or jq; every
field of an event (the access log's method, uri, code, duration_ms, ...)
is a key of its own.
"""

from __future__ import annotations

import select
import sys
import threading
import time
from collections.abc import Mapping
from typing import IO, Any

from twisted.application.internet import ClientService
from twisted.application.service import IService, MultiService
from twisted.logger import (
    FileLogObserver,
    ILogObserver,
    Logger,
    formatEventAsClassicLogText,
    formatTime,
    globalLogPublisher,
    jsonFileLogObserver,
    timeFormatRFC3339,
)

#: The namespace of the access log's events.
ACCESS_LOG_NAMESPACE = "presque.access"


def json_observer() -> ILogObserver:
    """JSON lines on standard output."""
    # Without recordSeparator="", each line would start with \x1e (RFC 7464),
    # which JSON-lines tools reject.
    return jsonFileLogObserver(sys.stdout, recordSeparator="")


#: The most characters one write() of L{TurnBufferedFile} carries, unless
#: one event alone is longer: a write of at most PIPE_BUF bytes to a pipe
#: is never mixed with another process's, and serving processes that share
#: the daemon's standard output write to it side by side (L{presque.child}).
#: A character takes at most 4 bytes in UTF-8.
WHOLE_WRITE = select.PIPE_BUF // 4


class TurnBufferedFile:
    """
    A text file whose writes reach C{file} once per reactor turn, in one
    system call per L{WHOLE_WRITE} characters: twisted.logger's file
    observers flush after each event, which cost the access log a write()
    per request, a tenth of a request's time. Outside the reactor's thread,
    or while it does not run (before it starts, once it stopped), each
    write goes straight through.
    """

    def __init__(self, file: IO[str], reactor: Any) -> None:
        self._file = file
        self._reactor = reactor
        self._thread = threading.get_ident()
        self._pending: list[str] = []
        self._flush_call: Any = None
        # What the last turn before a stop logged.
        reactor.addSystemEventTrigger("after", "shutdown", self.flush_now)

    def write(self, text: str) -> None:
        """Keep C{text} for the end of the turn."""
        if threading.get_ident() != self._thread:
            # The reactor's turn is not this thread's to end, nor to flush.
            self._write(text)
            return
        self._pending.append(text)
        if not self._reactor.running:
            self.flush_now()
        elif self._flush_call is None:
            self._flush_call = self._reactor.callLater(0, self.flush_now)

    def flush(self) -> None:
        """Nothing: the end of the turn flushes (L{flush_now})."""

    def flush_now(self) -> None:
        """Write and flush what was kept."""
        if self._flush_call is not None:
            if self._flush_call.active():
                self._flush_call.cancel()
            self._flush_call = None
        pending, self._pending = self._pending, []
        chunk: list[str] = []
        size = 0
        for text in pending:
            if chunk and size + len(text) > WHOLE_WRITE:
                self._write("".join(chunk))
                chunk, size = [], 0
            chunk.append(text)
            size += len(text)
        if chunk:
            self._write("".join(chunk))

    def _write(self, text: str) -> None:
        try:
            self._file.write(text)
            self._file.flush()
        except (OSError, ValueError):
            # The reader of a pipe went away (EPIPE), the disk is full, the
            # file closed: these lines are lost, as twistd's own observer
            # loses them. Raised from the turn's flush, the error was logged,
            # which wrote again at the end of the next turn, and failed
            # again: the daemon spun a core forever.
            pass


class TextLog:
    """
    twistd's text lines on C{file}, written once per reactor turn: those of
    every event (L{observer}), and access lines written as such
    (L{access_line}), which twisted.logger's events cost twice as much.
    """

    def __init__(self, file: IO[str], reactor: Any) -> None:
        self._file = TurnBufferedFile(file, reactor)
        self._second: int | None = None
        self._time_prefix = "-"
        #: The observer of every event.
        self.observer: ILogObserver = FileLogObserver(self._file, self._format)

    def _format(self, event: Mapping[str, Any]) -> str | None:
        return formatEventAsClassicLogText(event, formatTime=self._format_time)

    def _format_time(self, when: float | None) -> str:
        # twistd's time prefix shows whole seconds: formatted once a second.
        if when is None:
            return "-"
        second = int(when)
        if second != self._second:
            self._second, self._time_prefix = second, formatTime(second, timeFormatRFC3339)
        return self._time_prefix

    def access_line(self, text: str) -> None:
        """C{text}, written as the observer writes an event of the access log now."""
        text = text.replace("\n", "\n\t")
        self._file.write(f"{self._format_time(time.time())} [{ACCESS_LOG_NAMESPACE}#info] {text}\n")


def daemon_text_log(twistd_options: Mapping[str, Any], reactor: Any) -> TextLog | None:
    """
    The daemon's log: a L{TextLog} on standard output when twistd would
    write its own text lines there (C{--nodaemon} without C{--logfile}, or
    with C{--logfile -}); None, for twistd's own, when its command line
    chose a logger, syslog or a file.
    """
    if twistd_options.get("logger") or twistd_options.get("syslog"):
        return None
    if not twistd_options.get("nodaemon") or twistd_options.get("logfile") not in (None, "", "-"):
        return None
    return TextLog(sys.stdout, reactor)


class LoggingDaemon(MultiService):
    """
    The daemon's service tree with its log observer, which twistd takes:
    it asks the Application it puts the daemon in for an C{ILogObserver}
    component before it makes its own.
    """

    def __init__(self, daemon: IService, observer: ILogObserver) -> None:
        super().__init__()
        self.observer = observer
        daemon.setServiceParent(self)

    def setServiceParent(self, parent: Any) -> None:
        """Join C{parent}, twistd's Application, and give it the log observer."""
        parent.setComponent(ILogObserver, self.observer)
        super().setServiceParent(parent)


def quiet_reconnection_attempts() -> None:
    """
    Keep Twisted's C{ClientService} from logging each attempt to reconnect:
    every connection of the Redis pool and the subscriber retries several
    times a second while Redis is down, which buried the one warning that
    says so (L{presque.redis}). Its other events still reach the log.
    """
    ClientService._log = Logger(observer=_without_retries)


def _without_retries(event: dict[str, Any]) -> None:
    if not str(event.get("log_format", "")).startswith("Scheduling retry"):
        globalLogPublisher(event)
