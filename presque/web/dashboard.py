"""
C{GET /}: a page for people, listing the queues and their counts.
"""

from __future__ import annotations

from html import escape

from klein import Klein
from twisted.web.iweb import IRequest

from presque.broker import Broker

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


def add_routes(app: Klein, broker: Broker) -> None:
    """Register C{GET /} on C{app}."""

    @app.route("/", methods=["GET"])
    async def dashboard(request: IRequest) -> bytes:
        overview = await broker.overview()
        rows = "\n".join(
            _ROW.format(
                name=escape(queue),
                ready=count.ready,
                processed=count.processed,
                failed=count.failed,
            )
            for queue, count in overview
        )
        summary = f"{len(overview)} queue{'s' if len(overview) != 1 else ''}"
        request.setHeader(b"Content-Type", b"text/html; charset=utf-8")
        return _PAGE.format(summary=summary, rows=rows).encode("utf-8")
