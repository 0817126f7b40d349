"""
Jobs taken for good (GET /q/Q, GET /qb/Q without a lease, presque 1): each
stays in its queue's handoff set until the server has written the answer
that carries it, then is forgotten; it is given back at once (at the head of
the queue) when its client went away first, and comes back when its
delivery deadline passes if nobody could say either (a Redis that answered
too late). The queue's processed counter counts each job once, when it is
finally delivered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_twisted
from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer, reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, TCP4ServerEndpoint, connectProtocol
from twisted.internet.protocol import Factory, Protocol

from harness.polling import eventually
from harness.redis import RedisServer
from tests.conftest import Presque, start_presque
from tests.handoffs import unconfirmed_deliveries, unconfirmed_jobs
from tests.support import JOB_EXISTS, Http, Reply, assert_error

#: The delivery deadline of the sites built here, in seconds.
DELIVERY_TIMEOUT = 1.0

JOBS = "presque:{q1}:jobs"
INFO = "presque:{q1}:info"


class _RelayedClient(Protocol):
    """The side of a relayed connection that presque talks to."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.redis: _RelayedRedis | None = None
        self.early: list[bytes] = []
        self.held: list[bytes] = []

    def connectionMade(self) -> None:
        self.relay.links.append(self)
        connectProtocol(
            TCP4ClientEndpoint(reactor, "127.0.0.1", self.relay.redis_server.port),
            _RelayedRedis(self),
        ).addErrback(lambda _: self.transport.loseConnection())

    def dataReceived(self, data: bytes) -> None:
        if self.redis is None:
            self.early.append(data)
        else:
            self.redis.transport.write(data)

    def reply(self, data: bytes) -> None:
        if self.relay.holding:
            self.held.append(data)
        else:
            self.transport.write(data)

    def connectionLost(self, reason: object = None) -> None:
        self.relay.links.remove(self)
        if self.redis is not None:
            self.redis.transport.loseConnection()


class _RelayedRedis(Protocol):
    """The side of a relayed connection that talks to Redis."""

    def __init__(self, client: _RelayedClient) -> None:
        self.client = client

    def connectionMade(self) -> None:
        self.client.redis = self
        for data in self.client.early:
            self.transport.write(data)
        self.client.early = []

    def dataReceived(self, data: bytes) -> None:
        self.client.reply(data)

    def connectionLost(self, reason: object = None) -> None:
        self.client.transport.loseConnection()


class Relay(Factory):
    """
    A TCP relay in front of a real Redis that passes every command on at
    once and can hold Redis's replies back: a Redis that runs a command but
    answers late.
    """

    def __init__(self, redis_server: RedisServer) -> None:
        self.redis_server = redis_server
        self.holding = False
        self.links: list[_RelayedClient] = []
        self.port: Any = None

    def buildProtocol(self, addr: object) -> _RelayedClient:
        return _RelayedClient(self)

    async def start(self) -> Relay:
        self.port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(self)
        return self

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port.getHost().port}/0"

    def hold(self) -> None:
        """Keep Redis's replies from now on."""
        self.holding = True

    def release(self) -> None:
        """Pass the replies kept, to the connections still open, and the next ones."""
        self.holding = False
        for link in list(self.links):
            held, link.held = link.held, []
            for data in held:
                link.transport.write(data)

    async def stop(self) -> None:
        await self.port.stopListening()
        for link in list(self.links):
            link.transport.abortConnection()


async def serve(
    redis_server: RedisServer, relay: Relay, command_timeout: float, **broker_options: Any
) -> tuple[Presque, Any]:
    """
    A site like the C{presque} fixture's, whose Redis calls go through
    C{relay} and give up after C{command_timeout} seconds (its wake-ups come
    straight from C{redis_server}); returns (Presque, stop).
    """
    return await start_presque(
        redis_server, redis_url=relay.url, command_timeout=command_timeout, broker=broker_options
    )


@pytest_twisted.async_yield_fixture
async def relay(clean_redis: RedisServer) -> AsyncIterator[Relay]:
    started = await Relay(clean_redis).start()
    yield started
    await started.stop()


@pytest_twisted.async_yield_fixture
async def patient(clean_redis: RedisServer, relay: Relay) -> AsyncIterator[Presque]:
    """presque whose Redis may answer late (through C{relay}) but within its 2 s
    command timeout; its deliveries run out after 1 s."""
    server, stop = await serve(clean_redis, relay, 2.0, delivery_timeout=DELIVERY_TIMEOUT)
    yield server
    await stop()


@pytest_twisted.async_yield_fixture
async def unconfirmed(clean_redis: RedisServer, relay: Relay) -> AsyncIterator[Presque]:
    """Like C{impatient}, with the default 30 s delivery deadline: a delivery
    left unconfirmed stays so for the whole test."""
    server, stop = await serve(clean_redis, relay, 0.5)
    yield server
    await stop()


@pytest_twisted.async_yield_fixture
async def impatient(clean_redis: RedisServer, relay: Relay) -> AsyncIterator[Presque]:
    """presque whose Redis may answer late (through C{relay}) and which gives up
    on a Redis call after 0.5 s (a 503); its deliveries run out after 1 s."""
    server, stop = await serve(clean_redis, relay, 0.5, delivery_timeout=DELIVERY_TIMEOUT)
    yield server
    await stop()


def job_id_of(reply: Reply) -> str:
    assert reply.status == 201, reply.body
    job_id = reply.header("X-Presque-Job-Id")
    assert job_id
    return job_id


async def counts(http: Http, queue: str = "q1") -> tuple[int, int]:
    """(ready jobs, processed) of C{queue}."""
    body = await http.queue_counts(queue)
    return body["job_count"], body["job_processed"]


async def _counts_are(http: Http, expected: tuple[int, int]) -> bool:
    return await counts(http) == expected


async def leave_while_redis_answers(
    presque: Presque, relay: Relay, path: str, **params: str
) -> None:
    """
    GET C{path} while Redis's replies are held, so that the jobs are handed
    out but the server does not know yet; drop the client's connection; let
    the reply through once the server has seen the client go: the jobs meet
    a request that can no longer be answered.
    """
    relay.hold()
    try:
        request = defer.ensureDeferred(presque.http.get(path, params=params or None))
        request.addErrback(lambda _: None)
        await eventually(
            lambda: any(link.held for link in relay.links), 5, "the fetch never reached Redis"
        )
        request.cancel()
        await eventually(lambda: presque.site.in_flight == 0, 5, "presque never saw the client go")
    finally:
        relay.release()


def forgotten(redis_server: RedisServer, job_id: str) -> bool:
    """Whether no key holds anything of C{job_id} (payload, metadata, delivery)."""
    return (
        redis_server.call("HEXISTS", JOBS, job_id) == 0
        and redis_server.call("HEXISTS", INFO, job_id) == 0
        and unconfirmed_deliveries(redis_server, "q1") == 0
        and unconfirmed_jobs(redis_server, "q1") == []
    )


# Answers written: gone for good.


@async_test
async def test_a_job_whose_answer_was_written_is_gone_for_good(presque: Presque) -> None:
    job_id = job_id_of(await presque.http.post_job("q1", {"n": 1}))
    reply = await presque.http.get("/q/q1")
    assert (reply.status, reply.json()) == (200, {"n": 1})
    await eventually(
        lambda: forgotten(presque.redis_server, job_id), 5, "the delivered job left keys behind"
    )
    assert await counts(presque.http) == (0, 1)


@async_test
async def test_a_batch_whose_answer_was_written_is_gone_for_good(presque: Presque) -> None:
    await presque.http.post_jobs("q1", 3)
    reply = await presque.http.get("/qb/q1")
    assert reply.status == 200
    assert len(reply.json()) == 3
    await eventually(
        lambda: (
            presque.redis_server.call("HLEN", JOBS) == 0
            and unconfirmed_deliveries(presque.redis_server, "q1") == 0
        ),
        5,
        "the delivered batch left keys behind",
    )
    assert await counts(presque.http) == (0, 3)


# Clients that went away: the jobs are ready again at once.


@async_test
async def test_a_waiting_client_that_went_away_loses_no_job(presque: Presque) -> None:
    waiting = defer.ensureDeferred(presque.http.get("/q/q1", params={"wait": "5"}))
    waiting.addErrback(lambda _: None)
    await eventually(lambda: presque.longpoll.waiting("q1") == 1, 5, "the GET never waited")
    waiting.cancel()
    await presque.http.post_job("q1", {"n": 1})
    await eventually(
        lambda: presque.longpoll.waiting("q1") == 0 and presque.site.in_flight == 0,
        5,
        "the waiting GET never ended",
    )
    await eventually(
        lambda: _counts_are(presque.http, (1, 0)), 5, "the job did not end up ready again"
    )
    assert unconfirmed_deliveries(presque.redis_server, "q1") == 0
    reply = await presque.http.get("/q/q1")
    assert (reply.status, reply.json()) == (200, {"n": 1})


@async_test
async def test_a_waiting_leased_client_that_went_away_costs_the_job_no_attempt(
    presque: Presque,
) -> None:
    waiting = defer.ensureDeferred(presque.http.get("/q/q1", params={"lease": "30", "wait": "5"}))
    waiting.addErrback(lambda _: None)
    await eventually(lambda: presque.longpoll.waiting("q1") == 1, 5, "the GET never waited")
    waiting.cancel()
    await presque.http.post_job("q1", {"n": 1})
    await eventually(
        lambda: presque.longpoll.waiting("q1") == 0 and presque.site.in_flight == 0,
        5,
        "the waiting GET never ended",
    )
    await eventually(
        lambda: _counts_are(presque.http, (1, 0)), 5, "the job did not end up ready again"
    )
    reply = await presque.http.get("/q/q1", params={"lease": "30"})
    assert (reply.status, reply.json()) == (200, {"n": 1})
    assert reply.header("X-Presque-Attempt") == "1"


@async_test
async def test_a_job_fetched_for_a_client_already_gone_is_ready_again_at_once(
    patient: Presque, relay: Relay
) -> None:
    job_id = job_id_of(await patient.http.post_job("q1", {"n": 1}))
    await leave_while_redis_answers(patient, relay, "/q/q1")
    # Well before the delivery deadline: given back, not left to run out.
    await eventually(
        lambda: _counts_are(patient.http, (1, 0)),
        DELIVERY_TIMEOUT / 2,
        "the job was not given back at once",
    )
    assert unconfirmed_deliveries(patient.redis_server, "q1") == 0
    reply = await patient.http.get("/q/q1")
    assert (reply.status, reply.json()) == (200, {"n": 1})
    assert reply.header("X-Presque-Job-Id") == job_id
    assert await counts(patient.http) == (0, 1)


@async_test
async def test_a_job_leased_for_a_client_already_gone_is_ready_again_without_an_attempt(
    patient: Presque, relay: Relay
) -> None:
    await patient.http.post_job("q1", {"n": 1})
    await leave_while_redis_answers(patient, relay, "/q/q1", lease="30")
    await eventually(
        lambda: _counts_are(patient.http, (1, 0)), 5, "the leased job was not given back"
    )
    reply = await patient.http.get("/q/q1", params={"lease": "30"})
    assert (reply.status, reply.json()) == (200, {"n": 1})
    assert reply.header("X-Presque-Attempt") == "1"


@async_test
async def test_a_batch_for_a_client_already_gone_comes_back_in_order_at_the_head(
    patient: Presque, relay: Relay
) -> None:
    await patient.http.post_jobs("q1", 4)
    await leave_while_redis_answers(patient, relay, "/qb/q1", batch_size="3")
    await eventually(lambda: _counts_are(patient.http, (4, 0)), 5, "the batch was not given back")
    reply = await patient.http.get("/qb/q1", params={"batch_size": "4"})
    assert reply.json() == ['{"n": 0}', '{"n": 1}', '{"n": 2}', '{"n": 3}']


@async_test
async def test_a_job_given_back_is_the_job_it_was(patient: Presque, relay: Relay) -> None:
    job_id = job_id_of(await patient.http.post_job("q1", {"n": 1}))
    before = (await patient.http.get(f"/q/q1/{job_id}")).json()
    await leave_while_redis_answers(patient, relay, "/q/q1")
    await eventually(lambda: _counts_are(patient.http, (1, 0)), 5, "the job was not given back")
    assert (await patient.http.get(f"/q/q1/{job_id}")).json() == before


@async_test
async def test_a_job_given_back_holds_its_uniq_key_again(patient: Presque, relay: Relay) -> None:
    await patient.http.post_job("q1", {"n": 1}, uniq="k")
    await leave_while_redis_answers(patient, relay, "/q/q1")
    await eventually(lambda: _counts_are(patient.http, (1, 0)), 5, "the job was not given back")
    reply = await patient.http.post_job("q1", {"n": 2}, uniq="k")
    assert (reply.status, reply.json()) == JOB_EXISTS


# A Redis that answered too late (a 503): the job comes back at its deadline.


async def answered_too_late(presque: Presque, relay: Relay, **post: str) -> str:
    """Post a job and GET it while Redis's replies are held past the command
    timeout: Redis hands the job out, the GET is answered 503 JSON. Returns
    the job's id."""
    job_id = job_id_of(await presque.http.post_job("q1", {"n": 1}, **post))
    relay.hold()
    try:
        reply = await presque.http.get("/q/q1")
    finally:
        relay.release()
    assert_error(reply, 503)
    return job_id


@async_test
async def test_a_job_redis_handed_out_too_late_comes_back_in_a_scheduler_round(
    impatient: Presque, relay: Relay
) -> None:
    job_id = await answered_too_late(impatient, relay)
    assert unconfirmed_jobs(impatient.redis_server, "q1") == [job_id]

    async def returned() -> bool:
        return (await impatient.broker.run_due()).returned == 1

    await eventually(returned, DELIVERY_TIMEOUT + 5, "the lost delivery never came back")
    assert await counts(impatient.http) == (1, 0)
    reply = await impatient.http.get("/q/q1")
    assert (reply.status, reply.json()) == (200, {"n": 1})
    assert reply.header("X-Presque-Job-Id") == job_id
    await eventually(lambda: forgotten(impatient.redis_server, job_id), 5, "keys left behind")
    assert await counts(impatient.http) == (0, 1)


@async_test
async def test_a_job_redis_handed_out_too_late_comes_back_on_the_next_get(
    impatient: Presque, relay: Relay
) -> None:
    job_id = await answered_too_late(impatient, relay)
    assert unconfirmed_jobs(impatient.redis_server, "q1") == [job_id]

    async def delivered_again() -> Reply | None:
        reply = await impatient.http.get("/q/q1")
        return reply if reply.status == 200 else None

    reply = await eventually(delivered_again, DELIVERY_TIMEOUT + 5, "the job never came back")
    assert reply.json() == {"n": 1}
    assert reply.header("X-Presque-Job-Id") == job_id
    await eventually(lambda: forgotten(impatient.redis_server, job_id), 5, "keys left behind")
    assert await counts(impatient.http) == (0, 1)


@async_test
async def test_a_job_being_delivered_is_gone_from_its_queue(
    unconfirmed: Presque, relay: Relay
) -> None:
    job_id = await answered_too_late(unconfirmed, relay)
    assert unconfirmed_jobs(unconfirmed.redis_server, "q1") == [job_id]
    reply = await unconfirmed.http.get(f"/q/q1/{job_id}")
    assert reply.status == 404
    assert await counts(unconfirmed.http) == (0, 1)


# Uniq keys.


@async_test
async def test_a_job_taken_for_good_frees_its_uniq_key_at_once(http: Http) -> None:
    await http.post_job("q1", {"n": 1}, uniq="k")
    assert (await http.get("/q/q1")).status == 200
    assert (await http.post_job("q1", {"n": 2}, uniq="k")).status == 201


@async_test
async def test_a_delivery_not_yet_confirmed_holds_no_uniq_key(
    unconfirmed: Presque, relay: Relay
) -> None:
    await answered_too_late(unconfirmed, relay, uniq="k")
    assert unconfirmed_deliveries(unconfirmed.redis_server, "q1") == 1
    reply = await unconfirmed.http.post_job("q1", {"n": 2}, uniq="k")
    assert reply.status == 201
