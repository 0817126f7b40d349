"""
Tokens at the edge: with tokens on, every route but the open ones refuses a
request without a token (401), with an unknown one (401), and with a token
that lacks the route's scope or its queue (403), and serves the right one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_twisted
from pytest_twisted import ensureDeferred as async_test

from harness.polling import eventually
from harness.redis import RedisServer
from presque.auth import SCOPES, Authority, Token, digest_of
from presque.config import ServerSettings
from presque.web import all_routes
from presque.web.context import Context
from presque.web.routing import Route
from tests.conftest import Presque, start_presque
from tests.support import Http, assert_error

ROUTES = [route for route in all_routes(Context(None, ServerSettings(), None)) if route.scope]
OPEN = ["/health", "/ready", "/openapi.json", "/", "/page/app.js"]


def token(name: str, scopes: list[str], queues: list[str]) -> Token:
    return Token(name, digest_of(f"secret-of-{name}"), frozenset(scopes), tuple(queues))


def bearer(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer secret-of-{name}"}


def path_of(route: Route, queue: str = "q1") -> str:
    return route.path.replace("{queue}", queue).replace("{job}", "0123").replace("{rest}", "x")


def named(route: Route) -> str:
    return f"{route.method} {route.path}"


@pytest_twisted.async_yield_fixture
async def guarded(clean_redis: RedisServer) -> AsyncIterator[Presque]:
    tokens = [token(f"{scope}-q1", [scope], ["q1"]) for scope in SCOPES]
    tokens += [token(f"{scope}-all", [scope], ["*"]) for scope in SCOPES]
    tokens += [token(f"but-{scope}", [s for s in SCOPES if s != scope], ["*"]) for scope in SCOPES]
    server, stop = await start_presque(clean_redis, authority=Authority(tokens))
    yield server
    await stop()


async def call(http: Http, route: Route, headers: dict[str, str], queue: str = "q1"):
    return await http.request(route.method, path_of(route, queue), headers=headers)


@pytest.mark.parametrize("route", ROUTES, ids=named)
@async_test
async def test_a_request_without_a_token_is_401_with_a_challenge(
    guarded: Presque, route: Route
) -> None:
    reply = await call(guarded.http, route, {})
    assert "a token is needed" in assert_error(reply, 401)
    assert reply.header("WWW-Authenticate") == 'Bearer realm="presque"'


@pytest.mark.parametrize("route", ROUTES, ids=named)
@async_test
async def test_an_unknown_token_is_401(guarded: Presque, route: Route) -> None:
    reply = await call(guarded.http, route, bearer("nobody"))
    assert assert_error(reply, 401) == "unknown token"
    assert 'error="invalid_token"' in reply.header("WWW-Authenticate")


@pytest.mark.parametrize("route", ROUTES, ids=named)
@async_test
async def test_a_token_without_the_routes_scope_is_403(guarded: Presque, route: Route) -> None:
    reply = await call(guarded.http, route, bearer(f"but-{route.scope}"))
    assert f"has no {route.scope} scope" in assert_error(reply, 403)


@pytest.mark.parametrize("route", [r for r in ROUTES if "{queue}" in r.path], ids=named)
@async_test
async def test_a_token_for_another_queue_is_403(guarded: Presque, route: Route) -> None:
    reply = await call(guarded.http, route, bearer(f"{route.scope}-q1"), queue="q2")
    assert "on queue 'q2'" in assert_error(reply, 403)


@pytest.mark.parametrize("route", [r for r in ROUTES if "{queue}" not in r.path], ids=named)
@async_test
async def test_a_route_about_every_queue_needs_a_token_for_every_queue(
    guarded: Presque, route: Route
) -> None:
    reply = await call(guarded.http, route, bearer(f"{route.scope}-q1"))
    assert "on every queue" in assert_error(reply, 403)


# A stream never ends: its right token is tried in test_stream_with_its_token.
SERVED = [r for r in ROUTES if not r.path.startswith("/sse/")]


@pytest.mark.parametrize("route", SERVED, ids=named)
@async_test
async def test_the_right_token_is_served(guarded: Presque, route: Route) -> None:
    scoped = f"{route.scope}-q1" if "{queue}" in route.path else f"{route.scope}-all"
    reply = await call(guarded.http, route, bearer(scoped))
    assert reply.status not in (401, 403), (reply.status, reply.body)


@pytest.mark.parametrize("path", OPEN)
@async_test
async def test_open_routes_need_no_token(guarded: Presque, path: str) -> None:
    assert (await guarded.http.get(path)).status == 200


@async_test
async def test_options_needs_no_token(guarded: Presque) -> None:
    assert (await guarded.http.request("OPTIONS", "/q/q1")).status == 204


@async_test
async def test_a_producer_token_posts_and_a_consumer_token_takes(guarded: Presque) -> None:
    http = guarded.http
    posted = await http.post("/q/q1", json_body={"n": 1}, headers=bearer("produce-q1"))
    assert posted.status == 201
    assert (await http.get("/q/q1", headers=bearer("produce-q1"))).status == 403
    taken = await http.get("/q/q1", headers=bearer("consume-q1"))
    assert (taken.status, taken.json()) == (200, {"n": 1})


@async_test
async def test_a_refused_request_changes_nothing(guarded: Presque) -> None:
    http = guarded.http
    await http.post("/q/q1", json_body={"n": 1}, headers=bearer("produce-q1"))
    assert (await http.delete("/q/q1", headers=bearer("produce-q1"))).status == 403
    view = await http.get("/queues/q1", headers=bearer("read-q1"))
    assert view.json()["counts"]["ready"] == 1


@async_test
async def test_the_scheme_is_read_whatever_its_case(guarded: Presque) -> None:
    headers = {"Authorization": "bearer secret-of-read-q1"}
    assert (await guarded.http.get("/j/q1", headers=headers)).status == 200


@async_test
async def test_a_basic_or_empty_authorization_is_no_token(guarded: Presque) -> None:
    for value in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "secret-of-read-q1"):
        reply = await guarded.http.get("/j/q1", headers={"Authorization": value})
        assert assert_error(reply, 401) == "a token is needed: Authorization: Bearer <token>"


@async_test
async def test_stream_with_its_token(guarded: Presque) -> None:
    from tests.streams import open_stream

    posted = await guarded.http.post("/q/q1", json_body={"n": 1}, headers=bearer("produce-q1"))
    assert posted.status == 201, posted.body
    stream = await open_stream(guarded.http, "q1", headers=bearer("consume-q1"), lease="30")
    try:

        def streamed() -> bool:
            return [event["job"] for event in stream.jobs()] == [{"n": 1}]

        await eventually(streamed, 5, "no job came down the stream")
    finally:
        stream.close()
