"""
Jobs are handed out byte for byte as they were posted: by GET /q/Q and
GET /qb/Q (whitespace, key order, duplicate keys, numbers and escapes as
written, Latin-1 bodies of old Perl clients), and spliced verbatim into the
views that embed them (GET /q/Q/<id>, /sse/Q events, /dead/Q pages), which
stay valid UTF-8 JSON whatever the job.
"""

from __future__ import annotations

import json
import re
import socket
from decimal import Decimal
from typing import Any

import pytest
from pytest_twisted import ensureDeferred as async_test
from twisted.internet.threads import deferToThread

from tests.support import JSON, Http, Reply

RECEIPT = "X-Presque-Receipt"
JOB_ID = "X-Presque-Job-Id"
HUGE_INTEGER = b"9" * 5000
LATIN1_JOB = b'{"k":"\xe9"}'


# Helpers


async def post_raw(http: Http, path: str, body: bytes, method: str = "POST") -> Reply:
    """Send C{body} as it is, declared as JSON; the job must be accepted."""
    reply = await http.request(method, path, body=body, headers=JSON)
    assert reply.status == 201, (body[:200], reply.status, reply.body)
    return reply


async def take(http: Http, queue: str = "q1") -> bytes:
    """The body of GET /q/queue, which must hand out a job."""
    reply = await http.get(f"/q/{queue}")
    assert reply.status == 200, reply.body
    return reply.body


async def assert_handed_out_as_posted(http: Http, job: bytes) -> None:
    await post_raw(http, "/q/q1", job)
    assert await take(http) == job


class Members(dict):
    """A JSON object that remembers its members in order, duplicates too."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        self.pairs = pairs

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Members):
            return self.pairs == other.pairs
        # A plain dict has no duplicates: equal members, in any order.
        plain = isinstance(other, dict) and len(self.pairs) == len(other)
        return plain and dict.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(data: bytes) -> Any:
    """C{data} read as a JSON client must: UTF-8, no NaN or Infinity, numbers of
    any size (as Decimals), every member of every object in order."""
    return json.loads(
        data.decode("utf-8"),
        parse_constant=_refuse_constant,
        parse_int=Decimal,
        parse_float=Decimal,
        object_pairs_hook=Members,
    )


def as_utf8(job: bytes) -> bytes:
    """The job as its text reads in UTF-8 (a Latin-1 job is read as Latin-1)."""
    try:
        job.decode("utf-8")
    except UnicodeDecodeError:
        return job.decode("latin-1").encode("utf-8")
    return job


def job_value(job: bytes) -> Any:
    """The value a client reads from C{job}."""
    return strict_json(as_utf8(job))


def assert_embeds(view: bytes, job: bytes) -> dict:
    """C{view} is valid UTF-8 JSON whose "job" is C{job}, spliced verbatim."""
    document = strict_json(view)
    assert document["job"] == job_value(job), view[:300]
    assert as_utf8(job) in view, view[:300]
    return document


async def bury(http: Http, queue: str) -> str:
    """Lease the next job of C{queue} and send it to the dead letters; its id."""
    leased = await http.get(f"/q/{queue}", params={"lease": "30"})
    assert leased.status == 200, leased.body
    job_id = leased.header(JOB_ID)
    failed = await http.put(
        f"/q/{queue}/{job_id}", params={"dead": "1"}, headers={RECEIPT: leased.header(RECEIPT)}
    )
    assert failed.status == 200, failed.body
    assert failed.json()["state"] == "dead"
    return job_id


def _first_job_event(port: int, path: str) -> dict[str, Any]:
    """
    Open C{path} over HTTP/1.0 (so the stream is not chunked) and read it, as an
    EventSource does, until the first "job" event: its fields, with the
    C{data} lines joined by newlines as the spec has it.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"GET " + path.encode("ascii") + b" HTTP/1.0\r\n\r\n")
        received = b""
        while True:
            chunk = connection.recv(65536)
            assert chunk, f"the stream ended before a job event: {received[:500]!r}"
            received += chunk
            if b"\r\n\r\n" not in received:
                continue
            head, stream = received.split(b"\r\n\r\n", 1)
            assert head.split(b" ", 2)[1] == b"200", head
            event = _job_event(stream)
            if event is not None:
                return event


def _job_event(stream: bytes) -> dict[str, Any] | None:
    """The first complete "job" event of C{stream}, or None."""
    lines = re.split(rb"\r\n|\r|\n", stream)
    event: dict[str, Any] = {"data": []}
    # The last piece is an unfinished line.
    for line in lines[:-1]:
        if not line:
            if event.get("event") == "job":
                event["data"] = b"\n".join(event["data"])
                return event
            event = {"data": []}
            continue
        if line.startswith(b":"):
            continue
        name, _, value = line.partition(b":")
        value = value[1:] if value.startswith(b" ") else value
        if name == b"data":
            event["data"].append(value)
        else:
            event[name.decode("ascii")] = value.decode("utf-8")
    return None


async def first_streamed(http: Http, queue: str) -> dict[str, Any]:
    port = int(http.base.rsplit(":", 1)[1])
    return await deferToThread(_first_job_event, port, f"/sse/{queue}?lease=30")


# GET /q/Q hands out exactly the bytes posted


@pytest.mark.parametrize(
    "job",
    [
        b'{ "a" :  1 ,\n\t"b" : [ 1 , 2 ]\r\n}',
        b'{\n    "indented": {\n        "deeper": true\n    }\n}\n',
        b'{"a":1}\n',
        b"[\n]",
    ],
    ids=["spaces-tabs-crlf", "indented", "trailing-newline", "empty-array-over-two-lines"],
)
@async_test
async def test_whitespace_and_newlines_are_kept(http: Http, job: bytes) -> None:
    await assert_handed_out_as_posted(http, job)


@async_test
async def test_key_order_is_kept(http: Http) -> None:
    await assert_handed_out_as_posted(http, b'{"z": 1, "a": 2, "m": 3, "b": 4}')


@pytest.mark.parametrize(
    "job", [b'{"a":1,"a":2}', b'{"a":{"b":1,"b":[1],"b":null},"a":2}'], ids=["flat", "nested"]
)
@async_test
async def test_duplicate_keys_are_kept(http: Http, job: bytes) -> None:
    await assert_handed_out_as_posted(http, job)


@pytest.mark.parametrize(
    "number",
    [b"1.50", b"1e400", b"-1E+400", b"-0.0", b"-0", HUGE_INTEGER, b"0.1e-7", b"1e-400", b"10E2"],
    ids=["1.50", "1e400", "-1E+400", "-0.0", "-0", "5000-digits", "0.1e-7", "1e-400", "10E2"],
)
@async_test
async def test_numbers_come_back_as_written(http: Http, number: bytes) -> None:
    await assert_handed_out_as_posted(http, b'{"n": [%s, %s]}' % (number, number))


@pytest.mark.parametrize(
    "escaped",
    [
        rb'"\u00e9"',
        rb'"\u00E9"',
        rb'"\/"',
        rb'"\n"',
        rb'"\"\\\b\f\r\t"',
        rb'"\ud83d\ude00"',
        rb'"\u0000"',
    ],
    ids=["u00e9", "u00E9", "solidus", "newline", "the-others", "surrogate-pair", "nul"],
)
@async_test
async def test_escapes_come_back_as_written(http: Http, escaped: bytes) -> None:
    await assert_handed_out_as_posted(http, b'{"s": %s, %s: 1}' % (escaped, escaped))


@async_test
async def test_raw_utf8_characters_are_kept(http: Http) -> None:
    job = '{"é": "ü ß 漢字 😀 \u2028 \u00a0 \x7f"}'.encode()
    await assert_handed_out_as_posted(http, job)


@pytest.mark.parametrize(
    "job",
    [b'"just a string"', b"1.50", b"1e400", HUGE_INTEGER, b"null", b"true", b"false"],
    ids=["string", "1.50", "1e400", "5000-digits", "null", "true", "false"],
)
@async_test
async def test_a_top_level_scalar_is_a_job_like_any_other(http: Http, job: bytes) -> None:
    await assert_handed_out_as_posted(http, job)


@async_test
async def test_a_job_with_a_leading_space_keeps_it(http: Http) -> None:
    await assert_handed_out_as_posted(http, b' {"a": 1}')


@async_test
async def test_a_job_is_handed_out_as_application_json(http: Http) -> None:
    await post_raw(http, "/q/q1", b'{"a" : 1.50}')
    reply = await http.get("/q/q1")
    assert reply.header("Content-Type") == "application/json"


# GET /qb/Q hands out each job's own text from the batch


@async_test
async def test_batch_elements_are_the_texts_as_they_stood_in_the_batch(http: Http) -> None:
    body = b'{"jobs": [ {"a" : 1}, [1, 2], "x", 1.50, {"k":1,"k":2}, 1e400 ]}'
    await post_raw(http, "/qb/q1", body)
    reply = await http.get("/qb/q1", params={"batch_size": "10"})
    assert reply.status == 200
    assert reply.json() == ['{"a" : 1}', "[1, 2]", '"x"', "1.50", '{"k":1,"k":2}', "1e400"]


@async_test
async def test_batch_elements_over_several_lines_keep_their_lines(http: Http) -> None:
    body = b'{\n  "jobs": [\n    {\n      "a": 1\n    },\n    [\r\n1\t]\n  ]\n}\n'
    await post_raw(http, "/qb/q1", body)
    reply = await http.get("/qb/q1")
    assert reply.json() == ['{\n      "a": 1\n    }', "[\r\n1\t]"]


@async_test
async def test_each_job_of_a_batch_is_handed_out_by_q_byte_for_byte(http: Http) -> None:
    jobs = [
        b'{"a" : 1}',
        b"[1, 2]",
        b'"x"',
        b"1.50",
        b'{"k":1,"k":2}',
        b"1e400",
        HUGE_INTEGER,
        rb'"\u00e9\/\n"',
        '"é 😀"'.encode(),
        b"-0.0",
        b"0.1e-7",
        b"null",
    ]
    await post_raw(http, "/qb/q1", b'{"jobs":[%s]}' % b" ,\n ".join(jobs))
    assert [await take(http) for _ in jobs] == jobs


@async_test
async def test_a_batch_with_jobs_twice_takes_the_last(http: Http) -> None:
    await post_raw(http, "/qb/q1", b'{"jobs": [1, 2], "jobs": [ {"b" : 2}, 3 ]}')
    assert (await http.get("/qb/q1")).json() == ['{"b" : 2}', "3"]


@async_test
async def test_a_batch_whose_last_jobs_is_an_array_is_taken_though_the_first_was_not(
    http: Http,
) -> None:
    await post_raw(http, "/qb/q1", b'{"jobs": 5, "other": [9], "jobs": ["last"]}')
    assert (await http.get("/qb/q1")).json() == ['"last"']


@async_test
async def test_a_batch_whose_last_jobs_is_not_an_array_is_refused(http: Http) -> None:
    reply = await http.post("/qb/q1", body=b'{"jobs": [1], "jobs": 5}', headers=JSON)
    assert (reply.status, reply.json()) == (400, {"error": "jobs should be an array of job"})
    assert (await http.get("/q/q1")).status == 404


@async_test
async def test_a_jobs_key_nested_deeper_is_not_the_batch(http: Http) -> None:
    await post_raw(http, "/qb/q1", b'{"x": {"jobs": [9]}, "jobs": [1], "y": [{"jobs": [8]}]}')
    assert (await http.get("/qb/q1")).json() == ["1"]


# Views that embed a job: valid JSON, the job spliced in as posted

POISONOUS = [
    b"1e400",
    b'{"a":1,"a":2}',
    rb'"\ud83d\ude00"',
    HUGE_INTEGER,
    b'{"n": -0.0, "m": 0.1e-7, "s": "\\u00e9\\/"}',
    '{"raw": "é 😀 \u2028"}'.encode(),
]
POISON_IDS = ["1e400", "duplicate-keys", "surrogate-pair", "5000-digits", "numbers", "raw-utf8"]


@pytest.mark.parametrize("job", POISONOUS, ids=POISON_IDS)
@async_test
async def test_a_jobs_view_is_valid_json_embedding_the_job_as_posted(
    http: Http, job: bytes
) -> None:
    job_id = (await post_raw(http, "/q/q1", job)).header(JOB_ID)
    reply = await http.get(f"/q/q1/{job_id}")
    assert reply.status == 200
    assert reply.header("Content-Type") == "application/json"
    view = assert_embeds(reply.body, job)
    assert view["id"] == job_id


@async_test
async def test_a_jobs_view_of_a_job_over_several_lines_embeds_it_as_posted(http: Http) -> None:
    job = b'{\r\n  "a": [1,\n 2]\n}\n'
    job_id = (await post_raw(http, "/q/q1", job)).header(JOB_ID)
    assert_embeds((await http.get(f"/q/q1/{job_id}")).body, job)


@pytest.mark.parametrize("job", POISONOUS, ids=POISON_IDS)
@async_test
async def test_a_streamed_event_is_valid_json_embedding_the_job_as_posted(
    http: Http, job: bytes
) -> None:
    job_id = (await post_raw(http, "/q/q1", job)).header(JOB_ID)
    event = await first_streamed(http, "q1")
    assert event["id"] == job_id
    assert assert_embeds(event["data"], job)["id"] == job_id


@async_test
async def test_a_streamed_event_of_a_job_over_several_lines_is_valid_json(http: Http) -> None:
    # An SSE line cannot hold a newline: the event's data lines, joined by the
    # client, must give the job back (its line breaks as newlines).
    job = b'{\n  "a": [1,\n\n 2],\r\n  "b": "x"\r}'
    job_id = (await post_raw(http, "/q/q1", job)).header(JOB_ID)
    event = await first_streamed(http, "q1")
    document = strict_json(event["data"])
    assert document["id"] == job_id
    assert document["job"] == job_value(job)


@async_test
async def test_a_streamed_latin1_job_is_valid_utf8_json(http: Http) -> None:
    await post_raw(http, "/q/q1", LATIN1_JOB)
    event = await first_streamed(http, "q1")
    assert strict_json(event["data"])["job"] == {"k": "é"}


@pytest.mark.parametrize("job", POISONOUS, ids=POISON_IDS)
@async_test
async def test_a_dead_letter_page_is_valid_json_embedding_the_job_as_posted(
    http: Http, job: bytes
) -> None:
    await post_raw(http, "/q/q1", job)
    job_id = await bury(http, "q1")
    reply = await http.get("/dead/q1")
    assert reply.status == 200
    assert reply.header("Content-Type") == "application/json"
    [letter] = strict_json(reply.body)["jobs"]
    assert letter["id"] == job_id
    assert letter["job"] == job_value(job)
    assert as_utf8(job) in reply.body


@async_test
async def test_poisonous_looking_jobs_do_not_break_a_dead_letter_page_of_others(
    http: Http,
) -> None:
    jobs = [
        b'{"plain": 1}',
        *POISONOUS,
        b'{\n  "over": [1,\n 2]\n}\n',
        LATIN1_JOB,
        b" [1.50] ",
        b'{"plain": 2}',
    ]
    for job in jobs:
        await post_raw(http, "/q/q1", job)
    ids = [await bury(http, "q1") for _ in jobs]
    reply = await http.get("/dead/q1")
    assert reply.status == 200
    page = strict_json(reply.body)
    assert page["total"] == len(jobs)
    assert [letter["id"] for letter in page["jobs"]] == ids
    assert [letter["job"] for letter in page["jobs"]] == [job_value(job) for job in jobs]
    for job in jobs:
        assert as_utf8(job).strip() in reply.body


# Old clients: Net::Presque sends Latin-1 bytes


@async_test
async def test_a_latin1_job_is_accepted_and_handed_out_byte_for_byte(http: Http) -> None:
    await assert_handed_out_as_posted(http, LATIN1_JOB)


@async_test
async def test_a_latin1_job_in_a_batch_get_is_its_latin1_text(http: Http) -> None:
    await post_raw(http, "/q/q1", LATIN1_JOB)
    reply = await http.get("/qb/q1")
    assert reply.status == 200
    assert reply.header("Content-Type") == "application/json"
    assert strict_json(reply.body) == ['{"k":"\u00e9"}']


@async_test
async def test_a_latin1_jobs_view_is_utf8_json_with_the_text(http: Http) -> None:
    job_id = (await post_raw(http, "/q/q1", LATIN1_JOB)).header(JOB_ID)
    reply = await http.get(f"/q/q1/{job_id}")
    assert reply.status == 200
    assert strict_json(reply.body)["job"] == {"k": "é"}


@async_test
async def test_a_latin1_job_given_back_with_put_is_handed_out_byte_for_byte(http: Http) -> None:
    await post_raw(http, "/q/q1", LATIN1_JOB, method="PUT")
    assert await take(http) == LATIN1_JOB


@async_test
async def test_a_latin1_job_given_back_with_put_reads_as_latin1_everywhere(http: Http) -> None:
    job_id = (await post_raw(http, "/q/q1", LATIN1_JOB, method="PUT")).header(JOB_ID)
    view = await http.get(f"/q/q1/{job_id}")
    assert strict_json(view.body)["job"] == {"k": "é"}
    assert (await http.get("/qb/q1")).json() == ['{"k":"\u00e9"}']


@async_test
async def test_the_jobs_of_a_latin1_batch_are_handed_out_byte_for_byte(http: Http) -> None:
    await post_raw(http, "/qb/q1", b'{"jobs":[{"k":"\xe9"}, "caf\xe9"]}')
    assert await take(http) == LATIN1_JOB
    assert await take(http) == b'"caf\xe9"'
