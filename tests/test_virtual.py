"""Virtual queues (Net::Presque): a name that fetches from its queues, in order."""

from __future__ import annotations

import json

from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer, reactor
from twisted.internet.task import deferLater

from tests.conftest import Presque
from tests.flow import timed_get
from tests.leasing import ack, lease_one
from tests.support import Http, assert_error


async def define(http: Http, name: str, action: str, queues: list[str]) -> dict:
    body = {"type": "virtual", "action": action, "queues": queues}
    reply = await http.post(f"/control/{name}", json_body=body)
    assert reply.status == 200, reply.body
    return reply.json()


async def taken(http: Http, queue: str, count: int) -> list[tuple[str, object]]:
    answers = []
    for _ in range(count):
        reply = await http.get(f"/q/{queue}")
        assert reply.status == 200, reply.body
        answers.append((reply.header("X-Presque-Queue"), reply.json()["n"]))
    return answers


@async_test
async def test_a_virtual_queue_fetches_from_its_queues_in_order(http: Http) -> None:
    await http.post_job("low", {"n": "low"})
    await http.post_job("high", {"n": "high-1"})
    await http.post_job("high", {"n": "high-2"})
    await define(http, "work", "set", ["high", "low"])
    assert await taken(http, "work", 3) == [("high", "high-1"), ("high", "high-2"), ("low", "low")]
    assert (await http.get("/q/work")).status == 404


@async_test
async def test_a_job_of_a_virtual_queue_is_acked_on_its_queue_or_on_the_virtual_name(
    http: Http,
) -> None:
    await http.post_jobs("a", 2)
    await define(http, "v", "set", ["a"])
    first = await lease_one(http, "v")
    assert (await ack(http, "a", first.id, first.receipt)).status == 204
    second = await lease_one(http, "v")
    assert (await ack(http, "v", second.id, second.receipt)).status == 204
    assert (await http.get(f"/q/v/{second.id}")).json()["state"] == "done"


@async_test
async def test_a_batch_of_a_virtual_queue_comes_from_one_of_its_queues(http: Http) -> None:
    await http.post_jobs("a", 2)
    await http.post_jobs("b", 2)
    await define(http, "v", "set", ["a", "b"])
    reply = await http.get("/qb/v", params={"batch_size": "10"})
    assert (reply.header("X-Presque-Queue"), len(reply.json())) == ("a", 2)


@async_test
async def test_a_wait_on_a_virtual_queue_is_woken_by_a_job_posted_to_one_of_its_queues(
    two_servers: list[Presque],
) -> None:
    one, other = (server.http for server in two_servers)
    await define(one, "v", "set", ["a", "b"])
    waiting = defer.Deferred.fromCoroutine(timed_get(one, "/q/v", wait="10"))
    await deferLater(reactor, 0.3, lambda: None)
    await other.post_job("b", {"n": 1})
    reply, took = await waiting
    assert (reply.status, reply.header("X-Presque-Queue"), took < 3) == (200, "b", True)


@async_test
async def test_another_server_knows_a_virtual_queue_once_it_reloads(
    two_servers: list[Presque],
) -> None:
    one, other = two_servers
    await one.http.post_job("a", {"n": 1})
    await define(one.http, "v", "set", ["a"])
    await other.broker.reload_virtual()
    assert (await other.http.get("/q/v")).json() == {"n": 1}


@async_test
async def test_nothing_is_posted_to_a_virtual_queue(http: Http) -> None:
    await define(http, "v", "set", ["a"])
    reply = await http.post_job("v", {"n": 1})
    assert "virtual queue" in assert_error(reply, 400)
    reply = await http.post("/qb/v", json_body={"jobs": [{}]})
    assert "virtual queue" in assert_error(reply, 400)


@async_test
async def test_status_describes_a_virtual_queue(http: Http) -> None:
    await http.post_jobs("a", 2)
    await http.post_jobs("b", 1)
    await define(http, "v", "set", ["a", "b"])
    assert (await http.get("/status/v")).json() == {
        "queue": "v",
        "size": 3,
        "type": "virtual",
        "queues": ["a", "b"],
    }


@async_test
async def test_queues_are_removed_from_a_virtual_queue_and_it_is_destroyed(http: Http) -> None:
    await define(http, "v", "set", ["a", "b", "c"])
    assert (await define(http, "v", "remove", ["b"]))["queues"] == ["a", "c"]
    assert (await define(http, "v", "destroy", []))["queues"] == []
    assert "type" not in (await http.get("/status/v")).json()


@async_test
async def test_a_closed_queue_of_a_virtual_queue_is_passed_over(http: Http) -> None:
    await http.post_job("a", {"n": "a"})
    await http.post_job("b", {"n": "b"})
    await http.post("/control/a", body='{"status": "stop"}')
    await define(http, "v", "set", ["a", "b"])
    assert await taken(http, "v", 1) == [("b", "b")]


@async_test
async def test_a_virtual_queue_whose_queues_are_all_closed_is_closed(http: Http) -> None:
    await http.post("/control/a", body='{"status": "stop"}')
    await define(http, "v", "set", ["a"])
    assert assert_error(await http.get("/q/v"), 404) == "queue is closed"


@async_test
async def test_a_virtual_queue_is_not_streamed(http: Http) -> None:
    await define(http, "v", "set", ["a"])
    assert "not streamed" in assert_error(await http.get("/sse/v"), 400)


@async_test
async def test_a_queue_of_jobs_cannot_become_virtual(http: Http) -> None:
    await http.post_job("a", {"n": 1})
    body = {"type": "virtual", "action": "set", "queues": ["b"]}
    assert_error(await http.post("/control/a", json_body=body), 409)


@async_test
async def test_bad_virtual_queue_bodies_are_400_and_change_nothing(http: Http) -> None:
    await define(http, "inner", "set", ["x"])
    for body in (
        {"type": "alias", "action": "set", "queues": ["a"]},
        {"type": "virtual", "action": "rename", "queues": ["a"]},
        {"type": "virtual", "action": "set", "queues": "a"},
        {"type": "virtual", "action": "set", "queues": [1]},
        {"type": "virtual", "action": "set", "queues": []},
        {"type": "virtual", "action": "set", "queues": ["v"]},
        {"type": "virtual", "action": "set", "queues": ["inner"]},
        {"type": "virtual", "action": "set", "queues": ["a/b"]},
        {"type": "virtual", "action": "set", "queues": [f"q{n}" for n in range(101)]},
    ):
        assert_error(await http.post("/control/v", json_body=body), 400, json.dumps(body))
    assert "type" not in (await http.get("/status/v")).json()


@async_test
async def test_removing_from_a_queue_that_is_not_virtual_is_404(http: Http) -> None:
    body = {"type": "virtual", "action": "remove", "queues": ["a"]}
    assert assert_error(await http.post("/control/v", json_body=body), 404)


@async_test
async def test_a_queue_of_a_virtual_queue_cannot_become_virtual(http: Http) -> None:
    await define(http, "v", "set", ["a", "b"])
    body = {"type": "virtual", "action": "set", "queues": ["c"]}
    assert "cannot be virtual" in assert_error(await http.post("/control/a", json_body=body))


@async_test
async def test_a_virtual_queue_has_no_status_settings_or_purge_of_its_own(http: Http) -> None:
    await define(http, "v", "set", ["a"])
    assert_error(await http.post("/control/v", body='{"status": "stop"}'), 400)
    assert_error(await http.request("PATCH", "/queues/v", json_body={"rate": 1}), 400)
    assert_error(await http.delete("/q/v"), 400)


@async_test
async def test_deleting_a_virtual_queue_destroys_it(http: Http) -> None:
    await define(http, "v", "set", ["a"])
    assert (await http.delete("/queues/v")).status == 204
    assert "type" not in (await http.get("/status/v")).json()
