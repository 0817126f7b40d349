"""
The HTTP channel's limits and deadlines (presque/web/site.py), seen from a
raw socket: a request line or headers too large, bytes that are not HTTP, a
client that trickles its headers or its body, an idle keep-alive connection.
Every refusal is an HTTP/1.1 answer with a JSON C{{"error": ...}} body, and
the server hangs up after it.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest_twisted
from pytest_twisted import ensureDeferred as async_test
from twisted.internet.threads import deferToThread

from harness.redis import RedisServer
from presque.web.site import MAX_HEADERS, MAX_HEADERS_SIZE, MAX_REQUEST_LINE
from tests.conftest import Presque, start_presque
from tests.support import read_until_closed

HEADER_TIMEOUT = 0.5
BODY_TIMEOUT = 0.5
IDLE_TIMEOUT = 1.0
#: How long a socket read waits before the test gives up on the server.
READ_TIMEOUT = 5.0
#: How often a trickling client sends its next byte, and for how long at most.
TRICKLE_EVERY = 0.2
TRICKLE_FOR = 5.0
#: A deadline refusal must come well before the trickle would have ended.
DEADLINE_SLACK = 2.0


@pytest_twisted.async_yield_fixture
async def edgy(clean_redis: RedisServer) -> AsyncIterator[Presque]:
    """presque with short header, body and idle deadlines."""
    server, stop = await start_presque(
        clean_redis,
        header_timeout=HEADER_TIMEOUT,
        body_timeout=BODY_TIMEOUT,
        idle_timeout=IDLE_TIMEOUT,
    )
    yield server
    await stop()


@pytest_twisted.async_yield_fixture
async def patient(clean_redis: RedisServer) -> AsyncIterator[Presque]:
    """presque with short header and body deadlines but a longer idle one."""
    server, stop = await start_presque(
        clean_redis, header_timeout=HEADER_TIMEOUT, body_timeout=BODY_TIMEOUT, idle_timeout=3.0
    )
    yield server
    await stop()


# Raw HTTP, parsed by hand.


@dataclass
class RawAnswer:
    """One HTTP answer read off a socket."""

    version: str
    status: int
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def json(self) -> object:
        assert self.header("Content-Type") == "application/json", self.headers
        return json.loads(self.body)


@dataclass
class Exchange:
    """What a raw client saw: the bytes before the server hung up, and when."""

    data: bytes = b""
    #: Seconds from the first byte sent to the first byte of the answer.
    answered_after: float | None = None
    #: The server closed the connection (EOF or reset) after its answer.
    closed: bool = False
    answers: list[RawAnswer] = field(default_factory=list)


def port_of(presque: Presque) -> int:
    return int(presque.http.base.rsplit(":", 1)[1])


def connect(port: int) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT)
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return connection


def parse_answer(data: bytes) -> tuple[RawAnswer, bytes]:
    """The first HTTP answer in C{data} (which must hold all of it), and what follows."""
    head, separator, rest = data.partition(b"\r\n\r\n")
    assert separator, f"no complete answer head in {data[:300]!r}"
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    version, status, _reason = status_line.split(" ", 2)
    headers: dict[str, list[str]] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    length = int(headers["content-length"][0]) if "content-length" in headers else 0
    assert len(rest) >= length, f"a truncated body: {data[:300]!r}"
    return RawAnswer(version, int(status), headers, rest[:length]), rest[length:]


def send_at_once(port: int, request: bytes) -> Exchange:
    """Send C{request} whole, then read until the server hangs up."""
    with connect(port) as connection:
        # It may answer and hang up before taking it all: then read the answer.
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            connection.sendall(request)
        data, closed = read_until_closed(connection)
    return Exchange(data=data, closed=closed)


def trickle(port: int, start: bytes, drip: bytes) -> Exchange:
    """
    Send C{start}, then one byte of C{drip} every TRICKLE_EVERY seconds (for
    TRICKLE_FOR seconds at most) until the server answers; then read until
    it hangs up.
    """
    with connect(port) as connection:
        began = time.monotonic()
        connection.sendall(start)
        connection.settimeout(TRICKLE_EVERY)
        data = b""
        for byte in drip[: int(TRICKLE_FOR / TRICKLE_EVERY)]:
            try:
                connection.sendall(bytes([byte]))
                data = connection.recv(65536)
            except TimeoutError:
                continue
            except (ConnectionResetError, BrokenPipeError):
                break
            if data:
                break
        answered_after = time.monotonic() - began if data else None
        connection.settimeout(READ_TIMEOUT)
        data, closed = read_until_closed(connection, data)
    return Exchange(data=data, answered_after=answered_after, closed=closed)


def assert_refused(exchange: Exchange, status: int) -> str:
    """The server answered one HTTP/1.1 C{status} with a JSON error, then hung up."""
    answer, rest = parse_answer(exchange.data)
    assert (answer.version, answer.status) == ("HTTP/1.1", status), exchange.data[:300]
    body = answer.json()
    assert isinstance(body, dict) and list(body) == ["error"], body
    assert isinstance(body["error"], str) and body["error"], body
    assert rest == b"", f"more after the refusal: {rest[:300]!r}"
    assert exchange.closed, "the connection stayed open after the refusal"
    return body["error"]


def get(path: str, *headers: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]
    return "\r\n".join(lines).encode("latin-1")


# Too large


@async_test
async def test_a_request_line_over_the_limit_is_414_json(edgy: Presque) -> None:
    path = "/j/" + "a" * (MAX_REQUEST_LINE + 100)
    exchange = await deferToThread(send_at_once, port_of(edgy), get(path))
    assert_refused(exchange, 414)


@async_test
async def test_a_header_line_over_the_limit_is_431_json(edgy: Presque) -> None:
    header = "X-Long: " + "a" * (MAX_REQUEST_LINE + 100)
    exchange = await deferToThread(send_at_once, port_of(edgy), get("/j/q1", header))
    assert_refused(exchange, 431)


@async_test
async def test_headers_over_the_total_limit_are_431_json(edgy: Presque) -> None:
    # Each line is within the line limit; together they are over the total.
    size = MAX_REQUEST_LINE // 2
    headers = [f"X-Pad-{n}: " + "a" * size for n in range(MAX_HEADERS_SIZE // size + 1)]
    exchange = await deferToThread(send_at_once, port_of(edgy), get("/j/q1", *headers))
    assert_refused(exchange, 431)


@async_test
async def test_one_header_too_many_is_431_json(edgy: Presque) -> None:
    headers = [f"X-H-{n}: {n}" for n in range(MAX_HEADERS)]  # with Host: one too many
    exchange = await deferToThread(send_at_once, port_of(edgy), get("/j/q1", *headers))
    assert_refused(exchange, 431)


@async_test
async def test_as_many_headers_as_allowed_are_served(edgy: Presque) -> None:
    headers = [f"X-H-{n}: {n}" for n in range(MAX_HEADERS - 2)]  # with Host and Connection
    request = get("/j/q1", "Connection: close", *headers)
    exchange = await deferToThread(send_at_once, port_of(edgy), request)
    answer, _ = parse_answer(exchange.data)
    assert answer.status == 200
    assert answer.json()["queue_name"] == "q1"


# Not HTTP


@async_test
async def test_a_garbage_request_line_is_400_json(edgy: Presque) -> None:
    exchange = await deferToThread(send_at_once, port_of(edgy), b"NOT HTTP\r\n\r\n")
    assert_refused(exchange, 400)


@async_test
async def test_a_content_length_that_is_not_a_number_is_400_json(edgy: Presque) -> None:
    request = (
        b"POST /q/q1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: abc\r\n\r\n{}"
    )
    exchange = await deferToThread(send_at_once, port_of(edgy), request)
    assert_refused(exchange, 400)
    assert await edgy.http.job_count("q1") == 0


@async_test
async def test_content_length_with_chunked_transfer_encoding_is_400_json(
    edgy: Presque,
) -> None:
    request = (
        b"POST /q/q1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 8\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'8\r\n{"n": 1}\r\n0\r\n\r\n'
    )
    exchange = await deferToThread(send_at_once, port_of(edgy), request)
    assert_refused(exchange, 400)
    assert await edgy.http.job_count("q1") == 0


# Deadlines


@async_test
async def test_headers_trickled_a_byte_at_a_time_get_408_json_at_the_header_deadline(
    edgy: Presque,
) -> None:
    drip = ("X-Slow: " + "a" * 100).encode()
    exchange = await deferToThread(trickle, port_of(edgy), b"GET /j/q1 HTTP/1.1\r\n", drip)
    assert exchange.answered_after is not None, "no answer while the headers trickled"
    assert exchange.answered_after < DEADLINE_SLACK, exchange.answered_after
    assert_refused(exchange, 408)


@async_test
async def test_a_body_trickled_a_byte_at_a_time_gets_408_json_and_stores_nothing(
    edgy: Presque, clean_redis: RedisServer
) -> None:
    start = (
        b"POST /q/q1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n"
    )
    drip = ('{"pad": "' + "a" * 989 + '"}').encode()
    assert len(drip) == 1000
    exchange = await deferToThread(trickle, port_of(edgy), start, drip)
    assert exchange.answered_after is not None, "no answer while the body trickled"
    assert exchange.answered_after < DEADLINE_SLACK, exchange.answered_after
    assert_refused(exchange, 408)
    assert await edgy.http.job_count("q1") == 0
    assert clean_redis.call("KEYS", "*") == []


def idle_after_one_request(port: int) -> tuple[bytes, float, bytes, bool]:
    """One request on a keep-alive connection, then nothing: (its answer, seconds
    from the answer until the server hung up, what came after the answer, hung up)."""
    with connect(port) as connection:
        connection.sendall(get("/j/q1"))
        data = b""
        while not (whole := parse_answer_safely(data)):
            chunk = connection.recv(65536)
            assert chunk, "the server hung up before answering"
            data += chunk
        answered = time.monotonic()
        answer_bytes, extra = whole
        after, closed = read_until_closed(connection, extra)
        return answer_bytes, time.monotonic() - answered, after, closed


def parse_answer_safely(data: bytes) -> tuple[bytes, bytes] | tuple[()]:
    """(the first whole answer, what follows) once C{data} holds a whole answer, else ()."""
    head, separator, rest = data.partition(b"\r\n\r\n")
    if not separator:
        return ()
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if len(rest) < length:
        return ()
    whole = len(head) + len(separator) + length
    return data[:whole], data[whole:]


@async_test
async def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout(
    edgy: Presque,
) -> None:
    answer_bytes, idle_for, after, closed = await deferToThread(
        idle_after_one_request, port_of(edgy)
    )
    answer, _ = parse_answer(answer_bytes)
    assert answer.status == 200
    assert closed, f"still open {READ_TIMEOUT} s after the answer"
    assert after == b"", f"the server sent {after[:300]!r} to an idle connection"
    # Not by the header deadline (0.5 s): no request had begun.
    assert IDLE_TIMEOUT * 0.8 <= idle_for < READ_TIMEOUT, idle_for


def several_requests(port: int, requests: list[bytes], pause: float) -> list[RawAnswer]:
    """Send C{requests} one after the other on one connection, C{pause} seconds
    apart, each after the answer to the one before."""
    answers = []
    with connect(port) as connection:
        data = b""
        for n, request in enumerate(requests):
            if n:
                time.sleep(pause)
            connection.sendall(request)
            while not (whole := parse_answer_safely(data)):
                chunk = connection.recv(65536)
                assert chunk, f"the server hung up before answering request {n + 1}"
                data += chunk
            answer_bytes, data = whole
            answers.append(parse_answer(answer_bytes)[0])
    return answers


@async_test
async def test_requests_in_a_row_on_a_keep_alive_connection_meet_no_deadline(
    patient: Presque,
) -> None:
    job = b'{"n": 1}'
    post = (
        b"POST /q/q1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(job), job)
    )
    requests = [post, get("/j/q1"), get("/q/q1"), get("/j/q1")]
    # Each pause is longer than the header and body deadlines, shorter than the idle one.
    pause = 2 * max(HEADER_TIMEOUT, BODY_TIMEOUT)
    answers = await deferToThread(several_requests, port_of(patient), requests, pause)
    assert [answer.status for answer in answers] == [201, 200, 200, 200]
    assert answers[1].json()["job_count"] == 1
    assert answers[2].body == job
    assert answers[3].json() == {
        "queue_name": "q1",
        "job_count": 0,
        "job_processed": 1,
        "job_failed": 0,
    }


# Request targets, and a body refused before it is sent


@async_test
async def test_a_target_that_is_not_a_path_is_400_json(edgy: Presque) -> None:
    for target in (b"x", b"?a=1", b"127.0.0.1:80"):
        request = b"GET " + target + b" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        exchange = await deferToThread(send_at_once, port_of(edgy), request)
        answer, _ = parse_answer(exchange.data)
        assert answer.status == 400, (target, exchange.data[:300])
        assert "target" in answer.json()["error"]


@async_test
async def test_an_absolute_url_target_is_served_by_its_path(edgy: Presque) -> None:
    request = get("http://127.0.0.1/j/q1", "Connection: close")
    exchange = await deferToThread(send_at_once, port_of(edgy), request)
    answer, _ = parse_answer(exchange.data)
    assert (answer.status, answer.json()["queue_name"]) == (200, "q1")


@async_test
async def test_an_absolute_url_target_names_its_host_in_place_of_host(edgy: Presque) -> None:
    request = get("http://elsewhere.example/j/q1", "Connection: close")
    exchange = await deferToThread(send_at_once, port_of(edgy), request)
    answer, _ = parse_answer(exchange.data)
    assert exchange.data.startswith(b"HTTP/1.1 421 Misdirected Request\r\n")
    assert "elsewhere.example" in answer.json()["error"]


@async_test
async def test_options_star_names_the_methods_of_the_server_in_json(edgy: Presque) -> None:
    request = b"OPTIONS * HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    exchange = await deferToThread(send_at_once, port_of(edgy), request)
    answer, _ = parse_answer(exchange.data)
    assert (answer.status, answer.header("Content-Type")) == (204, "application/json")
    assert {"GET", "POST", "PATCH", "OPTIONS"} <= set(answer.header("Allow").split(", "))


@async_test
async def test_another_method_on_star_is_400_json(edgy: Presque) -> None:
    request = b"GET * HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    exchange = await deferToThread(send_at_once, port_of(edgy), request)
    assert parse_answer(exchange.data)[0].status == 400


@async_test
async def test_a_body_over_the_limit_announced_with_expect_is_413_at_once(
    edgy: Presque,
) -> None:
    request = (
        b"POST /q/q1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
        b"Expect: 100-continue\r\nContent-Length: 99999999\r\n\r\n"
    )
    exchange = await deferToThread(send_at_once, port_of(edgy), request)
    assert b"100 Continue" not in exchange.data
    assert_refused(exchange, 413)
