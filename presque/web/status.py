"""
Queue information of presque 1: C{/status/}, C{/status/Q} and C{/j/Q}.
"""

from __future__ import annotations

from presque.web.answers import Answer, json_answer
from presque.web.context import Resource
from presque.web.inputs import WITH_DESC
from presque.web.jsontext import body_text
from presque.web.routing import Call, Route

#: The most ready jobs C{with_desc=1} lists.
MAX_DESCRIBED = 1000


class Status(Resource):
    """The C{/status/} and C{/j/} routes."""

    def routes(self) -> list[Route]:
        return [
            Route(
                "GET",
                "/status/",
                self.list_queues,
                "The names of every queue.",
                answers={200: ("Every queue, in one list.", "QueueNames")},
                safe=True,
                scope="read",
            ),
            Route(
                "GET",
                "/status/{queue}",
                self.queue_status,
                "How many jobs of a queue are ready; with with_desc=1, the first of them.",
                args=(WITH_DESC,),
                answers={200: ("The queue's size.", "QueueSize")},
                safe=True,
                scope="read",
            ),
            Route(
                "GET",
                "/j/{queue}",
                self.queue_counts,
                "The ready jobs and the counters of a queue.",
                answers={200: ("The counts.", "QueueCounts")},
                safe=True,
                scope="read",
            ),
        ]

    async def list_queues(self, call: Call) -> Answer:
        queues = await self.broker.queues()
        return json_answer({"queues": queues, "size": len(queues)})

    async def queue_status(self, call: Call) -> Answer:
        members = self.broker.members(call.queue)
        if members is not None:
            sizes = [await self.broker.ready_count(member) for member in members]
            return json_answer(
                {
                    "queue": call.queue,
                    "size": sum(sizes),
                    "type": "virtual",
                    "queues": list(members),
                }
            )
        with_desc = WITH_DESC.read(call.request)
        size = await self.broker.ready_count(call.queue)
        if not with_desc:
            return json_answer({"queue": call.queue, "size": size})
        payloads = await self.broker.ready_payloads(call.queue, MAX_DESCRIBED)
        jobs = [body_text(payload) for payload in payloads]
        return json_answer({"queue": call.queue, "size": size, "jobs": jobs})

    async def queue_counts(self, call: Call) -> Answer:
        summary = await self.broker.summary(call.queue)
        return json_answer(
            {
                "queue_name": call.queue,
                "job_count": summary.ready,
                "job_processed": summary.totals["processed"],
                "job_failed": summary.totals["failed"],
            }
        )
