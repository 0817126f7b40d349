"""C{GET /metrics}: the server's and the queues' figures for Prometheus (see L{presque.metrics})."""

from __future__ import annotations

from presque.web.answers import Answer
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
            )
        ]

    async def scrape(self, call: Call) -> Answer:
        metrics = self.broker.metrics
        await metrics.refresh(self.broker.figures)
        # Latin-1, as every header is read: any bytes a client sends decode.
        accept = (call.request.getHeader(b"accept") or b"").decode("latin-1")
        body, content_type = metrics.exposition(accept)
        return Answer(200, body, content_type=content_type)
