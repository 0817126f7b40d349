"""
presque on a real Redis Cluster: three masters with a replica each on
loopback, a real daemon routing each call to its slot's master, through
a reshard and a failover under load.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_twisted

from harness.cluster import Cluster, cluster_config, cluster_node
from harness.daemon import Daemon
from harness.failover import QUEUE, play
from harness.polling import wait_until
from harness.redis import RedisServer
from presque.cluster import key_slot
from tests.support import Daemons, assert_every_job_accounted_for


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    nodes = Cluster().start()
    yield nodes
    nodes.stop()


@pytest.fixture(scope="module")
def node() -> Iterator[RedisServer]:
    server = cluster_node().start()
    yield server
    server.stop()


def master_of(cluster: Cluster, key: str) -> int:
    """The port of the master that serves C{key}'s slot now."""
    slot = key_slot(key)
    node = next(server for server in cluster.servers if server.process is not None)
    for first, last, master, *_ in node.call("CLUSTER", "SLOTS"):
        if int(first) <= slot <= int(last):
            return int(master[1])
    raise AssertionError(f"no master serves slot {slot}")


@pytest.mark.parametrize(
    "key", ["foo", "presque:{mail}:meta", "{user1000}.following", "foo{}{bar}", "foo{{bar}}zap"]
)
def test_a_keys_slot_is_the_clusters(node: RedisServer, key: str) -> None:
    assert key_slot(key) == node.call("CLUSTER", "KEYSLOT", key)


def test_queues_spread_over_every_master(
    tmp_path: Path, daemons: Daemons, cluster: Cluster
) -> None:
    daemon = daemons.start(tmp_path, config=cluster_config(tmp_path, cluster))
    for n in range(30):
        assert daemon.request("POST", f"/q/queue-{n}", {"n": n})[0] == 201
    holding = {master_of(cluster, f"presque:{{queue-{n}}}:meta") for n in range(30)}
    assert holding == set(cluster.master_ports())
    for n in range(30):
        assert daemon.request("GET", f"/q/queue-{n}") == (200, json.dumps({"n": n}).encode())


def test_the_list_of_queues_holds_queues_of_every_master(
    tmp_path: Path, daemons: Daemons, cluster: Cluster
) -> None:
    daemon = daemons.start(tmp_path, config=cluster_config(tmp_path, cluster))
    for n in range(10):
        daemon.request("POST", f"/q/queue-{n}", {"n": n})
    names = [queue["queue"] for queue in json.loads(daemon.request("GET", "/queues")[1])["queues"]]
    assert sorted(names) == sorted(f"queue-{n}" for n in range(10))


def test_a_waiter_is_woken_by_a_post_whatever_master_holds_the_queue(
    tmp_path: Path, daemons: Daemons, cluster: Cluster
) -> None:
    daemon = daemons.start(tmp_path, config=cluster_config(tmp_path, cluster))
    for n in range(6):
        queue = f"wake-{n}"
        # The wake-ups are heard from one node; each queue publishes on its own master.
        answers: list[tuple[int, bytes]] = []
        waiter = threading.Thread(
            target=lambda q=queue, into=answers: into.append(
                daemon.request("GET", f"/q/{q}?wait=20")
            )
        )
        waiter.start()
        wait_until(lambda: _waiting(daemon) == 1, 10, "the consumer does not wait")
        assert daemon.request("POST", f"/q/{queue}", {"n": n})[0] == 201
        waiter.join(5)
        assert answers == [(200, json.dumps({"n": n}).encode())], queue


def _waiting(daemon: Daemon) -> int:
    text = daemon.request("GET", "/metrics")[1].decode()
    line = next(line for line in text.splitlines() if line.startswith("presque_longpoll_waiters "))
    return int(float(line.split()[1]))


@pytest_twisted.ensureDeferred
async def test_no_job_is_lost_or_acked_twice_when_the_queues_slots_move(
    tmp_path: Path, daemons: Daemons, cluster: Cluster
) -> None:
    daemon = daemons.start(tmp_path, config=cluster_config(tmp_path, cluster))
    source = master_of(cluster, f"presque:{{{QUEUE}}}:meta")
    target = next(port for port in cluster.master_ports() if port != source)

    def reshard() -> None:
        slots = sum(
            int(last) - int(first) + 1
            for first, last, master, *_ in cluster.servers[0].call("CLUSTER", "SLOTS")
            if int(master[1]) == source
        )
        cluster.reshard(source, target, slots)

    outcome = await play(daemon.url, reshard)
    assert master_of(cluster, f"presque:{{{QUEUE}}}:meta") == target
    assert_every_job_accounted_for(outcome, daemon)


@pytest_twisted.ensureDeferred
async def test_no_answered_job_is_lost_when_the_queues_master_fails_over(
    tmp_path: Path, daemons: Daemons, cluster: Cluster
) -> None:
    daemon = daemons.start(tmp_path, config=cluster_config(tmp_path, cluster, min_replicas=1))
    master = master_of(cluster, f"presque:{{{QUEUE}}}:meta")

    def fail_over() -> None:
        cluster.kill(master)
        wait_until(
            lambda: master_of(cluster, f"presque:{{{QUEUE}}}:meta") != master, 30, "no failover"
        )
        # Back as a replica of the master that replaced it: without one, no
        # change of that master could be confirmed by a replica.
        cluster.restart(master)
        cluster.until_ok()

    outcome = await play(daemon.url, fail_over)
    assert outcome.refused, "the failover went unnoticed: the test tested nothing"
    assert_every_job_accounted_for(outcome, daemon)
