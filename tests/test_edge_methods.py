"""
Methods on every path of the API (the route table of presque.web.all_routes):
a method a path does not support, known or not, is a 405 JSON error whose
Allow names exactly the path's methods (with OPTIONS, and HEAD where a safe
GET exists); OPTIONS answers 204 with Allow; HEAD never takes or leases a
job, and on a read-only GET it answers the GET's headers without its body.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from pytest_twisted import ensureDeferred as async_test
from twisted.internet.threads import deferToThread

import presque.config
import presque.web
import presque.web.context
from tests.support import Http, Reply, assert_error

FAKE_JOB = "0123456789abcdef0123456789"
PARAMETERS = {"{queue}": "q1", "{job}": FAKE_JOB, "{rest}": "x"}
STANDARD = ("GET", "POST", "PUT", "DELETE", "PATCH")
UNKNOWN = ("FOO", "PROPFIND")

ROUTES = presque.web.all_routes(
    presque.web.context.Context(None, presque.config.ServerSettings(), None)
)


def concrete(template: str) -> str:
    """The template's path with its parameters filled in."""
    for parameter, value in PARAMETERS.items():
        template = template.replace(parameter, value)
    return template


def _fits(template: str, path: str) -> bool:
    """Whether C{path} is one of C{template}'s paths ({rest} takes what is left)."""
    wanted, given = template.split("/")[1:], path.split("/")[1:]
    for i, part in enumerate(wanted):
        if part == "{rest}":
            return True
        if i >= len(given):
            return False
        if part in ("{queue}", "{job}"):
            if not given[i]:
                return False
        elif part != given[i]:
            return False
    return len(wanted) == len(given)


def _literal_segments(template: str) -> tuple[bool, ...]:
    return tuple(not part.startswith("{") for part in template.split("/")[1:])


def routes_of(path: str) -> list[Any]:
    """The routes serving C{path}: where templates compete, a literal segment wins."""
    fitting = [route for route in ROUTES if _fits(route.path, path)]
    best = max(_literal_segments(route.path) for route in fitting)
    return [route for route in fitting if _literal_segments(route.path) == best]


def allowed(path: str) -> set[str]:
    """What Allow must name for C{path}."""
    routes = routes_of(path)
    methods = {route.method for route in routes} | {"OPTIONS"}
    if any(route.method == "GET" and route.safe for route in routes):
        methods.add("HEAD")
    return methods


PATHS = sorted({concrete(route.path) for route in ROUTES})


def _unsupported() -> list[Any]:
    cases = []
    for path in PATHS:
        supported = {route.method for route in routes_of(path)}
        for method in (*STANDARD, *UNKNOWN):
            if method not in supported:
                cases.append(pytest.param(path, method, id=f"{method} {path}"))
    return cases


def allow_of(reply: Reply) -> set[str]:
    """The methods C{reply}'s Allow names, each once."""
    header = reply.header("Allow")
    assert header is not None, reply.headers
    methods = [method.strip() for method in header.split(",")]
    assert len(methods) == len(set(methods)), header
    return set(methods)


async def queue_view(http: Http, queue: str = "q1") -> dict[str, Any]:
    reply = await http.get(f"/queues/{queue}")
    assert reply.status == 200, reply.body
    return reply.json()


async def assert_every_job_still_ready(http: Http, count: int) -> None:
    assert await http.job_count("q1") == count
    view = await queue_view(http)
    assert view["counts"] == {"ready": count, "delayed": 0, "leased": 0, "dead": 0, "waiting": 0}
    assert view["totals"]["processed"] == 0


def test_the_route_table_has_the_paths_under_test() -> None:
    for path in ("/q/q1", "/qb/q1", "/sse/q1", "/status/", "/queues", "/openapi.json", "/"):
        assert path in PATHS, PATHS


@pytest.mark.parametrize(("path", "method"), _unsupported())
@async_test
async def test_a_method_a_path_does_not_support_is_a_405_naming_the_allowed_ones(
    http: Http, path: str, method: str
) -> None:
    await http.post_jobs("q1", 1)
    reply = await http.request(
        method, path, body=b'{"n": 2}', headers={"Content-Type": "application/json"}
    )
    assert_error(reply, 405, (reply.status, reply.headers, reply.body[:200]))
    assert allow_of(reply) == allowed(path)
    await assert_every_job_still_ready(http, 1)


@pytest.mark.parametrize("path", PATHS)
@async_test
async def test_options_answers_204_with_the_allowed_methods(http: Http, path: str) -> None:
    reply = await http.request("OPTIONS", path)
    assert (reply.status, reply.body) == (204, b"")
    assert allow_of(reply) == allowed(path)


@pytest.mark.parametrize("path", [path for path in PATHS if "HEAD" not in allowed(path)])
@async_test
async def test_head_on_a_path_without_a_safe_get_is_a_405(http: Http, path: str) -> None:
    await http.post_jobs("q1", 1)
    reply = await http.request("HEAD", path)
    assert reply.status == 405
    assert reply.header("Content-Type") == "application/json"
    assert "HEAD" not in allow_of(reply)
    assert allow_of(reply) == allowed(path)
    await assert_every_job_still_ready(http, 1)


# HEAD never takes a job


@pytest.mark.parametrize(
    "path",
    [
        "/q/q1",
        "/q/q1?lease=30",
        "/q/q1?wait=1",
        "/qb/q1",
        "/qb/q1?batch_size=5&lease=30",
        "/sse/q1",
        "/sse/q1?lease=30&prefetch=5",
    ],
)
@async_test
async def test_a_head_on_a_route_that_hands_out_jobs_takes_none(http: Http, path: str) -> None:
    await http.post_jobs("q1", 3)
    reply = await http.request("HEAD", path)
    assert reply.status == 405
    assert reply.body == b""
    assert "GET" in allow_of(reply)
    await assert_every_job_still_ready(http, 3)


# HEAD on a read-only GET


@pytest.mark.parametrize(
    "path",
    [
        "/j/q1",
        "/status/",
        "/status/q1",
        "/status/q1?with_desc=1",
        "/queues",
        "/queues/q1",
        "/control/q1",
        "/dead/q1",
        "/workers",
        "/w/x",
        "/openapi.json",
    ],
)
@async_test
async def test_a_head_on_a_read_only_get_answers_its_headers_without_the_body(
    http: Http, path: str
) -> None:
    await http.post_jobs("q1", 2)
    got = await http.get(path)
    assert got.status == 200, got.body
    head = await http.request("HEAD", path)
    assert head.status == 200
    assert head.body == b""
    assert head.header("Content-Type") == got.header("Content-Type") == "application/json"
    assert head.header("Content-Length") == str(len(got.body))
    await assert_every_job_still_ready(http, 2)


# Method names are case-sensitive (RFC 9110): "get" is no GET. treq upper-cases
# methods, so this one goes over a plain socket.


def _raw_exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize("path", ["/q/q1", "/qb/q1"])
@async_test
async def test_a_lower_case_get_is_an_unknown_method_and_takes_no_job(
    http: Http, path: str
) -> None:
    await http.post_jobs("q1", 1)
    port = int(http.base.rsplit(":", 1)[1])
    request = b"get %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % path.encode()
    answer = await deferToThread(_raw_exchange, port, request)
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.lower(): value for name, value in (line.split(": ", 1) for line in header_lines)
    }
    assert status_line.split(" ")[1] == "405", answer[:300]
    assert headers["content-type"] == "application/json"
    assert set(headers["allow"].split(", ")) == allowed(path)
    assert list(json.loads(body)) == ["error"]
    await assert_every_job_still_ready(http, 1)
