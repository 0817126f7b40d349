"""
C{GET /metrics}: the server's and the queues' figures for Prometheus (see
L{presque.metrics}); C{GET /summary}: the same reading of the queues, added
up, in JSON.
"""

from __future__ import annotations

from presque.broker import Figures
from presque.counts import QUEUE_TOTALS, STATES
from presque.web.answers import Answer, json_answer
from presque.web.context import Resource
from presque.web.routing import Call, Route

#: What the route answers, as the Accept header asks.
TEXT_FORMAT = "text/plain"
OPENMETRICS_FORMAT = "application/openmetrics-text"


class Metrics(Resource):
    """The C{/metrics} route."""

    def routes(self) -> list[Route]:
        return [
            Route(
                "GET",
                "/metrics",
                self.scrape,
                "Figures for Prometheus: the text format, or OpenMetrics when Accept asks.",
                answers={200: ("The figures.", None)},
                safe=True,
                media_types=(TEXT_FORMAT, OPENMETRICS_FORMAT),
                sighting="none",
                scope="read",
            ),
            Route(
                "GET",
                "/summary",
                self.summary,
                "Every queue at a glance: the counts and totals of the first"
                " [metrics] max_queues queues added up, their oldest ready job, the workers"
                " alive, and Redis' memory; read at most every [metrics] cache seconds.",
                answers={200: ("The summary.", "Summary")},
                safe=True,
                sighting="none",
                scope="read",
            ),
        ]

    async def scrape(self, call: Call) -> Answer:
        metrics = self.broker.metrics
        await metrics.refresh(self.broker.figures)
        # Latin-1, as every header is read: any bytes a client sends decode.
        accept = (call.request.getHeader(b"accept") or b"").decode("latin-1")
        body, content_type = metrics.exposition(accept)
        return Answer(200, body, content_type=content_type)

    async def summary(self, call: Call) -> Answer:
        metrics = self.broker.metrics
        await metrics.refresh(self.broker.figures)
        figures, at = metrics.figures, metrics.figures_read_at
        if figures is None:
            return json_answer({"redis": "down", "at": at})
        return json_answer({"redis": "up", "at": at, **_added_up(figures)})


def _added_up(figures: Figures) -> dict[str, object]:
    summaries = figures.summaries
    oldest = [summary.oldest_ready for summary in summaries if summary.oldest_ready is not None]
    used, most = figures.redis_memory
    return {
        "queues": figures.queue_count,
        "summed": len(summaries),
        "counts": {state: sum(s.counts[state] for s in summaries) for state in STATES},
        "totals": {name: sum(s.totals[name] for s in summaries) for name, _ in QUEUE_TOTALS},
        "oldest_ready": min(oldest, default=None),
        "workers_alive": figures.workers_alive,
        "redis_memory": {"used": used, "max": most},
    }
