"""
What the tests share: a small treq wrapper, the answers several routes give,
scenarios more than one test file plays, and the real processes of the
harness (redis-server, the daemon, waiting for them).

Nothing here imports txredisapi at module level: it would install
the reactor before pytest-twisted does.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.daemon import Daemon
from harness.polling import eventually

if TYPE_CHECKING:
    from twisted.application.service import MultiService

    from presque.config import Config

JSON = {"Content-Type": "application/json"}
WORKER = "X-presque-workerid"

# (status, body) of the answers several routes give.
NO_JOB = (404, {"error": "no job"})
QUEUE_CLOSED = (404, {"error": "queue is closed"})
QUEUE_NAME_MISSING = (404, {"error": "queue name is missing"})
JOB_EXISTS = (400, {"error": "job already exists"})
JOB_MISSING = (400, {"error": "job is missing"})
NOT_JSON_CONTENT_TYPE = (400, {"error": "content-type must be set to application/json"})
REDIS_UNAVAILABLE = (503, {"error": "redis is unavailable"})

# The totals of a queue that never did anything (GET /queues/Q).
NO_TOTALS = dict.fromkeys(
    ("processed", "failed", "retried", "dead", "enqueued", "delivered", "acked", "expired"), 0
)


def totals_with(**counted: int) -> dict[str, int]:
    """A queue's totals: those C{counted}, the others 0."""
    assert counted.keys() <= NO_TOTALS.keys()
    return {**NO_TOTALS, **counted}


# The body of GET /status/ while no queue is known.
NO_QUEUES = {"queues": [], "size": 0}


def queue_counts_body(
    queue: str, job_count: int = 0, job_processed: int = 0, job_failed: int = 0
) -> dict[str, Any]:
    """The whole body of C{GET /j/queue} with these counters."""
    return {
        "queue_name": queue,
        "job_count": job_count,
        "job_processed": job_processed,
        "job_failed": job_failed,
    }


def epoch(offset: float) -> str:
    """A unix time C{offset} seconds from now, to the millisecond."""
    return f"{time.time() + offset:.3f}"


def epoch_seconds(offset: int) -> str:
    """A unix time C{offset} seconds from now, in whole seconds as old clients send it."""
    return str(int(time.time()) + offset)


@dataclass
class Reply:
    """An HTTP answer, read whole."""

    status: int
    headers: Any
    body: bytes

    def json(self) -> Any:
        assert self.header("Content-Type") == "application/json", self.headers
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        values = self.headers.getRawHeaders(name)
        return values[0] if values else None


class Http:
    """treq against one base URL, every request on a fresh connection."""

    def __init__(self, base: str) -> None:
        from treq.client import HTTPClient
        from twisted.internet import reactor
        from twisted.web.client import Agent, HTTPConnectionPool

        self.base = base.rstrip("/")
        pool = HTTPConnectionPool(reactor, persistent=False)
        self.client = HTTPClient(Agent(reactor, pool=pool))

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | str | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> Reply:
        headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body)
            headers.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode("utf-8")
        response = await self.client.request(
            method,
            self.base + path,
            data=body,
            headers={name: [value] for name, value in headers.items()},
            params=params,
        )
        content = await response.content()
        return Reply(response.code, response.headers, content)

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("PUT", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("DELETE", path, **kwargs)

    async def post_job(self, queue: str, job: Any, **params: str) -> Reply:
        """POST C{job} as JSON to C{/q/queue}."""
        return await self.post(f"/q/{queue}", json_body=job, params=params or None)

    async def post_jobs(self, queue: str, count: int, **params: str) -> list[str]:
        """POST C{count} jobs C{{"n": 0}}, C{{"n": 1}}... one by one; return their JSON texts."""
        texts = []
        for n in range(count):
            job = {"n": n}
            await self.post_job(queue, job, **params)
            texts.append(json.dumps(job))
        return texts

    async def queue_counts(self, queue: str) -> dict[str, Any]:
        """The body of C{GET /j/queue}, which must answer 200."""
        reply = await self.get(f"/j/{queue}")
        assert reply.status == 200
        return reply.json()

    async def job_count(self, queue: str) -> int:
        """How many jobs of C{queue} are ready."""
        return (await self.queue_counts(queue))["job_count"]

    async def worker_stats(self, worker: str) -> dict[str, Any]:
        """The body of C{GET /w/?worker_id=worker}, which must answer 200."""
        reply = await self.get("/w/", params={"worker_id": worker})
        assert reply.status == 200
        return reply.json()

    async def worker_counts(self, worker: str) -> tuple[int, int]:
        """C{(processed, failed)} of C{worker}."""
        stats = await self.worker_stats(worker)
        return stats["processed"], stats["failed"]


def assert_error(reply: Reply, status: int = 400, note: object = "") -> str:
    """C{reply} is C{status} with a body C{{"error": message}}, message a non-empty
    string; return the message. C{note} goes with a failed assertion."""
    assert reply.status == status, note
    body = reply.json()
    assert list(body) == ["error"], note
    assert isinstance(body["error"], str), note
    assert body["error"], note
    return body["error"]


class Daemons(list[Daemon]):
    """The daemons a test started; the C{daemons} fixture kills those still running."""

    def start(self, workdir: Path, *args: str, **options: Any) -> Daemon:
        """Start a daemon (see L{Daemon}) and wait until its Redis answers."""
        daemon = Daemon(workdir, *args, **options).start()
        self.append(daemon)
        daemon.until_redis_answers()
        return daemon


def assert_a_post_wakes_a_waiting_consumer(daemon: Daemon) -> None:
    """A consumer waiting on /q/mail gets the job posted meanwhile, long before its deadline."""
    answers: list[tuple[int, bytes]] = []
    waiter = threading.Thread(
        target=lambda: answers.append(daemon.request("GET", "/q/mail?wait=20"))
    )
    started = time.monotonic()
    waiter.start()
    time.sleep(0.5)
    assert daemon.request("POST", "/q/mail", {"to": "bob"})[0] == 201
    waiter.join(30)
    assert answers == [(200, b'{"to": "bob"}')]
    assert time.monotonic() - started < 10, "woken by its deadline, not by the post"


def assert_every_job_accounted_for(outcome: Any, daemon: Daemon) -> None:
    """
    After L{harness.failover.play}: no job answered 201 was lost, none acked
    came back, and none was left in the queue.
    """
    from harness.failover import QUEUE

    assert len(outcome.posted) > 100
    assert outcome.lost == set()
    assert outcome.acked_twice == set()
    counts = json.loads(daemon.request("GET", f"/queues/{QUEUE}")[1])["counts"]
    assert set(counts.values()) == {0}, f"jobs were left behind, neither acked nor lost: {counts}"


def read_until_closed(connection: socket.socket, data: bytes = b"") -> tuple[bytes, bool]:
    """
    Read until the server hangs up (or the connection's timeout passes):
    C{data} and what came after it, and whether the server hung up.
    """
    while True:
        try:
            chunk = connection.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return data, True
        except TimeoutError:
            return data, False
        if not chunk:
            return data, True
        data += chunk


# How long a service may take to answer: 200 tries, 0.02 s apart.
ANSWER_WITHIN = 200 * 0.02


async def serving(config: Config, port: int) -> tuple[MultiService, Http]:
    """
    The daemon of C{config} (L{presque.service.make_service}) started, once
    it answers on C{port}, and a client of it; stopped if it never answers.
    """
    from twisted.internet import reactor

    from presque.service import make_service

    service = make_service(config, reactor)
    service.startService()
    http = Http(f"http://127.0.0.1:{port}")

    async def answers() -> bool:
        return (await http.get("/j/probe")).status == 200

    try:
        await eventually(answers, ANSWER_WITHIN, "the service never answered")
    except BaseException:
        await service.stopService()
        raise
    return service, http


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# Scenarios that more than one test file plays the same way, on queue q1.


async def assert_needs_a_json_content_type(http: Http, method: str) -> None:
    """C{method} /q/q1 of a text/plain job is refused and stores nothing."""
    reply = await http.request(
        method, "/q/q1", body='{"n": 1}', headers={"Content-Type": "text/plain"}
    )
    assert (reply.status, reply.json()) == NOT_JSON_CONTENT_TYPE
    assert (await http.get("/q/q1")).status == 404


async def assert_empty_body_is_job_is_missing(http: Http, method: str) -> None:
    """C{method} /q/q1 with an empty JSON body is refused as a missing job."""
    reply = await http.request(method, "/q/q1", body=b"", headers=JSON)
    assert (reply.status, reply.json()) == JOB_MISSING


async def take_and_fail_a_job(http: Http, worker: str | None = None) -> None:
    """Post a job to q1, take it, put it back as failed (as C{worker} if given)."""
    headers = {WORKER: worker} if worker else None
    await http.post_job("q1", {"n": 1})
    await http.get("/q/q1", headers=headers)
    await http.put("/q/q1", json_body={"n": 1}, headers=headers)


async def assert_gets_count_as_processed(
    http: Http, worker: str, header_names: tuple[str, ...] = (WORKER, WORKER)
) -> None:
    """Take one job from q1 per header name, each naming C{worker}: its processed
    counter follows every GET, its failed counter stays 0."""
    await http.post_jobs("q1", len(header_names))
    for processed, name in enumerate(header_names, start=1):
        await http.get("/q/q1", headers={name: worker})
        assert await http.worker_counts(worker) == (processed, 0)


async def assert_puts_count_as_failed(http: Http, worker: str) -> None:
    """PUT two jobs to q1 as C{worker}: its failed counter follows every PUT, its
    processed counter stays 0."""
    for failed in (1, 2):
        await http.put("/q/q1", json_body={"n": failed}, headers={WORKER: worker})
        assert await http.worker_counts(worker) == (0, failed)


async def run_due(broker) -> tuple[int, int]:
    """One round of the scheduler's due work: (delayed jobs promoted, leases expired)."""
    done = await broker.run_due()
    return done.promoted, done.expired


def in_a_forked_child(make: Callable[[], str]) -> str:
    """What C{make()} returns in a child forked from this process."""
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child process
        os.write(writing, make().encode())
        os._exit(0)
    os.close(writing)
    os.waitpid(child, 0)
    with os.fdopen(reading, "rb") as pipe:
        return pipe.read().decode()
