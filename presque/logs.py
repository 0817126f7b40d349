"""
Log observers for twistd's C{--logger} option, and what the daemon keeps
out of its log.

C{twistd -n --logger presque.logs.json_observer presque ...} writes one JSON
object per line on standard output, ready for journald, Loki or jq; every
field of an event (the access log's method, uri, code, duration_ms, ...)
is a key of its own.
"""

from __future__ import annotations

import sys
from typing import Any

from twisted.application.internet import ClientService
from twisted.logger import ILogObserver, Logger, globalLogPublisher, jsonFileLogObserver


def json_observer() -> ILogObserver:
    """JSON lines on standard output."""
    # Without recordSeparator="", each line would start with \x1e (RFC 7464),
    # which JSON-lines tools reject.
    return jsonFileLogObserver(sys.stdout, recordSeparator="")


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
