"""Errors outside the routes' own checks, limits on requests, and the dashboard."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest_twisted
from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer
from twisted.web.iweb import UNKNOWN_LENGTH, IBodyProducer
from zope.interface import implementer

from harness.redis import RedisServer
from tests.conftest import Presque, start_presque
from tests.support import JSON, NO_QUEUES, Http, assert_error

SMALL_LIMIT = 1000


@pytest_twisted.async_yield_fixture
async def small_presque(clean_redis: RedisServer) -> AsyncIterator[Presque]:
    """presque whose requests may carry at most SMALL_LIMIT bytes of body."""
    server, stop = await start_presque(clean_redis, max_body_size=SMALL_LIMIT)
    yield server
    await stop()


@implementer(IBodyProducer)
class UnknownLengthBody:
    """A body sent chunked, without Content-Length, in small pieces."""

    length = UNKNOWN_LENGTH

    def __init__(self, data: bytes) -> None:
        self.data = data

    def startProducing(self, consumer) -> defer.Deferred[None]:
        for start in range(0, len(self.data), 500):
            consumer.write(self.data[start : start + 500])
        return defer.succeed(None)

    def pauseProducing(self) -> None:
        pass

    def resumeProducing(self) -> None:
        pass

    def stopProducing(self) -> None:
        pass


# routing


@async_test
async def test_unknown_route_is_404_json(http: Http) -> None:
    for path in ("/nowhere", "/q/q1/extra", "/status/q1/x", "/j/", "/control/"):
        assert_error(await http.get(path), 404)


@async_test
async def test_a_route_without_its_trailing_slash_redirects_to_it_keeping_the_query(
    http: Http,
) -> None:
    response = await http.client.request(
        "GET", http.base + "/status?x=1", allow_redirects=False, headers={"Host": "evil.test"}
    )
    await response.content()
    assert response.code == 308
    assert response.headers.getRawHeaders("Location") == ["/status/?x=1"]
    assert response.headers.getRawHeaders("Content-Type") == ["application/json"]


@async_test
async def test_a_route_with_a_slash_too_many_redirects_to_the_route_without(http: Http) -> None:
    response = await http.client.request("GET", http.base + "/queues/", allow_redirects=False)
    await response.content()
    assert (response.code, response.headers.getRawHeaders("Location")) == (308, ["/queues"])


@async_test
async def test_q_and_qb_without_a_queue_are_404_json(http: Http) -> None:
    for path in ("/q", "/qb", "/sse"):
        assert_error(await http.get(path), 404, path)


@async_test
async def test_wrong_method_is_405_json(http: Http) -> None:
    reply = await http.request("PATCH", "/q/q1", json_body={"n": 1})
    assert_error(reply, 405)
    assert await http.job_count("q1") == 0


@async_test
async def test_wrong_method_names_the_allowed_methods(http: Http) -> None:
    reply = await http.request("PATCH", "/q/q1", json_body={"n": 1})
    allowed = {method.strip() for method in (reply.header("Allow") or "").split(",")}
    assert {"GET", "POST", "PUT", "DELETE"} <= allowed


@async_test
async def test_wrong_method_on_status_is_405_json(http: Http) -> None:
    assert_error(await http.post("/j/q1", json_body={"n": 1}), 405)


# body size


@async_test
async def test_body_over_max_body_size_is_413_json(small_presque: Presque) -> None:
    http = small_presque.http
    job = {"pad": "x" * SMALL_LIMIT}
    reply = await http.post_job("q1", job)
    assert_error(reply, 413)


@async_test
async def test_body_over_max_body_size_stores_nothing(small_presque: Presque) -> None:
    http = small_presque.http
    await http.post_job("q1", {"pad": "x" * SMALL_LIMIT})
    await http.post("/qb/q1", json_body={"jobs": [{"pad": "x" * SMALL_LIMIT}]})
    assert await http.job_count("q1") == 0
    assert (await http.get("/status/")).json() == NO_QUEUES


@async_test
async def test_body_within_max_body_size_is_accepted(small_presque: Presque) -> None:
    http = small_presque.http
    reply = await http.post_job("q1", {"pad": "x" * (SMALL_LIMIT - 100)})
    assert reply.status == 201
    assert await http.job_count("q1") == 1


@async_test
async def test_batch_body_over_max_body_size_is_413_json(small_presque: Presque) -> None:
    http = small_presque.http
    jobs = [{"n": n, "pad": "x" * 50} for n in range(30)]
    assert_error(await http.post("/qb/q1", json_body={"jobs": jobs}), 413)


@async_test
async def test_chunked_body_over_max_body_size_is_413_and_stores_nothing(
    small_presque: Presque,
) -> None:
    http = small_presque.http
    body = ('{"pad": "' + "x" * (3 * SMALL_LIMIT) + '"}').encode()
    response = await http.client.request(
        "POST",
        http.base + "/q/q1",
        data=UnknownLengthBody(body),
        headers={"Content-Type": ["application/json"]},
    )
    content = await response.content()
    assert response.code == 413
    assert response.headers.getRawHeaders("Content-Type") == ["application/json"]
    assert list(json.loads(content)) == ["error"]
    assert await http.job_count("q1") == 0


# queue names


@async_test
async def test_queue_name_over_128_characters_is_refused(http: Http) -> None:
    name = "a" * 129
    assert_error(await http.post_job(name, {"n": 1}), 400)
    assert_error(await http.get(f"/q/{name}"), 400)
    assert (await http.get("/status/")).json() == NO_QUEUES


@async_test
async def test_queue_name_of_128_characters_is_accepted(http: Http) -> None:
    name = "a" * 128
    assert (await http.post_job(name, {"n": 1})).status == 201
    assert (await http.get(f"/q/{name}")).json() == {"n": 1}


@async_test
async def test_queue_name_with_a_control_character_is_refused(http: Http) -> None:
    assert_error(await http.post("/q/a%01b", body='{"n": 1}', headers=JSON), 400)
    assert_error(await http.get("/q/a%01b"), 400)
    assert_error(await http.get("/j/a%7Fb"), 400)
    assert (await http.get("/status/")).json() == NO_QUEUES


@async_test
async def test_queue_name_with_invalid_utf8_is_refused(http: Http) -> None:
    assert_error(await http.post("/q/a%FFb", body='{"n": 1}', headers=JSON), 400)
    assert (await http.get("/status/")).json() == NO_QUEUES


@async_test
async def test_percent_encoded_queue_name_is_decoded(http: Http) -> None:
    assert (await http.post_job("a%20b", {"n": 1})).status == 201
    assert (await http.get("/status/")).json() == {"queues": ["a b"], "size": 1}
    assert (await http.get("/q/a%20b")).json() == {"n": 1}
