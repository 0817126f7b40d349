"""
What a route answers: an L{Answer}, written by the dispatcher. Every answer
of the API is JSON with C{Content-Type: application/json}, empty 201 and 204
included, as presque 1's were; the dashboard is the one HTML page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from presque.broker import Delivery
from presque.web.jsontext import encode_json

JSON_TYPE = "application/json"


@dataclass
class Answer:
    """A status, headers and a body; C{delivery}, the jobs the body carries."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = JSON_TYPE
    #: Told whether the answer was written (L{presque.broker.Broker.delivered}).
    delivery: Delivery | None = None


def json_answer(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    """C{value}, encoded as JSON."""
    return Answer(status, encode_json(value), headers or {})


def empty_answer(status: int, headers: dict[str, str] | None = None) -> Answer:
    """No body: the 201 and 204 of presque 1."""
    return Answer(status, b"", headers or {})


#: What a route answers when it wrote the response itself (a stream).
STREAMED = Answer(status=0)
