"""
The table of routes and the one way a request finds its route.

A route is a method and a path template such as C{/q/{queue}/{job}/lease}.
Each segment of the request's path is percent-decoded on its own, so a
C{%2F} stays inside its segment (and is refused in a queue name, as every
route checks names the same way). A path that no route knows is a 404; a
known path with another method a 405 naming the methods in C{Allow}.
C{HEAD} runs only the GET routes marked safe (those that change nothing:
a HEAD never takes a job) and C{OPTIONS} answers C{Allow}. A path that
misses only its trailing slash, or has one too many, is redirected (308,
keeping the method, the body and the query) to the path that exists.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from twisted.web.iweb import IRequest

from presque.web.answers import Answer, empty_answer
from presque.web.errors import ApiError
from presque.web.inputs import Arg, Header, queue_name

#: The parameters a template may hold, besides literal segments.
QUEUE, JOB, NAME, REST = "{queue}", "{job}", "{name}", "{rest}"
#: The parameters of a path: one segment each.
_PARAMETERS = (QUEUE, JOB, NAME)
_URL_SAFE = "/%?=&;:@!$'()*+,-._~"


@dataclass
class Call:
    """A request on its way through a route: the request and its path's parameters."""

    request: IRequest
    route: Route
    #: The queue named by the path, checked; "" when the route names none.
    queue: str = ""
    #: The job id named by the path, checked; "" when the route names none.
    job: str = ""
    #: The name of a schedule named by the path, checked; "" when the route names none.
    name: str = ""
    #: The worker named by the request's X-presque-workerid header, if any.
    worker: str | None = None
    #: Fires when the client goes away before its answer is written.
    departure: Any = None
    #: The methods of the path, for OPTIONS.
    allow: str = ""
    #: The token the request carries, once identified (L{presque.web.access}).
    token: Any = None


Handler = Callable[[Call], Awaitable[Answer]]


@dataclass(frozen=True)
class Route:
    """One method on one path, its handler, and its description for C{/openapi.json}."""

    method: str
    path: str
    handler: Handler
    summary: str
    args: tuple[Arg, ...] = ()
    headers: tuple[Header, ...] = ()
    #: The name of the request body's schema (see L{presque.web.openapi}).
    body: str | None = None
    #: The answers it gives: status -> (description, schema name or None).
    answers: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    #: A GET that changes nothing: HEAD may run it too.
    safe: bool = False
    #: The media types of an answer that is not JSON (a page for people, say).
    media_types: tuple[str, ...] = ()
    #: What a request with a worker id tells of its worker: "queue" (alive,
    #: working on the queue of the path), "worker" (alive) or "none".
    sighting: str = "worker"
    #: The scope a token needs for it (L{presque.auth.SCOPES}), on the
    #: path's queue or, for a route about no one queue, on every queue; None
    #: for the routes open to anyone. Admin unless said.
    scope: str | None = "admin"
    #: Answered whatever host or site the request names (health checks of
    #: balancers, OPTIONS); every other route checks them (L{presque.web.access}).
    any_host: bool = False

    @cached_property
    def segments(self) -> tuple[str, ...]:
        """The segments of the path template."""
        return tuple(self.path.split("/")[1:])

    @cached_property
    def literals(self) -> tuple[bool, ...]:
        """Which segments are literal, for ranking the routes a path fits."""
        return tuple(part not in (*_PARAMETERS, REST) for part in self.segments)


class Router:
    """Finds the route of a request among C{routes}."""

    def __init__(self, routes: Iterable[Route], longest_queue_name: int) -> None:
        self.routes = list(routes)
        self.longest_queue_name = longest_queue_name
        self._by_first: dict[str, list[Route]] = {}
        for route in self.routes:
            self._by_first.setdefault(route.segments[0], []).append(route)

    def resolve(self, request: IRequest) -> Call:
        """
        The call of C{request}'s route, its parameters checked.

        @raise ApiError: 400 for a path that is not UTF-8 or a bad name, 404,
            405 (with C{Allow}), 308 (with C{Location}).
        """
        path = _path_of(request)
        if path == b"*":
            return self._whole_server(request)
        segments = _segments(path)
        matches = self._matching(segments)
        complete = [(route, params) for route, params in matches if all(params.values())]
        if complete:
            matches = complete
        else:
            # Nothing, or only routes with an empty name (/queues/): the path
            # may have a slash too many, or miss one.
            redirect = self._elsewhere(request, path, segments)
            if redirect is not None:
                raise redirect
            if not matches:
                raise ApiError(404, "not found")
        method = request.method.decode("ascii", "replace")
        if method == "OPTIONS":
            return Call(request, _OPTIONS, allow=_allow(matches))
        route, params = _pick(matches, method)
        if route is None:
            raise ApiError(405, "method not allowed", headers={"Allow": _allow(matches)})
        call = Call(request, route, job=params.get(JOB, ""))
        if QUEUE in params:
            call.queue = queue_name(params[QUEUE], self.longest_queue_name)
        if NAME in params:
            call.name = queue_name(params[NAME], self.longest_queue_name, "schedule name")
        return call

    def _matching(self, segments: Sequence[str]) -> list[tuple[Route, dict[str, str]]]:
        """The routes whose template fits C{segments}; a literal segment beats a parameter."""
        matches = []
        for route in self._by_first.get(segments[0], ()):
            params = _match(route.segments, segments)
            if params is not None:
                matches.append((route, params))
        if len(matches) < 2:
            return matches
        best = max(route.literals for route, _ in matches)
        return [(route, params) for route, params in matches if route.literals == best]

    def _elsewhere(self, request: IRequest, path: bytes, segments: list[str]) -> ApiError | None:
        """The redirect to the path with its trailing slash toggled, if that path exists."""
        if segments[-1] == "" and len(segments) > 1:
            other, location = segments[:-1], path[:-1]
        else:
            other, location = [*segments, ""], path + b"/"
        if not any(all(params.values()) for _, params in self._matching(other)):
            return None
        # Relative, from the request's own path and query: never from its Host.
        query = request.uri[len(request.path) :]
        target = quote(location + query, safe=_URL_SAFE)
        return ApiError(308, f"moved to {target}", refusal=False, headers={"Location": target})

    def _whole_server(self, request: IRequest) -> Call:
        """C{OPTIONS *}: the methods of the server as a whole; any other method is refused."""
        if request.method != b"OPTIONS":
            raise ApiError(400, "the target * is for OPTIONS only")
        methods = {route.method for route in self.routes} | {"HEAD", "OPTIONS"}
        return Call(request, _OPTIONS, allow=", ".join(sorted(methods)))


def _path_of(request: IRequest) -> bytes:
    """
    The path the request targets: its own, or that of an absolute URL
    (C{GET http://host/q/mail}, which HTTP/1.1 servers must take; its host
    is ignored).
    """
    path = request.path
    if path.startswith(b"/") or path == b"*":
        return path
    scheme, _, rest = path.partition(b"://")
    if rest and scheme.lower() in (b"http", b"https"):
        return b"/" + rest.partition(b"/")[2]
    raise ApiError(400, "the request target must be a path, such as /q/mail")


def _segments(path: bytes) -> list[str]:
    try:
        return [unquote_to_bytes(part).decode("utf-8") for part in path.split(b"/")[1:]]
    except UnicodeDecodeError:
        raise ApiError(400, "the URL path is not valid UTF-8") from None


def _match(template: tuple[str, ...], segments: Sequence[str]) -> dict[str, str] | None:
    params = {}
    for i, part in enumerate(template):
        if part == REST:
            return params
        if i >= len(segments):
            return None
        if part in _PARAMETERS:
            params[part] = segments[i]
        elif part != segments[i]:
            return None
    return params if len(segments) == len(template) else None


def _pick(
    matches: list[tuple[Route, dict[str, str]]], method: str
) -> tuple[Route | None, dict[str, str]]:
    wanted = "GET" if method == "HEAD" else method
    for route, params in matches:
        if route.method == wanted and (method != "HEAD" or route.safe):
            return route, params
    return None, {}


def _allow(matches: list[tuple[Route, dict[str, str]]]) -> str:
    methods = {route.method for route, _ in matches}
    if any(route.method == "GET" and route.safe for route, _ in matches):
        methods.add("HEAD")
    return ", ".join(sorted(methods | {"OPTIONS"}))


async def _answer_options(call: Call) -> Answer:
    return empty_answer(204, {"Allow": call.allow})


# Not a route of the table (its path is none): the router's own answer.
_OPTIONS = Route(
    "OPTIONS", "", _answer_options, "The methods of a path, in Allow.", scope=None, any_host=True
)
