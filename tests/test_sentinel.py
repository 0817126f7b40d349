"""
presque on Redis Sentinel: real masters, replicas and sentinels on loopback,
and a real daemon that follows the master through a failover.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_twisted

from harness.daemon import Daemon, replicated_config
from harness.failover import play
from harness.polling import wait_until
from harness.processes import stop_process
from harness.redis import RedisServer
from harness.sentinel import Sentinels, sentinel_config
from tests.support import Daemons, assert_every_job_accounted_for


@pytest.fixture
def sentinels() -> Iterator[Sentinels]:
    group = Sentinels().start()
    yield group
    group.stop()


def lonely_config(folder: Path, redis: RedisServer) -> Path:
    """One replica needed, by a master that has none."""
    lines = {"url =": f"url = {redis.url}", "replica_timeout = 1": "replica_timeout = 0.1"}
    return replicated_config(folder / "lonely.ini", lines, min_replicas=1)


def posted_after_failover(daemon: Daemon, sentinels: Sentinels) -> float:
    """Kill the master; the seconds until a POST is answered 201 again."""
    killed = time.monotonic()
    sentinels.kill_master()
    wait_until(lambda: daemon.request("POST", "/q/mail", {"to": "eve"})[0] == 201, 30, "no 201")
    return time.monotonic() - killed


def test_serves_the_master_the_sentinels_name(
    tmp_path: Path, daemons: Daemons, sentinels: Sentinels
) -> None:
    daemon = daemons.start(tmp_path, config=sentinel_config(tmp_path, sentinels))
    assert daemon.request("POST", "/q/mail", {"to": "bob"})[0] == 201
    assert sentinels.master.call("LLEN", "presque:{mail}:ready") == 1


def test_a_sentinel_that_is_down_is_passed_over(
    tmp_path: Path, daemons: Daemons, sentinels: Sentinels
) -> None:
    stop_process(sentinels.processes[0])
    daemon = daemons.start(tmp_path, config=sentinel_config(tmp_path, sentinels))
    assert daemon.request("POST", "/q/mail", {"to": "bob"})[0] == 201


def test_follows_a_failover_to_the_new_master(
    tmp_path: Path, daemons: Daemons, sentinels: Sentinels
) -> None:
    daemon = daemons.start(tmp_path, config=sentinel_config(tmp_path, sentinels))
    old = sentinels.master.port
    posted_after_failover(daemon, sentinels)
    new = sentinels.server_on(sentinels.master_port())
    assert new.port != old
    assert new.call("LLEN", "presque:{mail}:ready") == 1
    assert "the redis master presque-test moved from" in daemon.log.read_text()


def test_a_waiting_consumer_is_woken_by_a_post_after_a_failover(
    tmp_path: Path, daemons: Daemons, sentinels: Sentinels
) -> None:
    daemon = daemons.start(tmp_path, config=sentinel_config(tmp_path, sentinels))
    answers: list[tuple[int, bytes]] = []
    waiter = threading.Thread(
        target=lambda: answers.append(daemon.request("GET", "/q/news?wait=40"))
    )
    waiter.start()
    time.sleep(0.5)
    posted_after_failover(daemon, sentinels)
    posted = time.monotonic()
    assert daemon.request("POST", "/q/news", {"n": 1})[0] == 201
    waiter.join(45)
    assert answers == [(200, b'{"n": 1}')]
    assert time.monotonic() - posted < 5, "woken by its deadline, not by the post"


@pytest_twisted.ensureDeferred
async def test_with_min_replicas_no_answered_job_is_lost_or_acked_twice_in_a_failover(
    tmp_path: Path, daemons: Daemons, sentinels: Sentinels
) -> None:
    config = sentinel_config(tmp_path, sentinels, min_replicas=1)
    daemon = daemons.start(tmp_path, config=config)
    outcome = await play(daemon.url, sentinels.fail_over)
    assert outcome.refused, "the failover went unnoticed: the test tested nothing"
    assert_every_job_accounted_for(outcome, daemon)


def test_min_replicas_answers_503_when_too_few_replicas_confirm(
    tmp_path: Path, daemons: Daemons, clean_redis: RedisServer
) -> None:
    daemon = daemons.start(tmp_path, config=lonely_config(tmp_path, clean_redis))
    status, body = daemon.request("POST", "/q/lonely", {"n": 1})
    assert status == 503
    assert "too few of redis' replicas confirmed the change in time" in json.loads(body)["error"]


def test_min_replicas_does_not_hold_back_what_changes_nothing(
    tmp_path: Path, daemons: Daemons, clean_redis: RedisServer
) -> None:
    daemon = daemons.start(tmp_path, config=lonely_config(tmp_path, clean_redis))
    assert daemon.request("GET", "/status/lonely")[0] == 200
