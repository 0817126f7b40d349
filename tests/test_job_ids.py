"""
Job ids: 14 digits and letters, that sort in the order a server made them
and tell when they were made, shorter than the 26 hexadecimal digits of
earlier versions because a job's id is stored twice (its field in the
queue's hash of payloads, its place in a list). Jobs stored with those
older ids still read, run and settle by them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import pytest
from pytest_twisted import ensureDeferred as async_test

from presque.broker import keys
from presque.broker.keys import (
    HEX_JOB_ID_LENGTH,
    JOB_ID_DIGITS,
    JOB_ID_LENGTH,
    KeySpace,
    job_time,
    new_job_id,
)
from tests.conftest import Presque
from tests.leasing import ack, lease_one
from tests.support import in_a_forked_child

KEYS = KeySpace()
QUEUE = "ids"
#: A millisecond of 2026, and the id of earlier versions made in it.
MILLIS = 1_796_000_000_123
HEX_ID = f"{MILLIS:012x}00002a9e3779b9"


def number(job_id: str) -> int:
    """What a new id writes, as a number: its milliseconds * 62**6 + its counter."""
    value = 0
    for digit in job_id:
        value = value * len(JOB_ID_DIGITS) + JOB_ID_DIGITS.index(digit)
    return value


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int], None]]:
    """
    Stops the clock of new ids at the millisecond it is given (MILLIS at
    first); the ids' memory of what they made is put back afterwards.
    """
    for name in ("last", "millis", "written"):
        monkeypatch.setattr(keys._IdClock, name, getattr(keys._IdClock, name))
    now = [MILLIS * 1_000_000]
    monkeypatch.setattr(keys, "time", SimpleNamespace(time_ns=lambda: now[0]))
    keys._IdClock.forget()

    def stop_at(millis: int) -> None:
        now[0] = millis * 1_000_000

    yield stop_at


def test_a_new_id_is_14_digits_and_letters() -> None:
    job_id = new_job_id()
    assert (len(job_id), JOB_ID_LENGTH) == (14, 14)
    assert set(job_id) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def test_new_ids_sort_in_the_order_they_were_made() -> None:
    made = [new_job_id() for _ in range(50_000)]
    assert len({job_time(job_id) for job_id in made}) > 1, "made within one millisecond"
    assert sorted(made) == made
    assert len(set(made)) == len(made)


def test_ids_made_in_one_millisecond_count_up(clock: Callable[[int], None]) -> None:
    made = [new_job_id() for _ in range(3)]
    assert [number(job_id) - number(made[0]) for job_id in made] == [0, 1, 2]
    assert {job_time(job_id) for job_id in made} == {MILLIS / 1000}


def test_ids_start_from_another_counter_in_each_millisecond(
    clock: Callable[[int], None],
) -> None:
    counters = set()
    for millis in range(MILLIS, MILLIS + 20):
        clock(millis)
        counters.add(number(new_job_id()) % 62**6)
    assert len(counters) == 20


def test_ids_keep_their_order_when_the_clock_goes_back(clock: Callable[[int], None]) -> None:
    first = new_job_id()
    clock(MILLIS - 5_000)
    second = new_job_id()
    assert (second > first, number(second) - number(first)) == (True, 1)


def test_a_counter_past_its_last_value_carries_into_the_next_millisecond(
    clock: Callable[[int], None],
) -> None:
    keys._IdClock.last = (MILLIS + 1) * 62**6 - 2
    last_of_the_millisecond = new_job_id()
    carried = new_job_id()
    assert carried > last_of_the_millisecond
    assert (job_time(last_of_the_millisecond), job_time(carried)) == (
        MILLIS / 1000,
        (MILLIS + 1) / 1000,
    )


def test_a_forked_process_does_not_count_on_from_its_parents_ids(
    clock: Callable[[int], None],
) -> None:
    new_job_id()
    childs = in_a_forked_child(new_job_id)
    assert childs != new_job_id()
    assert job_time(childs) == MILLIS / 1000


def test_job_time_of_a_new_id_is_the_millisecond_it_was_made(
    clock: Callable[[int], None],
) -> None:
    assert job_time(new_job_id()) == MILLIS / 1000


def test_job_time_of_a_new_id_made_now_is_now() -> None:
    before = time.time()
    made = job_time(new_job_id())
    assert made is not None and before - 0.002 <= made <= time.time()


def test_job_time_of_a_26_digit_hexadecimal_id_of_earlier_versions() -> None:
    assert (len(HEX_ID), HEX_JOB_ID_LENGTH) == (26, 26)
    assert job_time(HEX_ID) == MILLIS / 1000


@pytest.mark.parametrize(
    "job_id", ["", "nope", "0Vcirk-ZfRzghG", "0Vcirk ZfRzghG", "x" * 26, "0Vcirk" * 4]
)
def test_job_time_of_an_id_presque_did_not_make_is_none(job_id: str) -> None:
    assert job_time(job_id) is None


def test_new_ids_sort_after_the_hexadecimal_ids_of_earlier_versions() -> None:
    # Ties in a sorted set (jobs due at the same time) keep posting order
    # across an upgrade.
    made_now = f"{time.time_ns() // 1_000_000:012x}ffffffffffffff"
    assert new_job_id() > made_now


# Jobs stored by earlier versions, under 26-digit hexadecimal ids


def hex_id_job(presque: Presque, job: bytes) -> str:
    """A ready job written straight into Redis as the version before 14-character ids did."""
    queue = KEYS.queue(QUEUE)
    presque.redis_server.call("HSET", queue.jobs, HEX_ID, job)
    presque.redis_server.call("RPUSH", queue.ready, HEX_ID)
    return HEX_ID


@async_test
async def test_a_job_stored_under_a_hexadecimal_id_is_shown_by_it(presque: Presque) -> None:
    job_id = hex_id_job(presque, b'{"n":1}')
    reply = await presque.http.get(f"/q/{QUEUE}/{job_id}")
    assert reply.status == 200, reply.body
    view = reply.json()
    assert (view["id"], view["state"], view["created"]) == (job_id, "ready", MILLIS / 1000)


@async_test
async def test_a_job_stored_under_a_hexadecimal_id_is_leased_and_acked_by_it(
    presque: Presque,
) -> None:
    job_id = hex_id_job(presque, b'{"n":1}')
    leased = await lease_one(presque.http, QUEUE)
    assert (leased.id, leased.job) == (job_id, {"n": 1})
    assert (await ack(presque.http, QUEUE, job_id, leased.receipt)).status == 204
    assert (await presque.http.get(f"/q/{QUEUE}/{job_id}")).json()["state"] == "done"


@async_test
async def test_a_new_job_may_wait_for_a_job_stored_under_a_hexadecimal_id(
    presque: Presque,
) -> None:
    waited_on = hex_id_job(presque, b'{"n":1}')
    posted = await presque.http.post_job(QUEUE, {"n": 2}, after=waited_on)
    assert posted.status == 201, posted.body
    leased = await lease_one(presque.http, QUEUE)
    assert (await ack(presque.http, QUEUE, waited_on, leased.receipt)).status == 204
    assert (await lease_one(presque.http, QUEUE)).id == posted.header("X-Presque-Job-Id")
