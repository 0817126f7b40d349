"""
At-least-once delivery under fire: worker processes killed with SIGKILL,
the presque server and Redis restarted, and still no job is lost.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.daemon import Daemon
from harness.polling import wait_until
from harness.redis import RedisServer
from tests.support import Daemons

WORKER = Path(__file__).with_name("lease_worker.py")


class Workers:
    """lease_worker.py processes, each logging to its own file."""

    def __init__(self, workdir: Path, url: str) -> None:
        self.workdir = workdir
        self.url = url
        self.processes: dict[int, subprocess.Popen[bytes]] = {}
        self.started = 0

    def start(self, queue: str, lease: float, work: float, hang: bool = False) -> int:
        self.started += 1
        log = self.workdir / f"worker-{self.started}.log"
        command = [sys.executable, str(WORKER), self.url, queue, str(lease), str(work), str(log)]
        self.processes[self.started] = subprocess.Popen([*command, *(["--hang"] if hang else [])])
        return self.started

    def kill(self, number: int) -> None:
        process = self.processes.pop(number)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        for number in list(self.processes):
            self.kill(number)

    def lines(self, number: int | None = None) -> list[list[str]]:
        pattern = f"worker-{number or '*'}.log"
        # Only whole lines: a worker may be writing one as we read.
        return [
            line.split()
            for log in self.workdir.glob(pattern)
            for line in log.read_text().split("\n")[:-1]
        ]


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    started = Workers(tmp_path, "")
    yield started
    started.stop_all()


def queue_view(daemon: Daemon, queue: str) -> dict:
    status, body = daemon.request("GET", f"/queues/{queue}")
    assert status == 200, body
    return json.loads(body)


def test_a_killed_workers_job_is_done_by_another_worker(
    tmp_path: Path, daemons: Daemons, clean_redis: RedisServer, workers: Workers
) -> None:
    daemon = daemons.start(tmp_path, "--redis", clean_redis.url)
    workers.url = f"http://127.0.0.1:{daemon.port}"
    daemon.request("POST", "/q/jobs", {"n": 1})
    stuck = workers.start("jobs", lease=1, work=0, hang=True)
    wait_until(lambda: workers.lines(stuck), 10, "the first worker never got the job")
    [[_, job_id, attempt]] = workers.lines(stuck)
    workers.kill(stuck)
    rescuer = workers.start("jobs", lease=1, work=0)
    began = time.monotonic()
    wait_until(lambda: ["acked", job_id] in workers.lines(rescuer), 10, "the job never came back")
    waited = time.monotonic() - began
    assert attempt == "1"
    assert ["got", job_id, "2"] in workers.lines(rescuer)
    print(f"\na dead worker's job was redelivered and acked {waited:.2f}s after the kill")


def test_no_job_is_lost_when_workers_servers_and_redis_die(
    tmp_path: Path, daemons: Daemons, workers: Workers
) -> None:
    redis = RedisServer(appendfsync="always").start()
    try:
        port = daemons.start(tmp_path, "--redis", redis.url).port
        daemon = daemons[-1]
        workers.url = f"http://127.0.0.1:{port}"
        posted = []
        for first in range(0, 2000, 250):
            jobs = [{"n": n} for n in range(first, first + 250)]
            status, _ = daemon.request("POST", "/qb/chaos", {"jobs": jobs})
            assert status == 201
            posted += jobs
        running = [workers.start("chaos", lease=2, work=0.01) for _ in range(4)]

        chaos = random.Random(2026)
        for step in range(6):
            time.sleep(0.8)
            victim = chaos.choice(running)
            workers.kill(victim)
            running[running.index(victim)] = workers.start("chaos", lease=2, work=0.01)
            if step == 1:
                daemon.stop()
                daemon = daemons.start(tmp_path, "--redis", redis.url, port=port)
            if step == 3:
                redis.stop()
                redis.start()

        wait_until(
            lambda: queue_view(daemon, "chaos")["totals"]["processed"] >= len(posted),
            90,
            "not every job was acked",
        )
        view = queue_view(daemon, "chaos")
        workers.stop_all()
        deliveries = Counter(line[1] for line in workers.lines() if line[0] == "got")
        duplicates = sum(deliveries.values()) - len(deliveries)
        print(
            f"\n{len(posted)} jobs, {sum(deliveries.values())} deliveries, {duplicates} duplicates"
        )
        assert view["totals"]["processed"] == len(posted)
        assert view["counts"] == {"ready": 0, "delayed": 0, "leased": 0, "dead": 0, "waiting": 0}
        assert len(deliveries) == len(posted)
    finally:
        workers.stop_all()
        redis.stop()
