"""
C{/q/Q}: one job at a time. GET takes a job, POST adds one, PUT gives a
failed job back, DELETE purges the queue.
"""

from __future__ import annotations

from urllib.parse import quote

from klein import Klein
from twisted.web.iweb import IRequest

from presque.broker import Broker, DuplicateJob, QueueClosed
from presque.web.inputs import (
    Limits,
    delayed_until,
    parse_json,
    query_arg,
    read_body,
    require_json_content_type,
    worker_id,
)
from presque.web.responses import ApiError, empty_response, error_response, json_body

JOB_ID_HEADER = b"X-Presque-Job-Id"


def closed_or_empty(request: IRequest, closed: bool) -> bytes:
    """The 404 of a fetch that hands out nothing."""
    return error_response(request, 404, "queue is closed" if closed else "no job")


def add_routes(app: Klein, broker: Broker, limits: Limits) -> None:
    """Register the C{/q/} routes on C{app}."""

    @app.route("/q/", methods=["GET", "POST", "PUT", "DELETE"])
    def job_queue_name_missing(request: IRequest) -> bytes:
        return error_response(request, 404, "queue name is missing")

    @app.route("/q/<queue>", methods=["GET"])
    async def take_job(request: IRequest, queue: str) -> bytes:
        queue = limits.queue_name(queue)
        try:
            jobs = await broker.fetch(queue, 1, worker_id(request))
        except QueueClosed:
            return closed_or_empty(request, closed=True)
        if not jobs:
            return closed_or_empty(request, closed=False)
        request.setHeader(JOB_ID_HEADER, jobs[0].id)
        return json_body(request, jobs[0].payload)

    async def insert(request: IRequest, queue: str, as_failure: bool) -> bytes:
        queue = limits.queue_name(queue)
        require_json_content_type(request)
        payload = read_body(request)
        if not payload.strip():
            raise ApiError(400, "job is missing")
        parse_json(payload, "job")
        try:
            [job_id] = await broker.enqueue(
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

    @app.route("/q/<queue>", methods=["POST"])
    def add_job(request: IRequest, queue: str) -> bytes:
        return insert(request, queue, as_failure=False)

    @app.route("/q/<queue>", methods=["PUT"])
    def give_back_job(request: IRequest, queue: str) -> bytes:
        return insert(request, queue, as_failure=True)

    @app.route("/q/<queue>", methods=["DELETE"])
    async def purge_queue(request: IRequest, queue: str) -> bytes:
        await broker.purge(limits.queue_name(queue))
        return empty_response(request, 204)
