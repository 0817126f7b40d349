"""
C{presque-worker} as a real process (the installed command, run from the
folder that holds the module of job functions, as the README says) against a
real daemon, running the job functions of a module written for each test.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.daemon import Daemon
from harness.polling import wait_until
from harness.redis import RedisServer
from presque.client import Client
from tests.support import Daemons

# The job functions: each notes what it does, one line per step, in notes.txt
# next to it.
HANDLERS = """
import time
from pathlib import Path

NOTES = Path(__file__).with_name("notes.txt")


def note(*words):
    with NOTES.open("a") as notes:
        notes.write(" ".join(str(word) for word in words) + "\\n")


def sleep(body):
    note("start", body["n"], time.time())
    time.sleep(body.get("seconds", 0))
    note("end", body["n"], time.time())


def boom(body):
    raise ValueError(f"no luck with {body['n']}")


async def wait_async(body):
    from twisted.internet import reactor
    from twisted.internet.task import deferLater

    await deferLater(reactor, 0.2)
    note("async", body["n"])
"""


class Worker:
    """One C{presque-worker} process, its output in a log file."""

    def __init__(self, workdir: Path, daemon: Daemon) -> None:
        self.workdir = workdir
        self.daemon = daemon
        self.url = f"http://127.0.0.1:{daemon.port}"
        self.log = workdir / "worker.log"
        self.worker_id = "test-worker"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, queue: str, handler: str, *options: str) -> Worker:
        (self.workdir / "job_handlers.py").write_text(HANDLERS)
        command = [
            str(Path(sys.executable).with_name("presque-worker")),
            *("--url", self.url, "--queue", queue),
            *("--worker-id", self.worker_id, "--wait", "5", *options),
            f"job_handlers:{handler}",
        ]
        # No PYTHONPATH: the worker finds job_handlers.py in its working directory.
        env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_until(lambda: self.worker_id in registered(self.daemon), 15, self.output)
        return self

    def notes(self) -> list[list[str]]:
        path = self.workdir / "notes.txt"
        return [line.split() for line in path.read_text().splitlines()] if path.exists() else []

    def output(self) -> str:
        return self.log.read_text()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def registered(daemon: Daemon) -> list[str]:
    """The ids of the registered workers (GET /w/)."""
    status, body = daemon.request("GET", "/w/")
    assert status == 200, body
    return json.loads(body)


@pytest.fixture
def daemon(tmp_path: Path, daemons: Daemons, clean_redis: RedisServer) -> Daemon:
    return daemons.start(tmp_path, "--redis", clean_redis.url)


@pytest.fixture
def worker(tmp_path: Path, daemon: Daemon) -> Iterator[Worker]:
    started = Worker(tmp_path, daemon)
    yield started
    started.kill()


@pytest.fixture
def client(daemon: Daemon) -> Client:
    return Client(f"http://127.0.0.1:{daemon.port}")


def totals(client: Client, queue: str) -> dict[str, int]:
    return client.queue_info(queue)["totals"]


def test_a_job_whose_function_returns_is_acked(worker: Worker, client: Client) -> None:
    worker.start("jobs", "sleep")
    client.post("jobs", {"n": 1})
    wait_until(lambda: totals(client, "jobs")["processed"] == 1, 10, worker.output)
    assert [note[:2] for note in worker.notes()] == [["start", "1"], ["end", "1"]]
    assert totals(client, "jobs")["failed"] == 0
    assert client.queue_info("jobs")["counts"] == {
        "ready": 0,
        "delayed": 0,
        "leased": 0,
        "dead": 0,
        "waiting": 0,
    }
    assert " acked" in worker.output()


def test_a_job_whose_function_raises_is_failed_with_the_exception(
    worker: Worker, client: Client
) -> None:
    client.configure("jobs", max_attempts=1)  # dead at the first failure: nothing to wait for
    job_id = client.post("jobs", {"n": 7})
    worker.start("jobs", "boom")
    wait_until(lambda: client.job_info("jobs", job_id)["state"] == "dead", 10, worker.output)
    [error] = client.job_info("jobs", job_id)["errors"]
    assert error["error"] == "ValueError: no luck with 7"
    assert totals(client, "jobs")["processed"] == 0
    assert "failed, dead-lettered: ValueError: no luck with 7" in worker.output()


def test_an_async_function_is_awaited(worker: Worker, client: Client) -> None:
    worker.start("jobs", "wait_async")
    client.post("jobs", {"n": 3})
    wait_until(lambda: totals(client, "jobs")["processed"] == 1, 10, worker.output)
    assert worker.notes() == [["async", "3"]]


def test_a_job_running_longer_than_its_lease_keeps_it(worker: Worker, client: Client) -> None:
    worker.start("jobs", "sleep", "--lease", "1")
    client.post("jobs", {"n": 1, "seconds": 2.5})
    wait_until(lambda: totals(client, "jobs")["processed"] == 1, 10, worker.output)
    # Run once, never expired (an expiry is a failure), acked at the first attempt.
    assert [note[:2] for note in worker.notes()] == [["start", "1"], ["end", "1"]]
    assert totals(client, "jobs")["failed"] == 0
    assert "(attempt 1, 2.5" in worker.output()
    assert "lost" not in worker.output()


def test_concurrency_n_handles_n_jobs_at_once(worker: Worker, client: Client) -> None:
    worker.start("jobs", "sleep", "--concurrency", "4")
    began = time.monotonic()
    client.post_many("jobs", [{"n": n, "seconds": 1} for n in range(4)])
    wait_until(lambda: totals(client, "jobs")["processed"] == 4, 10, worker.output)
    took = time.monotonic() - began
    assert took < 2.5, f"4 jobs of 1 s took {took:.2f}s with --concurrency 4"
    starts = [float(note[2]) for note in worker.notes() if note[0] == "start"]
    ends = [float(note[2]) for note in worker.notes() if note[0] == "end"]
    assert len(starts) == 4
    assert max(starts) < min(ends), "a job started only after another ended"


def test_sigterm_lets_the_job_in_hand_finish_then_unregisters(
    worker: Worker, client: Client
) -> None:
    worker.start("jobs", "sleep")
    client.post("jobs", {"n": 1, "seconds": 1.5})
    wait_until(lambda: worker.notes(), 10, worker.output)
    assert worker.process is not None
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=15) == 0, worker.output()
    assert [note[:2] for note in worker.notes()] == [["start", "1"], ["end", "1"]]
    assert totals(client, "jobs")["processed"] == 1
    assert worker.worker_id not in registered(worker.daemon)
    assert "worker test-worker stopped" in worker.output()


def test_several_queues_are_served_in_the_order_given(worker: Worker, client: Client) -> None:
    client.post("low", {"n": "low"})
    client.post("high", {"n": "high"})
    worker.start("high", "sleep", "--queue", "low")
    wait_until(lambda: totals(client, "low")["processed"] == 1, 10, worker.output)
    assert [note[:2] for note in worker.notes()] == [
        ["start", "high"],
        ["end", "high"],
        ["start", "low"],
        ["end", "low"],
    ]
    assert client.queue_info("high")["totals"]["acked"] == 1
    assert {w["worker_id"] for w in client.queue_info("low")["workers"]} == {worker.worker_id}
