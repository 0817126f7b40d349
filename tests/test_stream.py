"""GET /sse/Q: jobs streamed as Server-Sent Events, at most `prefetch` unsettled."""

from __future__ import annotations

import json
import time

from pytest_twisted import ensureDeferred as async_test
from twisted.internet import reactor
from twisted.internet.task import deferLater

from harness.polling import eventually
from tests.conftest import Presque
from tests.leasing import ack
from tests.streams import open_stream
from tests.support import Http, run_due


@async_test
async def test_a_stream_sends_each_job_as_an_event(presque: Presque) -> None:
    stream = await open_stream(presque.http, "q1", lease="30")
    posted = await presque.http.post_job("q1", {"n": 1})
    await eventually(lambda: stream.jobs(), 5, "no job came down the stream")
    assert stream.headers["Content-Type"] == "text/event-stream"
    [event] = stream.events
    data = json.loads(event["data"])
    assert event["id"] == data["id"] == posted.header("X-Presque-Job-Id")
    assert (data["job"], data["attempt"]) == ({"n": 1}, 1)
    assert data["lease_expires"] > time.time()
    assert (await ack(presque.http, "q1", data["id"], data["receipt"])).status == 204
    stream.close()


@async_test
async def test_a_stream_holds_at_most_prefetch_unsettled_jobs(presque: Presque) -> None:
    for n in range(5):
        await presque.http.post_job("q1", {"n": n})
    stream = await open_stream(presque.http, "q1", lease="30", prefetch="2")
    await eventually(lambda: len(stream.jobs()) == 2, 5, "the stream never sent 2 jobs")
    await deferLater(reactor, 0.2)
    assert len(stream.jobs()) == 2
    first = stream.jobs()[0]
    await ack(presque.http, "q1", first["id"], first["receipt"])
    await eventually(lambda: len(stream.jobs()) == 3, 5, "the stream never sent a 3rd job")
    assert [job["job"]["n"] for job in stream.jobs()] == [0, 1, 2]
    stream.close()


@async_test
async def test_jobs_of_a_dropped_stream_come_back_after_their_lease(presque: Presque) -> None:
    await presque.http.post_job("q1", {"n": 1})
    stream = await open_stream(presque.http, "q1", lease="0.2")
    await eventually(lambda: stream.jobs(), 5, "no job came down the stream")
    stream.close()
    await eventually(
        lambda: presque.site.in_flight == 0, 5, "the dropped stream is still in flight"
    )
    await deferLater(reactor, 0.3)
    await run_due(presque.broker)
    again = await presque.http.get("/q/q1", params={"lease": "30"})
    assert (again.json(), again.header("X-Presque-Attempt")) == ({"n": 1}, "2")


@async_test
async def test_a_stream_whose_client_does_not_read_gives_back_what_it_cannot_send(
    presque: Presque,
) -> None:
    big = {"pad": "x" * 200_000}
    for _ in range(100):
        await presque.http.post_job("q1", big)
    stream = await open_stream(presque.http, "q1", lease="60", prefetch="100")
    stream.transport.pauseProducing()  # the client reads nothing more

    async def some_given_back() -> bool:
        counts = (await presque.http.get("/queues/q1")).json()["counts"]
        return counts["leased"] > 0 and counts["ready"] > 0

    await eventually(some_given_back, 10, "every job stayed leased to a stream nobody reads")
    counts = (await presque.http.get("/queues/q1")).json()["counts"]
    assert counts["leased"] + counts["ready"] == 100
    stream.close()
    await stream.done


@async_test
async def test_a_stream_on_a_closed_queue_says_so_and_ends(presque: Presque) -> None:
    await presque.http.post("/control/q1", json_body={"status": "stop"})
    stream = await open_stream(presque.http, "q1")
    await stream.done
    assert [event["event"] for event in stream.events] == ["closed"]


@async_test
async def test_bad_stream_parameters_are_400(http: Http) -> None:
    for params in ({"prefetch": "x"}, {"prefetch": "1000"}, {"lease": "-1"}):
        reply = await http.get("/sse/q1", params=params)
        assert reply.status == 400, params
        assert list(reply.json()) == ["error"]
