"""
C{/q/Q}: one job at a time. GET takes a job, POST adds one, PUT gives a
failed job back, DELETE purges the queue.
"""

from __future__ import annotations

from urllib.parse import quote

from twisted.web.iweb import IRequest

from presque.broker import Broker, DuplicateJob, Job, QueueClosed
from presque.web.inputs import (
    delayed_until,
    parse_json,
    query_arg,
    read_body,
    require_json_content_type,
    worker_id,
)
from presque.web.resource import Handler, QueueResource
from presque.web.responses import ApiError, empty_response, json_body

JOB_ID_HEADER = b"X-Presque-Job-Id"


async def take_jobs(broker: Broker, request: IRequest, queue: str, count: int) -> list[Job]:
    """Up to C{count} jobs of C{queue}, or the 404 of a fetch that hands out none."""
    try:
        delivery = await broker.fetch(queue, count, worker_id(request))
    except QueueClosed:
        raise ApiError(404, "queue is closed") from None
    if not delivery.jobs:
        raise ApiError(404, "no job")
    return delivery.jobs


class JobsResource(QueueResource):
    """The C{/q/} routes."""

    def handlers(self) -> dict[bytes, Handler]:
        return {
            b"GET": self.take,
            b"POST": self.add,
            b"PUT": self.give_back,
            b"DELETE": self.purge,
        }

    async def take(self, request: IRequest, queue: str) -> bytes:
        [job] = await take_jobs(self.broker, request, queue, 1)
        request.setHeader(JOB_ID_HEADER, job.id)
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
            )
        except DuplicateJob:
            raise ApiError(400, "job already exists") from None
        request.setHeader(b"Location", f"/q/{quote(queue, safe='')}/{job_id}")
        request.setHeader(JOB_ID_HEADER, job_id)
        return empty_response(request, 201)

    async def purge(self, request: IRequest, queue: str) -> bytes:
        await self.broker.purge(queue)
        return empty_response(request, 204)
