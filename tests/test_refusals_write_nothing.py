"""
A request refused for what it carries changes nothing in Redis, not even the
record that its worker (X-presque-workerid) was seen; a request that is
served, even one that finds no job, records its worker as seen. A worker id
that is not a clean, short text is itself a refusal.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import pytest_twisted
from pytest_twisted import ensureDeferred as async_test

from harness.polling import eventually
from harness.redis import RedisServer
from tests.conftest import Presque, start_presque
from tests.support import JSON, NO_JOB, WORKER, assert_error

BODY_LIMIT = 1000
W1 = {WORKER: "w1"}


@pytest_twisted.async_yield_fixture
async def small_presque(clean_redis: RedisServer) -> AsyncIterator[Presque]:
    """presque over the (flushed) session Redis, taking bodies of BODY_LIMIT bytes at most."""
    server, stop = await start_presque(clean_redis, max_body_size=BODY_LIMIT)
    yield server
    await stop()


@dataclass
class Refused:
    """A request presque refuses, and the status it answers."""

    status: int
    method: str
    path: str
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] | None = None


REFUSED = {
    "a bad argument": Refused(400, "GET", "/q/q1", params={"lease": "NaN"}),
    "a bad argument to a post": Refused(
        400, "POST", "/q/q1", '{"n": 1}', JSON, params={"delayed": "soon"}
    ),
    "a method the route has not": Refused(405, "PATCH", "/q/q1", '{"n": 1}', JSON),
    "a body over max_body_size": Refused(
        413, "POST", "/q/q1", '{"pad": "' + "x" * BODY_LIMIT + '"}', JSON
    ),
    "a bad queue name": Refused(400, "POST", "/q/a%2Fb", '{"n": 1}', JSON),
    "a body that is not JSON": Refused(400, "POST", "/q/q1", "{", JSON),
    "a wrong content type": Refused(
        400, "POST", "/q/q1", '{"n": 1}', {"Content-Type": "text/plain"}
    ),
    "an unknown route": Refused(404, "GET", "/nowhere"),
}


async def settled(presque: Presque) -> None:
    """
    Every Redis command presque sent so far has been run: one PING down each
    connection of its pool (a worker sighting is written in the background,
    after the answer, and the first of its writes would show by now).
    """
    redis = presque.broker.redis
    for _ in range(redis.pool_size):
        await redis.execute("PING")


async def listed_workers(presque: Presque) -> list[str]:
    reply = await presque.http.get("/workers")
    assert reply.status == 200, reply.body
    return [worker["worker_id"] for worker in reply.json()["workers"]]


async def assert_nothing_written(presque: Presque) -> None:
    await settled(presque)
    assert presque.redis_server.call("KEYS", "*") == []
    assert await listed_workers(presque) == []


@pytest.mark.parametrize("refused", REFUSED.values(), ids=REFUSED.keys())
@async_test
async def test_a_refused_request_writes_nothing_not_even_its_worker(
    small_presque: Presque, refused: Refused
) -> None:
    reply = await small_presque.http.request(
        refused.method,
        refused.path,
        body=refused.body,
        headers={**refused.headers, **W1},
        params=refused.params,
    )
    assert_error(reply, refused.status, reply.body)
    await assert_nothing_written(small_presque)


@async_test
async def test_a_take_that_finds_no_job_records_its_worker_as_seen(
    small_presque: Presque,
) -> None:
    reply = await small_presque.http.get("/q/q1", headers=W1)
    assert (reply.status, reply.json()) == NO_JOB
    await eventually(
        lambda: _lists(small_presque, "w1"), 5, "w1 was not recorded as seen after its GET"
    )


@async_test
async def test_a_worker_id_of_128_characters_is_recorded(small_presque: Presque) -> None:
    worker = "w" * 128
    reply = await small_presque.http.get("/q/q1", headers={WORKER: worker})
    assert (reply.status, reply.json()) == NO_JOB
    await eventually(
        lambda: _lists(small_presque, worker), 5, "a 128-character worker id was not recorded"
    )


async def _lists(presque: Presque, worker: str) -> bool:
    return worker in await listed_workers(presque)


BAD_WORKER_IDS = {"129 characters": "w" * 129, "a tab": "w\t1", "a control character": "w\x011"}

ROUTES = {
    "take": ("GET", "/q/q1", None),
    "post": ("POST", "/q/q1", '{"n": 1}'),
    "queue counts": ("GET", "/j/q1", None),
    "status": ("GET", "/status/", None),
    "workers": ("GET", "/workers", None),
    "register": ("POST", "/w/q1", None),
}


@pytest.mark.parametrize("worker", BAD_WORKER_IDS.values(), ids=BAD_WORKER_IDS.keys())
@pytest.mark.parametrize("route", ROUTES.values(), ids=ROUTES.keys())
@async_test
async def test_a_bad_worker_id_is_400_json_and_records_nothing(
    small_presque: Presque, route: tuple[str, str, str | None], worker: str
) -> None:
    method, path, body = route
    headers = {**JSON, WORKER: worker} if body else {WORKER: worker}
    reply = await small_presque.http.request(method, path, body=body, headers=headers)
    message = assert_error(reply, 400, reply.body)
    assert WORKER.lower() in message.lower(), message
    await assert_nothing_written(small_presque)
