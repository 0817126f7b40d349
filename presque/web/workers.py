"""
C{/w/}: optional worker registration, for statistics (presque 1), and
C{/workers}: every worker registered or seen lately, with its queues,
counters, last request and whether it is alive.
"""

from __future__ import annotations

from presque.broker import WorkerStats
from presque.web.answers import Answer, empty_answer, json_answer
from presque.web.context import Resource
from presque.web.errors import ApiError
from presque.web.inputs import LIMIT, OFFSET, QUEUE_NAME, THE_WORKER, WORKER_ID, queue_name
from presque.web.routing import Call, Route


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


class Workers(Resource):
    """The C{/w/} and C{/workers} routes."""

    def routes(self) -> list[Route]:
        missing = {400: ("No X-presque-workerid header.", "Error")}
        return [
            Route(
                "GET",
                "/workers",
                self.list_in_full,
                "Every worker registered or seen lately, a page at a time.",
                args=(OFFSET, LIMIT),
                answers={200: ("A page of workers.", "WorkerPage")},
                safe=True,
                scope="read",
            ),
            # Also /w and /w/<anything>: Net::Presque drops the slash, the
            # Clojure client adds a segment, and presque 1 ignored the path.
            Route(
                "GET",
                "/w/{rest}",
                self.statistics,
                "Counters of a queue's workers (queue_name=Q), of a worker (worker_id=W),"
                " or the list of registered workers.",
                args=(QUEUE_NAME, WORKER_ID),
                answers={200: ("The statistics asked for.", "WorkerStatistics")},
                safe=True,
                scope="read",
            ),
            Route(
                "POST",
                "/w/{queue}",
                self.register,
                "Register the worker of X-presque-workerid on a queue.",
                headers=(THE_WORKER,),
                answers={201: ("Registered.", None), **missing},
                sighting="queue",
                scope="consume",
            ),
            Route(
                "DELETE",
                "/w/{queue}",
                self.unregister,
                "Unregister the worker of X-presque-workerid, and forget its counters.",
                headers=(THE_WORKER,),
                answers={204: ("Unregistered.", None), **missing},
                # Recording it as seen would race with forgetting it.
                sighting="none",
                scope="consume",
            ),
        ]

    async def list_in_full(self, call: Call) -> Answer:
        offset, limit = OFFSET.read(call.request), LIMIT.read(call.request)
        page = await self.broker.known_workers(offset, limit)
        stats = await self.broker.workers_stats(page.items)
        workers = [worker_summary(name, s) for name, s in zip(page.items, stats, strict=True)]
        return json_answer(
            {"total": page.total, "offset": offset, "limit": limit, "workers": workers}
        )

    async def statistics(self, call: Call) -> Answer:
        request = call.request
        queue, worker = QUEUE_NAME.read(request), WORKER_ID.read(request)
        if queue:
            queue = queue_name(queue, self.context.settings.max_queue_name_length)
            workers = await self.broker.queue_workers(queue)
            summary = await self.broker.summary(queue)
            return json_answer(
                {
                    "queue_name": queue,
                    "workers_list": workers,
                    "processed": summary.totals["processed"],
                    "failed": summary.totals["failed"],
                }
            )
        if worker:
            stats = await self.broker.worker_stats(worker)
            return json_answer(
                {
                    "worker_id": worker,
                    "processed": stats.processed,
                    "failed": stats.failed,
                    "started_at": stats.started_at,
                }
            )
        return json_answer(await self.broker.workers())

    async def register(self, call: Call) -> Answer:
        await self.broker.register_worker(call.queue, _required_worker(call))
        return empty_answer(201)

    async def unregister(self, call: Call) -> Answer:
        await self.broker.unregister_worker(call.queue, _required_worker(call))
        return empty_answer(204)


def _required_worker(call: Call) -> str:
    if not call.worker:
        raise ApiError(400, "worker_id is missing")
    return call.worker
