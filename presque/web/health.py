"""
Health for machines: C{/health} (the process serves: liveness) and
C{/ready} (Redis answers and knows presque's scripts: readiness).

Both are cheap enough for a load balancer or an orchestrator to ask every
second, and name nothing about the deployment in their answers.
"""

from __future__ import annotations

from presque.web.answers import Answer, json_answer
from presque.web.context import Resource
from presque.web.routing import Call, Route


class Health(Resource):
    """The C{/health} and C{/ready} routes."""

    def routes(self) -> list[Route]:
        return [
            Route(
                "GET",
                "/health",
                self.alive,
                "Whether the process serves (liveness); asks nothing of Redis.",
                answers={200: ("The process serves.", "Health")},
                safe=True,
                sighting="none",
                scope=None,
                any_host=True,
            ),
            Route(
                "GET",
                "/ready",
                self.ready,
                "Whether this server can serve jobs (readiness): Redis answers and knows"
                " the scripts; a 503 names the reason when not.",
                answers={200: ("Ready.", "Health")},
                safe=True,
                sighting="none",
                scope=None,
                any_host=True,
            ),
        ]

    async def alive(self, call: Call) -> Answer:
        return json_answer({"status": "ok"})

    async def ready(self, call: Call) -> Answer:
        await self.broker.check_ready()
        return json_answer({"status": "ready"})
