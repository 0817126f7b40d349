"""
POST /q/Q and POST /qb/Q with an Idempotency-Key header: a producer that
repeats a request (after a timeout, a dropped connection) with the same key
stores its jobs once and is answered the same ids, for as long as the
server's idempotency window; the same key with another request is a 422.
Also: the Python client sends a key of its own, so that its retries are safe.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_twisted
from pytest_twisted import ensureDeferred as async_test
from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.threads import deferToThread
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site

from harness.polling import eventually
from harness.redis import RedisServer
from presque.client import Client
from tests.conftest import Presque, start_presque
from tests.leasing import ack, lease_one
from tests.support import Http, Reply, assert_error, epoch

KEY = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
JOB_ID = "X-Presque-Job-Id"
JOB_IDS = "X-Presque-Job-Ids"


def keyed(key: str) -> dict[str, str]:
    return {KEY: key}


def stored(redis_server: RedisServer, queue: str = "q1") -> int:
    """How many jobs of C{queue} exist, in any state."""
    return redis_server.call("HLEN", f"presque:{{{queue}}}:jobs")


async def post_keyed(http: Http, key: str, job: Any = None, **params: str) -> Reply:
    """POST C{job} (default C{{"n": 1}}) to /q/q1 with the Idempotency-Key C{key}."""
    job = {"n": 1} if job is None else job
    return await http.post("/q/q1", json_body=job, headers=keyed(key), params=params or None)


async def post_batch_keyed(http: Http, key: str, jobs: list[Any], **params: str) -> Reply:
    return await http.post(
        "/qb/q1", json_body={"jobs": jobs}, headers=keyed(key), params=params or None
    )


# POST /q/Q


@async_test
async def test_a_repeated_post_answers_the_same_job_and_stores_it_once(
    presque: Presque,
) -> None:
    first = await post_keyed(presque.http, "order-17")
    again = await post_keyed(presque.http, "order-17")
    assert (first.status, again.status) == (201, 201)
    assert first.header(JOB_ID)
    assert again.header(JOB_ID) == first.header(JOB_ID)
    assert again.header("Location") == first.header("Location")
    assert first.header(REPLAYED) is None
    assert again.header(REPLAYED) == "true"
    assert await presque.http.job_count("q1") == 1
    assert stored(presque.redis_server) == 1


@pytest.mark.parametrize(
    ("job", "params"),
    [
        ({"n": 2}, dict),
        ({"n": 1}, lambda: {"delayed": epoch(60)}),
        ({"n": 1}, lambda: {"priority": "5"}),
        ({"n": 1}, lambda: {"uniq": "u1"}),
    ],
    ids=["another body", "delayed", "priority", "uniq"],
)
@async_test
async def test_the_same_key_with_another_request_is_422_and_stores_nothing(
    presque: Presque, job: Any, params: Callable[[], dict[str, str]]
) -> None:
    first = await post_keyed(presque.http, "order-17")
    other = await post_keyed(presque.http, "order-17", job, **params())
    assert_error(other, 422)
    assert other.header(JOB_ID) is None
    assert stored(presque.redis_server) == 1
    assert (await presque.http.get("/q/q1")).header(JOB_ID) == first.header(JOB_ID)


@async_test
async def test_posts_without_a_key_are_each_stored(presque: Presque) -> None:
    await presque.http.post_job("q1", {"n": 1})
    await presque.http.post_job("q1", {"n": 1})
    assert await presque.http.job_count("q1") == 2


@async_test
async def test_different_keys_store_different_jobs(presque: Presque) -> None:
    first = await post_keyed(presque.http, "order-17")
    second = await post_keyed(presque.http, "order-18")
    assert second.header(REPLAYED) is None
    assert second.header(JOB_ID) != first.header(JOB_ID)
    assert await presque.http.job_count("q1") == 2


@async_test
async def test_keys_are_per_queue(presque: Presque) -> None:
    first = await post_keyed(presque.http, "order-17")
    elsewhere = await presque.http.post("/q/q2", json_body={"n": 1}, headers=keyed("order-17"))
    assert elsewhere.status == 201
    assert elsewhere.header(REPLAYED) is None
    assert elsewhere.header(JOB_ID) != first.header(JOB_ID)
    assert await presque.http.job_count("q2") == 1
    assert await presque.http.job_count("q1") == 1


@async_test
async def test_the_replay_still_answers_after_the_job_was_taken_and_acked(
    presque: Presque,
) -> None:
    first = await post_keyed(presque.http, "order-17")
    leased = await lease_one(presque.http, "q1")
    assert leased.id == first.header(JOB_ID)
    assert (await ack(presque.http, "q1", leased.id, leased.receipt)).status == 204
    again = await post_keyed(presque.http, "order-17")
    assert (again.status, again.header(REPLAYED)) == (201, "true")
    assert again.header(JOB_ID) == first.header(JOB_ID)
    assert stored(presque.redis_server) == 0
    assert (await presque.http.get("/q/q1")).status == 404


@async_test
async def test_the_longest_key_is_255_characters(presque: Presque) -> None:
    key = "k" * 255
    first = await post_keyed(presque.http, key)
    again = await post_keyed(presque.http, key)
    assert first.status == 201
    assert again.header(JOB_ID) == first.header(JOB_ID)
    assert stored(presque.redis_server) == 1


@pytest.mark.parametrize("path", ["/q/q1", "/qb/q1"])
@pytest.mark.parametrize("key", ["k" * 256, "order\x0117", "order\x7f17", "tab\there"], ids=repr)
@async_test
async def test_an_unusable_key_is_400_and_stores_nothing(
    presque: Presque, path: str, key: str
) -> None:
    body: Any = {"n": 1} if path == "/q/q1" else {"jobs": [{"n": 1}]}
    reply = await presque.http.post(path, json_body=body, headers=keyed(key))
    message = assert_error(reply, 400)
    assert KEY in message
    assert stored(presque.redis_server) == 0


# POST /qb/Q


@async_test
async def test_a_repeated_batch_answers_the_same_ids_and_stores_the_jobs_once(
    presque: Presque,
) -> None:
    jobs = [{"n": 1}, {"n": 2}, {"n": 3}]
    first = await post_batch_keyed(presque.http, "batch-1", jobs, ids="1")
    again = await post_batch_keyed(presque.http, "batch-1", jobs, ids="1")
    assert (first.status, again.status) == (201, 201)
    ids = first.header(JOB_IDS)
    assert ids
    assert len(ids.split(",")) == 3
    assert again.header(JOB_IDS) == ids
    assert again.header(REPLAYED) == "true"
    assert await presque.http.job_count("q1") == 3
    assert stored(presque.redis_server) == 3


@async_test
async def test_a_repeated_batch_without_ids_stores_the_jobs_once(presque: Presque) -> None:
    jobs = [{"n": 1}, {"n": 2}]
    await post_batch_keyed(presque.http, "batch-1", jobs)
    again = await post_batch_keyed(presque.http, "batch-1", jobs)
    assert (again.status, again.header(REPLAYED)) == (201, "true")
    assert await presque.http.job_count("q1") == 2


@async_test
async def test_the_same_key_with_another_batch_is_422_and_stores_nothing(
    presque: Presque,
) -> None:
    await post_batch_keyed(presque.http, "batch-1", [{"n": 1}, {"n": 2}])
    other = await post_batch_keyed(presque.http, "batch-1", [{"n": 1}, {"n": 3}])
    assert_error(other, 422)
    assert stored(presque.redis_server) == 2


# The idempotency window.


@pytest_twisted.async_yield_fixture
async def forgetful(clean_redis: RedisServer) -> AsyncIterator[Presque]:
    """presque that remembers an Idempotency-Key for half a second."""
    server, stop = await start_presque(clean_redis, broker={"idempotency_window": 0.5})
    yield server
    await stop()


@async_test
async def test_a_key_is_remembered_only_for_the_idempotency_window(forgetful: Presque) -> None:
    first = await post_keyed(forgetful.http, "order-17")
    assert (await post_keyed(forgetful.http, "order-17")).header(REPLAYED) == "true"

    async def stored_anew() -> Reply | None:
        reply = await post_keyed(forgetful.http, "order-17")
        return reply if reply.header(REPLAYED) is None else None

    later = await eventually(stored_anew, 5, "the key was never forgotten")
    assert later.status == 201
    assert later.header(JOB_ID) != first.header(JOB_ID)
    assert await forgetful.http.job_count("q1") == 2


# The Python client.


class Recorder(Resource):
    """
    A stand-in for presque that records the headers of every request and
    answers it as presque answers a POST /q/Q, except the first C{drop}
    requests, whose connection it drops without an answer (an answer lost).
    """

    isLeaf = True

    def __init__(self, drop: int = 0) -> None:
        super().__init__()
        self.drop = drop
        self.requests: list[dict[str, str]] = []

    def render(self, request: Any) -> Any:
        self.requests.append(
            {
                name.decode("latin-1").lower(): values[0].decode("latin-1")
                for name, values in request.requestHeaders.getAllRawHeaders()
            }
        )
        if len(self.requests) <= self.drop:
            request.transport.abortConnection()
            return NOT_DONE_YET
        request.setResponseCode(201)
        request.setHeader(JOB_ID, "01recorded")
        request.setHeader("Location", "/q/q1/01recorded")
        return b""


async def recording(drop: int = 0) -> tuple[Recorder, str, Callable[[], Any]]:
    """Serve a L{Recorder}; returns it, its base URL and what stops it."""
    recorder = Recorder(drop)
    port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Site(recorder))
    return recorder, f"http://127.0.0.1:{port.getHost().port}", port.stopListening


@async_test
async def test_the_python_client_sends_an_idempotency_key_with_a_post() -> None:
    recorder, base, stop = await recording()
    try:
        job_id = await deferToThread(Client(base).post, "q1", {"n": 1})
    finally:
        await stop()
    assert job_id == "01recorded"
    [headers] = recorder.requests
    assert headers.get(KEY.lower()), headers


@async_test
async def test_the_python_client_retries_a_lost_post_with_the_same_key() -> None:
    recorder, base, stop = await recording(drop=1)
    try:
        job_id = await deferToThread(Client(base).post, "q1", {"n": 1})
    finally:
        await stop()
    assert job_id == "01recorded"
    assert len(recorder.requests) == 2
    first, retry = (headers.get(KEY.lower()) for headers in recorder.requests)
    assert first
    assert retry == first


@async_test
async def test_two_posts_of_the_python_client_are_two_jobs(presque: Presque) -> None:
    client = Client(presque.http.base)
    first = await deferToThread(client.post, "q1", {"n": 1})
    second = await deferToThread(client.post, "q1", {"n": 1})
    assert first != second
    assert await presque.http.job_count("q1") == 2
