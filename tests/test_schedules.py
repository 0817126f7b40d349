"""Schedules of recurring jobs: PUT /schedules/NAME, and their runs."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer

from tests.conftest import Presque
from tests.leasing import lease_one
from tests.support import Http, assert_error

PING = {"queue": "ping", "every": 30, "job": {"ping": True}}


async def put(http: Http, name: str, definition: object) -> dict:
    reply = await http.put(f"/schedules/{name}", json_body=definition)
    assert reply.status == 200, reply.body
    return reply.json()


async def make_due(presque: Presque, name: str, seconds_ago: float = 0) -> None:
    """Bring the next run of schedule C{name} to C{seconds_ago} seconds ago."""
    redis = presque.broker.redis
    now_s, now_us = await redis.execute("TIME")
    due = int(now_s) * 1000 + int(now_us) // 1000 - round(seconds_ago * 1000)
    await redis.execute("ZADD", presque.broker.keys.schedules_due, due, name)


async def ready_jobs(http: Http, queue: str) -> list[object]:
    page = (await http.get(f"/queues/{queue}/jobs", params={"state": "ready"})).json()
    return [job["job"] for job in page["jobs"]]


@async_test
async def test_a_schedule_is_shown_with_its_next_run(http: Http) -> None:
    before = time.time()
    shown = await put(http, "ping", PING)
    assert {key: shown[key] for key in ("name", "queue", "every", "job", "paused")} == {
        "name": "ping",
        "queue": "ping",
        "every": 30,
        "job": {"ping": True},
        "paused": False,
    }
    assert before + 29 <= shown["next_run"] <= time.time() + 31
    assert shown["last_run"] is None


@async_test
async def test_a_cron_schedule_runs_at_its_times_in_its_time_zone(http: Http) -> None:
    shown = await put(
        http,
        "reports",
        {"queue": "reports", "cron": "0 7 * * mon-fri", "tz": "Europe/Paris", "job": {}},
    )
    due = datetime.fromtimestamp(shown["next_run"], ZoneInfo("Europe/Paris"))
    assert (due.hour, due.minute, due.second, due.weekday() < 5) == (7, 0, 0, True)
    assert shown["tz"] == "Europe/Paris"


@async_test
async def test_the_schedules_are_listed_by_name(http: Http) -> None:
    await put(http, "b", PING)
    await put(http, "a", PING)
    listed = (await http.get("/schedules")).json()["schedules"]
    assert [schedule["name"] for schedule in listed] == ["a", "b"]


@async_test
async def test_a_due_run_posts_its_job_with_its_options(presque: Presque) -> None:
    http = presque.http
    await put(http, "ping", {**PING, "priority": 3, "group": "g1"})
    await make_due(presque, "ping")
    assert await presque.broker.fire_schedules() == 1
    reply = await http.get("/q/ping")
    assert (reply.status, reply.json()) == (200, {"ping": True})
    shown = (await http.get("/schedules/ping")).json()
    assert shown["last_run"]["job"] == reply.header("X-Presque-Job-Id")
    assert shown["next_run"] > time.time() + 25


@async_test
async def test_a_run_is_posted_once_by_servers_firing_at_the_same_time(
    two_servers: list[Presque],
) -> None:
    await put(two_servers[0].http, "ping", PING)
    await make_due(two_servers[0], "ping")
    fired = await defer.gatherResults(
        [defer.Deferred.fromCoroutine(server.broker.fire_schedules()) for server in two_servers]
    )
    assert sorted(fired) == [0, 1]
    assert await ready_jobs(two_servers[0].http, "ping") == [{"ping": True}]


@async_test
async def test_a_run_fired_again_after_a_lost_server_posts_no_second_job(
    presque: Presque,
) -> None:
    broker = presque.broker
    await put(presque.http, "ping", PING)
    schedule, _ = await broker.schedule("ping")
    due = round(time.time() * 1000)
    # A server posted the run's job, then died before it said so: the next
    # one to claim the run posts it again, under the same Idempotency-Key.
    await broker._fire(schedule, due, due)
    await broker._fire(schedule, due, due)
    assert await ready_jobs(presque.http, "ping") == [{"ping": True}]


@async_test
async def test_runs_missed_during_a_downtime_are_skipped_by_default(presque: Presque) -> None:
    await put(presque.http, "ping", PING)
    await make_due(presque, "ping", seconds_ago=600)
    await presque.broker.fire_schedules()
    assert await ready_jobs(presque.http, "ping") == []
    shown = (await presque.http.get("/schedules/ping")).json()
    assert shown["last_run"]["skipped"] == "missed"
    assert shown["next_run"] > time.time()


@async_test
async def test_runs_missed_during_a_downtime_run_once_when_asked(presque: Presque) -> None:
    await put(presque.http, "ping", {**PING, "every": 60, "missed": "run_once"})
    await make_due(presque, "ping", seconds_ago=600)
    await presque.broker.fire_schedules()
    await presque.broker.fire_schedules()
    assert await ready_jobs(presque.http, "ping") == [{"ping": True}]


@async_test
async def test_overlap_skip_skips_a_run_while_the_last_job_is_still_queued(
    presque: Presque,
) -> None:
    await put(presque.http, "ping", {**PING, "overlap": "skip"})
    for seconds_ago in (2, 1):
        await make_due(presque, "ping", seconds_ago)
        await presque.broker.fire_schedules()
    assert await ready_jobs(presque.http, "ping") == [{"ping": True}]
    assert (await presque.http.get("/schedules/ping")).json()["last_run"]["skipped"] == "overlap"


@async_test
async def test_overlap_skip_runs_again_once_the_last_job_is_done(presque: Presque) -> None:
    http = presque.http
    await put(http, "ping", {**PING, "overlap": "skip"})
    await make_due(presque, "ping", seconds_ago=2)
    await presque.broker.fire_schedules()
    leased = await lease_one(http, "ping")
    await http.delete(f"/q/ping/{leased.id}", headers={"X-Presque-Receipt": leased.receipt})
    await make_due(presque, "ping")
    await presque.broker.fire_schedules()
    assert await ready_jobs(http, "ping") == [{"ping": True}]


@async_test
async def test_overlap_allow_posts_every_run(presque: Presque) -> None:
    await put(presque.http, "ping", PING)
    # Two runs due at two times (one due time posts one job, however often fired).
    for seconds_ago in (2, 1):
        await make_due(presque, "ping", seconds_ago)
        await presque.broker.fire_schedules()
    assert await ready_jobs(presque.http, "ping") == [{"ping": True}] * 2


@async_test
async def test_a_paused_schedule_has_no_next_run_until_resumed(presque: Presque) -> None:
    http = presque.http
    await put(http, "ping", PING)
    paused = (await http.post("/schedules/ping/pause")).json()
    assert (paused["paused"], paused["next_run"]) == (True, None)
    assert await presque.broker.fire_schedules() == 0
    resumed = (await http.post("/schedules/ping/resume")).json()
    assert resumed["paused"] is False
    assert resumed["next_run"] > time.time()


@async_test
async def test_a_deleted_schedule_is_gone_and_runs_no_more(presque: Presque) -> None:
    http = presque.http
    await put(http, "ping", PING)
    await make_due(presque, "ping")
    assert (await http.delete("/schedules/ping")).status == 204
    assert await presque.broker.fire_schedules() == 0
    assert (await http.get("/schedules/ping")).status == 404
    assert (await http.delete("/schedules/ping")).status == 404


@async_test
async def test_a_schedule_changed_while_its_run_fires_keeps_its_new_definition(
    presque: Presque,
) -> None:
    broker = presque.broker
    await put(presque.http, "ping", PING)
    old, _ = await broker.schedule("ping")
    await put(presque.http, "ping", {**PING, "every": 3600})
    now = round(time.time() * 1000)
    await broker._fire(old, now, now)
    shown = (await presque.http.get("/schedules/ping")).json()
    assert (shown["every"], shown["last_run"]) == (3600, None)
    assert shown["next_run"] > time.time() + 3500


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"queue": "q", "job": {}}, "give either cron (with tz) or every (seconds)"),
        ({"queue": "q", "job": {}, "cron": "* * * * *", "every": 5}, "give either cron"),
        ({"queue": "q", "job": {}, "cron": "61 * * * *"}, "is not a valid cron expression"),
        ({"queue": "q", "job": {}, "cron": "* * * * * *"}, "cron must have five fields"),
        ({"queue": "q", "job": {}, "cron": "0 0 30 2 *"}, "never runs"),
        ({"queue": "q", "job": {}, "cron": "* * * * *", "tz": "Mars/Olympus"}, "not a known time"),
        ({"queue": "q", "job": {}, "every": 0.5}, "every must be from 1 to 604800 seconds"),
        ({"queue": "q", "job": {}, "every": "5"}, "every must be a number of seconds"),
        ({"queue": "q", "job": {}, "every": 5, "when": 1}, "unknown member 'when'"),
        ({"job": {}, "every": 5}, "queue is missing"),
        ({"queue": "q", "every": 5}, "job is missing"),
        ({"queue": "q", "job": {}, "every": 5, "priority": 10}, "priority must be an integer"),
        ({"queue": "q", "job": {}, "every": 5, "overlap": "never"}, "overlap must be one of"),
        ({"queue": "q", "job": {}, "every": 5, "missed": "all"}, "missed must be one of"),
        ({"queue": "q", "job": {}, "every": 5, "paused": 1}, "paused must be true or false"),
        ({"queue": "a/b", "job": {}, "every": 5}, "queue name may not contain /"),
        ({"queue": "q", "job": {}, "every": 5, "uniq": "a\u0007"}, "uniq has control characters"),
        ({"queue": "q", "job": {}, "every": 5, "group": "g\n"}, "group has control characters"),
        ([1], "a schedule must be a JSON object"),
    ],
)
@async_test
async def test_a_bad_schedule_is_400_and_writes_nothing(
    http: Http, definition: object, message: str
) -> None:
    reply = await http.put("/schedules/s1", json_body=definition)
    assert message in assert_error(reply), reply.body
    assert (await http.get("/schedules/s1")).status == 404


@async_test
async def test_a_schedule_name_too_long_is_400(http: Http) -> None:
    reply = await http.put("/schedules/" + "n" * 200, json_body=PING)
    assert "schedule name is longer than" in assert_error(reply)


@async_test
async def test_overlap_skip_keeps_one_job_however_many_runs_pass(presque: Presque) -> None:
    await put(presque.http, "ping", {**PING, "overlap": "skip"})
    for seconds_ago in (4, 3, 2, 1):
        await make_due(presque, "ping", seconds_ago)
        await presque.broker.fire_schedules()
    assert await ready_jobs(presque.http, "ping") == [{"ping": True}]


@async_test
async def test_a_schedule_cannot_post_to_a_virtual_queue(http: Http) -> None:
    body = {"type": "virtual", "action": "set", "queues": ["a"]}
    assert (await http.post("/control/v", json_body=body)).status == 200
    reply = await http.put("/schedules/s1", json_body={**PING, "queue": "v"})
    assert "virtual" in assert_error(reply)


@async_test
async def test_the_schedules_are_listed_a_page_at_a_time(http: Http) -> None:
    for name in ("a", "b", "c"):
        await put(http, name, PING)
    page = (await http.get("/schedules", params={"offset": "1", "limit": "1"})).json()
    assert (page["total"], [s["name"] for s in page["schedules"]]) == (3, ["b"])


@async_test
async def test_a_schedule_posts_a_job_of_at_most_64_kib(http: Http) -> None:
    reply = await http.put("/schedules/s1", json_body={**PING, "job": "x" * 70_000})
    assert "larger than 65536 bytes" in assert_error(reply)


@async_test
async def test_a_schedule_whose_job_has_a_number_too_large_for_json_is_400(http: Http) -> None:
    reply = await http.put(
        "/schedules/s1",
        body='{"queue": "q", "every": 5, "job": {"n": 1e999}}',
        headers={"Content-Type": "application/json"},
    )
    assert assert_error(reply) == "job is not valid JSON"
    assert (await http.get("/schedules/s1")).status == 404
