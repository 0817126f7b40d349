"""
C{GET /}: the page for people, and the files it is made of
(C{presque/web/page/}), read once at start. The page is a client of the
public JSON API, like any other: it reads what C{/openapi.json} describes.
"""

from __future__ import annotations

from importlib.resources import files

from presque.web.answers import Answer
from presque.web.context import Resource
from presque.web.routing import Call, Handler, Route

#: The files of the page, served under /page/ (index.html at /).
_FILES = (
    "index.html",
    "app.js",
    "common.js",
    "overview.js",
    "queue.js",
    "workers.js",
    "schedules.js",
    "charts.js",
    "jobs.js",
    "login.js",
    "app.css",
    "uPlot-1.6.32.min.js",
    "uPlot-1.6.32.min.css",
    "uPlot-LICENSE.txt",
)
#: Media types by file name extension.
_KINDS = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".txt": "text/plain"}
_HEADERS = {
    # Small files that change with presque: always asked for again.
    "Cache-Control": "no-cache",
    # Everything from this server, nothing inline, no framing by other sites.
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
}


class Dashboard(Resource):
    """The C{GET /} route and the page's files."""

    def routes(self) -> list[Route]:
        folder = files(__package__) / "page"
        return [
            Route(
                "GET",
                path,
                _serving(folder.joinpath(name).read_bytes(), f"{kind}; charset=utf-8"),
                "The page for people." if path == "/" else f"A file of the page ({name}).",
                answers={200: ("The file.", None)},
                safe=True,
                media_types=(kind,),
                sighting="none",
                scope=None,
            )
            for name in _FILES
            for path, kind in [_where(name)]
        ]


def _where(name: str) -> tuple[str, str]:
    """The path a file of the page is served at, and its media type."""
    path = "/" if name == "index.html" else f"/page/{name}"
    return path, _KINDS[name[name.rindex(".") :]]


def _serving(content: bytes, content_type: str) -> Handler:
    async def serve(call: Call) -> Answer:
        return Answer(200, content, dict(_HEADERS), content_type=content_type)

    return serve
