"""
Redis refusing what presque asks of it: out of memory (507, while consumers
can still drain), a read-only replica and any other error reply (503 naming
the cause), and Redis gone (503, then recovery). Each test has its own
redis-server; none of these answers is ever a bare 500.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable

import pytest_twisted
from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer, threads

from harness.polling import eventually
from harness.redis import RedisServer
from tests.conftest import Presque, start_presque
from tests.leasing import ack
from tests.support import REDIS_UNAVAILABLE, Http, Reply, assert_error

#: The command timeout of tests.conftest.start_presque.
COMMAND_TIMEOUT = 2.0
#: The size of each value that fills Redis up to its maxmemory.
FILLER = 64 * 1024


@pytest_twisted.async_yield_fixture
async def primary() -> AsyncIterator[RedisServer]:
    server = RedisServer(None, "everysec", "--repl-diskless-sync-delay", "0").start()
    yield server
    server.stop()


@pytest_twisted.async_yield_fixture
async def replica(primary: RedisServer) -> AsyncIterator[RedisServer]:
    """A read-only replica of C{primary}, in sync with it."""
    # Without its own append-only file: a replica that rewrites it after the
    # sync refuses to shut down until it is done.
    options = ("--replicaof", "127.0.0.1", str(primary.port), "--appendonly", "no")
    server = RedisServer(None, "everysec", *options).start()
    try:
        await eventually(
            lambda: "master_link_status:up" in server.call("INFO", "replication"),
            10,
            "the replica did not sync with its primary",
        )
        yield server
    finally:
        server.stop()


@pytest_twisted.async_yield_fixture
async def over_primary(primary: RedisServer) -> AsyncIterator[Presque]:
    server, stop = await start_presque(primary)
    yield server
    await stop()


@pytest_twisted.async_yield_fixture
async def over_replica(replica: RedisServer) -> AsyncIterator[Presque]:
    server, stop = await start_presque(replica)
    yield server
    await stop()


def fill_to_maxmemory(redis: RedisServer) -> None:
    """
    Set C{maxmemory} just above what Redis uses, then fill it until even a
    tiny write is refused. A big write that is refused frees its own buffer,
    which can bring Redis back under its limit: the values shrink until the
    last one fits and tips it over.
    """
    redis.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
    redis.call("CONFIG", "SET", "maxmemory", str(redis.used_memory() + 4 * FILLER))
    size = FILLER
    for n in range(1000):
        try:
            redis.call("SET", f"filler:{n}", "x" * size)
        except RuntimeError as error:
            assert "OOM" in str(error), error
            size = max(size // 2, 1)
        try:
            redis.call("SET", "probe", "x")
        except RuntimeError as error:
            assert "OOM" in str(error), error
            # Full. Connections coming and going free a few kilobytes of
            # buffers: pin the limit under what is used, so it stays full.
            redis.call("CONFIG", "SET", "maxmemory", str(redis.used_memory() - FILLER))
            return
    raise AssertionError("redis never ran out of memory")


def assert_unavailable_because(reply: Reply, cause: str) -> None:
    message = assert_error(reply, 503, reply.body)
    assert message.startswith("redis is unavailable"), message
    assert cause in message, message


# Out of memory


@async_test
async def test_a_post_to_a_redis_out_of_memory_is_507_json(presque_alone: Presque) -> None:
    http = presque_alone.http
    await http.post_jobs("Q", 3)
    fill_to_maxmemory(presque_alone.redis_server)
    reply = await http.post_job("Q", {"n": "more"})
    message = assert_error(reply, 507, reply.body)
    assert "memory" in message, message


@async_test
async def test_consumers_drain_the_jobs_posted_before_redis_ran_out_of_memory(
    presque_alone: Presque,
) -> None:
    http = presque_alone.http
    posted = await http.post_jobs("Q", 3)
    fill_to_maxmemory(presque_alone.redis_server)
    taken = []
    for _ in posted:
        reply = await http.get("/q/Q")
        assert reply.status == 200, reply.body
        taken.append(reply.body.decode())
    assert taken == posted
    assert await http.job_count("Q") == 0


@async_test
async def test_jobs_taken_under_oom_are_confirmed_and_do_not_come_back(
    presque_alone: Presque,
) -> None:
    http, redis = presque_alone.http, presque_alone.redis_server
    await http.post_jobs("Q", 2)
    fill_to_maxmemory(redis)
    for _ in range(2):
        assert (await http.get("/q/Q")).status == 200
    # Once their answers are written, the deliveries for good are confirmed.
    await eventually(
        lambda: redis.call("ZCARD", "presque:{Q}:handoff") == 0,
        5,
        "the jobs taken under OOM stayed unconfirmed (they would be handed out again)",
    )


@async_test
async def test_a_lease_and_its_ack_under_oom_work_or_answer_507_never_500(
    presque_alone: Presque,
) -> None:
    http = presque_alone.http
    await http.post_jobs("Q", 1)
    fill_to_maxmemory(presque_alone.redis_server)
    leased = await http.get("/q/Q", params={"lease": "30"})
    assert leased.status in (200, 507), leased.body
    if leased.status == 507:
        assert "memory" in assert_error(leased, 507)
        return
    job_id, receipt = leased.header("X-Presque-Job-Id"), leased.header("X-Presque-Receipt")
    acked = await ack(http, "Q", job_id, receipt)
    assert acked.status in (204, 507), acked.body
    if acked.status == 507:
        assert "memory" in assert_error(acked, 507)


@async_test
async def test_posts_work_again_once_maxmemory_is_raised(presque_alone: Presque) -> None:
    http, redis = presque_alone.http, presque_alone.redis_server
    await http.post_jobs("Q", 1)
    fill_to_maxmemory(redis)
    assert (await http.post_job("Q", {"n": "refused"})).status == 507
    redis.call("CONFIG", "SET", "maxmemory", "0")
    reply = await http.post_job("Q", {"n": "accepted"})
    assert reply.status == 201, reply.body
    assert await http.job_count("Q") == 2


# A read-only replica


@async_test
async def test_a_post_to_a_read_only_replica_is_503_naming_the_cause(
    over_replica: Presque,
) -> None:
    reply = await over_replica.http.post_job("Q", {"n": 1})
    assert_unavailable_because(reply, "read-only replica")


@async_test
async def test_a_take_from_a_read_only_replica_is_503_not_no_job(
    over_primary: Presque, replica: RedisServer, over_replica: Presque
) -> None:
    await over_primary.http.post_job("Q", {"n": 1})
    await eventually(
        lambda: replica.call("HLEN", "presque:{Q}:jobs") == 1, 10, "the job did not replicate"
    )
    reply = await over_replica.http.get("/q/Q")
    assert_unavailable_because(reply, "read-only replica")
    assert await over_primary.http.job_count("Q") == 1


@async_test
async def test_a_read_only_route_over_a_replica_answers_or_says_why_not(
    over_primary: Presque, replica: RedisServer, over_replica: Presque
) -> None:
    await over_primary.http.post_job("Q", {"n": 1})
    await eventually(
        lambda: replica.call("HLEN", "presque:{Q}:jobs") == 1, 10, "the job did not replicate"
    )
    reply = await over_replica.http.get("/j/Q")
    if reply.status == 200:
        assert reply.json()["job_count"] == 1
    else:
        assert_unavailable_because(reply, "read-only replica")


# Any other error reply


def break_queue(redis: RedisServer, queue: str) -> None:
    """Make a key of C{queue} the wrong type, behind presque's back."""
    redis.call("SET", f"presque:{{{queue}}}:ready", "x")


@async_test
async def test_a_post_meeting_a_key_of_the_wrong_type_is_503_naming_wrongtype(
    presque_alone: Presque,
) -> None:
    break_queue(presque_alone.redis_server, "q1")
    reply = await presque_alone.http.post_job("q1", {"n": 1})
    assert "WRONGTYPE" in assert_error(reply, 503, reply.body)


@async_test
async def test_a_take_meeting_a_key_of_the_wrong_type_is_503_naming_wrongtype(
    presque_alone: Presque,
) -> None:
    break_queue(presque_alone.redis_server, "q1")
    reply = await presque_alone.http.get("/q/q1")
    assert "WRONGTYPE" in assert_error(reply, 503, reply.body)


@async_test
async def test_other_queues_are_served_while_one_queue_is_broken(
    presque_alone: Presque,
) -> None:
    http = presque_alone.http
    break_queue(presque_alone.redis_server, "q1")
    assert (await http.post_job("q1", {"n": 1})).status == 503
    assert (await http.post_job("q2", {"n": 2})).status == 201
    reply = await http.get("/q/q2")
    assert (reply.status, reply.json()) == (200, {"n": 2})


# Redis gone


async def until_served(http: Http, timeout: float = 15.0) -> None:
    """Wait until presque answers a read (GET /j/Q) with a 200 again."""
    last: list[Reply] = []

    async def served() -> bool:
        last[:] = [await http.get("/j/Q")]
        return last[0].status == 200

    await eventually(served, timeout, lambda: f"still {last[0].status}: {last[0].body!r}")


async def timed(request: Awaitable[Reply]) -> tuple[Reply, float]:
    started = time.monotonic()
    reply = await request
    return reply, time.monotonic() - started


@async_test
async def test_a_post_while_redis_is_down_is_503_at_once(presque_alone: Presque) -> None:
    presque_alone.redis_server.stop()
    reply, took = await timed(presque_alone.http.post_job("Q", {"n": 1}))
    assert (reply.status, reply.json()) == REDIS_UNAVAILABLE
    assert took < COMMAND_TIMEOUT, took


@async_test
async def test_a_take_while_redis_is_down_is_503_at_once(presque_alone: Presque) -> None:
    presque_alone.redis_server.stop()
    reply, took = await timed(presque_alone.http.get("/q/Q"))
    assert (reply.status, reply.json()) == REDIS_UNAVAILABLE
    assert took < COMMAND_TIMEOUT, took


@async_test
async def test_presque_serves_again_once_redis_is_back_on_its_port(
    presque_alone: Presque,
) -> None:
    http, redis = presque_alone.http, presque_alone.redis_server
    await http.post_job("Q", {"n": "before"})
    redis.stop()
    assert (await http.post_job("Q", {"n": "lost"})).status == 503
    redis.start()  # the same port and data directory
    await until_served(http)
    assert (await http.post_job("Q", {"n": "after"})).status == 201
    taken = [(await http.get("/q/Q")).json() for _ in range(2)]
    assert taken == [{"n": "before"}, {"n": "after"}]


@async_test
async def test_producers_and_consumers_running_into_maxmemory_lose_and_half_write_nothing(
    presque_alone: Presque,
) -> None:
    http, redis = presque_alone.http, presque_alone.redis_server
    stored = set(await http.post_jobs("Q", 40))
    refused: set[str] = set()
    acked: list[str] = []

    async def produce(producer: int) -> None:
        for n in range(30):
            job = {"producer": producer, "n": n}
            reply = await http.post_job("Q", job)
            assert reply.status in (201, 507), reply.body
            (stored if reply.status == 201 else refused).add(json.dumps(job))

    async def consume() -> None:
        for _ in range(40):
            reply = await http.get("/q/Q", params={"lease": "300"})
            if reply.status == 404:
                return
            assert reply.status == 200, reply.body
            receipt = reply.header("X-Presque-Receipt")
            settled = await ack(http, "Q", reply.header("X-Presque-Job-Id"), receipt)
            assert settled.status in (204, 507), settled.body
            if settled.status == 204:
                acked.append(reply.body.decode())

    running = [defer.ensureDeferred(produce(p)) for p in range(3)]
    running += [defer.ensureDeferred(consume()) for _ in range(3)]
    # Filled from a thread, so that posts and acks meet Redis as it fills.
    running.append(threads.deferToThread(fill_to_maxmemory, redis))
    await defer.gatherResults(running, consumeErrors=True)
    assert refused, "redis never refused a post: the test did not reach maxmemory"

    redis.call("CONFIG", "SET", "maxmemory", "0")
    left = []
    for state in ("ready", "leased"):
        page = await http.get("/queues/Q/jobs", params={"state": state, "limit": "1000"})
        left += [json.dumps(item["job"]) for item in page.json()["jobs"]]
    assert len(acked) == len(set(acked)), "an acked job came back"
    assert sorted(acked + left) == sorted(stored), "a stored job was lost, or a refused one kept"
