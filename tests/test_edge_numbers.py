"""
Numbers in query arguments: every numeric argument, on every route that
reads it, refuses what is not a number in its range (non-ASCII digits,
huge integers, NaN, hex, a leading space, a duration that rounds to 0 ms,
the argument given twice) with a 400 JSON error naming the argument, and
the refused request changes nothing. The JSON number forms (30, 1.5, 2e1)
are accepted, and an empty argument counts as absent.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer, reactor
from twisted.internet.protocol import Protocol

from tests.leasing import lease_one
from tests.support import (
    JSON,
    NO_QUEUES,
    Http,
    Reply,
    assert_error,
    queue_counts_body,
)

RECEIPT = "X-Presque-Receipt"
LEASE_EXPIRES = "X-Presque-Lease-Expires"
#: How far a deadline the server computed may be from the one the test expects.
SLACK = 0.05
NO_COUNTS = {"ready": 0, "delayed": 0, "leased": 0, "dead": 0, "waiting": 0}


# Server-Sent Events: read the headers, then up to the first job event.


class _StreamReader(Protocol):
    """Reads a stream's body until its first job event, then hangs up."""

    def __init__(self) -> None:
        self.data = b""
        self.done: defer.Deferred[bytes] = defer.Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.data += data
        blocks = self.data.split(b"\n\n")[:-1]
        if any(b"event: job" in block for block in blocks):
            self._finish()

    def connectionLost(self, reason: object) -> None:
        if not self.done.called:
            self.done.callback(self.data)

    def _finish(self) -> None:
        if not self.done.called:
            self.done.callback(self.data)
            self.transport.stopProducing()


async def stream(http: Http, path: str) -> Reply:
    """GET C{path} of /sse/: a refusal whole; a stream up to its first job event, then dropped."""
    response = await http.client.request("GET", http.base + path, unbuffered=True)
    if response.code != 200:
        return Reply(response.code, response.headers, await response.content())
    reader = _StreamReader()
    response.deliverBody(reader)
    body = await reader.done.addTimeout(5, reactor)
    return Reply(response.code, response.headers, body)


def stream_job_event(reply: Reply) -> dict[str, Any]:
    """The data of the first job event of a stream."""
    for block in reply.body.split(b"\n\n"):
        lines = dict(line.split(b": ", 1) for line in block.split(b"\n") if b": " in line)
        if lines.get(b"event") == b"job":
            return json.loads(lines[b"data"])
    raise AssertionError(f"no job event in {reply.body!r}")


# The requests that read a numeric argument, each with the state it must leave alone.


async def job_view(http: Http, queue: str, job_id: str) -> dict[str, Any]:
    reply = await http.get(f"/q/{queue}/{job_id}")
    assert reply.status == 200, reply.body
    return reply.json()


async def queue_view(http: Http, queue: str) -> dict[str, Any]:
    reply = await http.get(f"/queues/{queue}")
    assert reply.status == 200, reply.body
    return reply.json()


async def assert_one_ready_job_untouched(http: Http) -> None:
    view = await queue_view(http, "q1")
    assert view["counts"] == {**NO_COUNTS, "ready": 1}
    assert view["totals"]["processed"] == 0
    assert await http.job_count("q1") == 1


@dataclass(frozen=True)
class Scene:
    """A route that reads a numeric argument: what it needs first, and what it must not change."""

    name: str

    async def prepare(self, http: Http) -> Any:
        return None

    async def send(self, http: Http, query: str, ready: Any) -> Reply:
        raise NotImplementedError

    async def assert_unchanged(self, http: Http, ready: Any) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class Adding(Scene):
    """POST or PUT of a job (or a batch) to q1, which does not exist before."""

    method: str = "POST"
    path: str = "/q/q1"
    body: str = '{"n": 1}'

    async def send(self, http: Http, query: str, ready: Any) -> Reply:
        return await http.request(self.method, f"{self.path}?{query}", body=self.body, headers=JSON)

    async def assert_unchanged(self, http: Http, ready: Any) -> None:
        assert (await http.get("/status/")).json() == NO_QUEUES
        assert await http.queue_counts("q1") == queue_counts_body("q1")
        assert (await queue_view(http, "q1"))["counts"] == NO_COUNTS


@dataclass(frozen=True)
class Taking(Scene):
    """GET /q/q1 or /qb/q1 while one job is ready."""

    path: str = "/q/q1"

    async def prepare(self, http: Http) -> Any:
        assert (await http.post_job("q1", {"n": 1})).status == 201

    async def send(self, http: Http, query: str, ready: Any) -> Reply:
        return await http.get(f"{self.path}?{query}")

    async def assert_unchanged(self, http: Http, ready: Any) -> None:
        await assert_one_ready_job_untouched(http)


@dataclass(frozen=True)
class Streaming(Scene):
    """GET /sse/q1 while one job is ready."""

    async def prepare(self, http: Http) -> Any:
        assert (await http.post_job("q1", {"n": 1})).status == 201

    async def send(self, http: Http, query: str, ready: Any) -> Reply:
        # Were the stream accepted, it would lease the job: then it shows.
        return await stream(http, f"/sse/q1?{query}")

    async def assert_unchanged(self, http: Http, ready: Any) -> None:
        await assert_one_ready_job_untouched(http)


@dataclass(frozen=True)
class Settling(Scene):
    """PUT /q/q1/<id> (fail) or POST /q/q1/<id>/lease (extend) of a leased job, receipt given."""

    method: str = "PUT"
    suffix: str = ""

    async def prepare(self, http: Http) -> Any:
        await http.post_job("q1", {"n": 1})
        leased = await lease_one(http, "q1", seconds=30)
        return leased, await job_view(http, "q1", leased.id)

    async def send(self, http: Http, query: str, ready: Any) -> Reply:
        leased, _ = ready
        return await http.request(
            self.method,
            f"/q/q1/{leased.id}{self.suffix}?{query}",
            headers={RECEIPT: leased.receipt},
        )

    async def assert_unchanged(self, http: Http, ready: Any) -> None:
        leased, before = ready
        after = await job_view(http, "q1", leased.id)
        assert after == before
        assert after["state"] == "leased"


@dataclass(frozen=True)
class Reading(Scene):
    """A GET that lists a page (of dead letters, queues, workers)."""

    path: str = "/queues"

    async def send(self, http: Http, query: str, ready: Any) -> Reply:
        return await http.get(f"{self.path}?{query}")

    async def assert_unchanged(self, http: Http, ready: Any) -> None:
        assert (await http.get("/status/")).json() == NO_QUEUES


DURATION, TIME, COUNT = "duration", "time", "count"

#: (scene, argument, kind): every numeric argument on every route that reads it.
TARGETS = [
    (Adding("POST /q"), "delayed", TIME),
    (Adding("PUT /q", method="PUT"), "delayed", TIME),
    (Adding("POST /qb", path="/qb/q1", body='{"jobs": [{"n": 1}]}'), "delayed", TIME),
    (Adding("POST /q"), "priority", COUNT),
    (Taking("GET /q"), "lease", DURATION),
    (Taking("GET /qb", path="/qb/q1"), "lease", DURATION),
    (Taking("GET /q"), "wait", DURATION),
    (Taking("GET /qb", path="/qb/q1"), "batch_size", COUNT),
    (Settling("PUT /q/<id>"), "delay", DURATION),
    (Settling("POST /q/<id>/lease", method="POST", suffix="/lease"), "seconds", DURATION),
    (Streaming("GET /sse"), "lease", DURATION),
    (Streaming("GET /sse"), "prefetch", COUNT),
    (Reading("GET /dead", path="/dead/q1"), "offset", COUNT),
    (Reading("GET /dead", path="/dead/q1"), "limit", COUNT),
    (Reading("GET /queues"), "offset", COUNT),
    (Reading("GET /queues"), "limit", COUNT),
    (Reading("GET /workers", path="/workers"), "offset", COUNT),
    (Reading("GET /workers", path="/workers"), "limit", COUNT),
]

#: Bad values every argument is tried with.
ALWAYS_BAD = {
    "arabic-indic-digits": "\u0661\u0662",
    "fullwidth-digit": "\uff15",
    "5000-digits": "1" * 5000,
    "NaN": "NaN",
}
#: Bad values tried on one route per argument.
ALSO_BAD = {
    "1e306": "1e306",
    "1-and-400-zeros": "1" + "0" * 400,
    "Infinity": "Infinity",
    "minus-1": "-1",
    "hex": "0x10",
    "leading-space": " 1",
}
#: Durations that are not 0 but round to 0 ms (the second underflows a float).
SUB_MILLISECOND = {"sub-millisecond": "0.0004", "underflowing-to-0": "1e-400"}


def _bad_cases() -> list[Any]:
    cases, seen = [], set()
    for scene, arg, kind in TARGETS:
        values = dict(ALWAYS_BAD)
        if arg not in seen:
            values.update(ALSO_BAD)
            seen.add(arg)
        if kind == DURATION:
            values.update(SUB_MILLISECOND)
        for label, value in values.items():
            cases.append(pytest.param(scene, arg, value, id=f"{scene.name}-{arg}-{label}"))
    return cases


def _every_target() -> list[Any]:
    return [pytest.param(scene, arg, id=f"{scene.name}-{arg}") for scene, arg, _ in TARGETS]


@pytest.mark.parametrize(("scene", "arg", "value"), _bad_cases())
@async_test
async def test_a_bad_number_is_a_400_naming_its_argument_and_changes_nothing(
    http: Http, scene: Scene, arg: str, value: str
) -> None:
    ready = await scene.prepare(http)
    reply = await scene.send(http, f"{arg}={quote(value, safe='')}", ready)
    message = assert_error(reply, 400, reply.body[:300])
    assert arg in message, message
    await scene.assert_unchanged(http, ready)


@pytest.mark.parametrize(("scene", "arg"), _every_target())
@async_test
async def test_an_argument_given_twice_is_a_400_and_changes_nothing(
    http: Http, scene: Scene, arg: str
) -> None:
    ready = await scene.prepare(http)
    reply = await scene.send(http, f"{arg}=1&{arg}=2", ready)
    message = assert_error(reply, 400, reply.body)
    assert arg in message, message
    await scene.assert_unchanged(http, ready)


# Empty arguments count as absent.


@async_test
async def test_an_empty_lease_counts_as_absent_and_takes_the_job_for_good(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    reply = await http.get("/q/q1?lease=")
    assert (reply.status, reply.json()) == (200, {"n": 1})
    assert reply.header(RECEIPT) is None
    assert await http.queue_counts("q1") == queue_counts_body("q1", job_processed=1)


@async_test
async def test_an_empty_wait_counts_as_absent(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    reply = await http.get("/q/q1?wait=")
    assert (reply.status, reply.json()) == (200, {"n": 1})


@async_test
async def test_an_empty_delayed_counts_as_absent(http: Http) -> None:
    assert (await http.post("/q/q1?delayed=", body='{"n": 1}', headers=JSON)).status == 201
    assert (await queue_view(http, "q1"))["counts"] == {**NO_COUNTS, "ready": 1}


@async_test
async def test_an_empty_priority_counts_as_absent(http: Http) -> None:
    assert (await http.post("/q/q1?priority=", body='{"n": 1}', headers=JSON)).status == 201
    assert (await queue_view(http, "q1"))["ready_by_priority"] == {"0": 1}


@async_test
async def test_an_empty_batch_size_counts_as_absent(http: Http) -> None:
    await http.post("/qb/q1", json_body={"jobs": [{"n": n} for n in range(12)]})
    reply = await http.get("/qb/q1?batch_size=")
    assert reply.status == 200
    assert len(reply.json()) == 10


@pytest.mark.parametrize("path", ["/queues", "/workers", "/dead/q1"])
@async_test
async def test_an_empty_offset_and_limit_count_as_absent(http: Http, path: str) -> None:
    reply = await http.get(f"{path}?offset=&limit=")
    assert reply.status == 200
    assert (reply.json()["offset"], reply.json()["limit"]) == (0, 100)


@async_test
async def test_an_empty_seconds_counts_as_absent_which_is_a_400(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    before = await job_view(http, "q1", leased.id)
    reply = await http.post(f"/q/q1/{leased.id}/lease?seconds=", headers={RECEIPT: leased.receipt})
    assert "seconds" in assert_error(reply, 400)
    assert await job_view(http, "q1", leased.id) == before


# The JSON number forms are accepted.

JSON_FORMS = [pytest.param(text, id=text) for text in ("30", "1.5", "2e1")]


def assert_deadline(deadline: float, before: float, after: float, seconds: float) -> None:
    assert before + seconds - SLACK <= deadline <= after + seconds + SLACK, (
        deadline,
        before + seconds,
    )


@pytest.mark.parametrize("path", ["/q/q1", "/qb/q1"])
@pytest.mark.parametrize("text", JSON_FORMS)
@async_test
async def test_a_lease_in_any_json_number_form_sets_the_deadline(
    http: Http, path: str, text: str
) -> None:
    await http.post_job("q1", {"n": 1})
    before = time.time()
    reply = await http.get(f"{path}?lease={text}")
    after = time.time()
    assert reply.status == 200, reply.body
    assert_deadline(float(reply.header(LEASE_EXPIRES)), before, after, float(text))
    assert (await queue_view(http, "q1"))["counts"]["leased"] == 1


@pytest.mark.parametrize("path", ["/q/q1", "/qb/q1"])
@async_test
async def test_a_lease_of_0_takes_the_job_for_good(http: Http, path: str) -> None:
    await http.post_job("q1", {"n": 1})
    reply = await http.get(f"{path}?lease=0")
    assert reply.status == 200, reply.body
    assert reply.header(RECEIPT) is None
    assert reply.header("X-Presque-Receipts") is None
    view = await queue_view(http, "q1")
    assert view["counts"] == NO_COUNTS
    assert view["totals"]["processed"] == 1


@pytest.mark.parametrize("text", JSON_FORMS)
@async_test
async def test_a_wait_in_any_json_number_form_is_accepted(http: Http, text: str) -> None:
    await http.post_job("q1", {"n": 1})
    reply = await http.get(f"/q/q1?wait={text}")
    assert (reply.status, reply.json()) == (200, {"n": 1})


@pytest.mark.parametrize("text", JSON_FORMS)
@async_test
async def test_a_retry_delay_in_any_json_number_form_sets_the_next_run(
    http: Http, text: str
) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    before = time.time()
    reply = await http.put(f"/q/q1/{leased.id}?delay={text}", headers={RECEIPT: leased.receipt})
    after = time.time()
    assert reply.status == 200, reply.body
    assert reply.json()["state"] == "delayed"
    assert_deadline(reply.json()["next_run"], before, after, float(text))


@pytest.mark.parametrize("text", JSON_FORMS)
@async_test
async def test_a_lease_extension_in_any_json_number_form_sets_the_deadline(
    http: Http, text: str
) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1", seconds=5)
    before = time.time()
    reply = await http.post(
        f"/q/q1/{leased.id}/lease?seconds={text}", headers={RECEIPT: leased.receipt}
    )
    after = time.time()
    assert reply.status == 200, reply.body
    assert_deadline(reply.json()["lease_expires"], before, after, float(text))


@pytest.mark.parametrize("text", JSON_FORMS)
@async_test
async def test_a_stream_lease_in_any_json_number_form_sets_the_deadline(
    http: Http, text: str
) -> None:
    await http.post_job("q1", {"n": 1})
    before = time.time()
    reply = await stream(http, f"/sse/q1?lease={text}&prefetch=1")
    after = time.time()
    assert reply.status == 200
    event = stream_job_event(reply)
    assert event["job"] == {"n": 1}
    assert_deadline(event["lease_expires"], before, after, float(text))


@pytest.mark.parametrize("text", JSON_FORMS)
@async_test
async def test_a_past_delayed_in_any_json_number_form_lets_the_job_out_at_once(
    http: Http, text: str
) -> None:
    reply = await http.post(f"/q/q1?delayed={text}", body='{"n": 1}', headers=JSON)
    assert reply.status == 201, reply.body
    assert (await http.get("/q/q1")).json() == {"n": 1}


@async_test
async def test_a_future_delayed_in_exponent_form_delays_the_job(http: Http) -> None:
    reply = await http.post("/q/q1?delayed=2e10", body='{"n": 1}', headers=JSON)
    assert reply.status == 201, reply.body
    assert (await queue_view(http, "q1"))["counts"]["delayed"] == 1
    assert await http.job_count("q1") == 0


@async_test
async def test_a_batch_size_takes_that_many_jobs(http: Http) -> None:
    await http.post_jobs("q1", 3)
    reply = await http.get("/qb/q1?batch_size=2")
    assert reply.status == 200
    assert len(reply.json()) == 2


@async_test
async def test_the_highest_priority_is_accepted(http: Http) -> None:
    assert (await http.post("/q/q1?priority=9", body='{"n": 1}', headers=JSON)).status == 201
    assert (await queue_view(http, "q1"))["ready_by_priority"] == {"9": 1}


@async_test
async def test_a_prefetch_in_range_is_accepted(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    reply = await stream(http, "/sse/q1?prefetch=30")
    assert reply.status == 200
    assert stream_job_event(reply)["job"] == {"n": 1}


@pytest.mark.parametrize("path", ["/queues", "/workers", "/dead/q1"])
@async_test
async def test_an_offset_and_limit_in_range_are_accepted(http: Http, path: str) -> None:
    reply = await http.get(f"{path}?offset=30&limit=1000")
    assert reply.status == 200, reply.body
    assert (reply.json()["offset"], reply.json()["limit"]) == (30, 1000)
