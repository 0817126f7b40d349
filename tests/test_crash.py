"""
A daemon killed with SIGKILL in the middle of a busy minute: Redis is left
consistent and no acknowledged job is lost, even without leases. The only
jobs handed out twice are those whose answer the killed daemon may not have
written: they come back.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from pathlib import Path

from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer, reactor
from twisted.internet.task import deferLater

from harness.redis import RedisServer
from tests.handoffs import unconfirmed_jobs
from tests.support import Daemons, Http

QUEUE = "crash"
# Deliveries not known to be written come back after this many seconds.
DELIVERY_TIMEOUT = 1


@dataclass
class Traffic:
    """What the clients saw before and after the kill."""

    accepted: set[str] = field(default_factory=set)
    delivered: list[str] = field(default_factory=list)
    cut_posts: int = 0
    cut_gets: int = 0
    killed: bool = False


async def produce(http: Http, traffic: Traffic, producer: int) -> None:
    n = 0
    while not traffic.killed:
        params = {"uniq": f"{producer}-{n}"} if n % 3 == 0 else {}
        if n % 5 == 0:
            params["delayed"] = "1"
        try:
            reply = await http.post_job(QUEUE, {"p": producer, "n": n}, **params)
        except Exception:
            traffic.cut_posts += 1
            return
        assert reply.status == 201, reply.body
        traffic.accepted.add(reply.header("X-Presque-Job-Id"))
        n += 1


async def consume(http: Http, traffic: Traffic) -> None:
    while not traffic.killed:
        try:
            reply = await http.get(f"/q/{QUEUE}")
        except Exception:
            traffic.cut_gets += 1
            return
        if reply.status == 200:
            traffic.delivered.append(reply.header("X-Presque-Job-Id"))


def redis_state(redis: RedisServer) -> dict[str, list[str]]:
    def members(*command: str) -> list[str]:
        return redis.command(*command).split()

    prefix = f"presque:{{{QUEUE}}}:"
    return {
        "ready": members("LRANGE", prefix + "ready", "0", "-1"),
        "delayed": members("ZRANGE", prefix + "delayed", "0", "-1"),
        "handed": unconfirmed_jobs(redis, QUEUE),
        "jobs": members("HKEYS", prefix + "jobs"),
        "info": members("HKEYS", prefix + "info"),
        "uniq": members("HVALS", prefix + "uniq"),
    }


@async_test
async def test_a_killed_daemon_loses_nothing(
    tmp_path: Path, daemons: Daemons, clean_redis: RedisServer
) -> None:
    config = tmp_path / "presque.ini"
    config.write_text(f"[server]\ndelivery_timeout = {DELIVERY_TIMEOUT}\n")
    daemon = daemons.start(tmp_path, "--redis", clean_redis.url, config=config)
    http = Http(f"http://127.0.0.1:{daemon.port}")
    traffic = Traffic()
    clients = [defer.ensureDeferred(produce(http, traffic, p)) for p in range(8)]
    clients += [defer.ensureDeferred(consume(http, traffic)) for _ in range(4)]

    await deferLater(reactor, 1.0)
    daemon.process.send_signal(signal.SIGKILL)
    daemon.process.wait()
    daemon.process = None
    traffic.killed = True
    await defer.gatherResults(clients, consumeErrors=True)

    state = redis_state(clean_redis)
    queued = state["ready"] + state["delayed"]
    unconfirmed = set(state["handed"])
    assert len(queued) == len(set(queued)), "a job is queued twice"
    assert len(state["handed"]) == len(unconfirmed), "a job is in two deliveries"
    assert not set(queued) & unconfirmed
    assert set(queued) == set(state["jobs"])
    # Only jobs with more than the defaults (here, a uniq key) have metadata;
    # none outlives its job.
    assert set(state["info"]) <= set(state["jobs"])
    assert set(state["uniq"]) <= set(state["jobs"])
    assert len(traffic.delivered) == len(set(traffic.delivered)), "a job was delivered twice"
    assert not set(traffic.delivered) & set(queued), "a delivered job is still queued"
    assert traffic.accepted <= set(traffic.delivered) | set(queued) | unconfirmed, "a job is lost"
    assert len(traffic.accepted) > 100, "the load never got going"

    survivor = daemons.start(tmp_path, "--redis", clean_redis.url, config=config)
    http = Http(f"http://127.0.0.1:{survivor.port}")
    await deferLater(reactor, DELIVERY_TIMEOUT + 0.5)
    drained = []
    while (reply := await http.get(f"/q/{QUEUE}")).status == 200:
        drained.append(reply.header("X-Presque-Job-Id"))
    assert sorted(drained) == sorted([*queued, *unconfirmed])
    # Handed out twice: only what the killed daemon may not have answered.
    assert set(traffic.delivered) & set(drained) <= unconfirmed
