"""
What the routes of jobs read from bodies and arguments beyond the job
itself: a failure's error, an ack's result, a progress report, and the
jobs a posted job waits for.
"""

from __future__ import annotations

import json
import math

from presque.broker import Blocker
from presque.web.errors import ApiError
from presque.web.inputs import (
    AFTER,
    DELAYED,
    DEPENDS,
    MAX_BLOCKERS,
    UNIQ,
    check_text,
    queue_name,
)
from presque.web.jsontext import read_json
from presque.web.routing import Call

#: The longest error a worker may tell when it fails a job.
MAX_ERROR_LENGTH = 2000


def error_message(text: bytes) -> str:
    """The C{error} of an optional C{{"error": "..."}} body, cut to L{MAX_ERROR_LENGTH}."""
    if not text.strip():
        return ""
    document = read_json(text, "body")
    error = document.get("error", "") if isinstance(document, dict) else None
    if not isinstance(error, str):
        raise ApiError(400, 'the body must be {"error": "<what went wrong>"}')
    return kept_error(error)


def kept_error(error: str) -> str:
    """What is kept of the error a worker tells: its first L{MAX_ERROR_LENGTH} characters."""
    return error[:MAX_ERROR_LENGTH]


#: The longest message a progress report may carry.
MAX_PROGRESS_MESSAGE = 1000


def ack_result(text: bytes, most: int) -> bytes | None:
    """
    The C{result} of an ack's optional C{{"result": ...}} body, as compact
    JSON text of at most C{most} bytes; None without one.
    """
    if not text.strip():
        return None
    document = read_json(text, "body")
    if not isinstance(document, dict) or set(document) - {"result"}:
        raise ApiError(400, 'the body must be {"result": <any JSON>}')
    if "result" not in document:
        return None
    return compact_result(document["result"], most)


def compact_result(value: object, most: int, what: str = "result") -> bytes:
    """
    A decoded result as compact JSON text of at most C{most} bytes (C{what}
    names it in a refusal: 400 for a number JSON cannot write, 413 when it
    is too large).
    """
    try:
        result = json.dumps(
            value, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    except ValueError:
        raise ApiError(400, f"{what} has a number too large for JSON") from None
    if len(result) > most:
        raise ApiError(413, f"{what} is larger than {most} bytes")
    return result


def progress_report(text: bytes) -> tuple[float, str]:
    """The C{progress} and C{message} of a body C{{"progress": N, "message": "..."}}."""
    document = read_json(text, "body") if text.strip() else None
    if not isinstance(document, dict):
        raise ApiError(400, 'the body must be {"progress": <number>, "message": "<text>"}')
    value, message = document.get("progress"), document.get("message", "")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ApiError(400, "progress must be a number")
    if abs(value) > 1e15:
        raise ApiError(400, "progress must be at most 1e15")
    if not isinstance(message, str):
        raise ApiError(400, "message must be text")
    check_text(message, "message", MAX_PROGRESS_MESSAGE)
    return float(value), message


def blockers(call: Call, longest_queue_name: int) -> list[Blocker]:
    """
    What the posted job waits for: C{after=ID,QUEUE:ID} (job ids) and
    C{depends=KEY,QUEUE:KEY} (uniq keys), a queue first when it is not the
    call's own. Ids hold no colon (a queue's name may: the last one counts);
    uniq keys may (the first one counts, as Net::Presque sends them).
    """
    request = call.request
    found = []
    for arg, kind in ((AFTER, "id"), (DEPENDS, "uniq")):
        listed = arg.read(request)
        for item in listed.split(",") if listed else ():
            queue, _, name = item.rpartition(":") if kind == "id" else _queue_first(item)
            if not name:
                raise ApiError(400, f"{arg.name} names an empty {kind}")
            if kind == "uniq":
                # A key no uniq= could have set is held by no job.
                check_text(name, f"a uniq key of {arg.name}", UNIQ.longest)
            queue = queue_name(queue, longest_queue_name) if queue else call.queue
            found.append(Blocker(queue, kind, name))
    if len(found) > MAX_BLOCKERS:
        raise ApiError(400, f"a job waits for at most {MAX_BLOCKERS} jobs")
    if found and DELAYED.read(request):
        raise ApiError(400, "a job that waits for others cannot be delayed too")
    return found


def _queue_first(item: str) -> tuple[str, str, str]:
    queue, colon, key = item.partition(":")
    return (queue, colon, key) if colon else ("", "", item)
