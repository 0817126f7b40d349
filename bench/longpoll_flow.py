"""
End-to-end latency of long polling, on treq in this process's reactor.

Producers POST jobs at a steady rate, each stamped with C{time.monotonic()}
as it is sent; L{CONSUMERS} consumers long-poll the queue like real workers
(C{GET ?wait=20&lease=30}, then an ack, C{DELETE /q/Q/<id>}). A job's
latency is the time its consumer has read it minus its stamp: producers and
consumers share this process's clock, the daemon runs apart.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field

from treq.client import HTTPClient
from twisted.internet import defer, reactor
from twisted.internet.task import deferLater
from twisted.web.iweb import IResponse

from bench.readings import Snapshot, cpu_percent, snapshot
from bench.scenarios import QUEUE
from harness.polling import eventually

CONSUMERS = 50
CONSUMER_WAIT = 20
CONSUMER_LEASE = 30
# POSTs in flight at most. A producer that reaches it falls behind its rate:
# the achieved rate shows it, and a job is stamped when its POST is sent.
MAX_POSTS_IN_FLIGHT = 64
# The producer's step: every TICK it sends the POSTs that fell due.
TICK = 0.005
# Seconds the consumers get to connect before the producers start.
CONNECT_TIME = 1.0
# Seconds the consumers get, after the last POST, to take the remaining jobs.
DRAIN_TIMEOUT = 10.0
JSON = {"Content-Type": ["application/json"]}


def sleep(seconds: float) -> defer.Deferred[None]:
    """A pause of the coroutine, not of the reactor."""
    return deferLater(reactor, seconds, lambda: None)


@dataclass
class Flow:
    """What one rate's run saw."""

    rate: int
    latencies: list[float] = field(default_factory=list)
    posted: int = 0
    held_back: int = 0  # POSTs that waited for one of the MAX_POSTS_IN_FLIGHT slots
    errors: Counter[str] = field(default_factory=Counter)
    started: float = 0.0
    last_taken: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def achieved(self) -> float:
        """Jobs taken per second, from the first POST to the last job taken."""
        seconds = self.last_taken - self.started
        return len(self.latencies) / seconds if seconds > 0 else 0.0


class Consumers:
    """The long-polling workers of one run."""

    def __init__(self, http: HTTPClient, base: str, flow: Flow) -> None:
        self.http = http
        self.base = base
        self.flow = flow
        self.stopping = False
        self._polls: set[defer.Deferred] = set()
        self._running = [defer.Deferred.fromCoroutine(self._consume()) for _ in range(CONSUMERS)]

    async def stop(self) -> None:
        """End every consumer: cut its wait short, let it finish its ack."""
        self.stopping = True
        for poll in list(self._polls):
            poll.cancel()
        await defer.gatherResults(self._running)

    async def _consume(self) -> None:
        url = f"{self.base}/q/{QUEUE}?wait={CONSUMER_WAIT}&lease={CONSUMER_LEASE}"
        while not self.stopping:
            poll = self.http.get(url, timeout=CONSUMER_WAIT + 10)
            self._polls.add(poll)
            try:
                response = await poll
                body = await response.content()
            except Exception as error:
                if self.stopping:
                    return
                self.flow.errors[f"GET: {type(error).__name__}"] += 1
                await sleep(0.1)
                continue
            finally:
                self._polls.discard(poll)
            taken = time.monotonic()
            if response.code == 404:
                continue  # the wait ran out: no job
            if response.code != 200:
                self.flow.errors[f"GET: {response.code}"] += 1
                continue
            self.flow.latencies.append(taken - json.loads(body)["sent"])
            self.flow.last_taken = taken
            await self._ack(response)

    async def _ack(self, response: IResponse) -> None:
        [job_id] = response.headers.getRawHeaders(b"X-Presque-Job-Id")
        [receipt] = response.headers.getRawHeaders(b"X-Presque-Receipt")
        url = f"{self.base}/q/{QUEUE}/{job_id.decode()}"
        try:
            answer = await self.http.delete(url, headers={b"X-Presque-Receipt": [receipt]})
            await answer.content()
        except Exception as error:
            self.flow.errors[f"ack: {type(error).__name__}"] += 1
            return
        if answer.code != 204:
            self.flow.errors[f"ack: {answer.code}"] += 1


async def post_job(http: HTTPClient, base: str, flow: Flow, number: int) -> None:
    """POST one job stamped with the time it is sent."""
    body = json.dumps({"task": "resize", "n": number, "sent": time.monotonic()}).encode()
    try:
        response = await http.post(f"{base}/q/{QUEUE}", data=body, headers=JSON)
        await response.content()
    except Exception as error:
        flow.errors[f"POST: {type(error).__name__}"] += 1
        return
    if response.code == 201:
        flow.posted += 1
    else:
        flow.errors[f"POST: {response.code}"] += 1


async def produce(http: HTTPClient, base: str, flow: Flow, duration: float) -> None:
    """POST C{flow.rate} jobs a second for C{duration} seconds; wait for the answers."""
    slots = defer.DeferredSemaphore(MAX_POSTS_IN_FLIGHT)
    posts = []

    def send(number: int) -> defer.Deferred[None]:
        return defer.Deferred.fromCoroutine(post_job(http, base, flow, number))

    flow.started = time.monotonic()
    while (elapsed := time.monotonic() - flow.started) < duration:
        due = int(flow.rate * elapsed) + 1
        while len(posts) < due:
            flow.held_back += slots.tokens == 0
            posts.append(slots.run(send, len(posts)))
        await sleep(TICK)
    await defer.gatherResults(posts)


async def measure_rate(
    http: HTTPClient, base: str, rate: int, duration: float, pids: dict[str, int]
) -> Flow:
    """One run at C{rate} jobs/s: latencies, errors and CPU use of each process."""
    flow = Flow(rate)
    consumers = Consumers(http, base, flow)
    await sleep(CONNECT_TIME)
    before: Snapshot = snapshot(pids)
    await produce(http, base, flow, duration)
    with suppress(TimeoutError):  # the notes count the jobs not taken
        await eventually(lambda: len(flow.latencies) >= flow.posted, DRAIN_TIMEOUT)
    flow.cpu = cpu_percent(before, snapshot(pids))
    await consumers.stop()
    return flow
