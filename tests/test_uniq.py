"""POST /q/Q?uniq=K: one job per key while it is in the queue."""

from __future__ import annotations

from pytest_twisted import ensureDeferred as async_test

from tests.support import JOB_EXISTS, Http, epoch_seconds


@async_test
async def test_first_job_with_a_uniq_key_is_accepted(http: Http) -> None:
    reply = await http.post_job("q1", {"n": 1}, uniq="k")
    assert reply.status == 201


@async_test
async def test_second_job_with_the_same_uniq_key_is_refused(http: Http) -> None:
    await http.post_job("q1", {"n": 1}, uniq="k")
    reply = await http.post_job("q1", {"n": 2}, uniq="k")
    assert (reply.status, reply.json()) == JOB_EXISTS


@async_test
async def test_refused_duplicate_is_not_stored(http: Http) -> None:
    await http.post_job("q1", {"n": 1}, uniq="k")
    await http.post_job("q1", {"n": 2}, uniq="k")
    assert await http.job_count("q1") == 1
    assert (await http.get("/q/q1")).json() == {"n": 1}
    assert (await http.get("/q/q1")).status == 404


@async_test
async def test_uniq_key_is_free_again_once_the_job_is_taken(http: Http) -> None:
    await http.post_job("q1", {"n": 1}, uniq="k")
    assert (await http.get("/q/q1")).status == 200
    reply = await http.post_job("q1", {"n": 2}, uniq="k")
    assert reply.status == 201
    assert (await http.get("/q/q1")).json() == {"n": 2}


@async_test
async def test_uniq_key_is_free_again_once_the_job_is_taken_in_a_batch(http: Http) -> None:
    await http.post_job("q1", {"n": 1}, uniq="k")
    assert (await http.get("/qb/q1")).status == 200
    assert (await http.post_job("q1", {"n": 2}, uniq="k")).status == 201


@async_test
async def test_uniq_key_stays_held_while_the_job_waits_behind_others(http: Http) -> None:
    await http.post_job("q1", {"n": 0})
    await http.post_job("q1", {"n": 1}, uniq="k")
    assert (await http.get("/q/q1")).json() == {"n": 0}
    reply = await http.post_job("q1", {"n": 2}, uniq="k")
    assert (reply.status, reply.json()) == JOB_EXISTS


@async_test
async def test_uniq_key_is_held_by_a_delayed_job(http: Http) -> None:
    await http.post_job("q1", {"n": 1}, uniq="k", delayed=epoch_seconds(60))
    reply = await http.post_job("q1", {"n": 2}, uniq="k")
    assert (reply.status, reply.json()) == JOB_EXISTS


@async_test
async def test_different_uniq_keys_are_both_accepted(http: Http) -> None:
    assert (await http.post_job("q1", {"n": 1}, uniq="k1")).status == 201
    assert (await http.post_job("q1", {"n": 2}, uniq="k2")).status == 201
    assert await http.job_count("q1") == 2


@async_test
async def test_jobs_without_uniq_are_not_affected(http: Http) -> None:
    await http.post_job("q1", {"n": 1}, uniq="k")
    assert (await http.post_job("q1", {"n": 1})).status == 201
    assert (await http.post_job("q1", {"n": 1})).status == 201
    assert await http.job_count("q1") == 3


@async_test
async def test_same_uniq_key_in_different_queues_is_independent(http: Http) -> None:
    assert (await http.post_job("q1", {"n": 1}, uniq="k")).status == 201
    assert (await http.post_job("q2", {"n": 2}, uniq="k")).status == 201
    assert (await http.get("/q/q1")).status == 200
    reply = await http.post_job("q2", {"n": 3}, uniq="k")
    assert (reply.status, reply.json()) == JOB_EXISTS


@async_test
async def test_purge_frees_the_uniq_key(http: Http) -> None:
    await http.post_job("q1", {"n": 1}, uniq="k")
    assert (await http.delete("/q/q1")).status == 204
    assert (await http.post_job("q1", {"n": 2}, uniq="k")).status == 201
    assert (await http.get("/q/q1")).json() == {"n": 2}
