"""
C{/queues} and C{/queues/Q}: everything about queues, their settings
(changed with PATCH), and deleting a queue.
"""

from __future__ import annotations

from presque.broker import QueueSummary, QueueView
from presque.web.answers import Answer, empty_answer, json_answer
from presque.web.context import Resource
from presque.web.errors import ApiError
from presque.web.inputs import LIMIT, OFFSET, SAMPLES, SINCE, body
from presque.web.jobs import refuse_virtual
from presque.web.jsontext import read_json
from presque.web.routing import Call, Route
from presque.web.workers import worker_summary


def queue_summary(summary: QueueSummary) -> dict[str, object]:
    """A queue as C{/queues} lists it."""
    return {
        "queue": summary.name,
        "status": "open" if summary.open else "closed",
        "counts": summary.counts,
    }


class Queues(Resource):
    """The C{/queues} routes."""

    def routes(self) -> list[Route]:
        view = {200: ("Everything about the queue.", "QueueView")}
        return [
            Route(
                "GET",
                "/queues",
                self.list_in_full,
                "Every queue with its status and counts, a page at a time, by name.",
                args=(OFFSET, LIMIT),
                answers={200: ("A page of queues.", "QueuePage")},
                safe=True,
                scope="read",
            ),
            Route(
                "GET",
                "/queues/{queue}",
                self.show,
                "Everything about a queue: status, counts, totals, settings, workers.",
                answers=view,
                safe=True,
                scope="read",
            ),
            Route(
                "GET",
                "/queues/{queue}/history",
                self.history,
                "The queue's counts and totals, a sample per minute that changed, oldest first.",
                args=(SINCE, SAMPLES),
                answers={200: ("The samples.", "History")},
                safe=True,
                scope="read",
            ),
            Route(
                "GET",
                "/history",
                self.total_history,
                "The counts and totals of the sampled queues (see [history] max_queues) added"
                " up, a sample per minute, oldest first.",
                args=(SINCE, SAMPLES),
                answers={200: ("The samples.", "History")},
                safe=True,
                scope="read",
            ),
            Route(
                "PATCH",
                "/queues/{queue}",
                self.configure,
                "Change settings of a queue.",
                body="Settings",
                answers=view,
                scope="admin",
            ),
            Route(
                "DELETE",
                "/queues/{queue}",
                self.delete,
                "Delete a queue: its jobs in every state, counters, settings, workers.",
                answers={204: ("Deleted.", None)},
                scope="admin",
            ),
        ]

    async def list_in_full(self, call: Call) -> Answer:
        offset, limit = OFFSET.read(call.request), LIMIT.read(call.request)
        page = await self.broker.queue_names(offset, limit)
        summaries = await self.broker.summaries(page.items)
        return json_answer(
            {
                "total": page.total,
                "offset": offset,
                "limit": limit,
                "queues": [queue_summary(summary) for summary in summaries],
            }
        )

    async def show(self, call: Call) -> Answer:
        return json_answer(await self._view(await self.broker.queue_view(call.queue)))

    async def history(self, call: Call) -> Answer:
        return json_answer({"queue": call.queue, "samples": await self._samples(call, call.queue)})

    async def total_history(self, call: Call) -> Answer:
        return json_answer({"queue": None, "samples": await self._samples(call, None)})

    async def _samples(self, call: Call, queue: str | None) -> list[dict[str, object]]:
        since, limit = SINCE.read(call.request) or 0.0, SAMPLES.read(call.request)
        samples = await self.broker.history(queue, since, limit)
        return [
            {"at": sample.at, "counts": sample.counts, "totals": sample.totals}
            for sample in samples
        ]

    async def configure(self, call: Call) -> Answer:
        content = body(call.request)
        if not content.strip():
            raise ApiError(400, "settings is missing")
        changes = read_json(content, "settings")
        if not isinstance(changes, dict):
            raise ApiError(400, "settings must be a JSON object")
        refuse_virtual(self.broker, call.queue)
        try:
            await self.broker.configure(call.queue, changes)
        except ValueError as error:
            raise ApiError(400, str(error)[:500]) from None
        return json_answer(await self._view(await self.broker.queue_view(call.queue)))

    async def delete(self, call: Call) -> Answer:
        if self.broker.members(call.queue) is not None:
            await self.broker.change_virtual(call.queue, "destroy", [])
        await self.broker.delete_queue(call.queue)
        return empty_answer(204)

    async def _view(self, view: QueueView) -> dict[str, object]:
        stats = await self.broker.workers_stats(view.workers)
        summary = view.summary
        return {
            **queue_summary(summary),
            "ready_by_priority": {str(p): n for p, n in enumerate(summary.ready_by_priority) if n},
            "totals": summary.totals,
            "settings": view.settings.as_dict(),
            "workers": [
                worker_summary(name, s) for name, s in zip(view.workers, stats, strict=True)
            ],
        }
