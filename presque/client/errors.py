"""The exceptions of the presque clients, one per error worth telling apart."""

from __future__ import annotations

import json


class PresqueError(Exception):
    """An error of presque: the HTTP C{status} (None without an answer) and the
    C{message} of the server's C{{"error": message}}."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message if status is None else f"{status}: {message}")
        self.status = status
        self.message = message


class NoJob(PresqueError):
    """404: no job is ready (C{fetch} and C{fetch_many} answer None and [] instead)."""


class QueueClosed(PresqueError):
    """404: the queue is closed; it accepts jobs but hands none out."""


class UnknownJob(PresqueError):
    """404: no job has this id in this queue."""


class StaleReceipt(PresqueError):
    """409: the receipt is not the job's current delivery (lease ran out, or settled)."""


class Full(PresqueError):
    """429: the queue holds its max_length, or Redis is nearly full; nothing
    was stored: post again in a moment (the server says when in Retry-After)."""


class Unavailable(PresqueError):
    """503 (Redis is unavailable), or no answer at all: refused, reset or timed out.
    After a timeout, the request may still have taken effect."""


_BY_MESSAGE: dict[tuple[int, str], type[PresqueError]] = {
    (404, "no job"): NoJob,
    (404, "queue is closed"): QueueClosed,
    (404, "no such job"): UnknownJob,
}
_BY_STATUS: dict[int, type[PresqueError]] = {409: StaleReceipt, 429: Full, 503: Unavailable}


def error_for(status: int, body: bytes) -> PresqueError:
    """The exception for an error answer C{status} with C{body}."""
    try:
        message = str(json.loads(body)["error"])
    except (ValueError, TypeError, KeyError):
        message = body.decode("utf-8", errors="replace") or f"HTTP {status}"
    kind = _BY_MESSAGE.get((status, message)) or _BY_STATUS.get(status, PresqueError)
    return kind(status, message)
