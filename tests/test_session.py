"""
The page's session: /login puts a token in an HttpOnly, SameSite=Strict
cookie, /whoami tells what it allows, /logout forgets it; and a state change
carried by the cookie alone (a cross-site request) is refused.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_twisted
from pytest_twisted import ensureDeferred as async_test

from harness.redis import RedisServer
from presque.auth import Authority, Token, digest_of
from tests.conftest import Presque, start_presque
from tests.support import JSON, Http, assert_error

SECRET = "the-operators-secret"
OPERATOR = Token(
    "operator", digest_of(SECRET), frozenset({"read", "admin", "produce", "consume"}), ("*",)
)
SESSION = {"Cookie": f"presque_token={SECRET}"}
PAGE = {**SESSION, "X-Presque-Page": "1"}


@pytest_twisted.async_yield_fixture
async def guarded(clean_redis: RedisServer) -> AsyncIterator[Presque]:
    server, stop = await start_presque(clean_redis, authority=Authority([OPERATOR]))
    yield server
    await stop()


async def login(http: Http, secret: str):
    return await http.post("/login", json_body={"token": secret})


@async_test
async def test_logging_in_sets_an_httponly_samesite_strict_cookie(guarded: Presque) -> None:
    reply = await login(guarded.http, SECRET)
    assert reply.json() == {
        "auth": "on",
        "name": "operator",
        "scopes": ["admin", "consume", "produce", "read"],
        "queues": ["*"],
    }
    cookie = reply.header("Set-Cookie")
    assert cookie.startswith(f"presque_token={SECRET}; ")
    assert {"Path=/", "HttpOnly", "SameSite=Strict"} <= set(cookie.split("; "))
    assert "Secure" not in cookie  # plain HTTP: see test_tls for HTTPS


@async_test
async def test_an_unknown_token_logs_nobody_in(guarded: Presque) -> None:
    reply = await login(guarded.http, "guess")
    assert assert_error(reply, 401) == "unknown token"
    assert reply.header("Set-Cookie") is None


@async_test
async def test_a_login_must_be_json(guarded: Presque) -> None:
    form = await guarded.http.post(
        "/login",
        body=f"token={SECRET}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert "application/json" in assert_error(form, 400)
    assert "token" in assert_error(await guarded.http.post("/login", body="[]", headers=JSON))


@async_test
async def test_the_cookie_reads_and_whoami_tells_its_token(guarded: Presque) -> None:
    assert (await guarded.http.get("/queues", headers=SESSION)).status == 200
    who = await guarded.http.get("/whoami", headers=SESSION)
    assert who.json()["name"] == "operator"


@async_test
async def test_whoami_without_a_token_is_401(guarded: Presque) -> None:
    assert_error(await guarded.http.get("/whoami"), 401)


@async_test
async def test_a_change_carried_by_the_cookie_alone_is_refused(guarded: Presque) -> None:
    http = guarded.http
    simple = {**SESSION, "Content-Type": "text/plain"}
    reply = await http.post("/control/q1", body='{"status": "stop"}', headers=simple)
    assert "X-Presque-Page" in assert_error(reply, 403)
    status = await http.get("/control/q1", headers=SESSION)
    assert status.json()["status"] == 1


@async_test
async def test_a_change_from_the_page_is_made(guarded: Presque) -> None:
    http = guarded.http
    reply = await http.post("/control/q1", json_body={"status": "stop"}, headers=PAGE)
    assert reply.status == 200
    assert (await http.get("/control/q1", headers=SESSION)).json()["status"] == 0


@async_test
async def test_logging_out_expires_the_cookie(guarded: Presque) -> None:
    reply = await guarded.http.post("/logout", headers=SESSION)
    assert reply.status == 204
    assert "Max-Age=0" in reply.header("Set-Cookie")


@async_test
async def test_with_tokens_off_there_is_nothing_to_log_in_to(http: Http) -> None:
    assert (await login(http, "anything")).json() == {"auth": "off"}
    assert (await http.get("/whoami")).json() == {"auth": "off"}


@async_test
async def test_a_login_body_other_than_a_token_is_refused(guarded: Presque) -> None:
    for body in ("null", '"x"', '{"token": 5}', '{"token": "x", "more": 1}', '{"token": ""}'):
        reply = await guarded.http.post("/login", body=body, headers=JSON)
        assert "token" in assert_error(reply, 400), body


@async_test
async def test_the_cookie_alone_takes_no_job(guarded: Presque) -> None:
    http = guarded.http
    await http.post("/q/q1", json_body={"n": 1}, headers={"Authorization": f"Bearer {SECRET}"})
    for path in ("/q/q1", "/qb/q1"):
        assert "X-Presque-Page" in assert_error(await http.get(path, headers=SESSION), 403)
    assert (await http.get("/j/q1", headers=SESSION)).json()["job_count"] == 1


@async_test
async def test_a_page_of_a_cors_origin_does_not_act_with_the_session(clean_redis) -> None:
    server, stop = await start_presque(
        clean_redis, authority=Authority([OPERATOR]), cors_origins=("http://localhost:3000",)
    )
    try:
        headers = {**PAGE, "Origin": "http://localhost:3000", "Sec-Fetch-Site": "same-site"}
        reply = await server.http.get("/queues", headers=headers)
        assert_error(reply, 401)
    finally:
        await stop()
