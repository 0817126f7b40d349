"""
The schedule of due work: a scheduler's round costs in proportion to the
queues with something due (delayed jobs, leases), not to all queues; each
due queue is handled by exactly one round, whatever the number of servers;
and the slow sweep over every queue repairs what the schedule missed.

The cost of a round is read from Redis (INFO commandstats), never from a
clock: only the number of commands is asserted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Sequence

import pytest
from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer, reactor

from harness.polling import eventually
from harness.redis import RedisServer
from presque.broker.schedule import RoundDone
from presque.lua import loaded_scripts
from tests.conftest import Presque
from tests.support import Http, epoch

DUE_KEY = "presque:{schedule}:due"
#: Bounds on the commands of a round that takes no queue (the script call and
#: what it runs), and on those the work on one queue adds: constants, which
#: the number of queues in Redis must not change.
CLAIM_COMMANDS = 5
QUEUE_COMMANDS = 30


async def gathered(calls: Sequence[Awaitable], size: int = 200) -> list:
    """Await C{calls}, C{size} at a time; their results in order."""
    results = []
    for first in range(0, len(calls), size):
        batch = [defer.ensureDeferred(call) for call in calls[first : first + size]]
        results += await defer.gatherResults(batch, consumeErrors=True)
    return results


async def idle_queues(presque: Presque, count: int, prefix: str = "idle") -> list[str]:
    """C{count} listed queues, each with one ready job and nothing due; their names."""
    names = [f"{prefix}-{n:06d}" for n in range(count)]
    await gathered([presque.broker.enqueue(name, [b"{}"]) for name in names])
    return names


async def scripts_loaded(presque: Presque) -> None:
    """Redis knows every script, as when a daemon has started: each call is one EVALSHA."""
    await presque.broker.redis.until_ready(loaded_scripts(), reactor)


def command_calls(redis: RedisServer) -> dict[str, int]:
    """
    The calls of each command since the last CONFIG RESETSTAT (but INFO's and
    CONFIG's), the commands run inside scripts included.
    """
    calls = {}
    for line in redis.call("INFO", "commandstats").splitlines():
        if line.startswith("cmdstat_"):
            name, _, stats = line[len("cmdstat_") :].partition(":")
            fields = dict(field.split("=") for field in stats.split(","))
            calls[name] = int(fields["calls"])
    return {
        name: n
        for name, n in calls.items()
        if name != "info" and name.split("|")[0] != "config" and n
    }


SCRIPT_COMMANDS = ("eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro")


def script_calls(calls: dict[str, int]) -> dict[str, int]:
    """The script calls among C{calls}."""
    return {name: n for name, n in calls.items() if name in SCRIPT_COMMANDS}


def reset_stats(redis: RedisServer) -> None:
    redis.call("CONFIG", "RESETSTAT")


async def until_redis_time_passes(redis: RedisServer, unix_time: float) -> None:
    """Wait until the clock of Redis, which the scripts read, is past C{unix_time}."""

    def passed() -> bool:
        seconds, micros = redis.call("TIME")
        return int(seconds) + int(micros) / 1e6 > unix_time

    await eventually(passed, 10, f"redis time never passed {unix_time}")


async def ready_jobs(http: Http, queue: str) -> list[object]:
    """The ready jobs of C{queue}, decoded, in delivery order (the first 1,000)."""
    reply = await http.get(f"/status/{queue}", params={"with_desc": "1"})
    assert reply.status == 200, reply.body
    return [json.loads(job) for job in reply.json()["jobs"]]


async def counts(http: Http, queue: str) -> dict[str, int]:
    reply = await http.get(f"/queues/{queue}")
    assert reply.status == 200, reply.body
    return reply.json()["counts"]


@pytest.fixture
def redis(clean_redis: RedisServer) -> RedisServer:
    return clean_redis


# Idle queues cost nothing


@async_test
async def test_a_round_over_5000_idle_queues_is_one_script_call(
    presque: Presque, redis: RedisServer
) -> None:
    await idle_queues(presque, 5000)
    assert redis.call("ZCARD", "presque:queues") == 5000
    await scripts_loaded(presque)
    reset_stats(redis)
    assert await presque.broker.run_due() == RoundDone(queues=0)
    calls = command_calls(redis)
    assert script_calls(calls) == {"evalsha": 1}
    assert sum(calls.values()) <= CLAIM_COMMANDS, calls


@async_test
async def test_a_queue_with_work_due_far_ahead_is_not_touched_before_its_time(
    presque: Presque, redis: RedisServer
) -> None:
    await presque.http.post_job("q1", {"n": 1}, delayed=epoch(60))
    await scripts_loaded(presque)
    reset_stats(redis)
    assert await presque.broker.run_due() == RoundDone(queues=0)
    calls = command_calls(redis)
    assert script_calls(calls) == {"evalsha": 1}
    assert sum(calls.values()) <= CLAIM_COMMANDS, calls
    assert (await counts(presque.http, "q1"))["delayed"] == 1


# Due work is done once


@async_test
async def test_a_delayed_job_that_fell_due_is_handled_by_exactly_one_round(
    presque: Presque, redis: RedisServer
) -> None:
    names = await idle_queues(presque, 5000)
    queue = names[1234]
    due = epoch(0.1)
    reply = await presque.http.post_job(queue, {"n": "delayed"}, delayed=due)
    assert reply.status == 201
    await until_redis_time_passes(redis, float(due))
    await scripts_loaded(presque)
    reset_stats(redis)
    done = await presque.broker.run_due()
    assert (done.queues, done.promoted) == (1, 1)
    # Taking the queue, its work, putting back its next due time (none).
    calls = command_calls(redis)
    assert script_calls(calls) == {"evalsha": 3}
    assert sum(calls.values()) <= 3 + CLAIM_COMMANDS + QUEUE_COMMANDS, calls
    # Due delayed jobs jump ahead of the waiting ones.
    assert await ready_jobs(presque.http, queue) == [{"n": "delayed"}, {}]
    assert await presque.broker.run_due() == RoundDone(queues=0)
    assert redis.call("ZSCORE", DUE_KEY, queue) is None


@async_test
async def test_two_servers_rounds_at_once_handle_each_due_queue_once(
    two_servers: list[Presque], redis: RedisServer
) -> None:
    first, second = two_servers
    queues, per_queue = [f"q{n}" for n in range(20)], 5
    run_at = time.time() + 0.1
    for queue in queues:
        payloads = [json.dumps({"queue": queue, "n": n}).encode() for n in range(per_queue)]
        await first.broker.enqueue(queue, payloads, run_at=run_at)
    await until_redis_time_passes(redis, run_at)
    rounds = await defer.gatherResults(
        [
            defer.ensureDeferred(first.broker.run_due()),
            defer.ensureDeferred(second.broker.run_due()),
        ]
    )
    assert sum(done.queues for done in rounds) == len(queues)
    assert sum(done.promoted for done in rounds) == len(queues) * per_queue
    for queue in queues:
        jobs = await ready_jobs(first.http, queue)
        assert sorted(jobs, key=lambda job: job["n"]) == [
            {"queue": queue, "n": n} for n in range(per_queue)
        ]


@async_test
async def test_an_expired_lease_is_found_by_the_schedule(
    presque: Presque, redis: RedisServer
) -> None:
    http = presque.http
    await http.post_job("q1", {"n": 1})
    leased = await http.get("/q/q1", params={"lease": "0.2"})
    assert leased.status == 200
    await until_redis_time_passes(redis, float(leased.header("X-Presque-Lease-Expires")))
    done = await presque.broker.run_due()
    assert (done.queues, done.expired) == (1, 1)
    assert await ready_jobs(http, "q1") == [{"n": 1}]
    assert (await counts(http, "q1"))["leased"] == 0


# The sweep


@async_test
async def test_the_sweep_notes_again_due_work_the_schedule_lost(
    presque: Presque, redis: RedisServer
) -> None:
    due = epoch(1.0)
    await presque.http.post_job("q1", {"n": "delayed"}, delayed=due)
    redis.call("DEL", DUE_KEY)
    assert await presque.broker.sweep(20) == 1
    assert redis.call("ZSCORE", DUE_KEY, "q1") == str(round(float(due) * 1000))
    await until_redis_time_passes(redis, float(due))
    done = await presque.broker.run_due()
    assert (done.queues, done.promoted) == (1, 1)
    assert await ready_jobs(presque.http, "q1") == [{"n": "delayed"}]


@async_test
async def test_the_sweep_reaches_every_queue_a_few_at_a_time(
    presque: Presque, redis: RedisServer
) -> None:
    queues = [f"q{n:03d}" for n in range(200)]
    run_at = time.time() + 60
    await gathered([presque.broker.enqueue(queue, [b"{}"], run_at=run_at) for queue in queues])
    redis.call("DEL", DUE_KEY)
    looked_at = []
    for _ in range(100):
        looked_at.append(await presque.broker.sweep(20))
        if redis.call("ZCARD", DUE_KEY) == len(queues):
            break
    assert sorted(redis.call("ZRANGE", DUE_KEY, 0, -1)) == queues
    assert max(looked_at) < len(queues) / 2, looked_at


# 100,000 idle queues


def list_emptied_queues(redis: RedisServer, count: int) -> None:
    """C{count} queues in the set of queues with nothing left in them, as emptied
    queues are: listed, quickly (a thousand names per command)."""
    for first in range(0, count, 1000):
        names = [f"emptied-{n:06d}" for n in range(first, min(first + 1000, count))]
        redis.call("ZADD", "presque:queues", *(x for name in names for x in (0, name)))


@async_test
async def test_a_round_and_a_sweep_over_100000_idle_queues_cost_a_few_commands(
    presque: Presque, redis: RedisServer
) -> None:
    list_emptied_queues(redis, 100_000)
    await idle_queues(presque, 100)
    assert redis.call("ZCARD", "presque:queues") == 100_100
    await scripts_loaded(presque)
    reset_stats(redis)
    started = time.perf_counter()
    assert await presque.broker.run_due() == RoundDone(queues=0)
    round_time = time.perf_counter() - started
    calls = command_calls(redis)
    assert script_calls(calls) == {"evalsha": 1}
    assert sum(calls.values()) <= CLAIM_COMMANDS, calls

    keys_before = redis.call("DBSIZE")
    reset_stats(redis)
    started = time.perf_counter()
    looked_at = await presque.broker.sweep(20)
    sweep_time = time.perf_counter() - started
    # One ZSCAN step, then one script call per queue it returned, which
    # COUNT bounds (roughly): never a walk over all the queues.
    assert 0 < looked_at <= 100
    calls = command_calls(redis)
    assert calls.pop("zscan") == 1
    assert script_calls(calls) == {"evalsha": looked_at}
    assert sum(calls.values()) <= looked_at * QUEUE_COMMANDS, calls
    # Looking at idle queues writes nothing.
    assert redis.call("DBSIZE") == keys_before
    print(
        f"100,000 idle queues: round {round_time * 1000:.1f} ms,"
        f" sweep of {looked_at} {sweep_time * 1000:.1f} ms"
    )
