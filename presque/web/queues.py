"""
C{/queues} and C{/queues/Q}: everything about queues, and their settings
(default lease, maximum attempts, backoff), changed with PATCH.
"""

from __future__ import annotations

from klein import Klein
from twisted.web.iweb import IRequest

from presque.broker import Broker, QueueView
from presque.web.inputs import Limits, json_object
from presque.web.responses import ApiError, json_response
from presque.web.workers import worker_summary


async def _queue(broker: Broker, view: QueueView) -> dict[str, object]:
    workers = await broker.workers_stats(view.workers)
    return {
        "queue": view.name,
        "status": "open" if view.open else "closed",
        "counts": view.counts,
        "ready_by_priority": view.ready_by_priority,
        "totals": view.totals,
        "settings": view.settings.as_dict(),
        "workers": [
            worker_summary(name, stats) for name, stats in zip(view.workers, workers, strict=True)
        ],
    }


def add_routes(app: Klein, broker: Broker, limits: Limits) -> None:
    """Register the C{/queues} routes on C{app}."""

    @app.route("/queues", methods=["GET"])
    async def list_queues_in_full(request: IRequest) -> bytes:
        views = await broker.queue_views()
        return json_response(
            request,
            {
                "queues": [
                    {
                        "queue": view.name,
                        "status": "open" if view.open else "closed",
                        "counts": view.counts,
                    }
                    for view in views
                ]
            },
        )

    @app.route("/queues/<queue>", methods=["GET"])
    async def show_queue(request: IRequest, queue: str) -> bytes:
        queue = limits.queue_name(queue)
        view = await broker.queue_view(queue)
        return json_response(request, await _queue(broker, view))

    @app.route("/queues/<queue>", methods=["PATCH"])
    async def configure_queue(request: IRequest, queue: str) -> bytes:
        queue = limits.queue_name(queue)
        try:
            await broker.configure(queue, json_object(request, "settings"))
        except ValueError as error:
            raise ApiError(400, str(error)) from None
        view = await broker.queue_view(queue)
        return json_response(request, await _queue(broker, view))
