"""
What the clients exchange with presque: L{Job}, the jobs handed out,
L{Outcome}, what became of a job, and L{Call}, one request as data (method,
path, arguments, body, and how to read the answer; see
L{presque.client.requests}).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from presque import headers as names
from presque.client.errors import NoJob, error_for

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0
DEFAULT_BATCH = 250  # the most jobs one leased fetch carries
#: How often a POST that got no answer, or a 503, is sent again (with the same
#: Idempotency-Key, so that the server stores its jobs once).
DEFAULT_RETRIES = 3


def retry_delays(retries: int) -> Iterator[float]:
    """Seconds to wait before each retry: 0.25, 0.5, 1, ... (at most 4)."""
    for attempt in range(retries):
        yield min(4.0, 0.25 * 2**attempt)


def new_idempotency_key() -> str:
    """A fresh key for one POST and its retries."""
    return uuid.uuid4().hex


@dataclass
class Job:
    """A job handed out: C{body} is the decoded JSON, C{raw} the bytes as posted.
    C{attempt}, C{receipt} and C{lease_expires} (unix time) are None unless leased."""

    id: str
    body: Any
    raw: bytes
    attempt: int | None
    receipt: str | None
    lease_expires: float | None
    queue: str


@dataclass(frozen=True)
class Outcome:
    """
    What became of a job a producer waited on: C{state} is C{"done"} (acked,
    with the C{result} its worker gave, or None) or C{"dead"} (see
    C{errors}), or the state it was still in when the wait ran out.
    C{view} is the whole job view.
    """

    id: str
    state: str
    result: Any
    errors: list[dict[str, Any]]
    view: dict[str, Any]

    @property
    def finished(self) -> bool:
        """Whether nothing more will happen to the job: done, or dead."""
        return self.state in ("done", "dead")


@dataclass
class Answer:
    """An HTTP answer, with lower-case header names."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body, decoded."""
        return json.loads(self.body)


_RAISE: Any = object()


@dataclass
class Call(Generic[T]):
    """One request, and C{parse}, which reads its successful answer."""

    method: str
    path: str
    parse: Callable[[Answer], T]
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None  # a JSON document, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    wait: float = 0.0  # a long poll's wait, added to the client's timeout
    empty: Any = _RAISE  # the result of a 404 "no job", instead of raising NoJob
    #: Safe to send again when no answer came (its Idempotency-Key makes it so).
    repeatable: bool = False

    def url(self, base: str) -> str:
        """The URL of this request below C{base}."""
        return base + self.path + ("?" + urlencode(self.params) if self.params else "")

    def data(self) -> bytes | None:
        """The body to send."""
        if self.body is None or isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, separators=(",", ":"), ensure_ascii=False).encode()

    def headers_for(
        self, data: bytes | None, worker_id: str | None, token: str | None = None
    ) -> dict[str, str]:
        """The headers to send with C{data}, on behalf of C{worker_id}, with C{token}."""
        headers = dict(self.headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        if worker_id:
            headers[names.WORKER] = worker_id
        if token:
            headers[names.AUTHORIZATION] = f"Bearer {token}"
        return headers

    def result(self, answer: Answer) -> T:
        """What the client method answers, or the exception it raises."""
        if answer.status < 400:
            return self.parse(answer)
        error = error_for(answer.status, answer.body)
        if isinstance(error, NoJob) and self.empty is not _RAISE:
            return self.empty
        raise error


def token_or_environment(token: str | None) -> str | None:
    """C{token}, or else the one of $PRESQUE_TOKEN (None when neither is set)."""
    return token if token is not None else os.environ.get(names.TOKEN_VARIABLE) or None


def lower_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers as a dict with lower-case names (the last value of a repeated one)."""
    return {name.lower(): value for name, value in headers}
