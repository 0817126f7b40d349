"""
JSON answers and the errors routes raise.

Every answer of the API is JSON with C{Content-Type: application/json};
every error is C{{"error": "..."}}.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.iweb import IRequest

from presque.broker import StaleReceipt, UnknownJob
from presque.redis import RedisUnavailable

log = Logger()

JSON_TYPE = b"application/json"


class ApiError(Exception):
    """An error answered to the client as C{{"error": message}}."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def encode_json(value: Any) -> bytes:
    """Compact JSON, UTF-8, non-ASCII left as is (like Perl's encode_json)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def json_body(request: IRequest, body: bytes, status: int = 200) -> bytes:
    """Answer C{body}, already JSON text, with C{status}."""
    request.setResponseCode(status)
    request.setHeader(b"Content-Type", JSON_TYPE)
    return body


def json_response(request: IRequest, value: Any, status: int = 200) -> bytes:
    """Answer C{value} encoded as JSON with C{status}."""
    return json_body(request, encode_json(value), status)


def error_response(request: IRequest, status: int, message: str) -> bytes:
    """Answer C{{"error": message}} with C{status}."""
    return json_response(request, {"error": message}, status)


def empty_response(request: IRequest, status: int) -> bytes:
    """Answer C{status} with no body (201 and 204 of the old contract)."""
    request.setResponseCode(status)
    return b""


def failure_response(request: IRequest, failure: Failure) -> bytes:
    """
    Answer an error raised by a route: its own status for an L{ApiError},
    503 while Redis is unavailable, and 500 (a bug, logged) for anything else.
    """
    if failure.check(ApiError):
        return error_response(request, failure.value.status, failure.value.message)
    if failure.check(UnknownJob):
        return error_response(request, 404, "no such job")
    if failure.check(StaleReceipt):
        return error_response(
            request, 409, "receipt is not current: the lease ran out or the job was settled"
        )
    if failure.check(RedisUnavailable):
        log.warn("redis is unavailable: {reason}", reason=failure.getErrorMessage())
        return error_response(request, 503, "redis is unavailable")
    log.failure("unexpected error on {uri}", failure, uri=request.uri)
    return error_response(request, 500, "internal error")
