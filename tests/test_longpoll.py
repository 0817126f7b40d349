"""Long polling: GET ?wait=S holds the request until a job is ready."""

from __future__ import annotations

import statistics
import time

from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer, reactor
from twisted.internet.task import deferLater

from harness.polling import eventually
from harness.redis import RedisServer
from tests.conftest import Presque, start_presque
from tests.leasing import ack
from tests.support import NO_JOB, Http, run_due


def waiting_get(http: Http, path: str, **params: str) -> defer.Deferred:
    return defer.ensureDeferred(http.get(path, params=params))


@async_test
async def test_a_waiting_get_gets_a_job_posted_later(presque: Presque) -> None:
    waiting = waiting_get(presque.http, "/q/q1", wait="5")
    await eventually(lambda: presque.longpoll.waiting("q1") == 1, 5, "never 1 waiting on q1")
    await presque.http.post_job("q1", {"n": 1})
    reply = await waiting
    assert (reply.status, reply.json()) == (200, {"n": 1})


@async_test
async def test_a_waiting_get_answers_no_job_when_time_is_up(presque: Presque) -> None:
    started = time.monotonic()
    reply = await presque.http.get("/q/q1", params={"wait": "0.3"})
    assert (reply.status, reply.json()) == NO_JOB
    assert 0.25 <= time.monotonic() - started < 2
    assert presque.longpoll.waiting() == 0


@async_test
async def test_a_ready_job_is_handed_out_without_waiting(presque: Presque) -> None:
    await presque.http.post_job("q1", {"n": 1})
    started = time.monotonic()
    reply = await presque.http.get("/q/q1", params={"wait": "30"})
    assert reply.json() == {"n": 1}
    assert time.monotonic() - started < 1


@async_test
async def test_a_post_on_another_server_wakes_a_waiter_within_milliseconds(
    two_servers: list[Presque],
) -> None:
    consumer, producer = two_servers
    latencies = []
    for n in range(30):
        waiting = waiting_get(consumer.http, "/q/cross", wait="5")
        await eventually(
            lambda: consumer.longpoll.waiting("cross") == 1, 5, "never 1 waiting on cross"
        )
        posted = time.monotonic()
        await producer.http.post_job("cross", {"n": n})
        reply = await waiting
        latencies.append(time.monotonic() - posted)
        assert reply.json() == {"n": n}
    latencies.sort()
    median, p99 = statistics.median(latencies), latencies[-1]
    print(
        f"\ncross-server wake-up, POST sent to job received: median {median * 1000:.1f} ms,"
        f" max of 30 {p99 * 1000:.1f} ms"
    )
    assert median < 0.1


@async_test
async def test_waiters_are_served_first_come_first_served(presque: Presque) -> None:
    first = waiting_get(presque.http, "/q/q1", wait="5")
    await eventually(lambda: presque.longpoll.waiting("q1") == 1, 5, "never 1 waiting on q1")
    second = waiting_get(presque.http, "/q/q1", wait="5")
    await eventually(lambda: presque.longpoll.waiting("q1") == 2, 5, "never 2 waiting on q1")
    await presque.http.post_job("q1", {"n": "one"})
    assert (await first).json() == {"n": "one"}
    assert not second.called
    await presque.http.post_job("q1", {"n": "two"})
    assert (await second).json() == {"n": "two"}


@async_test
async def test_a_batch_wakes_as_many_waiters_as_it_has_jobs(presque: Presque) -> None:
    waiting = [waiting_get(presque.http, "/q/q1", wait="5") for _ in range(3)]
    await eventually(lambda: presque.longpoll.waiting("q1") == 3, 5, "never 3 waiting on q1")
    await presque.http.post("/qb/q1", json_body={"jobs": [{"n": 1}, {"n": 2}, {"n": 3}]})
    replies = await defer.gatherResults(waiting)
    assert sorted(reply.json()["n"] for reply in replies) == [1, 2, 3]


@async_test
async def test_a_client_that_disconnects_is_forgotten_at_once(presque: Presque) -> None:
    waiting = waiting_get(presque.http, "/q/q1", wait="30")
    await eventually(lambda: presque.longpoll.waiting("q1") == 1, 5, "never 1 waiting on q1")
    waiting.addErrback(lambda _: None)
    waiting.cancel()
    await eventually(
        lambda: presque.longpoll.waiting("q1") == 0, 1, "the cancelled GET is still waiting"
    )
    await presque.http.post_job("q1", {"n": 1})
    assert (await presque.http.get("/q/q1")).json() == {"n": 1}


@async_test
async def test_stopping_answers_every_waiter(presque: Presque) -> None:
    waiting = [waiting_get(presque.http, "/q/q1", wait="30") for _ in range(5)]
    await eventually(lambda: presque.longpoll.waiting("q1") == 5, 5, "never 5 waiting on q1")
    started = time.monotonic()
    await presque.longpoll.stop()
    replies = await defer.gatherResults(waiting)
    assert [(r.status, r.json()) for r in replies] == [NO_JOB] * 5
    assert time.monotonic() - started < 1


@async_test
async def test_wait_is_capped_by_max_wait(clean_redis: RedisServer) -> None:
    server, stop = await start_presque(clean_redis, max_wait=0.3)
    try:
        started = time.monotonic()
        reply = await server.http.get("/q/q1", params={"wait": "1000"})
        assert (reply.status, reply.json()) == NO_JOB
        assert time.monotonic() - started < 2
    finally:
        await stop()


@async_test
async def test_an_invalid_wait_is_400(http: Http) -> None:
    for wait in ("-1", "soon", "nan"):
        reply = await http.get("/q/q1", params={"wait": wait})
        assert reply.status == 400, wait
        assert "wait must be" in reply.json()["error"]


@async_test
async def test_a_leased_waiting_get_gets_a_leased_job(presque: Presque) -> None:
    waiting = waiting_get(presque.http, "/q/q1", wait="5", lease="30")
    await eventually(lambda: presque.longpoll.waiting("q1") == 1, 5, "never 1 waiting on q1")
    await presque.http.post_job("q1", {"n": 1})
    reply = await waiting
    receipt = reply.header("X-Presque-Receipt")
    assert (await ack(presque.http, "q1", reply.header("X-Presque-Job-Id"), receipt)).status == 204


@async_test
async def test_a_waiting_batch_gets_the_jobs_of_a_batch(presque: Presque) -> None:
    waiting = waiting_get(presque.http, "/qb/q1", wait="5", batch_size="10")
    await eventually(lambda: presque.longpoll.waiting("q1") == 1, 5, "never 1 waiting on q1")
    await presque.http.post("/qb/q1", json_body={"jobs": [{"n": 1}, {"n": 2}]})
    reply = await waiting
    assert reply.json() == ['{"n": 1}', '{"n": 2}']


@async_test
async def test_a_delayed_job_coming_due_wakes_a_waiter(presque: Presque) -> None:
    await presque.http.post_job("q1", {"n": 1}, delayed=f"{time.time() + 0.2:.3f}")
    waiting = waiting_get(presque.http, "/q/q1", wait="5")
    await eventually(lambda: presque.longpoll.waiting("q1") == 1, 5, "never 1 waiting on q1")
    await deferLater(reactor, 0.3)
    await run_due(presque.broker)
    assert (await waiting).json() == {"n": 1}


@async_test
async def test_a_waiting_get_on_a_closed_queue_answers_at_once(presque: Presque) -> None:
    await presque.http.post("/control/q1", json_body={"status": "stop"})
    reply = await presque.http.get("/q/q1", params={"wait": "5"})
    assert reply.json() == {"error": "queue is closed"}


@async_test
async def test_a_thousand_idle_waiters_cost_no_redis_commands(presque: Presque) -> None:
    def commands() -> int:
        stats = presque.redis_server.command("INFO", "stats")
        return int(stats.split("total_commands_processed:")[1].split()[0])

    waiting = [waiting_get(presque.http, "/q/idle", wait="30") for _ in range(1000)]
    await eventually(
        lambda: presque.longpoll.waiting("idle") == 1000, 30, "never 1000 waiting on idle"
    )

    async def settled() -> bool:
        # Arriving has its cost: the waiters that came before the wake-ups'
        # subscription was confirmed look again once it is.
        start = commands()
        await deferLater(reactor, 0.3)
        return commands() - start <= 2

    await eventually(settled, 10, "the waiters kept calling Redis")
    before = commands()
    await deferLater(reactor, 1.5)
    # The only commands in between are the two INFO calls of this test.
    assert commands() - before <= 2
    await presque.http.post("/qb/idle", json_body={"jobs": [{"n": n} for n in range(1000)]})
    replies = await defer.gatherResults(waiting)
    assert sorted(reply.json()["n"] for reply in replies) == list(range(1000))


@async_test
async def test_waiters_are_served_after_redis_comes_back(own_redis: RedisServer) -> None:
    server, stop = await start_presque(own_redis)
    try:
        waiting = waiting_get(server.http, "/q/q1", wait="20")
        await eventually(lambda: server.longpoll.waiting("q1") == 1, 5, "never 1 waiting on q1")
        own_redis.stop()
        own_redis.start()

        # A producer retries its 503s until the pool is back; the pub/sub
        # connection subscribes again by itself and the post wakes the waiter.
        async def posted() -> bool:
            return (await server.http.post_job("q1", {"n": 1})).status == 201

        await eventually(posted, 10, "redis never came back")
        reply = await waiting
        assert (reply.status, reply.json()) == (200, {"n": 1})
    finally:
        await stop()
