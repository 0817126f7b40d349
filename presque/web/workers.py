"""
C{/w/}: optional worker registration, for statistics (presque 1), and
C{/workers}: every worker registered or seen, with its queues, counters,
last request and whether it is alive.
"""

from __future__ import annotations

from klein import Klein
from twisted.web.iweb import IRequest

from presque.broker import Broker, WorkerStats
from presque.web.inputs import Limits, query_arg, required_worker_id
from presque.web.responses import empty_response, json_response


def worker_summary(worker: str, stats: WorkerStats) -> dict[str, object]:
    """One worker as C{/workers} and C{/queues/Q} show it."""
    return {
        "worker_id": worker,
        "queues": stats.queues,
        "processed": stats.processed,
        "failed": stats.failed,
        "started_at": stats.started_at,
        "last_seen": stats.last_seen,
        "alive": stats.alive,
    }


def add_routes(app: Klein, broker: Broker, limits: Limits) -> None:
    """Register the C{/w/} and C{/workers} routes on C{app}."""

    @app.route("/workers", methods=["GET"])
    async def list_workers_in_full(request: IRequest) -> bytes:
        workers = await broker.known_workers()
        stats = await broker.workers_stats(workers)
        return json_response(
            request,
            {
                "workers": [
                    worker_summary(name, worker)
                    for name, worker in zip(workers, stats, strict=True)
                ]
            },
        )

    @app.route("/w/", methods=["GET"])
    async def worker_statistics(request: IRequest) -> bytes:
        queue = query_arg(request, b"queue_name")
        if queue:
            queue = limits.queue_name(queue)
            workers = await broker.queue_workers(queue)
            counts = await broker.counts(queue)
            return json_response(
                request,
                {
                    "queue_name": queue,
                    "workers_list": workers,
                    "processed": counts.processed,
                    "failed": counts.failed,
                },
            )
        worker = query_arg(request, b"worker_id")
        if worker:
            stats = await broker.worker_stats(worker)
            return json_response(
                request,
                {
                    "worker_id": worker,
                    "processed": stats.processed,
                    "failed": stats.failed,
                    "started_at": stats.started_at,
                },
            )
        return json_response(request, await broker.workers())

    @app.route("/w/<queue>", methods=["POST"])
    async def register_worker(request: IRequest, queue: str) -> bytes:
        queue = limits.queue_name(queue)
        await broker.register_worker(queue, required_worker_id(request))
        return empty_response(request, 201)

    @app.route("/w/<queue>", methods=["DELETE"])
    async def unregister_worker(request: IRequest, queue: str) -> bytes:
        queue = limits.queue_name(queue)
        await broker.unregister_worker(queue, required_worker_id(request))
        return empty_response(request, 204)
