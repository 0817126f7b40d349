"""
C{/qb/Q}: jobs in batches. GET takes up to C{batch_size} jobs, POST adds
C{{"jobs": [...]}}; PUT and DELETE are refused, as in presque 1.

The job ids of a batch come in C{X-Presque-Job-Ids} only when the client
asks with C{ids=1}: for a large batch that header outgrows the 8 KiB header
lines that presque 1's Perl client (Net::HTTP) accepts.
"""

from __future__ import annotations

from twisted.web.iweb import IRequest

from presque.web.inputs import (
    delayed_until,
    flag,
    parse_json,
    priority,
    read_body,
    require_json_content_type,
)
from presque.web.resource import Handler, Path, QueueResource
from presque.web.responses import ApiError, empty_response, encode_json, json_body

JOB_IDS_HEADER = b"X-Presque-Job-Ids"


class BatchesResource(QueueResource):
    """The C{/qb/} routes."""

    def handlers(self) -> dict[tuple[bytes, Path], Handler]:
        return {
            (b"GET", ()): self.take,
            (b"POST", ()): self.add,
            (b"PUT", ()): self.refuse,
            (b"DELETE", ()): self.refuse,
        }

    async def take(self, request: IRequest, queue: str) -> bytes:
        count = self.limits.batch_size(request)
        delivery = await self.deliver(request, queue, count)
        jobs = delivery.jobs
        leased = delivery.lease_expires is not None
        if leased or flag(request, b"ids"):
            request.setHeader(JOB_IDS_HEADER, ",".join(job.id for job in jobs))
        if leased:
            request.setHeader(b"X-Presque-Receipts", ",".join(str(job.receipt) for job in jobs))
            request.setHeader(b"X-Presque-Attempts", ",".join(str(job.attempt) for job in jobs))
        # Each element is the job's JSON text, which clients decode again.
        return json_body(request, encode_json([job.payload.decode("utf-8") for job in jobs]))

    async def add(self, request: IRequest, queue: str) -> bytes:
        require_json_content_type(request)
        document = parse_json(read_body(request), "batch")
        jobs = document.get("jobs") if isinstance(document, dict) else None
        if not isinstance(jobs, list):
            raise ApiError(400, "jobs should be an array of job")
        if len(jobs) > self.limits.max_batch_size:
            raise ApiError(400, f"a batch holds at most {self.limits.max_batch_size} jobs")
        if jobs:
            ids = await self.broker.enqueue(
                queue,
                [encode_json(job) for job in jobs],
                run_at=delayed_until(request),
                priority=priority(request),
            )
            if flag(request, b"ids"):
                request.setHeader(JOB_IDS_HEADER, ",".join(ids))
        return empty_response(request, 201)

    async def refuse(self, request: IRequest, queue: str) -> bytes:
        method = request.method.decode("ascii")
        raise ApiError(400, f"{method} is not supported in batch mode")
