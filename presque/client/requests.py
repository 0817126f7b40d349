"""
L{Requests}: the request of every client method as data (a
L{presque.client.models.Call}), so that the synchronous and the asynchronous
client send the same requests and read the same answers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any
from urllib.parse import quote

from presque import headers as names
from presque.client.models import Answer, Call, Job, Outcome, new_idempotency_key

#: An ack without a result (None is a result: JSON null).
NO_RESULT: Any = object()


def _outcome(answer: Answer) -> Outcome:
    view = answer.json()
    return Outcome(view["id"], view["state"], view.get("result"), view["errors"], view)


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


#: The queue a job handed out belongs to: a member, when fetched from a virtual queue.
_QUEUE_HEADER = names.QUEUE.lower()


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
            queue=h.get(_QUEUE_HEADER, queue),
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
        owner = h.get(_QUEUE_HEADER, queue)
        return [Job(i, json.loads(t), t.encode(), a, r, expires, owner) for i, t, a, r in rows]

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
    def set_virtual(name: str, queues: Sequence[str]) -> Call[dict]:
        """POST /control/NAME with a virtual queue's definition."""
        body = {"type": "virtual", "action": "set", "queues": list(queues)}
        return Call("POST", f"/control/{_q(name)}", _json, body=body)

    @staticmethod
    def schedules(offset: int, limit: int) -> Call[list]:
        """GET /schedules, a page."""
        params = _options(offset=offset, limit=limit)
        return Call("GET", "/schedules", lambda answer: answer.json()["schedules"], params)

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
