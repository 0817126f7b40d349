"""
Queue information of presque 1: C{/status/}, C{/status/Q} and C{/j/Q}.
"""

from __future__ import annotations

from klein import Klein
from twisted.web.iweb import IRequest

from presque.broker import Broker
from presque.web.inputs import Limits, flag
from presque.web.responses import json_response


def add_routes(app: Klein, broker: Broker, limits: Limits) -> None:
    """Register the C{/status/} and C{/j/} routes on C{app}."""

    @app.route("/status/", methods=["GET"])
    async def list_queues(request: IRequest) -> bytes:
        queues = await broker.queues()
        return json_response(request, {"queues": queues, "size": len(queues)})

    @app.route("/status/<queue>", methods=["GET"])
    async def queue_status(request: IRequest, queue: str) -> bytes:
        queue = limits.queue_name(queue)
        if not flag(request, b"with_desc"):
            size = await broker.ready_count(queue)
            return json_response(request, {"queue": queue, "size": size})
        payloads = await broker.ready_payloads(queue)
        jobs = [payload.decode("utf-8") for payload in payloads]
        return json_response(request, {"queue": queue, "size": len(jobs), "jobs": jobs})

    @app.route("/j/<queue>", methods=["GET"])
    async def queue_counts(request: IRequest, queue: str) -> bytes:
        queue = limits.queue_name(queue)
        counts = await broker.counts(queue)
        return json_response(
            request,
            {
                "queue_name": queue,
                "job_count": counts.ready,
                "job_processed": counts.processed,
                "job_failed": counts.failed,
            },
        )
