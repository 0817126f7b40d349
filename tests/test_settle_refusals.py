"""POST /qb/Q/settle: a body it cannot take is a 4xx that settles nothing."""

from __future__ import annotations

from typing import Any

from pytest_twisted import ensureDeferred as async_test

from tests.settling import Held, acks, lease_batch, settle, state
from tests.support import JSON, Http, assert_error


async def two_leased(http: Http) -> list[Held]:
    await http.post_jobs("q1", 2)
    return await lease_batch(http, "q1", 2)


async def assert_refused(
    http: Http, held: list[Held], body: Any, status: int = 400, raw: str | None = None
) -> str:
    """C{body} (or the C{raw} text) is refused with C{status}; nothing was settled."""
    if raw is None:
        reply = await settle(http, "q1", body)
    else:
        reply = await http.post("/qb/q1/settle", body=raw, headers=JSON)
    message = assert_error(reply, status, body if raw is None else raw)
    assert [await state(http, "q1", job.id) for job in held] == ["leased"] * len(held)
    return message


@async_test
async def test_an_id_named_twice_is_refused(http: Http) -> None:
    held = await two_leased(http)
    body = {"acks": acks(held), "fails": acks(held[:1])}
    message = await assert_refused(http, held, body)
    assert message == f"job {held[0].id} is named more than once: settle each job once"


@async_test
async def test_an_id_named_twice_among_the_acks_is_refused(http: Http) -> None:
    held = await two_leased(http)
    await assert_refused(http, held, {"acks": acks(held) + acks(held[1:])})


@async_test
async def test_more_entries_than_max_batch_size_is_refused(http: Http) -> None:
    held = await two_leased(http)
    others = [{"id": f"j{n}", "receipt": "r"} for n in range(999)]
    message = await assert_refused(http, held, {"acks": acks(held), "fails": others})
    assert message == "a batch settles at most 1000 jobs"


@async_test
async def test_acks_that_are_not_a_list_are_refused(http: Http) -> None:
    held = await two_leased(http)
    for acked in ({"id": held[0].id, "receipt": held[0].receipt}, "x", 1, None):
        await assert_refused(http, held, {"acks": acked})


@async_test
async def test_a_body_that_is_not_an_object_of_acks_and_fails_is_refused(http: Http) -> None:
    held = await two_leased(http)
    for body in ([acks(held)], {"ack": acks(held)}, {"acks": acks(held), "other": 1}):
        await assert_refused(http, held, body)


@async_test
async def test_an_empty_or_invalid_body_is_refused(http: Http) -> None:
    held = await two_leased(http)
    for raw in ("", "{", '{"acks": [NaN]}'):
        await assert_refused(http, held, None, raw=raw)


@async_test
async def test_an_entry_without_a_receipt_is_refused(http: Http) -> None:
    held = await two_leased(http)
    body = {"acks": [*acks(held[:1]), {"id": held[1].id}]}
    assert await assert_refused(http, held, body) == "acks[1].receipt is missing"


@async_test
async def test_an_entry_without_an_id_is_refused(http: Http) -> None:
    held = await two_leased(http)
    body = {"fails": [{"receipt": held[0].receipt}]}
    assert await assert_refused(http, held, body) == "fails[0].id is missing"


@async_test
async def test_an_id_that_is_not_a_string_is_refused(http: Http) -> None:
    held = await two_leased(http)
    for job_id in (12, ["a"], "", True):
        body = {"acks": [*acks(held[:1]), {"id": job_id, "receipt": "r"}]}
        message = await assert_refused(http, held, body)
        assert message == "acks[1].id must be a non-empty string"


@async_test
async def test_an_entry_that_is_not_an_object_is_refused(http: Http) -> None:
    held = await two_leased(http)
    await assert_refused(http, held, {"acks": [*acks(held[:1]), held[1].id]})


@async_test
async def test_an_entry_with_an_unknown_member_is_refused(http: Http) -> None:
    held = await two_leased(http)
    message = await assert_refused(http, held, {"acks": acks(held, delay=5)})
    assert message == "acks[0] has an unknown member: delay"


@async_test
async def test_a_result_larger_than_max_result_size_is_413(http: Http) -> None:
    held = await two_leased(http)
    body = {"acks": [*acks(held[:1]), *acks(held[1:], result="x" * 70_000)]}
    message = await assert_refused(http, held, body, status=413)
    assert message == "acks[1].result is larger than 65536 bytes"


@async_test
async def test_a_result_with_a_number_json_cannot_write_is_refused(http: Http) -> None:
    held = await two_leased(http)
    await assert_refused(
        http, held, None, raw='{"acks": [{"id": "a", "receipt": "r", "result": 1e999}]}'
    )


@async_test
async def test_a_delay_out_of_range_is_refused(http: Http) -> None:
    held = await two_leased(http)
    for delay in (-1, 0.0001, 10**12, "5", True):
        await assert_refused(http, held, {"fails": acks(held, delay=delay)})


@async_test
async def test_an_error_or_dead_of_the_wrong_kind_is_refused(http: Http) -> None:
    held = await two_leased(http)
    await assert_refused(http, held, {"fails": acks(held, error=5)})
    await assert_refused(http, held, {"fails": acks(held, dead="yes")})


@async_test
async def test_a_receipt_with_control_characters_is_refused(http: Http) -> None:
    held = await two_leased(http)
    await assert_refused(http, held, {"acks": [*acks(held[:1]), {"id": "a", "receipt": "r\n"}]})


@async_test
async def test_a_body_without_a_json_content_type_is_refused(http: Http) -> None:
    held = await two_leased(http)
    reply = await http.post("/qb/q1/settle", body='{"acks": []}')
    assert assert_error(reply) == "content-type must be set to application/json"
    assert [await state(http, "q1", job.id) for job in held] == ["leased", "leased"]


@async_test
async def test_other_methods_on_settle_are_405(http: Http) -> None:
    for method in ("GET", "HEAD", "PUT", "DELETE", "PATCH"):
        reply = await http.request(method, "/qb/q1/settle")
        assert (reply.status, reply.header("Allow")) == (405, "OPTIONS, POST"), method


@async_test
async def test_options_on_settle_names_post(http: Http) -> None:
    reply = await http.request("OPTIONS", "/qb/q1/settle")
    assert (reply.status, reply.header("Allow")) == (204, "OPTIONS, POST")
