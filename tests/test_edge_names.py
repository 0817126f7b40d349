"""
Queue names, redirects and media types at their edges. One queue-name rule
holds on every route that names a queue: no slash (not even %2F), not . or
.., no control characters, valid UTF-8, at most max_queue_name_length (128)
characters; any other Unicode name works everywhere. A redirect of a path
that misses or has one slash too many is a relative 308 built from the
request's own path and query, never from its Host. A job is posted as
application/json (any case, parameters allowed), and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import pytest
from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer, reactor
from twisted.internet.protocol import Protocol

from tests.support import (
    JSON,
    NO_QUEUES,
    NOT_JSON_CONTENT_TYPE,
    WORKER,
    Http,
    Reply,
    assert_error,
)

NO_COUNTS = {"ready": 0, "delayed": 0, "leased": 0, "dead": 0, "waiting": 0}
LONGEST = 128


class _HangUp(Protocol):
    """Drops a stream's connection as soon as its body starts."""

    def __init__(self) -> None:
        self.done: defer.Deferred[None] = defer.Deferred()

    def connectionMade(self) -> None:
        self.transport.stopProducing()
        self.done.callback(None)


async def send(
    http: Http,
    method: str,
    path: str,
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """A request whose answer is read whole, unless it is a stream (then dropped at once)."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    response = await http.client.request(
        method,
        http.base + path,
        data=body,
        headers={name: [value] for name, value in (headers or {}).items()},
        allow_redirects=False,
        unbuffered=True,
    )
    if (response.headers.getRawHeaders("Content-Type") or [""])[0] == "text/event-stream":
        hang_up = _HangUp()
        response.deliverBody(hang_up)
        await hang_up.done
        return Reply(response.code, response.headers, b"")
    content = await defer.Deferred.fromCoroutine(_content(response)).addTimeout(10, reactor)
    return Reply(response.code, response.headers, content)


async def _content(response: Any) -> bytes:
    return await response.content()


async def queue_view(http: Http, queue: str) -> dict[str, Any]:
    reply = await http.get(f"/queues/{queue}")
    assert reply.status == 200, reply.body
    return reply.json()


async def assert_nothing_known(http: Http) -> None:
    """No queue, no worker: what a server that refused everything shows."""
    assert (await http.get("/status/")).json() == NO_QUEUES
    assert (await http.get("/queues")).json()["total"] == 0
    assert (await http.get("/workers")).json()["total"] == 0


# Every route that names a queue.


@dataclass(frozen=True)
class NamingRoute:
    """A request naming a queue in its path ({q}), and its answer for a good name."""

    method: str
    template: str
    status: int
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: Where the answer's JSON echoes the queue's name.
    echo: str | None = None

    @property
    def name(self) -> str:
        return f"{self.method} {self.template.replace('{q}', 'Q')}"

    async def send(self, http: Http, quoted_name: str) -> Reply:
        return await send(
            http, self.method, self.template.format(q=quoted_name), self.body, self.headers
        )


JOB, BATCH = '{"n": 1}', '{"jobs": [{"n": 1}]}'
NAMING_ROUTES = [
    NamingRoute("GET", "/q/{q}", 404),
    NamingRoute("POST", "/q/{q}", 201, JOB, JSON),
    NamingRoute("PUT", "/q/{q}", 201, JOB, JSON),
    NamingRoute("DELETE", "/q/{q}", 204),
    NamingRoute("GET", "/q/{q}/0123456789abcdef0123456789", 404),
    NamingRoute("GET", "/qb/{q}", 404),
    NamingRoute("POST", "/qb/{q}", 201, BATCH, JSON),
    NamingRoute("GET", "/sse/{q}", 200),
    NamingRoute("GET", "/j/{q}", 200, echo="queue_name"),
    NamingRoute("GET", "/status/{q}", 200, echo="queue"),
    NamingRoute("GET", "/control/{q}", 200, echo="queue"),
    NamingRoute("POST", "/control/{q}", 200, '{"status": "stop"}', echo="queue"),
    NamingRoute("POST", "/w/{q}", 201, headers={WORKER: "w1"}),
    NamingRoute("DELETE", "/w/{q}", 204, headers={WORKER: "w1"}),
    NamingRoute("GET", "/dead/{q}", 200, echo="queue"),
    NamingRoute("POST", "/dead/{q}/retry", 200, echo="queue"),
    NamingRoute("DELETE", "/dead/{q}", 200, echo="queue"),
    NamingRoute("GET", "/queues/{q}", 200, echo="queue"),
    NamingRoute("PATCH", "/queues/{q}", 200, '{"lease": 5}', JSON, echo="queue"),
    NamingRoute("DELETE", "/queues/{q}", 204),
]
EVERY_NAMING_ROUTE = [pytest.param(route, id=route.name) for route in NAMING_ROUTES]

BAD_NAMES = {
    "encoded-slash": "a%2Fb",
    "encoded-slash-lower-case": "a%2fb",
    "dot": "%2E",
    "dot-dot": "%2E%2E",
    "dot-dot-lower-case": "%2e%2e",
    "control-01": "a%01b",
    "nul": "a%00b",
    "delete-7F": "a%7Fb",
    "c1-control-85": "a%C2%85b",
    "invalid-utf8": "a%FFb",
    "truncated-utf8": "caf%C3",
    "129-characters": "a" * (LONGEST + 1),
    "129-characters-non-ascii": "%C3%A9" * (LONGEST + 1),
}
GOOD_NAMES = {
    "128-characters": "a" * LONGEST,
    "128-characters-non-ascii": "%C3%A9" * LONGEST,
    "cafe-accented": "caf%C3%A9",
    "emoji": "%F0%9F%98%80",
    "space": "a%20b",
    "dots-inside": "a..b",
    "three-dots": "...",
    "percent": "a%25b",
    "plus": "a+b",
}
#: The good names tried on every route, one request each.
EVERYWHERE = ("128-characters", "128-characters-non-ascii", "cafe-accented", "emoji")


@pytest.mark.parametrize("name", [pytest.param(v, id=k) for k, v in BAD_NAMES.items()])
@async_test
async def test_a_bad_queue_name_is_a_400_on_every_route_and_changes_nothing(
    http: Http, name: str
) -> None:
    wrong = []
    for route in NAMING_ROUTES:
        reply = await route.send(http, name)
        try:
            assert_error(reply, 400)
        except AssertionError:
            wrong.append((route.name, reply.status, reply.body[:100]))
    assert wrong == []
    await assert_nothing_known(http)


@pytest.mark.parametrize("name", [pytest.param(v, id=k) for k, v in BAD_NAMES.items()])
@async_test
async def test_a_bad_queue_name_in_the_query_of_w_is_a_400(http: Http, name: str) -> None:
    assert_error(await http.get(f"/w/?queue_name={name}"), 400)


@pytest.mark.parametrize("route", EVERY_NAMING_ROUTE)
@pytest.mark.parametrize("name", [pytest.param(GOOD_NAMES[k], id=k) for k in EVERYWHERE])
@async_test
async def test_a_good_queue_name_works_on_every_route(
    http: Http, route: NamingRoute, name: str
) -> None:
    reply = await route.send(http, name)
    assert reply.status == route.status, (reply.status, reply.body[:200])
    if route.echo is not None:
        assert reply.json()[route.echo] == unquote(name)


@async_test
async def test_a_slash_in_a_queue_name_creates_no_queue_anywhere(http: Http) -> None:
    for route in NAMING_ROUTES:
        assert_error(await route.send(http, "a%2Fb"), 400, route.name)
    await assert_nothing_known(http)
    assert (await http.get("/status/a")).json() == {"queue": "a", "size": 0}
    assert (await http.get("/status/b")).json() == {"queue": "b", "size": 0}


@pytest.mark.parametrize("name", [pytest.param(v, id=k) for k, v in GOOD_NAMES.items()])
@async_test
async def test_a_queue_with_a_good_name_is_addressable_by_every_route(
    http: Http, name: str
) -> None:
    decoded = unquote(name)
    posted = await http.post(f"/q/{name}", body=JOB, headers=JSON)
    assert posted.status == 201
    assert (await http.get(posted.header("Location"))).json()["queue"] == decoded
    assert (await http.get("/status/")).json() == {"queues": [decoded], "size": 1}
    workers = (await http.get("/w/", params={"queue_name": decoded})).json()
    assert workers["queue_name"] == decoded
    view = await queue_view(http, name)
    assert (view["queue"], view["counts"]) == (decoded, {**NO_COUNTS, "ready": 1})
    assert (await http.get(f"/j/{name}")).json()["job_count"] == 1
    assert (await http.get(f"/status/{name}")).json() == {"queue": decoded, "size": 1}
    assert (await http.get(f"/dead/{name}")).json()["queue"] == decoded
    listed = (await http.get("/queues")).json()["queues"]
    assert [queue["queue"] for queue in listed] == [decoded]
    assert (await http.get(f"/q/{name}")).json() == {"n": 1}
    assert (await http.get(f"/j/{name}")).json()["job_processed"] == 1


# Redirects


@async_test
async def test_a_missing_trailing_slash_redirects_relative_to_the_path_not_the_host(
    http: Http,
) -> None:
    reply = await send(http, "GET", "/status?x=1", headers={"Host": "evil.example"})
    assert reply.status == 308
    assert reply.header("Location") == "/status/?x=1"
    assert isinstance(reply.json(), dict)


@async_test
async def test_a_slash_too_many_redirects_keeping_the_query(http: Http) -> None:
    reply = await send(http, "GET", "/queues/?limit=5", headers={"Host": "evil.example"})
    assert reply.status == 308
    assert reply.header("Location") == "/queues?limit=5"
    assert isinstance(reply.json(), dict)


@async_test
async def test_a_patch_with_a_slash_too_many_is_redirected_not_applied(http: Http) -> None:
    before = (await queue_view(http, "q1"))["settings"]
    reply = await send(http, "PATCH", "/queues/q1/", body='{"lease": 5}', headers=JSON)
    assert reply.status == 308
    assert reply.header("Location") == "/queues/q1"
    assert (await queue_view(http, "q1"))["settings"] == before


@async_test
async def test_a_redirect_keeps_an_encoded_queue_name_encoded(http: Http) -> None:
    reply = await send(http, "PATCH", "/queues/caf%C3%A9/", body='{"lease": 5}', headers=JSON)
    assert reply.status == 308
    assert reply.header("Location") == "/queues/caf%C3%A9"


@pytest.mark.parametrize(
    "path", ["//evil.example/status", "//evil.example/queues/", "//evil.example/"]
)
@async_test
async def test_a_path_that_looks_like_another_host_is_never_redirected_there(
    http: Http, path: str
) -> None:
    reply = await send(http, "GET", path, headers={"Host": "evil.example"})
    location = reply.header("Location")
    assert location is None or not location.startswith("//"), location
    assert reply.header("Content-Type") == "application/json"


# Media types of a posted job


BAD_MEDIA_TYPES = {
    "text-plain-with-a-json-charset": "text/plain; charset=application/json",
    "jsonp": "application/jsonp",
    "json-prefix": "application/json-patch+json",
    "text-json": "text/json",
    "empty": "",
}
GOOD_MEDIA_TYPES = {
    "with-charset": "application/json; charset=utf-8",
    "trailing-semicolon": "application/json;",
    "upper-case": "APPLICATION/JSON",
    "spaces": " application/json ; charset=UTF-8",
}
POSTS = [pytest.param("/q/q1", JOB, id="POST /q"), pytest.param("/qb/q1", BATCH, id="POST /qb")]


@pytest.mark.parametrize(("path", "body"), POSTS)
@pytest.mark.parametrize("media_type", [pytest.param(v, id=k) for k, v in BAD_MEDIA_TYPES.items()])
@async_test
async def test_a_job_that_is_not_declared_json_is_refused_and_not_stored(
    http: Http, path: str, body: str, media_type: str
) -> None:
    reply = await send(http, "POST", path, body=body, headers={"Content-Type": media_type})
    assert (reply.status, reply.json()) == NOT_JSON_CONTENT_TYPE
    await assert_nothing_known(http)


@pytest.mark.parametrize(("path", "body"), POSTS)
@async_test
async def test_a_job_without_a_content_type_is_refused_and_not_stored(
    http: Http, path: str, body: str
) -> None:
    reply = await send(http, "POST", path, body=body)
    assert reply.headers.getRawHeaders("Content-Type") == ["application/json"]
    assert (reply.status, reply.json()) == NOT_JSON_CONTENT_TYPE
    await assert_nothing_known(http)


@pytest.mark.parametrize(("path", "body"), POSTS)
@pytest.mark.parametrize("media_type", [pytest.param(v, id=k) for k, v in GOOD_MEDIA_TYPES.items()])
@async_test
async def test_a_job_declared_json_in_any_spelling_is_stored(
    http: Http, path: str, body: str, media_type: str
) -> None:
    reply = await send(http, "POST", path, body=body, headers={"Content-Type": media_type})
    assert reply.status == 201, reply.body
    assert (await http.get("/q/q1")).json() == {"n": 1}


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-content-type"),
        pytest.param({"Content-Type": "text/plain"}, id="text-plain"),
        pytest.param({"Content-Type": "application/x-www-form-urlencoded"}, id="form"),
    ],
)
@async_test
async def test_control_needs_no_json_content_type(http: Http, headers: dict[str, str]) -> None:
    reply = await send(http, "POST", "/control/q1", body='{"status": "stop"}', headers=headers)
    assert (reply.status, reply.json()) == (200, {"queue": "q1", "response": "updated"})
    assert (await http.get("/control/q1")).json() == {"queue": "q1", "status": 0}
