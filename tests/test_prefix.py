"""
[redis] prefix: deployments with different prefixes share one Redis
database without seeing each other's queues, jobs, workers, schedules,
virtual queues, history, metrics or wake-ups; the default prefix keeps the
key names of every earlier version.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from unittest import mock

import pytest
import pytest_twisted
from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer, reactor
from twisted.internet.task import deferLater

from harness.polling import eventually
from harness.processes import free_port
from harness.redis import RedisServer
from presque.broker.keys import KeySpace
from presque.config import (
    Config,
    ConfigError,
    MetricsSettings,
    RedisSettings,
    SchedulerSettings,
    ServerSettings,
    load_config,
)
from presque.metrics import Metrics
from presque.redis_url import parse_redis_url
from tests.conftest import Presque, start_presque
from tests.leasing import ack, lease_one
from tests.support import NO_JOB, NO_QUEUES, Http, serving
from tests.test_metrics import queues_of, samples_of

PING = {"queue": "ping", "every": 30, "job": {"ping": True}}


@pytest_twisted.async_yield_fixture
async def prefixed(clean_redis: RedisServer) -> AsyncIterator[tuple[Presque, Presque]]:
    """Two servers on the same Redis database, of the prefixes a and b; their
    figures for /metrics are read again at every scrape."""
    servers, stops = [], []
    for prefix in ("a", "b"):
        metrics = Metrics(MetricsSettings(cache=0))
        server, stop = await start_presque(clean_redis, prefix=prefix, broker={"metrics": metrics})
        servers.append(server)
        stops.append(stop)
    yield servers[0], servers[1]
    for stop in stops:
        await stop()


async def post_id(http: Http, queue: str, job: object, **params: str) -> str:
    reply = await http.post_job(queue, job, **params)
    assert reply.status == 201, reply.body
    return reply.header("X-Presque-Job-Id")


def queues_in_metrics(body: bytes) -> set[str]:
    """The queues labelled in the figures /metrics reads from Redis."""
    return queues_of(samples_of(body), "presque_jobs")


# What one prefix holds, the other does not see


@async_test
async def test_a_job_posted_under_one_prefix_is_not_fetched_under_another(
    prefixed: tuple[Presque, Presque],
) -> None:
    a, b = prefixed
    await a.http.post_job("q1", {"n": 1})
    reply = await b.http.get("/q/q1")
    assert (reply.status, reply.json()) == NO_JOB
    assert (await a.http.get("/q/q1")).json() == {"n": 1}


@async_test
async def test_a_job_id_of_one_prefix_is_unknown_under_another(
    prefixed: tuple[Presque, Presque],
) -> None:
    a, b = prefixed
    job_id = await post_id(a.http, "q1", {"n": 1})
    assert (await b.http.get(f"/q/q1/{job_id}")).status == 404
    assert (await a.http.get(f"/q/q1/{job_id}")).status == 200


@async_test
async def test_the_same_queue_name_under_two_prefixes_counts_its_own_jobs(
    prefixed: tuple[Presque, Presque],
) -> None:
    a, b = prefixed
    await a.http.post_jobs("q1", 2)
    await b.http.post_jobs("q1", 1)
    assert (await a.http.job_count("q1"), await b.http.job_count("q1")) == (2, 1)
    assert (await a.http.get("/status/q1")).json()["size"] == 2
    assert (await b.http.get("/status/q1")).json()["size"] == 1


@async_test
async def test_the_queues_of_one_prefix_are_not_listed_under_another(
    prefixed: tuple[Presque, Presque],
) -> None:
    a, b = prefixed
    await a.http.post_job("only-a", {"n": 1})
    listed = (await b.http.get("/queues")).json()
    assert (listed["total"], listed["queues"]) == (0, [])
    assert (await b.http.get("/status/")).json() == NO_QUEUES
    assert [q["queue"] for q in (await a.http.get("/queues")).json()["queues"]] == ["only-a"]


@async_test
async def test_the_workers_of_one_prefix_are_not_listed_under_another(
    prefixed: tuple[Presque, Presque],
) -> None:
    a, b = prefixed
    worker = {"X-presque-workerid": "w1"}
    assert (await a.http.post("/w/q1", headers=worker)).status == 201
    await a.http.get("/q/q1", headers=worker)
    assert (await b.http.get("/w/")).json() == []
    assert (await b.http.get("/workers")).json()["workers"] == []
    assert (await b.http.worker_stats("w1"))["processed"] == 0
    assert (await a.http.get("/w/")).json() == ["w1"]


@async_test
async def test_the_schedules_of_one_prefix_are_not_listed_under_another(
    prefixed: tuple[Presque, Presque],
) -> None:
    a, b = prefixed
    assert (await a.http.put("/schedules/ping", json_body=PING)).status == 200
    assert (await b.http.get("/schedules")).json()["schedules"] == []
    assert (await b.http.get("/schedules/ping")).status == 404


@async_test
async def test_a_virtual_queue_of_one_prefix_is_an_ordinary_name_under_another(
    prefixed: tuple[Presque, Presque],
) -> None:
    a, b = prefixed
    await b.http.post_job("q1", {"n": "b's"})
    body = {"type": "virtual", "action": "set", "queues": ["q1"]}
    assert (await a.http.post("/control/v", json_body=body)).status == 200
    await b.broker.reload_virtual()
    assert b.broker.members("v") is None
    assert (await b.http.get("/q/v")).status == 404
    assert (await b.http.post_job("v", {"n": 1})).status == 201


@async_test
async def test_the_history_of_one_prefix_is_not_sampled_under_another(
    prefixed: tuple[Presque, Presque],
) -> None:
    a, b = prefixed
    await a.http.post_jobs("q1", 3)
    minute = time.time() // 60 * 60 - 600
    clock = mock.Mock(time=lambda: minute)
    with mock.patch("presque.broker.history.time", clock):
        # Each prefix claims its own minute: both sample it, each its queues.
        assert await b.broker.record_history(200, 86400) == 0
        assert await a.broker.record_history(200, 86400) == 1
    assert (await b.http.get("/queues/q1/history")).json()["samples"] == []
    assert (await b.http.get("/history")).json()["samples"] == []
    assert len((await a.http.get("/history")).json()["samples"]) == 1


@async_test
async def test_the_metrics_of_one_prefix_leave_out_the_queues_of_another(
    prefixed: tuple[Presque, Presque],
) -> None:
    a, b = prefixed
    await a.http.post_job("mail", {"n": 1})
    await b.http.post_job("reports", {"n": 1})
    assert queues_in_metrics((await b.http.get("/metrics")).body) == {"reports"}
    assert queues_in_metrics((await a.http.get("/metrics")).body) == {"mail"}


@async_test
async def test_a_uniq_key_under_one_prefix_does_not_refuse_the_same_key_under_another(
    prefixed: tuple[Presque, Presque],
) -> None:
    a, b = prefixed
    await post_id(a.http, "q1", {"n": 1}, uniq="k")
    await post_id(b.http, "q1", {"n": 2}, uniq="k")
    assert (await b.http.get("/q/q1")).json() == {"n": 2}


@async_test
async def test_an_idempotency_key_under_one_prefix_does_not_replay_under_another(
    prefixed: tuple[Presque, Presque],
) -> None:
    a, b = prefixed
    key = {"Idempotency-Key": "order-17"}
    first = await a.http.post("/q/q1", json_body={"n": 1}, headers=key)
    other = await b.http.post("/q/q1", json_body={"n": 1}, headers=key)
    assert (first.status, other.status) == (201, 201)
    assert other.header("Idempotent-Replayed") is None
    assert other.header("X-Presque-Job-Id") != first.header("X-Presque-Job-Id")


# Wake-ups


@async_test
async def test_a_waiter_under_one_prefix_is_not_handed_a_job_posted_under_another(
    prefixed: tuple[Presque, Presque],
) -> None:
    a, b = prefixed
    waiting = defer.ensureDeferred(b.http.get("/q/q1", params={"wait": "1"}))
    await eventually(lambda: b.longpoll.waiting("q1") == 1, 5, "never 1 waiting on q1")
    await a.http.post_job("q1", {"n": 1})
    reply = await waiting
    assert (reply.status, reply.json()) == NO_JOB
    assert (await a.http.get("/q/q1")).json() == {"n": 1}


@async_test
async def test_a_waiter_under_a_prefix_is_woken_by_a_job_of_its_own_prefix(
    prefixed: tuple[Presque, Presque],
) -> None:
    _, b = prefixed
    started = time.monotonic()
    waiting = defer.ensureDeferred(b.http.get("/q/q1", params={"wait": "10"}))
    await eventually(lambda: b.longpoll.waiting("q1") == 1, 5, "never 1 waiting on q1")
    await b.http.post_job("q1", {"n": 1})
    reply = await waiting
    assert (reply.status, reply.json()) == (200, {"n": 1})
    assert time.monotonic() - started < 5


def test_a_key_space_hears_no_channel_of_another_prefix() -> None:
    assert KeySpace("a").parse_channel("a:{q1}:wake") == ("q1", "wake")
    assert KeySpace("a").parse_channel("b:{q1}:wake") is None
    assert KeySpace("a").parse_channel("a:b:{q1}:wake") is None


# The names of the keys


@async_test
async def test_every_key_written_under_a_prefix_starts_with_it(
    prefixed: tuple[Presque, Presque],
) -> None:
    a, _ = prefixed
    http = a.http
    assert (await http.post("/w/q1", headers={"X-presque-workerid": "w1"})).status == 201
    await post_id(http, "q2", {"n": 1}, group="g")
    await post_id(http, "q1", {"n": 2})
    await post_id(http, "q1", {"n": 3}, delayed=f"{time.time() + 60:.3f}")
    leased = await lease_one(http, "q1")
    assert (await ack(http, "q1", leased.id, leased.receipt)).status == 204
    assert (await http.put("/schedules/ping", json_body=PING)).status == 200
    virtual = {"type": "virtual", "action": "set", "queues": ["q3"]}
    assert (await http.post("/control/v", json_body=virtual)).status == 200
    assert await a.broker.record_history(200, 86400) == 2
    keys = a.redis_server.call("KEYS", "*")
    assert [key for key in keys if not key.startswith("a:")] == []
    # Keys the scripts build themselves, and those of every kind of data.
    for key in ("a:{q2}:group:g", "a:{q1}:acked", "a:{schedule}:due", "a:{schedules}:defs"):
        assert key in keys
    assert {"a:queues", "a:workers", "a:worker:{w1}", "a:{virtual}:version"} <= set(keys)


@async_test
async def test_a_job_after_another_under_a_prefix_is_ready_once_that_one_is_acked(
    clean_redis: RedisServer,
) -> None:
    # The scripts find the queue's name in its keys (same queue: at once,
    # else through the scheduler, which this server does not run): a prefix
    # unlike presque's in length and with a colon must not throw them off.
    server, stop = await start_presque(clean_redis, prefix="team:blue")
    try:
        first = await post_id(server.http, "q1", {"n": "first"})
        second = await post_id(server.http, "q1", {"n": "second"}, after=first)
        leased = await lease_one(server.http, "q1")
        assert (await ack(server.http, "q1", leased.id, leased.receipt)).status == 204
        assert (await server.http.get(f"/q/q1/{second}")).json()["state"] == "ready"
    finally:
        await stop()


@async_test
async def test_the_default_prefix_keeps_the_key_names_of_before(presque: Presque) -> None:
    redis = presque.redis_server
    await presque.http.post("/w/q1", headers={"X-presque-workerid": "w1"})
    await presque.http.post_job("q1", {"n": 1})
    await presque.http.put("/schedules/ping", json_body=PING)
    assert redis.call("ZRANGE", "presque:queues", 0, -1) == ["q1"]
    assert redis.call("LLEN", "presque:{q1}:ready") == 1
    assert redis.call("HLEN", "presque:{q1}:jobs") == 1
    assert redis.call("HGET", "presque:{q1}:meta", "listed") == "1"
    assert redis.call("ZRANGE", "presque:workers", 0, -1) == ["w1"]
    assert redis.call("EXISTS", "presque:worker:{w1}") == 1
    assert redis.call("HKEYS", "presque:{schedules}:defs") == ["ping"]


@async_test
async def test_a_daemon_keeps_its_keys_under_its_configured_prefix(
    own_redis: RedisServer,
) -> None:
    port = free_port()
    config = Config(
        server=ServerSettings(listen=(f"tcp:{port}:interface=127.0.0.1",), access_log=False),
        redis=RedisSettings(address=parse_redis_url(own_redis.url), prefix="staging"),
        scheduler=SchedulerSettings(interval=0.1),
    )
    service, http = await serving(config, port)
    try:
        await http.post_job("later", {"n": 1}, delayed="0")
        await deferLater(reactor, 0.5)
        # Moved by the daemon's scheduler, through the prefixed schedule.
        assert own_redis.call("LLEN", "staging:{later}:ready") == 1
        assert own_redis.call("EXISTS", "presque:queues") == 0
    finally:
        await service.stopService()


# The configuration


def test_a_prefix_is_read_from_the_redis_section(tmp_path: Path) -> None:
    path = tmp_path / "presque.ini"
    path.write_text("[redis]\nprefix = team:blue\n")
    assert load_config(path).redis.prefix == "team:blue"


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("", "must not be empty"),
        ("a b", "must have no braces, spaces or control characters"),
        ("a{b", "must have no braces, spaces or control characters"),
        ("a}b", "must have no braces, spaces or control characters"),
        ("a\x07b", "must have no braces, spaces or control characters"),
        ("x" * 65, "must be at most 64 characters"),
    ],
)
def test_an_invalid_prefix_is_refused_at_config_parsing(
    tmp_path: Path, prefix: str, message: str
) -> None:
    path = tmp_path / "presque.ini"
    path.write_text(f"[redis]\nprefix = {prefix}\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value).startswith(f"{path}: [redis] prefix: {message}")
