"""
Log observers for twistd's C{--logger} option.

C{twistd -n --logger presque.logs.json_observer presque ...} writes one JSON
object per line on standard output, ready for journald, Loki or jq; every
field of an event (the access log's method, uri, code, duration_ms, ...)
is a key of its own.
"""

from __future__ import annotations

import sys

from twisted.logger import ILogObserver, jsonFileLogObserver


def json_observer() -> ILogObserver:
    """JSON lines on standard output."""
    # Without recordSeparator="", each line would start with \x1e (RFC 7464),
    # which JSON-lines tools reject.
    return jsonFileLogObserver(sys.stdout, recordSeparator="")
