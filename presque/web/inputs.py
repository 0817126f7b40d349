"""
Reading what a request carries: queue names, headers, query arguments and
bodies, each checked, each refusal an L{ApiError} with a clear message.
"""

from __future__ import annotations

import json
import math
from typing import Any

from twisted.web.iweb import IRequest

from presque.web.responses import ApiError

WORKER_HEADER = b"X-presque-workerid"


class Limits:
    """What a request may carry, from the [server] settings."""

    def __init__(
        self, max_batch_size: int, max_queue_name_length: int, max_wait: float = 60.0
    ) -> None:
        self.max_batch_size = max_batch_size
        self.max_queue_name_length = max_queue_name_length
        #: Longer C{wait=S} are cut down to this many seconds.
        self.max_wait = max_wait

    def queue_name(self, name: str) -> str:
        """C{name} if it is a usable queue name."""
        if not name:
            raise ApiError(404, "queue name is missing")
        if len(name) > self.max_queue_name_length:
            raise ApiError(
                400, f"queue name is longer than {self.max_queue_name_length} characters"
            )
        if any(ord(char) < 32 or ord(char) == 127 for char in name) or "\ufffd" in name:
            raise ApiError(400, "queue name has control characters or invalid UTF-8")
        return name

    def batch_size(self, request: IRequest, default: int = 10) -> int:
        """
        The C{batch_size} query argument, a positive integer. Sizes above the
        configured maximum are cut down to it: presque 1 had no maximum, and
        "up to N jobs" still holds.
        """
        raw = query_arg(request, b"batch_size")
        if not raw:
            return min(default, self.max_batch_size)
        if not raw.isdigit() or int(raw) < 1:
            raise ApiError(400, "batch_size must be a positive integer")
        return min(int(raw), self.max_batch_size)


def query_arg(request: IRequest, name: bytes) -> str | None:
    """The first value of query argument C{name}, decoded, or None."""
    values = request.args.get(name)
    if not values:
        return None
    return values[0].decode("utf-8", errors="replace")


def count_arg(request: IRequest, name: bytes, default: int, highest: int) -> int:
    """A non-negative integer from the query, at most C{highest}."""
    raw = query_arg(request, name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) > highest:
        raise ApiError(400, f"{name.decode()} must be an integer from 0 to {highest}")
    return int(raw)


def json_object(request: IRequest, what: str, required: bool = True) -> dict[str, Any]:
    """The body as a JSON object; C{{}} for an empty optional body."""
    body = read_body(request)
    if not body.strip():
        if required:
            raise ApiError(400, f"{what} is missing")
        return {}
    document = parse_json(body, what)
    if not isinstance(document, dict):
        raise ApiError(400, f"{what} must be a JSON object")
    return document


def priority(request: IRequest) -> int:
    """The C{priority} query argument: 0 (the default) to 9, higher first."""
    raw = query_arg(request, b"priority")
    if not raw:
        return 0
    if len(raw) != 1 or not raw.isdigit():
        raise ApiError(400, "priority must be an integer from 0 to 9")
    return int(raw)


def flag(request: IRequest, name: bytes) -> bool:
    """Whether query argument C{name} is set to something other than 0."""
    return query_arg(request, name) not in (None, "", "0")


def worker_id(request: IRequest) -> str | None:
    """The worker named by the C{X-presque-workerid} header, if any."""
    value = request.getHeader(WORKER_HEADER)
    return value.decode("utf-8", errors="replace") if value else None


def required_worker_id(request: IRequest) -> str:
    """The worker id header, which this route cannot do without."""
    worker = worker_id(request)
    if not worker:
        raise ApiError(400, "worker_id is missing")
    return worker


def require_json_content_type(request: IRequest) -> None:
    """Refuse a body that is not declared as JSON (as presque 1 did)."""
    content_type = request.getHeader(b"Content-Type") or b""
    if b"application/json" not in content_type.lower():
        raise ApiError(400, "content-type must be set to application/json")


def read_body(request: IRequest) -> bytes:
    """The whole request body."""
    request.content.seek(0)
    return request.content.read()


def parse_json(body: bytes, what: str) -> Any:
    """Decode C{body}, which must be UTF-8; C{what} names it in the error message."""
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, f"{what} is not valid JSON") from None


def _number_arg(request: IRequest, name: bytes) -> float | None:
    """A number from the query (NaN when it is not one), or None when absent."""
    raw = query_arg(request, name)
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        return math.nan


RECEIPT_HEADER = b"X-Presque-Receipt"
MAX_LEASE = 7 * 24 * 3600


def seconds_arg(request: IRequest, name: bytes, lowest: float = 0.0) -> float | None:
    """A duration in seconds from the query, C{lowest} to 7 days, or None."""
    value = _number_arg(request, name)
    if value is None:
        return None
    if not (math.isfinite(value) and lowest <= value <= MAX_LEASE):
        raise ApiError(
            400, f"{name.decode()} must be a number of seconds from {lowest:g} to {MAX_LEASE}"
        )
    return value


def receipt(request: IRequest) -> str:
    """The receipt of the delivery a worker settles."""
    value = request.getHeader(RECEIPT_HEADER)
    if not value:
        raise ApiError(400, "receipt is missing: send the X-Presque-Receipt of the delivery")
    return value.decode("ascii", errors="replace")


def delayed_until(request: IRequest) -> float | None:
    """The C{delayed} query argument: a unix time in seconds, or None."""
    value = _number_arg(request, b"delayed")
    if value is None:
        return None
    if not math.isfinite(value) or value < 0:
        raise ApiError(400, "delayed must be a unix time in seconds")
    return value
