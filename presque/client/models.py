"""
What the clients exchange with presque: L{Job}, the jobs handed out, and
L{Requests}, the request of every client method as data (a L{Call}: method,
path, arguments, body, and how to read the answer), so that the synchronous
and the asynchronous client send the same requests and read the same answers.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Generic, TypeVar
from urllib.parse import quote, urlencode

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


def _outcome(answer: Answer) -> Outcome:
    view = answer.json()
    return Outcome(view["id"], view["state"], view.get("result"), view["errors"], view)


#: An ack without a result (None is a result: JSON null).
NO_RESULT: Any = object()


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


def _q(queue: str, *below: str) -> str:
    return "/".join(quote(part, safe="") for part in (queue, *below))


def _options(**values: object) -> dict[str, str]:
    """Query arguments of the values that are given (True as 1; None and False left out)."""
    return {
        k: "1" if v is True else str(v)
        for k, v in values.items()
        if v is not None and v is not False
    }


def _delayed(delay: float | None, run_at: float | None) -> dict[str, str]:
    """The C{delayed} argument for a delay in seconds or a unix time."""
    if delay is not None and run_at is not None:
        raise ValueError("give delay or run_at, not both")
    if delay is not None:
        run_at = time.time() + delay
    return {} if run_at is None else {"delayed": f"{run_at:.3f}"}


def _split(value: str | None) -> list[str]:
    return value.split(",") if value else []


def _nothing(answer: Answer) -> None:
    return None


def _json(answer: Answer) -> Any:
    return answer.json()


def _key(key: str) -> Callable[[Answer], Any]:
    return lambda answer: answer.json()[key]


def _job_id(answer: Answer) -> str:
    return answer.headers["x-presque-job-id"]


def _job_ids(answer: Answer) -> list[str]:
    return _split(answer.headers.get("x-presque-job-ids"))


def _receipt(job: Job) -> dict[str, str]:
    if job.receipt is None:
        raise ValueError(f"job {job.id} was not leased: it has no receipt")
    return {names.RECEIPT: job.receipt}


def _one_job(queue: str) -> Callable[[Answer], Job]:
    def parse(answer: Answer) -> Job:
        h = answer.headers
        attempt, expires = h.get("x-presque-attempt"), h.get("x-presque-lease-expires")
        return Job(
            id=h["x-presque-job-id"],
            body=answer.json(),
            raw=answer.body,
            attempt=int(attempt) if attempt else None,
            receipt=h.get("x-presque-receipt"),
            lease_expires=float(expires) if expires else None,
            queue=queue,
        )

    return parse


def _many_jobs(queue: str) -> Callable[[Answer], list[Job]]:
    # The body is an array of the jobs' JSON texts; ids, receipts and attempts
    # come in headers, in the same order.
    def parse(answer: Answer) -> list[Job]:
        h, texts = answer.headers, answer.json()
        ids = _split(h.get("x-presque-job-ids"))
        receipts = _split(h.get("x-presque-receipts")) or [None] * len(texts)
        attempts = [int(a) for a in _split(h.get("x-presque-attempts"))] or [None] * len(texts)
        expires = float(h["x-presque-lease-expires"]) if "x-presque-lease-expires" in h else None
        rows = zip(ids, texts, attempts, receipts, strict=True)
        return [Job(i, json.loads(t), t.encode(), a, r, expires, queue) for i, t, a, r in rows]

    return parse


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    if size < 1:
        raise ValueError("batch must be a positive number of jobs")
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


class Requests:
    """The request of each client method of the same name (see L{presque.client.sync})."""

    @staticmethod
    def post(
        queue: str,
        job: Any,
        delay: float | None,
        run_at: float | None,
        uniq: str | None,
        priority: int | None,
        idempotency_key: str | None = None,
        group: str | None = None,
    ) -> Call[str]:
        """POST /q/Q, with an Idempotency-Key (a fresh one unless given)."""
        options = _options(uniq=uniq, priority=priority, group=group)
        params = {**_delayed(delay, run_at), **options}
        key = {names.IDEMPOTENCY_KEY: idempotency_key or new_idempotency_key()}
        return Call("POST", f"/q/{_q(queue)}", _job_id, params, job, key, repeatable=True)

    @staticmethod
    def post_many(
        queue: str,
        jobs: Iterable[Any],
        delay: float | None,
        run_at: float | None,
        priority: int | None,
        batch: int,
        idempotency_key: str | None = None,
    ) -> Iterator[Call[list[str]]]:
        """POST /qb/Q?ids=1, one per C{batch} jobs, each with its own Idempotency-Key."""
        params = {**_delayed(delay, run_at), **_options(priority=priority, ids=True)}
        base = idempotency_key or new_idempotency_key()
        for n, chunk in enumerate(_chunks(jobs, batch)):
            key = {names.IDEMPOTENCY_KEY: f"{base}-{n}"}
            path = f"/qb/{_q(queue)}"
            yield Call("POST", path, _job_ids, params, {"jobs": chunk}, key, repeatable=True)

    @staticmethod
    def fetch(queue: str, lease: float | None, wait: float | None) -> Call[Job | None]:
        """GET /q/Q."""
        params = _options(lease=lease, wait=wait)
        return Call("GET", f"/q/{_q(queue)}", _one_job(queue), params, wait=wait or 0, empty=None)

    @staticmethod
    def fetch_many(
        queue: str, count: int, lease: float | None, wait: float | None
    ) -> Call[list[Job]]:
        """GET /qb/Q?ids=1."""
        params = _options(batch_size=count, ids=True, lease=lease, wait=wait)
        path = f"/qb/{_q(queue)}"
        return Call("GET", path, _many_jobs(queue), params, wait=wait or 0, empty=[])

    @staticmethod
    def ack(job: Job, result: Any = NO_RESULT) -> Call[None] | None:
        """DELETE /q/Q/id (with the result, if any), or nothing for a job taken for good."""
        if job.receipt is None:
            return None
        body = None if result is NO_RESULT else {"result": result}
        path = f"/q/{_q(job.queue, job.id)}"
        return Call("DELETE", path, _nothing, body=body, headers=_receipt(job))

    @staticmethod
    def progress(job: Job, value: float, message: str) -> Call[None]:
        """POST /q/Q/id/progress."""
        body = {"progress": value, "message": message}
        path = f"/q/{_q(job.queue, job.id, 'progress')}"
        return Call("POST", path, _nothing, body=body, headers=_receipt(job))

    @staticmethod
    def outcome(queue: str, job_id: str, wait: float) -> Call[Outcome]:
        """GET /q/Q/id?wait=S."""
        params = _options(wait=round(wait, 3))
        return Call("GET", f"/q/{_q(queue, job_id)}", _outcome, params, wait=wait)

    @staticmethod
    def fail(job: Job, error: str | None, delay: float | None, dead: bool) -> Call[dict]:
        """PUT /q/Q/id for a leased job; PUT /q/Q (give it back) for one taken for good."""
        if job.receipt is not None:
            params = _options(delay=delay, dead=dead)
            body = None if error is None else {"error": error}
            return Call("PUT", f"/q/{_q(job.queue, job.id)}", _json, params, body, _receipt(job))
        if dead:
            raise ValueError(f"job {job.id} was not leased: it cannot go to the dead letters")
        params = _delayed(delay, None)

        def given_back(answer: Answer) -> dict:
            run_at = float(params["delayed"]) if params else None
            state = "delayed" if params else "ready"
            return {"id": _job_id(answer), "state": state, "next_run": run_at}

        return Call("PUT", f"/q/{_q(job.queue)}", given_back, params, job.raw)

    @staticmethod
    def extend(job: Job, seconds: float) -> Call[float]:
        """POST /q/Q/id/lease; the new deadline is also set on C{job}."""

        def parse(answer: Answer) -> float:
            job.lease_expires = float(answer.json()["lease_expires"])
            return job.lease_expires

        path = f"/q/{_q(job.queue, job.id, 'lease')}"
        return Call("POST", path, parse, {"seconds": str(seconds)}, headers=_receipt(job))

    @staticmethod
    def job_info(queue: str, job_id: str) -> Call[dict]:
        """GET /q/Q/id."""
        return Call("GET", f"/q/{_q(queue, job_id)}", _json)

    @staticmethod
    def queues() -> Call[list]:
        """GET /queues."""
        return Call("GET", "/queues", lambda answer: answer.json()["queues"])

    @staticmethod
    def workers() -> Call[list]:
        """GET /workers."""
        return Call("GET", "/workers", lambda answer: answer.json()["workers"])

    @staticmethod
    def queue_info(queue: str) -> Call[dict]:
        """GET /queues/Q."""
        return Call("GET", f"/queues/{_q(queue)}", _json)

    @staticmethod
    def configure(queue: str, settings: dict[str, float]) -> Call[dict]:
        """PATCH /queues/Q."""
        return Call("PATCH", f"/queues/{_q(queue)}", _json, body=settings)

    @staticmethod
    def stats(queue: str) -> Call[dict]:
        """GET /j/Q."""
        return Call("GET", f"/j/{_q(queue)}", _json)

    @staticmethod
    def control(queue: str, status: str) -> Call[None]:
        """POST /control/Q with C{{"status": "stop"}} or C{{"status": "start"}}."""
        return Call("POST", f"/control/{_q(queue)}", _nothing, body={"status": status})

    @staticmethod
    def dead_letters(queue: str, offset: int, limit: int) -> Call[dict]:
        """GET /dead/Q."""
        params = {"offset": str(offset), "limit": str(limit)}
        return Call("GET", f"/dead/{_q(queue)}", _json, params)

    @staticmethod
    def retry_dead(queue: str, ids: list[str] | None) -> Call[int]:
        """POST /dead/Q/retry, with C{{"ids": [...]}} unless all."""
        body = None if ids is None else {"ids": ids}
        return Call("POST", f"/dead/{_q(queue)}/retry", _key("retried"), body=body)

    @staticmethod
    def purge_dead(queue: str) -> Call[int]:
        """DELETE /dead/Q."""
        return Call("DELETE", f"/dead/{_q(queue)}", _key("removed"))

    @staticmethod
    def jobs(queue: str, state: str, offset: int, limit: int) -> Call[dict]:
        """GET /queues/Q/jobs?state=S."""
        params = {"state": state, "offset": str(offset), "limit": str(limit)}
        return Call("GET", f"/queues/{_q(queue)}/jobs", _json, params)

    @staticmethod
    def move_job(queue: str, job_id: str, to: str, error: str | None = None) -> Call[dict]:
        """POST /queues/Q/jobs/<id>/ready or .../dead (with C{{"error": ...}} if given)."""
        body = None if error is None else {"error": error}
        return Call("POST", f"/queues/{_q(queue)}/jobs/{_q(job_id)}/{to}", _json, body=body)

    @staticmethod
    def remove_job(queue: str, job_id: str, force: bool = False) -> Call[None]:
        """DELETE /queues/Q/jobs/<id> (with force=1 for a leased job)."""
        path = f"/queues/{_q(queue)}/jobs/{_q(job_id)}"
        return Call("DELETE", path, _nothing, _options(force=force))

    @staticmethod
    def summary() -> Call[dict]:
        """GET /summary."""
        return Call("GET", "/summary", _json)

    @staticmethod
    def purge(queue: str) -> Call[None]:
        """DELETE /q/Q."""
        return Call("DELETE", f"/q/{_q(queue)}", _nothing)

    @staticmethod
    def schedules() -> Call[list]:
        """GET /schedules."""
        return Call("GET", "/schedules", lambda answer: answer.json()["schedules"])

    @staticmethod
    def put_schedule(name: str, definition: dict[str, Any]) -> Call[dict]:
        """PUT /schedules/NAME."""
        return Call("PUT", f"/schedules/{_q(name)}", _json, body=definition)

    @staticmethod
    def schedule_action(name: str, action: str) -> Call[Any]:
        """POST /schedules/NAME/pause or /resume, DELETE /schedules/NAME."""
        if action == "delete":
            return Call("DELETE", f"/schedules/{_q(name)}", _nothing)
        return Call("POST", f"/schedules/{_q(name, action)}", _json)

    @staticmethod
    def register(queue: str, register: bool) -> Call[None]:
        """POST /w/Q to register, DELETE /w/Q to unregister."""
        return Call("POST" if register else "DELETE", f"/w/{_q(queue)}", _nothing)
