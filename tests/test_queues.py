"""C{/queues} and C{/queues/Q}: everything about queues, and their settings (PATCH)."""

from __future__ import annotations

import time

import pytest
from pytest_twisted import ensureDeferred as async_test
from twisted.internet import reactor
from twisted.internet.task import deferLater

from tests.conftest import Presque
from tests.leasing import ack, bury, configure, fail, lease_one
from tests.support import (
    NO_TOTALS,
    Http,
    epoch,
    queue_counts_body,
    run_due,
    totals_with,
)

DEFAULT_SETTINGS = {
    "lease": 0.0,
    "max_attempts": 5,
    "backoff_base": 1.0,
    "backoff_cap": 3600.0,
    "max_length": 0,
    "rate": 0.0,
    "burst": 0,
    "concurrency": 0,
    "group_concurrency": 0,
    "result_ttl": 3600.0,
    "max_results": 10000,
    "dead_ttl": 0.0,
    "max_dead": 10000,
}
NO_COUNTS = {"ready": 0, "delayed": 0, "leased": 0, "dead": 0, "waiting": 0}


async def queue_view(http: Http, queue: str) -> dict:
    """The body of C{GET /queues/queue}, which must answer 200."""
    reply = await http.get(f"/queues/{queue}")
    assert reply.status == 200, reply.body
    return reply.json()


async def counts(http: Http, queue: str) -> dict[str, int]:
    return (await queue_view(http, queue))["counts"]


async def totals(http: Http, queue: str) -> dict[str, int]:
    return (await queue_view(http, queue))["totals"]


async def settings(http: Http, queue: str) -> dict[str, float]:
    return (await queue_view(http, queue))["settings"]


async def close(http: Http, queue: str) -> None:
    reply = await http.post(f"/control/{queue}", body='{"status": "stop"}')
    assert reply.status == 200


# GET /queues/Q


@async_test
async def test_the_full_view_of_a_queue(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    assert await queue_view(http, "q1") == {
        "queue": "q1",
        "status": "open",
        "counts": {"ready": 1, "delayed": 0, "leased": 0, "dead": 0, "waiting": 0},
        "ready_by_priority": {"0": 1},
        "totals": totals_with(enqueued=1),
        "settings": DEFAULT_SETTINGS,
        "workers": [],
    }


@async_test
async def test_the_default_max_attempts_is_an_integer(http: Http) -> None:
    assert type((await settings(http, "q1"))["max_attempts"]) is int


@async_test
async def test_a_queue_never_seen_has_zero_counts_and_the_defaults(http: Http) -> None:
    assert await queue_view(http, "never-seen") == {
        "queue": "never-seen",
        "status": "open",
        "counts": NO_COUNTS,
        "ready_by_priority": {},
        "totals": NO_TOTALS,
        "settings": DEFAULT_SETTINGS,
        "workers": [],
    }


@async_test
async def test_a_closed_queue_shows_status_closed(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    await close(http, "q1")
    assert (await queue_view(http, "q1"))["status"] == "closed"


@async_test
async def test_counts_follow_a_job_through_its_states(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    assert await counts(http, "q1") == {
        "ready": 1,
        "delayed": 0,
        "leased": 0,
        "dead": 0,
        "waiting": 0,
    }
    leased = await lease_one(http, "q1")
    assert await counts(http, "q1") == {
        "ready": 0,
        "delayed": 0,
        "leased": 1,
        "dead": 0,
        "waiting": 0,
    }
    await fail(http, "q1", leased.id, leased.receipt, delay="0.05")
    assert await counts(http, "q1") == {
        "ready": 0,
        "delayed": 1,
        "leased": 0,
        "dead": 0,
        "waiting": 0,
    }
    await deferLater(reactor, 0.1)
    again = await lease_one(http, "q1")
    assert await counts(http, "q1") == {
        "ready": 0,
        "delayed": 0,
        "leased": 1,
        "dead": 0,
        "waiting": 0,
    }
    await fail(http, "q1", again.id, again.receipt, dead="1")
    assert await counts(http, "q1") == {
        "ready": 0,
        "delayed": 0,
        "leased": 0,
        "dead": 1,
        "waiting": 0,
    }
    await http.post("/dead/q1/retry")
    assert await counts(http, "q1") == {
        "ready": 1,
        "delayed": 0,
        "leased": 0,
        "dead": 0,
        "waiting": 0,
    }


@async_test
async def test_a_delayed_post_counts_as_delayed(http: Http) -> None:
    await http.post_job("q1", {"n": 1}, delayed=epoch(60))
    await http.post_job("q1", {"n": 2})
    assert await counts(http, "q1") == {
        "ready": 1,
        "delayed": 1,
        "leased": 0,
        "dead": 0,
        "waiting": 0,
    }


@async_test
async def test_an_ack_counts_as_processed(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    assert await totals(http, "q1") == totals_with(enqueued=1, delivered=1)
    await ack(http, "q1", leased.id, leased.receipt)
    assert await totals(http, "q1") == totals_with(enqueued=1, delivered=1, acked=1, processed=1)
    assert await counts(http, "q1") == NO_COUNTS


@async_test
async def test_a_fetch_without_lease_counts_as_processed(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    await http.get("/q/q1")
    assert await totals(http, "q1") == totals_with(enqueued=1, delivered=1, processed=1)


@async_test
async def test_a_failure_to_retry_counts_as_failed_and_retried(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    await fail(http, "q1", leased.id, leased.receipt, error="oops")
    assert await totals(http, "q1") == totals_with(enqueued=1, delivered=1, failed=1, retried=1)


@async_test
async def test_a_failure_to_the_dead_letters_counts_as_failed_and_dead(http: Http) -> None:
    await bury(http, "q1", {"n": 1})
    assert await totals(http, "q1") == totals_with(enqueued=1, delivered=1, failed=1, dead=1)


@async_test
async def test_an_expired_lease_counts_as_failed_and_retried(http: Http, presque: Presque) -> None:
    await http.post_job("q1", {"n": 1})
    await lease_one(http, "q1", seconds=0.05)
    await deferLater(reactor, 0.1)
    await run_due(presque.broker)
    assert await totals(http, "q1") == totals_with(
        enqueued=1, delivered=1, expired=1, failed=1, retried=1
    )
    assert await counts(http, "q1") == {
        "ready": 1,
        "delayed": 0,
        "leased": 0,
        "dead": 0,
        "waiting": 0,
    }


@async_test
async def test_an_expired_last_attempt_counts_as_failed_and_dead(
    http: Http, presque: Presque
) -> None:
    await configure(http, "q1", {"max_attempts": 1})
    await http.post_job("q1", {"n": 1})
    await lease_one(http, "q1", seconds=0.05)
    await deferLater(reactor, 0.1)
    await run_due(presque.broker)
    assert await totals(http, "q1") == totals_with(
        enqueued=1, delivered=1, expired=1, failed=1, dead=1
    )
    assert await counts(http, "q1") == {
        "ready": 0,
        "delayed": 0,
        "leased": 0,
        "dead": 1,
        "waiting": 0,
    }


# PATCH /queues/Q


@async_test
async def test_patch_answers_the_full_view_with_the_new_settings(http: Http) -> None:
    reply = await configure(http, "q1", {"lease": 30, "max_attempts": 3})
    assert reply.status == 200
    assert reply.json() == {
        "queue": "q1",
        "status": "open",
        "counts": NO_COUNTS,
        "ready_by_priority": {},
        "totals": NO_TOTALS,
        "settings": {**DEFAULT_SETTINGS, "lease": 30.0, "max_attempts": 3},
        "workers": [],
    }
    assert await settings(http, "q1") == {**DEFAULT_SETTINGS, "lease": 30.0, "max_attempts": 3}


@async_test
async def test_patch_changes_only_the_settings_it_names(http: Http) -> None:
    await configure(http, "q1", {"backoff_base": 2, "backoff_cap": 60})
    await configure(http, "q1", {"backoff_cap": 120})
    assert await settings(http, "q1") == {
        **DEFAULT_SETTINGS,
        "backoff_base": 2.0,
        "backoff_cap": 120.0,
    }


@async_test
async def test_patch_of_one_queue_leaves_the_others_at_the_defaults(http: Http) -> None:
    await configure(http, "q1", {"lease": 30})
    assert await settings(http, "q2") == DEFAULT_SETTINGS


@async_test
async def test_a_queue_lease_makes_a_plain_get_lease_the_job(http: Http) -> None:
    await configure(http, "q1", {"lease": 30})
    posted = await http.post_job("q1", {"n": 1})
    before = time.time()
    reply = await http.get("/q/q1")
    assert reply.status == 200
    assert reply.header("X-Presque-Job-Id") == posted.header("X-Presque-Job-Id")
    assert reply.header("X-Presque-Receipt")
    assert reply.header("X-Presque-Attempt") == "1"
    assert before + 29 <= float(reply.header("X-Presque-Lease-Expires")) <= time.time() + 31
    view = (await http.get(f"/q/q1/{reply.header('X-Presque-Job-Id')}")).json()
    assert view["state"] == "leased"


@async_test
async def test_a_queue_lease_leaves_other_queues_delete_on_fetch(http: Http) -> None:
    await configure(http, "q1", {"lease": 30})
    await http.post_job("q2", {"n": 1})
    reply = await http.get("/q/q2")
    assert reply.status == 200
    assert reply.header("X-Presque-Receipt") is None
    assert (await http.get(f"/q/q2/{reply.header('X-Presque-Job-Id')}")).status == 404


@async_test
async def test_a_queue_lease_applies_to_batches(http: Http) -> None:
    await configure(http, "q1", {"lease": 30})
    await http.post("/qb/q1", json_body={"jobs": [{"n": 1}, {"n": 2}]})
    reply = await http.get("/qb/q1", params={"batch_size": "2"})
    assert reply.header("X-Presque-Attempts") == "1,1"
    assert len(reply.header("X-Presque-Receipts").split(",")) == 2
    assert (await counts(http, "q1"))["leased"] == 2


@async_test
async def test_lease_0_in_the_query_wins_over_the_queue_lease(http: Http) -> None:
    await configure(http, "q1", {"lease": 30})
    await http.post_job("q1", {"n": 1})
    reply = await http.get("/q/q1", params={"lease": "0"})
    assert reply.header("X-Presque-Receipt") is None
    assert await counts(http, "q1") == NO_COUNTS


@async_test
async def test_patch_lease_0_goes_back_to_delete_on_fetch(http: Http) -> None:
    await configure(http, "q1", {"lease": 30})
    reply = await configure(http, "q1", {"lease": 0})
    assert reply.json()["settings"]["lease"] == 0.0
    await http.post_job("q1", {"n": 1})
    taken = await http.get("/q/q1")
    assert taken.status == 200
    assert taken.header("X-Presque-Receipt") is None
    assert (await http.get(f"/q/q1/{taken.header('X-Presque-Job-Id')}")).status == 404


@async_test
async def test_patch_max_attempts_decides_when_a_job_goes_dead(http: Http) -> None:
    await configure(http, "q1", {"max_attempts": 2})
    await http.post_job("q1", {"n": 1})
    first = await lease_one(http, "q1")
    outcome = await fail(http, "q1", first.id, first.receipt, delay="0")
    assert outcome.json()["state"] == "delayed"
    second = await lease_one(http, "q1")
    assert second.attempt == 2
    outcome = await fail(http, "q1", second.id, second.receipt, delay="0")
    assert outcome.json() == {"id": first.id, "state": "dead", "next_run": None}


@async_test
async def test_raising_max_attempts_gives_a_job_more_attempts(http: Http) -> None:
    await configure(http, "q1", {"max_attempts": 1})
    await configure(http, "q1", {"max_attempts": 3})
    await http.post_job("q1", {"n": 1})
    for _ in range(2):
        leased = await lease_one(http, "q1")
        outcome = await fail(http, "q1", leased.id, leased.receipt, delay="0")
        assert outcome.json()["state"] == "delayed"
    leased = await lease_one(http, "q1")
    assert leased.attempt == 3
    assert (await fail(http, "q1", leased.id, leased.receipt)).json()["state"] == "dead"


@async_test
async def test_patch_with_an_empty_object_changes_nothing(http: Http) -> None:
    reply = await configure(http, "q1", {})
    assert (reply.status, reply.json()["settings"]) == (200, DEFAULT_SETTINGS)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '{"retries": 3}',
            "unknown setting 'retries'; known: backoff_base, backoff_cap, burst, concurrency,"
            " dead_ttl, group_concurrency, lease, max_attempts, max_dead, max_length,"
            " max_results, rate, result_ttl",
        ),
        ('{"lease": -1}', "lease must be from 0 to 604800 seconds"),
        ('{"lease": 604801}', "lease must be from 0 to 604800 seconds"),
        ('{"lease": "30"}', "lease must be a number"),
        ('{"lease": true}', "lease must be a number"),
        ('{"max_attempts": 0}', "max_attempts must be an integer from 1 to 1000"),
        ('{"max_attempts": 2.5}', "max_attempts must be an integer from 1 to 1000"),
        ('{"max_attempts": 1001}', "max_attempts must be an integer from 1 to 1000"),
        ('{"backoff_base": 0}', "backoff_base must be from 0.001 to 604800 seconds"),
        ('{"backoff_cap": 0.5}', "backoff_cap must be at least backoff_base"),
        ('{"backoff_base": 10, "backoff_cap": 5}', "backoff_cap must be at least backoff_base"),
        ('{"lease": 30, "max_attempts": 0}', "max_attempts must be an integer from 1 to 1000"),
        ("[1, 2]", "settings must be a JSON object"),
        ('"lease"', "settings must be a JSON object"),
        ('{"lease": ', "settings is not valid JSON"),
        ("", "settings is missing"),
    ],
)
@async_test
async def test_an_invalid_patch_is_400_and_changes_nothing(
    http: Http, body: str, message: str
) -> None:
    reply = await configure(http, "q1", body=body)
    assert (reply.status, reply.json()) == (400, {"error": message})
    assert await settings(http, "q1") == DEFAULT_SETTINGS


@async_test
async def test_a_backoff_cap_below_the_stored_base_is_400(http: Http) -> None:
    await configure(http, "q1", {"backoff_base": 10, "backoff_cap": 20})
    reply = await configure(http, "q1", {"backoff_cap": 5})
    assert (reply.status, reply.json()) == (
        400,
        {"error": "backoff_cap must be at least backoff_base"},
    )
    assert (await settings(http, "q1"))["backoff_cap"] == 20.0


# GET /queues


@async_test
async def test_queues_lists_every_queue_with_status_and_counts(http: Http) -> None:
    await http.post_job("q2", {"n": 1})
    await http.post_job("q1", {"n": 1})
    await http.post_job("q1", {"n": 2}, delayed=epoch(60))
    await bury(http, "q3", {"n": 1})
    await close(http, "q2")
    reply = await http.get("/queues")
    assert reply.status == 200
    assert reply.json() == {
        "total": 3,
        "offset": 0,
        "limit": 100,
        "queues": [
            {
                "queue": "q1",
                "status": "open",
                "counts": {"ready": 1, "delayed": 1, "leased": 0, "dead": 0, "waiting": 0},
            },
            {
                "queue": "q2",
                "status": "closed",
                "counts": {"ready": 1, "delayed": 0, "leased": 0, "dead": 0, "waiting": 0},
            },
            {
                "queue": "q3",
                "status": "open",
                "counts": {"ready": 0, "delayed": 0, "leased": 0, "dead": 1, "waiting": 0},
            },
        ],
    }


@async_test
async def test_queues_without_any_queue_is_an_empty_list(http: Http) -> None:
    reply = await http.get("/queues")
    assert (reply.status, reply.json()) == (
        200,
        {"total": 0, "offset": 0, "limit": 100, "queues": []},
    )


# The bodies of presque 1 stay as they were


async def use_leases(http: Http) -> None:
    """On q1: one job acked, one dead-lettered, one still leased, one ready."""
    await http.post_jobs("q1", 4)
    acked = await lease_one(http, "q1")
    await ack(http, "q1", acked.id, acked.receipt)
    dead = await lease_one(http, "q1")
    await fail(http, "q1", dead.id, dead.receipt, dead="1")
    await lease_one(http, "q1")


@async_test
async def test_job_counts_keep_their_keys_after_leases(http: Http) -> None:
    await use_leases(http)
    reply = await http.get("/j/q1")
    assert reply.json() == queue_counts_body("q1", job_count=1, job_processed=1, job_failed=1)


@async_test
async def test_status_keeps_its_keys_after_leases(http: Http) -> None:
    await use_leases(http)
    assert (await http.get("/status/q1")).json() == {"queue": "q1", "size": 1}
    assert (await http.get("/status/q1", params={"with_desc": "1"})).json() == {
        "queue": "q1",
        "size": 1,
        "jobs": ['{"n": 3}'],
    }
    assert (await http.get("/status/")).json() == {"queues": ["q1"], "size": 1}


@async_test
async def test_control_keeps_its_keys_after_leases(http: Http) -> None:
    await use_leases(http)
    assert (await http.get("/control/q1")).json() == {"queue": "q1", "status": 1}


@async_test
async def test_control_keeps_its_keys_after_settings_are_patched(http: Http) -> None:
    await configure(http, "q1", {"lease": 30})
    assert (await http.get("/control/q1")).json() == {"queue": "q1", "status": 1}
    await close(http, "q1")
    assert (await http.get("/control/q1")).json() == {"queue": "q1", "status": 0}
    assert (await settings(http, "q1"))["lease"] == 30.0


@async_test
async def test_a_queue_configured_before_its_first_job_is_listed(http: Http) -> None:
    assert (await http.request("PATCH", "/queues/early", json_body={"lease": 30})).status == 200
    assert [q["queue"] for q in (await http.get("/queues")).json()["queues"]] == ["early"]
