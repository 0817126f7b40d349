"""
C{/qb/Q}: jobs in batches. GET takes up to C{batch_size} jobs, POST adds
C{{"jobs": [...]}}; PUT and DELETE are refused, as in presque 1.

The job ids of a batch come in C{X-Presque-Job-Ids} only when the client
asks with C{ids=1}: for a large batch that header outgrows the 8 KiB header
lines that presque 1's Perl client (Net::HTTP) accepts.
"""

from __future__ import annotations

from klein import Klein
from twisted.web.iweb import IRequest

from presque.broker import Broker, QueueClosed
from presque.web.inputs import (
    Limits,
    delayed_until,
    flag,
    parse_json,
    read_body,
    require_json_content_type,
    worker_id,
)
from presque.web.jobs import closed_or_empty
from presque.web.responses import (
    ApiError,
    empty_response,
    encode_json,
    error_response,
    json_body,
)

JOB_IDS_HEADER = b"X-Presque-Job-Ids"


def add_routes(app: Klein, broker: Broker, limits: Limits) -> None:
    """Register the C{/qb/} routes on C{app}."""

    @app.route("/qb/", methods=["GET", "POST", "PUT", "DELETE"])
    def batch_queue_name_missing(request: IRequest) -> bytes:
        return error_response(request, 404, "queue name is missing")

    @app.route("/qb/<queue>", methods=["GET"])
    async def take_batch(request: IRequest, queue: str) -> bytes:
        queue = limits.queue_name(queue)
        count = limits.batch_size(request)
        try:
            jobs = await broker.fetch(queue, count, worker_id(request))
        except QueueClosed:
            return closed_or_empty(request, closed=True)
        if not jobs:
            return closed_or_empty(request, closed=False)
        if flag(request, b"ids"):
            request.setHeader(JOB_IDS_HEADER, ",".join(job.id for job in jobs))
        # Each element is the job's JSON text, which clients decode again.
        return json_body(request, encode_json([job.payload.decode("utf-8") for job in jobs]))

    @app.route("/qb/<queue>", methods=["POST"])
    async def add_batch(request: IRequest, queue: str) -> bytes:
        queue = limits.queue_name(queue)
        require_json_content_type(request)
        document = parse_json(read_body(request), "batch")
        jobs = document.get("jobs") if isinstance(document, dict) else None
        if not isinstance(jobs, list):
            raise ApiError(400, "jobs should be an array of job")
        if len(jobs) > limits.max_batch_size:
            raise ApiError(400, f"a batch holds at most {limits.max_batch_size} jobs")
        if jobs:
            ids = await broker.enqueue(
                queue, [encode_json(job) for job in jobs], run_at=delayed_until(request)
            )
            if flag(request, b"ids"):
                request.setHeader(JOB_IDS_HEADER, ",".join(ids))
        return empty_response(request, 201)

    @app.route("/qb/<queue>", methods=["PUT"])
    def refuse_batch_put(request: IRequest, queue: str) -> bytes:
        return error_response(request, 400, "PUT is not supported in batch mode")

    @app.route("/qb/<queue>", methods=["DELETE"])
    def refuse_batch_delete(request: IRequest, queue: str) -> bytes:
        return error_response(request, 400, "DELETE is not supported in batch mode")
