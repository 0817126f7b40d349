"""
The daemon under systemd (C{Type=notify}): READY=1 once it serves,
WATCHDOG=1 while it runs if the unit sets C{WatchdogSec}, STOPPING=1 when a
stop begins; told over a real datagram socket as systemd listens.
"""

from __future__ import annotations

import os
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.daemon import Daemon
from harness.redis import RedisServer
from presque.systemd import Notifier
from tests.support import Daemons


class FakeSystemd:
    """A datagram socket in the abstract namespace, as systemd's NOTIFY_SOCKET."""

    def __init__(self) -> None:
        self.name = f"@presque-test-{os.getpid()}-{time.monotonic_ns()}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.name[1:])

    def messages(self, until: str, timeout: float = 30.0) -> list[str]:
        """Every state told, one per line, until one is C{until}."""
        told: list[str] = []
        deadline = time.monotonic() + timeout
        while until not in told:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                told.extend(self.sock.recv(4096).decode("utf-8").splitlines())
            except TimeoutError:
                raise AssertionError(f"never told {until}; told {told}") from None
        return told


@pytest.fixture
def systemd() -> Iterator[FakeSystemd]:
    listening = FakeSystemd()
    yield listening
    listening.sock.close()


def test_the_daemon_tells_systemd_it_is_ready_once_it_serves(
    tmp_path: Path, daemons: Daemons, clean_redis: RedisServer, systemd: FakeSystemd
) -> None:
    daemon = daemons.start(
        tmp_path, "--redis", clean_redis.url, env={"NOTIFY_SOCKET": systemd.name}
    )
    told = systemd.messages(until="READY=1")
    assert "STATUS=serving" in told
    with urllib.request.urlopen(daemon.url + "/ready", timeout=1) as reply:
        assert reply.status == 200


def test_the_daemon_is_not_ready_while_its_redis_is_not(
    tmp_path: Path, daemons: Daemons, systemd: FakeSystemd
) -> None:
    redis = RedisServer()
    daemon = Daemon(tmp_path, "--redis", redis.url, env={"NOTIFY_SOCKET": systemd.name})
    daemons.append(daemon.start())
    try:
        with pytest.raises(AssertionError, match="never told READY=1"):
            systemd.messages(until="READY=1", timeout=1.0)
        redis.start()
        systemd.messages(until="READY=1")
    finally:
        redis.stop()


def test_the_daemon_tells_systemd_when_it_stops(
    tmp_path: Path, daemons: Daemons, clean_redis: RedisServer, systemd: FakeSystemd
) -> None:
    daemon = daemons.start(
        tmp_path, "--redis", clean_redis.url, env={"NOTIFY_SOCKET": systemd.name}
    )
    systemd.messages(until="READY=1")
    assert daemon.stopped_cleanly()
    assert "STATUS=stopping" in systemd.messages(until="STOPPING=1")


def test_the_daemon_keeps_the_watchdog_fed_at_half_its_period(
    tmp_path: Path, daemons: Daemons, clean_redis: RedisServer, systemd: FakeSystemd
) -> None:
    env = {"NOTIFY_SOCKET": systemd.name, "WATCHDOG_USEC": "400000"}
    daemons.start(tmp_path, "--redis", clean_redis.url, env=env)
    systemd.messages(until="READY=1")
    started = time.monotonic()
    for _ in range(4):
        systemd.messages(until="WATCHDOG=1")
    # Four more pings at every 0.2 s take about 0.8 s.
    assert 0.4 < time.monotonic() - started < 3.0


def test_nothing_is_told_outside_systemd() -> None:
    assert not Notifier({}).enabled


def test_the_watchdog_of_another_process_is_not_fed() -> None:
    environ = {"NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}
    assert Notifier(environ).watchdog_interval is None


def test_the_watchdog_of_this_process_is_fed_every_half_period() -> None:
    environ = {"NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": str(os.getpid())}
    assert Notifier(environ).watchdog_interval == 0.5


def test_a_watchdog_period_that_is_not_a_number_is_ignored() -> None:
    assert Notifier({"NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "soon"}).watchdog_interval is None
