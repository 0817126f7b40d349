"""
C{/q/Q}: one job at a time. GET takes a job (for good, or leased with
C{lease=S}), POST adds one, PUT gives a failed job back, DELETE purges the
queue. Below it, C{/q/Q/<id>}: GET shows a job; a leased job is acked with
DELETE, failed with PUT, and its lease extended with POST C{.../lease}.
"""

from __future__ import annotations

from urllib.parse import quote

from twisted.web.iweb import IRequest

from presque.broker import DuplicateJob
from presque.web.inputs import (
    delayed_until,
    flag,
    parse_json,
    priority,
    query_arg,
    read_body,
    receipt,
    require_json_content_type,
    seconds_arg,
    worker_id,
)
from presque.web.resource import JOB, Handler, Path, QueueResource
from presque.web.responses import ApiError, empty_response, json_body, json_response

JOB_ID_HEADER = b"X-Presque-Job-Id"
MAX_ERROR_LENGTH = 2000


class JobsResource(QueueResource):
    """The C{/q/} routes."""

    def handlers(self) -> dict[tuple[bytes, Path], Handler]:
        return {
            (b"GET", ()): self.take,
            (b"POST", ()): self.add,
            (b"PUT", ()): self.give_back,
            (b"DELETE", ()): self.purge,
            (b"GET", (JOB,)): self.show,
            (b"DELETE", (JOB,)): self.ack,
            (b"PUT", (JOB,)): self.fail,
            (b"POST", (JOB, "lease")): self.extend,
        }

    async def take(self, request: IRequest, queue: str) -> bytes:
        delivery = await self.deliver(request, queue, 1)
        [job] = delivery.jobs
        request.setHeader(JOB_ID_HEADER, job.id)
        if job.receipt is not None:
            request.setHeader(b"X-Presque-Attempt", str(job.attempt))
            request.setHeader(b"X-Presque-Receipt", job.receipt)
        return json_body(request, job.payload)

    async def add(self, request: IRequest, queue: str) -> bytes:
        return await self._insert(request, queue, as_failure=False)

    async def give_back(self, request: IRequest, queue: str) -> bytes:
        return await self._insert(request, queue, as_failure=True)

    async def _insert(self, request: IRequest, queue: str, as_failure: bool) -> bytes:
        require_json_content_type(request)
        payload = read_body(request)
        if not payload.strip():
            raise ApiError(400, "job is missing")
        parse_json(payload, "job")
        try:
            [job_id] = await self.broker.enqueue(
                queue,
                [payload],
                run_at=delayed_until(request),
                uniq=query_arg(request, b"uniq") or None,
                failed_by=worker_id(request),
                as_failure=as_failure,
                priority=priority(request),
            )
        except DuplicateJob:
            raise ApiError(400, "job already exists") from None
        request.setHeader(b"Location", f"/q/{quote(queue, safe='')}/{job_id}")
        request.setHeader(JOB_ID_HEADER, job_id)
        return empty_response(request, 201)

    async def purge(self, request: IRequest, queue: str) -> bytes:
        await self.broker.purge(queue)
        return empty_response(request, 204)

    async def show(self, request: IRequest, queue: str, job_id: str) -> bytes:
        view = await self.broker.inspect(queue, job_id)
        return json_response(
            request,
            {
                "id": view.id,
                "queue": queue,
                "state": view.state,
                "attempts": view.attempts,
                "errors": view.errors,
                "created": view.created,
                "next_run": view.next_run,
                "lease_expires": view.lease_expires,
                "dead_since": view.dead_since,
                "job": parse_json(view.payload, "job"),
            },
        )

    async def ack(self, request: IRequest, queue: str, job_id: str) -> bytes:
        await self.broker.ack(queue, job_id, receipt(request), worker_id(request))
        return empty_response(request, 204)

    async def fail(self, request: IRequest, queue: str, job_id: str) -> bytes:
        outcome = await self.broker.fail(
            queue,
            job_id,
            receipt(request),
            error=_error_message(read_body(request)),
            delay=seconds_arg(request, b"delay"),
            dead=flag(request, b"dead"),
            worker=worker_id(request),
        )
        return json_response(
            request,
            {
                "id": job_id,
                "state": "dead" if outcome.dead else "delayed",
                "next_run": outcome.retry_at,
            },
        )

    async def extend(self, request: IRequest, queue: str, job_id: str) -> bytes:
        lease = seconds_arg(request, b"seconds", lowest=0.001)
        if lease is None:
            raise ApiError(400, "seconds is missing: how long the new lease lasts")
        deadline = await self.broker.extend(queue, job_id, receipt(request), lease)
        return json_response(request, {"id": job_id, "lease_expires": deadline})


def _error_message(body: bytes) -> str:
    """The C{error} of an optional C{{"error": "..."}} body."""
    if not body.strip():
        return ""
    document = parse_json(body, "body")
    error = document.get("error") if isinstance(document, dict) else None
    if not isinstance(error, str):
        raise ApiError(400, 'the body must be {"error": "<what went wrong>"}')
    return error[:MAX_ERROR_LENGTH]
