"""
Browser safety whatever the tokens: a request must name an allowed host
(against DNS rebinding), a browser's request from another site is refused,
and the origins of [server] cors_origins get CORS headers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_twisted
from pytest_twisted import ensureDeferred as async_test

from harness.redis import RedisServer
from tests.conftest import Presque, start_presque
from tests.support import Http, assert_error

APP = "https://app.example.com"


@pytest_twisted.async_yield_fixture
async def with_cors(clean_redis: RedisServer) -> AsyncIterator[Presque]:
    server, stop = await start_presque(clean_redis, cors_origins=(APP,))
    yield server
    await stop()


@async_test
async def test_a_request_naming_another_host_is_421_and_changes_nothing(http: Http) -> None:
    reply = await http.post("/q/q1", json_body={"n": 1}, headers={"Host": "rebound.example"})
    assert "'rebound.example' is not among [server] allowed_hosts" in assert_error(reply, 421)
    assert await http.job_count("q1") == 0


@async_test
async def test_loopback_names_with_their_ports_are_allowed(http: Http) -> None:
    port = http.base.rsplit(":", 1)[1]
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "LOCALHOST"):
        assert (await http.get("/j/q1", headers={"Host": host})).status == 200, host


@async_test
async def test_health_answers_whatever_host_a_balancer_names(http: Http) -> None:
    assert (await http.get("/health", headers={"Host": "10.0.0.5:8080"})).status == 200


@async_test
async def test_any_host_is_allowed_with_a_star(clean_redis: RedisServer) -> None:
    server, stop = await start_presque(clean_redis, allowed_hosts=("*",))
    try:
        reply = await server.http.get("/j/q1", headers={"Host": "queue.internal"})
        assert reply.status == 200
    finally:
        await stop()


@async_test
async def test_a_browsers_cross_site_fetch_takes_no_job(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    reply = await http.get("/q/q1", headers={"Sec-Fetch-Site": "cross-site"})
    assert "another site" in assert_error(reply, 403)
    assert await http.job_count("q1") == 1


@async_test
async def test_a_post_from_another_origin_is_refused(http: Http) -> None:
    reply = await http.post(
        "/control/q1", json_body={"status": "stop"}, headers={"Origin": "http://evil.example"}
    )
    assert_error(reply, 403)
    assert (await http.get("/control/q1")).json()["status"] == 1


@async_test
async def test_the_pages_own_requests_are_served(http: Http) -> None:
    origin = http.base
    same = {"Origin": origin, "Sec-Fetch-Site": "same-origin"}
    assert (
        await http.post("/control/q1", json_body={"status": "stop"}, headers=same)
    ).status == 200


@async_test
async def test_a_listed_origin_gets_its_preflight_answered(with_cors: Presque) -> None:
    reply = await with_cors.http.request(
        "OPTIONS",
        "/q/orders",
        headers={
            "Origin": APP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert reply.status == 204
    assert reply.header("Access-Control-Allow-Origin") == APP
    assert "POST" in reply.header("Access-Control-Allow-Methods")
    assert "Authorization" in reply.header("Access-Control-Allow-Headers")
    assert reply.header("Access-Control-Allow-Credentials") is None


@async_test
async def test_a_listed_origin_posts_and_reads_the_job_id(with_cors: Presque) -> None:
    headers = {"Origin": APP, "Sec-Fetch-Site": "cross-site"}
    reply = await with_cors.http.post("/q/orders", json_body={"n": 1}, headers=headers)
    assert reply.status == 201
    assert reply.header("Access-Control-Allow-Origin") == APP
    assert "X-Presque-Job-Id" in reply.header("Access-Control-Expose-Headers")


@async_test
async def test_an_unlisted_origin_gets_no_cors_headers(with_cors: Presque) -> None:
    headers = {"Origin": "https://other.example", "Sec-Fetch-Site": "cross-site"}
    reply = await with_cors.http.post("/q/orders", json_body={"n": 1}, headers=headers)
    assert_error(reply, 403)
    assert reply.header("Access-Control-Allow-Origin") is None
