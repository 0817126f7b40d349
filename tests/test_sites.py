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


async def raw(http: Http, head: str) -> bytes:
    """Send C{head} as it is, on a connection of its own; the whole answer."""
    import socket

    from twisted.internet.threads import deferToThread

    port = int(http.base.rsplit(":", 1)[1])

    def exchange() -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(head.encode("latin-1"))
            data = b""
            while chunk := connection.recv(65536):
                data += chunk
            return data

    return await deferToThread(exchange)


@async_test
async def test_two_host_headers_are_400(http: Http) -> None:
    answer = await raw(
        http,
        "GET /j/q1 HTTP/1.1\r\nHost: evil.example\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 400 ") and b"more than one host header" in answer


@async_test
async def test_two_authorization_headers_are_400(http: Http) -> None:
    head = "GET /j/q1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer a\r\n"
    answer = await raw(http, head + "Authorization: Bearer b\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")


@async_test
async def test_http_1_1_without_a_host_is_400(http: Http) -> None:
    answer = await raw(http, "GET /j/q1 HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ") and b"Host header is missing" in answer


@async_test
async def test_http_1_0_without_a_host_is_served(http: Http) -> None:
    answer = await raw(http, "GET /j/q1 HTTP/1.0\r\n\r\n")
    assert answer.split(b" ", 2)[1] == b"200"


@async_test
async def test_a_malformed_host_names_no_allowed_host(http: Http) -> None:
    for host in ("[::1].evil.example", "localhost:x", "127.0.0.1:80:80"):
        reply = await http.get("/j/q1", headers={"Host": host})
        assert reply.status == 421, host


@async_test
async def test_an_origin_on_another_port_of_the_same_host_is_another_site(http: Http) -> None:
    port = int(http.base.rsplit(":", 1)[1])
    elsewhere = {"Origin": f"http://127.0.0.1:{port + 1}"}
    reply = await http.post("/control/q1", json_body={"status": "stop"}, headers=elsewhere)
    assert_error(reply, 403)


@async_test
async def test_a_malformed_origin_is_another_site(http: Http) -> None:
    for origin in ("localhost", "http://evil.example://localhost", "http://127.0.0.1/x"):
        reply = await http.post(
            "/control/q1", json_body={"status": "stop"}, headers={"Origin": origin}
        )
        assert reply.status == 403, origin


@async_test
async def test_sec_fetch_site_is_read_whatever_its_case(http: Http) -> None:
    reply = await http.get("/q/q1", headers={"Sec-Fetch-Site": "Cross-Site"})
    assert_error(reply, 403)


@async_test
async def test_the_pages_own_login_routes_check_the_site_too(http: Http) -> None:
    reply = await http.get("/whoami", headers={"Host": "rebound.example"})
    assert_error(reply, 421)
    reply = await http.post(
        "/login", json_body={"token": "x"}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert_error(reply, 403)
