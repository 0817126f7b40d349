"""
Redis ACL users: presque served by a user that may touch only presque's
keys and channels (the least a deployment should grant), on a Redis whose
default user is off.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.daemon import Daemon
from harness.polling import wait_until
from harness.redis import RedisServer
from tests.support import Daemons, assert_a_post_wakes_a_waiting_consumer

#: presque's keys and channels all begin so (presque.broker.keys).
ACL = ["presque", "on", ">s3cret", "~presque:*", "resetchannels", "&presque:*", "+@all"]


@pytest.fixture
def acl_redis() -> Iterator[RedisServer]:
    server = RedisServer(None, "everysec", "--user", *ACL, "--user", "default", "off").start()
    yield server
    server.stop()


def url(redis: RedisServer, password: str = "s3cret") -> str:
    return f"redis://presque:{password}@127.0.0.1:{redis.port}/0"


def test_a_user_with_presques_keys_only_serves_every_route_it_needs(
    tmp_path: Path, daemons: Daemons, acl_redis: RedisServer
) -> None:
    daemon = daemons.start(tmp_path, "--redis", url(acl_redis))
    assert daemon.request("GET", "/ready")[0] == 200
    assert daemon.request("POST", "/q/mail", {"to": "alice"})[0] == 201
    assert daemon.request("GET", "/q/mail?lease=30")[0] == 200
    assert daemon.request("GET", "/metrics")[0] == 200
    assert daemon.request("GET", "/summary")[0] == 200
    assert daemon.request("GET", "/queues/mail/jobs?state=leased")[0] == 200


def test_a_waiting_consumer_is_woken_through_the_users_channels(
    tmp_path: Path, daemons: Daemons, acl_redis: RedisServer
) -> None:
    assert_a_post_wakes_a_waiting_consumer(daemons.start(tmp_path, "--redis", url(acl_redis)))


def test_a_wrong_password_is_logged_without_the_password(
    tmp_path: Path, acl_redis: RedisServer
) -> None:
    daemon = Daemon(tmp_path, "--redis", url(acl_redis, "not-the-s3cret")).launch()
    try:
        told = "refused presque's connection for good"
        wait_until(lambda: told in daemon.log.read_text(), 30, daemon.log.read_text)
        assert "WRONGPASS" in daemon.log.read_text()
        assert "not-the-s3cret" not in daemon.log.read_text()
    finally:
        daemon.stop()
