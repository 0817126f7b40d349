"""
C{GET /}: a page for people, listing the first queues and their counts.
"""

from __future__ import annotations

from html import escape

from presque.web.answers import Answer
from presque.web.context import Resource
from presque.web.routing import Call, Route

#: The most queues the page lists.
MAX_LISTED = 100

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>presque</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; }}
th, td {{ padding: .3rem .9rem; border-bottom: 1px solid #ddd; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
</style>
</head>
<body>
<h1>presque</h1>
<p>{summary}</p>
<table>
<thead><tr><th>queue</th><th>ready</th><th>processed</th><th>failed</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""

_ROW = "<tr><td>{name}</td><td>{ready}</td><td>{processed}</td><td>{failed}</td></tr>"


class Dashboard(Resource):
    """The C{GET /} route."""

    def routes(self) -> list[Route]:
        return [
            Route(
                "GET",
                "/",
                self.page,
                "A page for people about the queues.",
                answers={200: ("An HTML page.", None)},
                safe=True,
                media_types=("text/html",),
            )
        ]

    async def page(self, call: Call) -> Answer:
        names = await self.broker.queue_names(0, MAX_LISTED)
        summaries = await self.broker.summaries(names.items)
        rows = "\n".join(
            _ROW.format(
                name=escape(summary.name),
                ready=summary.ready,
                processed=summary.totals["processed"],
                failed=summary.totals["failed"],
            )
            for summary in summaries
        )
        total = names.total
        summary = f"{total} queue{'s' if total != 1 else ''}"
        if total > len(summaries):
            summary += f", the first {len(summaries)} listed"
        page = _PAGE.format(summary=summary, rows=rows).encode("utf-8")
        return Answer(200, page, content_type="text/html; charset=utf-8")
