"""Groups: POST ?group=KEY; groups take turns, and group_concurrency bounds each."""

from __future__ import annotations

import json
import time

from pytest_twisted import ensureDeferred as async_test
from twisted.internet import reactor
from twisted.internet.task import deferLater

from tests.conftest import Presque
from tests.flow import assert_settling_wakes_a_held_waiter, held_by, limit
from tests.leasing import ack, fail, lease_one
from tests.support import Http, assert_error


async def post(http: Http, queue: str, group: str | None, n: object, **params: str) -> str:
    if group is not None:
        params["group"] = group
    reply = await http.post_job(queue, {"n": n}, **params)
    assert reply.status == 201, reply.body
    return reply.header("X-Presque-Job-Id")


async def one_at_a_time(http: Http, count: int) -> None:
    """Queue q1 runs each group's jobs one at a time; group a has a0, a1, ... ready."""
    await limit(http, "q1", group_concurrency=1)
    for n in range(count):
        await post(http, "q1", "a", f"a{n}")


async def taken(http: Http, queue: str, count: int, **params: str) -> list[object]:
    numbers = []
    for _ in range(count):
        reply = await http.get(f"/q/{queue}", params=params or None)
        assert reply.status == 200, reply.body
        numbers.append(reply.json()["n"])
    return numbers


@async_test
async def test_a_job_shows_its_group(http: Http) -> None:
    job_id = await post(http, "q1", "tenant-a", 1)
    assert (await http.get(f"/q/q1/{job_id}")).json()["group"] == "tenant-a"


@async_test
async def test_a_job_without_a_group_shows_none(http: Http) -> None:
    job_id = await post(http, "q1", None, 1)
    assert (await http.get(f"/q/q1/{job_id}")).json()["group"] is None


@async_test
async def test_groups_take_turns(http: Http) -> None:
    for n in range(3):
        await post(http, "q1", "a", f"a{n}")
    for n in range(3):
        await post(http, "q1", "b", f"b{n}")
    assert await taken(http, "q1", 6) == ["a0", "b0", "a1", "b1", "a2", "b2"]


@async_test
async def test_a_burst_of_one_group_does_not_starve_a_later_one(http: Http) -> None:
    for n in range(50):
        await post(http, "q1", "big", n)
    await post(http, "q1", "small", "s")
    assert "s" in await taken(http, "q1", 3)


@async_test
async def test_jobs_without_a_group_take_their_turn_with_the_groups(http: Http) -> None:
    for n in range(3):
        await post(http, "q1", "a", f"a{n}")
    for n in range(3):
        await post(http, "q1", None, f"u{n}")
    assert sorted(await taken(http, "q1", 4)) == ["a0", "a1", "u0", "u1"]


@async_test
async def test_a_batch_fetch_serves_the_groups_in_turn(http: Http) -> None:
    for group in "abc":
        for n in range(3):
            await post(http, "q1", group, f"{group}{n}")
    reply = await http.get("/qb/q1", params={"batch_size": "6"})
    assert [json.loads(job)["n"] for job in reply.json()] == ["a0", "b0", "c0", "a1", "b1", "c1"]


@async_test
async def test_priorities_order_the_jobs_within_a_group(http: Http) -> None:
    await post(http, "q1", "a", "low")
    await post(http, "q1", "a", "high", priority="5")
    assert await taken(http, "q1", 2) == ["high", "low"]


@async_test
async def test_group_concurrency_1_runs_each_group_one_job_at_a_time(http: Http) -> None:
    await one_at_a_time(http, 2)
    await post(http, "q1", "b", "b0")
    a0 = await lease_one(http, "q1")
    assert (await lease_one(http, "q1")).job == {"n": "b0"}
    assert held_by(await http.get("/q/q1", params={"lease": "30"})) == "group"
    await ack(http, "q1", a0.id, a0.receipt)
    assert (await lease_one(http, "q1")).job == {"n": "a1"}


@async_test
async def test_a_group_job_given_back_by_an_expired_lease_goes_first_in_its_group(
    http: Http,
) -> None:
    await one_at_a_time(http, 2)
    await lease_one(http, "q1", seconds=0.2)
    await deferLater(reactor, 0.3, lambda: None)
    again = await lease_one(http, "q1")
    assert (again.job, again.attempt) == ({"n": "a0"}, 2)


@async_test
async def test_a_failed_group_job_frees_its_group(http: Http) -> None:
    await one_at_a_time(http, 2)
    a0 = await lease_one(http, "q1")
    await fail(http, "q1", a0.id, a0.receipt, delay="60")
    assert (await lease_one(http, "q1")).job == {"n": "a1"}


@async_test
async def test_a_group_job_sent_to_the_dead_letters_by_hand_frees_its_group(
    http: Http,
) -> None:
    await one_at_a_time(http, 2)
    a0 = await lease_one(http, "q1")
    reply = await http.post(f"/queues/q1/jobs/{a0.id}/dead")
    assert reply.status in (200, 204), reply.body
    assert (await lease_one(http, "q1")).job == {"n": "a1"}


@async_test
async def test_a_waiting_fetch_held_by_its_group_is_woken_by_an_ack_on_another_server(
    two_servers: list[Presque],
) -> None:
    one, other = (server.http for server in two_servers)
    await limit(one, "q1", group_concurrency=1)
    for n in range(2):
        await post(one, "q1", "a", f"a{n}")
    a0 = await lease_one(one, "q1")
    await assert_settling_wakes_a_held_waiter(
        other, lambda: ack(one, "q1", a0.id, a0.receipt), {"n": "a1"}
    )


@async_test
async def test_a_delayed_group_job_becomes_ready_in_its_group(http: Http) -> None:
    await limit(http, "q1", group_concurrency=1)
    await post(http, "q1", "a", "a0")
    await post(http, "q1", "a", "later", delayed=str(time.time() + 0.2))
    await lease_one(http, "q1")
    await deferLater(reactor, 0.3, lambda: None)
    assert held_by(await http.get("/q/q1", params={"lease": "30"})) == "group"


@async_test
async def test_ready_jobs_of_groups_are_counted_and_listed(http: Http) -> None:
    await post(http, "q1", "a", "a0")
    await post(http, "q1", None, "u0")
    await post(http, "q1", "b", "b0", priority="3")
    view = (await http.get("/queues/q1")).json()
    assert view["counts"]["ready"] == 3
    assert view["ready_by_priority"] == {"0": 2, "3": 1}
    page = (await http.get("/queues/q1/jobs", params={"state": "ready"})).json()
    assert sorted(job["job"]["n"] for job in page["jobs"]) == ["a0", "b0", "u0"]


@async_test
async def test_removing_a_ready_group_job_takes_it_out_of_its_group(http: Http) -> None:
    a0 = await post(http, "q1", "a", "a0")
    await post(http, "q1", "a", "a1")
    assert (await http.delete(f"/queues/q1/jobs/{a0}")).status in (200, 204)
    assert await taken(http, "q1", 1) == ["a1"]
    assert (await http.get("/q/q1")).status == 404


@async_test
async def test_a_purge_removes_every_group(presque: Presque) -> None:
    http = presque.http
    await limit(http, "q1", group_concurrency=1)
    for group in "ab":
        for n in range(2):
            await post(http, "q1", group, n)
    await lease_one(http, "q1")
    assert (await http.delete("/q/q1")).status == 204
    keys = await presque.broker.redis.execute("KEYS", "presque:{q1}:group*")
    assert keys == []
    assert (await http.get("/q/q1")).status == 404


@async_test
async def test_max_length_counts_the_jobs_of_groups(http: Http) -> None:
    await limit(http, "q1", max_length=2)
    await post(http, "q1", "a", 1)
    await post(http, "q1", "b", 2)
    assert (await http.post_job("q1", {"n": 3}, group="c")).status == 429


@async_test
async def test_a_batch_posted_with_a_group_puts_every_job_in_it(http: Http) -> None:
    await limit(http, "q1", group_concurrency=1)
    body = {"jobs": [{"n": 1}, {"n": 2}]}
    assert (await http.post("/qb/q1", json_body=body, params={"group": "a"})).status == 201
    await lease_one(http, "q1")
    assert held_by(await http.get("/q/q1", params={"lease": "30"})) == "group"


@async_test
async def test_a_batch_names_the_group_of_each_job(http: Http) -> None:
    body = {"jobs": [{"n": "a0"}, {"n": "a1"}, {"n": "b0"}], "groups": ["a", "a", "b"]}
    assert (await http.post("/qb/q1", json_body=body)).status == 201
    assert await taken(http, "q1", 3) == ["a0", "b0", "a1"]


@async_test
async def test_a_null_group_in_a_batch_is_no_group(http: Http) -> None:
    body = {"jobs": [{"n": 1}], "groups": [None]}
    assert (await http.post("/qb/q1", json_body=body, params={"ids": "1"})).status == 201
    [job] = (await http.get("/queues/q1/jobs", params={"state": "ready"})).json()["jobs"]
    assert job["group"] is None


@async_test
async def test_bad_groups_in_a_batch_are_400_and_store_nothing(http: Http) -> None:
    for body, params in [
        ({"jobs": [{"n": 1}], "groups": ["a", "b"]}, {}),
        ({"jobs": [{"n": 1}], "groups": "a"}, {}),
        ({"jobs": [{"n": 1}], "groups": [7]}, {}),
        ({"jobs": [{"n": 1}], "groups": ["x" * 257]}, {}),
        ({"jobs": [{"n": 1}], "groups": ["a\u0001"]}, {}),
        ({"jobs": [{"n": 1}], "groups": ["a"]}, {"group": "b"}),
    ]:
        assert_error(await http.post("/qb/q1", json_body=body, params=params or None))
    assert (await http.get("/q/q1")).status == 404


@async_test
async def test_a_group_name_too_long_is_400(http: Http) -> None:
    reply = await http.post_job("q1", {"n": 1}, group="g" * 257)
    assert assert_error(reply) == "group is longer than 256 characters"


@async_test
async def test_a_group_held_at_its_limit_is_served_once_the_limit_is_lifted(http: Http) -> None:
    await one_at_a_time(http, 3)
    await lease_one(http, "q1")
    assert held_by(await http.get("/q/q1", params={"lease": "30"})) == "group"
    await limit(http, "q1", group_concurrency=0)
    assert (await lease_one(http, "q1")).job == {"n": "a1"}


@async_test
async def test_every_fetch_held_by_a_group_says_so(http: Http) -> None:
    await one_at_a_time(http, 2)
    await lease_one(http, "q1")
    for _ in range(3):
        assert held_by(await http.get("/q/q1", params={"lease": "30"})) == "group"


@async_test
async def test_a_fetch_for_good_takes_jobs_of_a_group_at_its_limit(http: Http) -> None:
    await one_at_a_time(http, 3)
    await lease_one(http, "q1")
    assert held_by(await http.get("/q/q1", params={"lease": "30"})) == "group"
    assert (await http.get("/q/q1")).json() == {"n": "a1"}
