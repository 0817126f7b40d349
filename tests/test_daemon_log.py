"""
What the daemon says in its log: a few lines at start (where it listens,
where its Redis is), one warning per Redis outage and one line when Redis
is back, never redis-server's banner or a line per reconnection attempt.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

from harness.polling import wait_until
from harness.redis import RedisServer
from tests.support import Daemons


def test_the_embedded_redis_is_one_line_at_start_not_its_banner(
    tmp_path: Path, daemons: Daemons
) -> None:
    daemon = daemons.start(tmp_path)
    log = daemon.log.read_text()
    assert "Redis is starting" not in log
    assert "ready to accept connections" not in log
    told = [line for line in log.splitlines() if "[presque.redis#info] redis-server" in line]
    assert len(told) == 1, log
    assert f"serves {tmp_path / 'var' / 'redis'} on " in told[0]


def test_a_redis_outage_is_one_warning_and_one_line_when_it_ends(
    tmp_path: Path, daemons: Daemons
) -> None:
    redis = RedisServer().start()
    try:
        daemon = daemons.start(tmp_path, "--redis", redis.url)
        redis.stop()
        for _ in range(5):
            assert daemon.request("GET", "/q/work")[0] == 503
        time.sleep(1.5)  # the pool and the subscriber try to reconnect meanwhile
        redis.start()
        wait_until(lambda: daemon.request("GET", "/q/work")[0] == 404, 10, daemon.log.read_text)
        log = daemon.log.read_text()
    finally:
        redis.stop()
    assert log.count("is unavailable") == 1, log
    assert log.count("is back after") == 1, log
    assert "Scheduling retry" not in log
    assert log.index("is unavailable") < log.index("is back after")


def test_a_request_over_a_unix_socket_is_logged_from_unix(tmp_path: Path, daemons: Daemons) -> None:
    path = tmp_path / "presque.sock"
    daemon = daemons.start(tmp_path, "--listen", f"unix:{path}")
    with socket.socket(socket.AF_UNIX) as client:
        client.connect(str(path))
        client.sendall(b"GET /status/over-unix HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert client.recv(65536).startswith(b"HTTP/1.1 200")
    wait_until(
        lambda: "GET /status/over-unix 200" in daemon.log.read_text(), 10, daemon.log.read_text
    )
    [line] = [line for line in daemon.log.read_text().splitlines() if "over-unix" in line]
    assert line.endswith("ms unix")
