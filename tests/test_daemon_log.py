"""
What the daemon says in its log: a few lines at start (where it listens,
where its Redis is), one warning per Redis outage and one line when Redis
is back, never redis-server's banner or a line per reconnection attempt.
"""

from __future__ import annotations

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
