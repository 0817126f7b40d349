"""
What presque 1's clients send and what they get back, case by case, as
docs/compatibility.md states it: Net::Presque (Net::HTTP::API), the SPORE
based presque::worker and the Clojure client, and where presque answers
differently from presque 1 on purpose. Requests whose bytes matter (a bare
C{?}, no Content-Type, no body, raw Latin-1) go over a plain socket.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from pytest_twisted import ensureDeferred as async_test
from twisted.internet.threads import deferToThread
from twisted.web.http_headers import Headers

from harness.polling import eventually
from tests.conftest import Presque
from tests.support import (
    JSON,
    NO_JOB,
    NOT_JSON_CONTENT_TYPE,
    QUEUE_CLOSED,
    WORKER,
    Http,
    Reply,
    assert_error,
    epoch_seconds,
    queue_counts_body,
)

#: Java's own Accept header, which the Clojure client sends on every request.
JAVA_ACCEPT = "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2"
#: The virtual-queue body of the newest Net::Presque's change_queue_status.
VIRTUAL_QUEUE = b'{"type":"virtual","action":"set","queues":["a"]}'
#: A job as Net::Presque sends a Perl character string: raw Latin-1, not UTF-8.
LATIN1_JOB = b'{"k":"\xe9"}'
#: The same job in UTF-8, as SPORE and the Clojure client send it.
UTF8_JOB = '{"k":"é"}'.encode()


def _exchange(port: int, data: bytes) -> bytes:
    """Send C{data} and read the answer until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


async def wire(
    http: Http,
    method: str,
    target: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    version: str = "HTTP/1.1",
) -> Reply:
    """
    One request with exactly these bytes: C{target} as written, only C{headers}
    besides Host (and Connection: close in HTTP/1.1), a Content-Length only
    when there is a C{body}.
    """
    lines = [f"{method} {target} {version}", "Host: 127.0.0.1"]
    if version == "HTTP/1.1":
        lines.append("Connection: close")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    data = "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + (body or b"")
    port = int(http.base.rsplit(":", 1)[1])
    raw = await deferToThread(_exchange, port, data)
    head, _, content = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    answer_headers = Headers()
    for line in header_lines:
        name, _, value = line.partition(":")
        answer_headers.addRawHeader(name.strip(), value.strip())
    assert answer_headers.getRawHeaders("Transfer-Encoding") is None, head
    return Reply(int(status_line.split()[1]), answer_headers, content)


def content_types(reply: Reply) -> list[str] | None:
    """Every Content-Type header of C{reply}, as sent."""
    return reply.headers.getRawHeaders("Content-Type")


async def register(http: Http, queue: str, worker: str) -> None:
    reply = await http.post(f"/w/{queue}", headers={WORKER: worker}, body=b"{}")
    assert reply.status == 201


async def take_one(http: Http, queue: str, worker: str) -> None:
    reply = await http.get(f"/q/{queue}", headers={WORKER: worker})
    assert reply.status == 200


# Every request


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/q/q1", 200),
        ("GET", "/qb/q1", 200),
        ("GET", "/j/q1", 200),
        ("GET", "/status/", 200),
        ("GET", "/status/q1", 200),
        ("GET", "/control/q1", 200),
        ("GET", "/w/", 200),
        ("DELETE", "/q/q1", 204),
        ("DELETE", "/w/q1", 204),
    ],
)
@async_test
async def test_a_content_type_on_get_and_delete_is_ignored(
    http: Http, method: str, path: str, status: int
) -> None:
    """docs/compatibility.md, Every request: Net::Presque and the Clojure client send
    Content-Type: application/json on GET and DELETE too; it changes nothing."""
    await http.post_job("q1", {"n": 1})
    await register(http, "q1", "w1")
    reply = await http.request(method, path, headers={**JSON, WORKER: "w1"})
    assert reply.status == status


@async_test
async def test_any_accept_header_is_answered_with_json(http: Http) -> None:
    """docs/compatibility.md, Every request: the Clojure client sends Java's Accept
    header (SPORE sends application/json); the answer is JSON whatever it says."""
    await http.post_job("q1", {"n": 1})
    for accept in (JAVA_ACCEPT, "application/json"):
        reply = await http.get("/status/q1", headers={"Accept": accept})
        assert (reply.status, reply.json()) == (200, {"queue": "q1", "size": 1})


@async_test
async def test_a_post_with_a_bare_question_mark_adds_the_job(http: Http) -> None:
    """docs/compatibility.md, Every request: the Clojure client's create-job sends
    POST /q/Q? (a bare question mark)."""
    reply = await wire(http, "POST", "/q/q1?", JSON, b'{"n": 1}')
    assert (reply.status, reply.body) == (201, b"")
    assert (await http.get("/q/q1")).body == b'{"n": 1}'


@async_test
async def test_a_get_with_a_bare_question_mark_takes_the_job(http: Http) -> None:
    """docs/compatibility.md, Every request: the Clojure client's fetch-job sends
    GET /q/Q?."""
    await http.post_job("q1", {"n": 1})
    reply = await wire(http, "GET", "/q/q1?", {**JSON, WORKER: "clj-worker"})
    assert (reply.status, reply.json()) == (200, {"n": 1})


@async_test
async def test_a_batch_post_with_a_bare_question_mark_adds_the_jobs(http: Http) -> None:
    """docs/compatibility.md, Every request: the Clojure client's create-jobs sends
    POST /qb/Q?."""
    reply = await wire(http, "POST", "/qb/q1?", JSON, b'{"jobs":[{"n":1},{"n":2}]}')
    assert (reply.status, reply.body) == (201, b"")
    assert await http.job_count("q1") == 2


@async_test
async def test_a_leading_empty_query_component_is_ignored(http: Http) -> None:
    """docs/compatibility.md, Every request: the Clojure client's fetch-jobs sends
    GET /qb/Q?&batch_size=5; batch_size still counts."""
    await http.post_jobs("q1", 7)
    reply = await wire(http, "GET", "/qb/q1?&batch_size=5", {**JSON, WORKER: "clj-worker"})
    assert reply.status == 200
    assert [json.loads(text) for text in reply.json()] == [{"n": n} for n in range(5)]


@async_test
async def test_an_empty_query_value_counts_as_absent(http: Http) -> None:
    """docs/compatibility.md, Every request: ?delayed=&uniq= is a job neither
    delayed nor unique, as in presque 1."""
    for _ in range(2):
        reply = await wire(http, "POST", "/q/q1?delayed=&uniq=", JSON, b'{"n": 1}')
        assert reply.status == 201
    assert await http.job_count("q1") == 2


@async_test
async def test_an_http_1_0_request_is_answered_and_the_connection_closed(http: Http) -> None:
    """docs/compatibility.md, Every request: a client that reads its answer until
    the connection closes gets the whole answer."""
    await http.post_job("q1", {"n": 1})
    reply = await wire(http, "GET", "/q/q1", version="HTTP/1.0")
    assert (reply.status, reply.body) == (200, b'{"n": 1}')


# Every answer


async def _worker_q1_with_a_job(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    await register(http, "q1", "w1")


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/q/q1", b'{"n": 2}', 201),
        ("PUT", "/q/q1", b'{"n": 2}', 201),
        ("POST", "/qb/q1", b'{"jobs": [{"n": 2}]}', 201),
        ("POST", "/w/q2", b"{}", 201),
        ("DELETE", "/q/q1", None, 204),
        ("DELETE", "/w/q1", None, 204),
    ],
)
@async_test
async def test_empty_answers_carry_exactly_application_json(
    http: Http, method: str, path: str, body: bytes | None, status: int
) -> None:
    """docs/compatibility.md, Every answer: the empty 201 and 204 have no body and
    Content-Type: application/json, as presque 1's did."""
    await _worker_q1_with_a_job(http)
    reply = await http.request(method, path, body=body, headers={**JSON, WORKER: "w1"})
    assert (reply.status, reply.body) == (status, b"")
    assert content_types(reply) == ["application/json"]


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status"),
    [
        ("GET", "/q/q1", {}, None, 200),
        ("GET", "/q/empty", {}, None, 404),
        ("GET", "/qb/q1", {}, None, 200),
        ("GET", "/j/q1", {}, None, 200),
        ("GET", "/status/", {}, None, 200),
        ("GET", "/status/q1", {}, None, 200),
        ("GET", "/control/q1", {}, None, 200),
        ("POST", "/control/q1", {}, b'{"status": "start"}', 200),
        ("GET", "/w/", {}, None, 200),
        ("GET", "/w", {}, None, 200),
        ("GET", "/w?worker_id=w1", {}, None, 200),
        ("GET", "/w/?queue_name=q1", {}, None, 200),
        ("POST", "/q/q1", {"Content-Type": "text/plain"}, b'{"n": 1}', 400),
        ("POST", "/w/q1", {WORKER: ""}, None, 400),
        ("PATCH", "/q/q1", {}, None, 405),
        ("GET", "/nowhere", {}, None, 404),
    ],
)
@async_test
async def test_json_answers_carry_exactly_application_json(
    http: Http,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes | None,
    status: int,
) -> None:
    """docs/compatibility.md, Every answer: every answer but the dashboard is JSON
    with exactly Content-Type: application/json, errors included."""
    await _worker_q1_with_a_job(http)
    reply = await wire(http, method, path, headers, body)
    assert reply.status == status
    assert content_types(reply) == ["application/json"]
    json.loads(reply.body)


@async_test
async def test_an_error_is_an_object_with_one_error_string(http: Http) -> None:
    """docs/compatibility.md, Every answer: an error is {"error": "<message>"}, which
    the Clojure client reads its message from."""
    reply = await http.get("/q/")
    assert (reply.status, reply.json()) == (404, {"error": "queue name is missing"})


# Jobs: /q


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json;", "application/json; charset=utf-8"]
)
@pytest.mark.parametrize("method", ["POST", "PUT"])
@async_test
async def test_the_content_types_old_clients_send_are_accepted_on_q(
    http: Http, method: str, content_type: str
) -> None:
    """docs/compatibility.md, Jobs: Net::Presque and the Clojure client send
    application/json, SPORE application/json; (with its semicolon)."""
    reply = await wire(http, method, "/q/q1", {"Content-Type": content_type}, b'{"n": 1}')
    assert (reply.status, reply.body) == (201, b"")
    assert (await http.get("/q/q1")).body == b'{"n": 1}'


@async_test
async def test_the_spore_content_type_is_accepted_on_post_q(http: Http) -> None:
    """docs/compatibility.md, Jobs: SPORE's Format::JSON sends Content-Type:
    application/json; with a trailing semicolon."""
    reply = await http.post(
        "/q/q1", body=b'{"n": 1}', headers={"Content-Type": "application/json;"}
    )
    assert reply.status == 201
    assert await http.job_count("q1") == 1


@async_test
async def test_a_job_without_a_json_content_type_is_refused(http: Http) -> None:
    """docs/compatibility.md, Jobs: a job without a JSON Content-Type is refused as
    in presque 1, and nothing is stored."""
    reply = await wire(http, "POST", "/q/q1", {}, b'{"n": 1}')
    assert (reply.status, reply.json()) == NOT_JSON_CONTENT_TYPE
    assert await http.job_count("q1") == 0


@async_test
async def test_an_empty_job_is_job_is_missing(http: Http) -> None:
    """docs/compatibility.md, Jobs: an empty body is 400 {"error": "job is missing"}."""
    reply = await wire(http, "POST", "/q/q1", JSON, b"")
    assert (reply.status, reply.json()) == (400, {"error": "job is missing"})


@async_test
async def test_a_latin1_job_is_accepted_and_returned_byte_for_byte(http: Http) -> None:
    """docs/compatibility.md, Jobs: Net::Presque sends non-ASCII characters as raw
    Latin-1 bytes; GET /q answers exactly those bytes."""
    reply = await wire(http, "POST", "/q/q1", JSON, LATIN1_JOB)
    assert reply.status == 201
    reply = await wire(http, "GET", "/q/q1")
    assert (reply.status, reply.body) == (200, LATIN1_JOB)
    assert content_types(reply) == ["application/json"]


@async_test
async def test_a_utf8_job_is_returned_byte_for_byte(http: Http) -> None:
    """docs/compatibility.md, Jobs: SPORE and the Clojure client send UTF-8; GET /q
    answers exactly the bytes posted, spacing and key order included."""
    job = b'{"b" : 2, "a": "\xc3\xa9t\xc3\xa9"}'
    await http.post("/q/q1", body=job, headers=JSON)
    assert (await http.get("/q/q1")).body == job


@async_test
async def test_an_empty_queue_answers_no_job_as_json(http: Http) -> None:
    """docs/compatibility.md, Jobs: an empty queue is 404 {"error": "no job"}, a JSON
    body the Clojure client decodes and presque::worker reads as "idle"."""
    reply = await wire(http, "GET", "/q/q1?", {**JSON, WORKER: "clj-worker"})
    assert (reply.status, reply.json()) == NO_JOB


@async_test
async def test_a_closed_queue_answers_queue_is_closed(http: Http) -> None:
    """docs/compatibility.md, Jobs: GET on a closed queue is 404 {"error": "queue is
    closed"}."""
    await http.post_job("q1", {"n": 1})
    await http.post("/control/q1", body=b'{"status": "stop"}')
    reply = await http.get("/q/q1")
    assert (reply.status, reply.json()) == QUEUE_CLOSED


@async_test
async def test_a_workers_retry_is_stored_with_the_keys_it_added(http: Http) -> None:
    """docs/compatibility.md, Jobs: presque::worker PUTs the failed job back with its
    fail and retries_left keys; the queue counts one failure."""
    await http.post_job("q1", {"n": 1})
    await take_one(http, "q1", "w1")
    retry = b'{"n":1,"fail":["died"],"retries_left":4}'
    reply = await http.put("/q/q1", body=retry, headers={**JSON, WORKER: "w1"})
    assert (reply.status, reply.body) == (201, b"")
    assert await http.queue_counts("q1") == queue_counts_body("q1", 1, 1, 1)
    assert (await http.get("/q/q1")).body == retry


@async_test
async def test_a_put_with_delayed_holds_the_job_back(http: Http) -> None:
    """docs/compatibility.md, Jobs: the SPORE presque::worker retries with PUT
    /q/Q?delayed=<epoch>."""
    reply = await http.put(
        "/q/q1", body=b'{"n": 1}', headers=JSON, params={"delayed": epoch_seconds(3600)}
    )
    assert reply.status == 201
    assert (await http.get("/q/q1")).status == 404


@async_test
async def test_uniq_refuses_a_second_job_while_the_first_waits(http: Http) -> None:
    """docs/compatibility.md, Jobs: Net::Presque sends ?uniq=U (and the same key in
    the body); a second job with U is 400 {"error": "job already exists"}."""
    first = await http.post("/q/q1?uniq=u1", body=b'{"n":1,"uniq":"u1"}', headers=JSON)
    second = await http.post("/q/q1?uniq=u1", body=b'{"n":2,"uniq":"u1"}', headers=JSON)
    assert first.status == 201
    assert (second.status, second.json()) == (400, {"error": "job already exists"})


@async_test
async def test_depends_is_ignored_and_the_job_is_ready_at_once(http: Http) -> None:
    """docs/compatibility.md, Jobs: the newest Net::Presque may send ?depends=...;
    like presque 1 (not its later fork), the job is queued at once, as posted."""
    job = b'{"n":1,"depends":"UNIQ_a"}'
    reply = await http.post("/q/q1?depends=UNIQ_a,other:UNIQ_b", body=job, headers=JSON)
    assert reply.status == 201
    assert (await http.get("/q/q1")).body == job


@async_test
async def test_a_batch_size_on_q_still_takes_one_job(http: Http) -> None:
    """docs/compatibility.md, Jobs: SPORE's spec sends fetch_jobs to GET
    /q/Q?batch_size=N, which takes one job, as in presque 1."""
    await http.post_jobs("q1", 3)
    reply = await http.get("/q/q1?batch_size=2")
    assert (reply.status, reply.json()) == (200, {"n": 0})
    assert await http.job_count("q1") == 2


@async_test
async def test_delete_purges_but_keeps_the_queue_listed(http: Http) -> None:
    """docs/compatibility.md, Jobs: DELETE /q/Q removes the jobs and counters; the
    queue stays in /status/ (as in presque 1)."""
    await http.post_jobs("q1", 2)
    await http.get("/q/q1")
    reply = await http.delete("/q/q1")
    assert (reply.status, reply.body) == (204, b"")
    assert await http.queue_counts("q1") == queue_counts_body("q1")
    assert (await http.get("/status/")).json() == {"queues": ["q1"], "size": 1}


@async_test
async def test_delete_keeps_a_closed_queue_closed(http: Http) -> None:
    """docs/compatibility.md, Jobs: DELETE /q/Q leaves the queue's open or closed
    status as it was (as in presque 1)."""
    await http.post_job("q1", {"n": 1})
    await http.post("/control/q1", body=b'{"status": "stop"}')
    await http.delete("/q/q1")
    assert (await http.get("/control/q1")).json() == {"queue": "q1", "status": 0}


@async_test
async def test_a_head_on_q_takes_no_job(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: HEAD /q/Q and HEAD /qb/Q take
    nothing (presque 1 ran them as GET and popped jobs)."""
    await http.post_job("q1", {"n": 1})
    for path in ("/q/q1", "/qb/q1"):
        reply = await http.request("HEAD", path)
        assert reply.status == 405
        assert "HEAD" not in reply.header("Allow")
    assert await http.job_count("q1") == 1


# Batches: /qb


@async_test
async def test_a_batch_is_an_array_of_strings_that_each_decode_to_a_job(http: Http) -> None:
    """docs/compatibility.md, Batches: GET /qb answers the jobs' JSON texts, which
    Net::Presque's callers and the Clojure client decode one by one."""
    texts = await http.post_jobs("q1", 3)
    body = (await http.get("/qb/q1?batch_size=5")).json()
    assert body == texts
    assert all(isinstance(text, str) for text in body)
    assert [json.loads(text) for text in body] == [{"n": 0}, {"n": 1}, {"n": 2}]


@async_test
async def test_an_empty_queue_answers_no_job_to_a_batch_fetch(http: Http) -> None:
    """docs/compatibility.md, Batches: GET /qb on an empty queue is 404 {"error": "no
    job"}; the Clojure client decodes it and returns []."""
    reply = await wire(http, "GET", "/qb/q1?&batch_size=5", JSON)
    assert (reply.status, reply.json()) == NO_JOB


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json;", "application/json; charset=utf-8"]
)
@async_test
async def test_the_content_types_old_clients_send_are_accepted_on_qb(
    http: Http, content_type: str
) -> None:
    """docs/compatibility.md, Batches: POST /qb takes the same Content-Type values
    as /q."""
    reply = await wire(http, "POST", "/qb/q1", {"Content-Type": content_type}, b'{"jobs":[1]}')
    assert (reply.status, reply.body) == (201, b"")
    assert await http.job_count("q1") == 1


@async_test
async def test_batch_jobs_are_kept_as_their_own_text(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: each element of a batch is
    stored as its own text (presque 1 re-encoded it)."""
    body = b'{"jobs": [{"b" : 2, "a": 1}, "x\\u00e9", [1,  2]]}'
    assert (await http.post("/qb/q1", body=body, headers=JSON)).status == 201
    taken = [(await http.get("/q/q1")).body for _ in range(3)]
    assert taken == [b'{"b" : 2, "a": 1}', b'"x\\u00e9"', b"[1,  2]"]


@async_test
async def test_non_ascii_jobs_in_a_batch_answer_are_their_text(http: Http) -> None:
    """docs/compatibility.md, Batches: in GET /qb, a non-ASCII job (UTF-8 or Latin-1)
    is the string of its characters (presque 1 double-encoded them)."""
    await http.post("/q/q1", body=UTF8_JOB, headers=JSON)
    await http.post("/q/q1", body=LATIN1_JOB, headers=JSON)
    reply = await http.get("/qb/q1")
    assert reply.json() == ['{"k":"é"}', '{"k":"é"}']


@async_test
async def test_a_latin1_batch_is_accepted_and_its_jobs_returned_byte_for_byte(
    http: Http,
) -> None:
    """docs/compatibility.md, Batches: Net::Presque's create_jobs may send Latin-1;
    each job comes back from GET /q as its posted bytes."""
    reply = await wire(http, "POST", "/qb/q1", JSON, b'{"jobs":[' + LATIN1_JOB + b"]}")
    assert reply.status == 201
    assert (await http.get("/q/q1")).body == LATIN1_JOB


@async_test
async def test_a_batch_body_with_more_keys_than_jobs_is_accepted(http: Http) -> None:
    """docs/compatibility.md, Batches: Net::Presque's create_jobs puts its other
    arguments (delayed) in the body beside jobs; only jobs is read."""
    body = b'{"jobs":[{"n":1}],"delayed":0,"queue_name":"q1"}'
    assert (await http.post("/qb/q1?delayed=0", body=body, headers=JSON)).status == 201
    assert (await http.get("/q/q1")).body == b'{"n":1}'


@async_test
async def test_put_on_qb_is_400_json(http: Http) -> None:
    """docs/compatibility.md, Batches: PUT /qb/Q is 400 {"error": "PUT is not
    supported in batch mode"}, as in presque 1."""
    reply = await http.put("/qb/q1", json_body={"jobs": [1]})
    assert (reply.status, reply.json()) == (400, {"error": "PUT is not supported in batch mode"})


@async_test
async def test_delete_on_qb_is_400_json(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: DELETE /qb/Q is 400 JSON
    (presque 1 answered 500 text/plain), and purges nothing."""
    await http.post_job("q1", {"n": 1})
    reply = await http.delete("/qb/q1")
    assert (reply.status, reply.json()) == (
        400,
        {"error": "DELETE is not supported in batch mode"},
    )
    assert await http.job_count("q1") == 1


@pytest.mark.parametrize(
    "body",
    [b"{}", b'{"jobs": {"n": 1}}', b'[{"n": 1}]', b"{jobs}", b'{"jobs": [1], "x": }'],
    ids=["no-jobs", "jobs-not-an-array", "not-an-object", "not-json", "truncated"],
)
@async_test
async def test_a_bad_batch_body_is_400_json(http: Http, body: bytes) -> None:
    """docs/compatibility.md, Where presque differs: a batch body that is not
    {"jobs": [...]} is 400 JSON (presque 1 answered 500 text/plain)."""
    reply = await http.post("/qb/q1", body=body, headers=JSON)
    assert_error(reply, 400)
    assert await http.job_count("q1") == 0


# Queue information: /j and /status


@async_test
async def test_j_has_exactly_the_presque_1_keys(http: Http) -> None:
    """docs/compatibility.md, Queue information: GET /j/Q, compared key for key by
    presque 1's tests."""
    await http.post_jobs("q1", 3)
    await http.get("/q/q1")
    await http.put("/q/q1", json_body={"n": 0})
    reply = await http.get("/j/q1")
    assert (reply.status, reply.json()) == (
        200,
        {"queue_name": "q1", "job_count": 3, "job_processed": 1, "job_failed": 1},
    )


@async_test
async def test_status_q_has_exactly_the_presque_1_keys(http: Http) -> None:
    """docs/compatibility.md, Queue information: GET /status/Q, compared key for key
    by presque 1's tests."""
    await http.post_jobs("q1", 2)
    reply = await http.get("/status/q1")
    assert (reply.status, reply.json()) == (200, {"queue": "q1", "size": 2})


@async_test
async def test_status_lists_the_queues_and_their_number(http: Http) -> None:
    """docs/compatibility.md, Queue information: GET /status/ (the Clojure client's
    list-queues)."""
    await http.post_job("q1", {"n": 1})
    await http.post_job("q2", {"n": 1})
    body = (await http.get("/status/")).json()
    assert sorted(body) == ["queues", "size"]
    assert (sorted(body["queues"]), body["size"]) == (["q1", "q2"], 2)


@async_test
async def test_status_with_desc_lists_the_ready_job_texts(http: Http) -> None:
    """docs/compatibility.md, Queue information: GET /status/Q?with_desc=1 adds the
    jobs' texts."""
    texts = await http.post_jobs("q1", 2)
    reply = await http.get("/status/q1?with_desc=1")
    assert reply.json() == {"queue": "q1", "size": 2, "jobs": texts}


@async_test
async def test_status_with_desc_of_an_empty_queue_lists_no_jobs(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: with_desc=1 on an empty queue
    answers "jobs": [] (presque 1 never answered)."""
    reply = await http.get("/status/q1?with_desc=1")
    assert (reply.status, reply.json()) == (200, {"queue": "q1", "size": 0, "jobs": []})


# Control: /control


@async_test
async def test_control_has_exactly_the_presque_1_keys(http: Http) -> None:
    """docs/compatibility.md, Control: GET /control/Q, compared key for key by
    presque 1's tests."""
    await http.post_job("q1", {"n": 1})
    reply = await http.get("/control/q1")
    assert (reply.status, reply.json()) == (200, {"queue": "q1", "status": 1})


@async_test
async def test_control_post_without_a_content_type_stops_and_starts_the_queue(
    http: Http,
) -> None:
    """docs/compatibility.md, Control: old clients POST {"status": ...} with no
    Content-Type; the answer is {"queue": Q, "response": "updated"}."""
    await http.post_job("q1", {"n": 1})
    for wanted, status in (("stop", 0), ("start", 1)):
        body = json.dumps({"status": wanted}).encode()
        reply = await wire(http, "POST", "/control/q1", {}, body)
        assert (reply.status, reply.json()) == (200, {"queue": "q1", "response": "updated"})
        assert (await http.get("/control/q1")).json() == {"queue": "q1", "status": status}


@async_test
async def test_control_post_with_the_clojure_content_type_is_accepted(http: Http) -> None:
    """docs/compatibility.md, Control: the Clojure client sends the same body with
    Content-Type: application/json."""
    reply = await wire(http, "POST", "/control/q1", JSON, b'{"status":"stop"}')
    assert (reply.status, reply.json()) == (200, {"queue": "q1", "response": "updated"})


@async_test
async def test_an_empty_control_body_is_content_is_missing(http: Http) -> None:
    """docs/compatibility.md, Control: POST /control/Q without a body is 400
    {"error": "content is missing"}, as in presque 1."""
    reply = await wire(http, "POST", "/control/q1", {}, b"")
    assert (reply.status, reply.json()) == (400, {"error": "content is missing"})


@async_test
async def test_an_invalid_control_status_is_400_json(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: another status is 400 JSON
    naming it (presque 1 answered 500 text/plain)."""
    reply = await wire(http, "POST", "/control/q1", {}, b'{"status":"halt"}')
    assert "halt" in assert_error(reply, 400)
    assert (await http.get("/control/q1")).json()["status"] == 1


@async_test
async def test_a_virtual_queue_body_defines_a_virtual_queue(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: the newest Net::Presque's
    virtual-queue body (which presque 1 answered with a 500 text/plain) defines
    a virtual queue, sent as Net::Presque sends it."""
    await http.post_job("a", {"n": 1})
    reply = await wire(http, "POST", "/control/v1", {}, VIRTUAL_QUEUE)
    assert (reply.status, reply.json()) == (
        200,
        {"queue": "v1", "type": "virtual", "queues": ["a"]},
    )
    assert (await http.get("/q/v1")).json() == {"n": 1}


@async_test
async def test_a_virtual_queue_body_on_a_queue_of_jobs_is_409_and_changes_nothing(
    http: Http,
) -> None:
    await http.post_job("q1", {"n": 1})
    reply = await wire(http, "POST", "/control/q1", {}, VIRTUAL_QUEUE)
    assert_error(reply, 409)
    assert (await http.get("/control/q1")).json() == {"queue": "q1", "status": 1}
    assert (await http.get("/q/q1")).json() == {"n": 1}


# Workers: /w


@async_test
async def test_register_with_an_empty_object_and_no_content_type(http: Http) -> None:
    """docs/compatibility.md, Workers: POST /w/Q with body {} and no Content-Type
    registers the worker (201, empty)."""
    reply = await wire(http, "POST", "/w/q1", {WORKER: "w1"}, b"{}")
    assert (reply.status, reply.body) == (201, b"")
    assert (await http.get("/w/")).json() == ["w1"]


@async_test
async def test_register_without_a_body(http: Http) -> None:
    """docs/compatibility.md, Workers: the Clojure client and SPORE POST /w/Q with no
    body and no Content-Length; it registers."""
    reply = await wire(http, "POST", "/w/q1", {**JSON, WORKER: "clj-worker"})
    assert (reply.status, reply.body) == (201, b"")
    assert (await http.get("/w/")).json() == ["clj-worker"]


@async_test
async def test_register_without_the_worker_header_is_refused(http: Http) -> None:
    """docs/compatibility.md, Workers: POST /w/Q without X-presque-workerid is 400
    {"error": "worker_id is missing"}."""
    reply = await wire(http, "POST", "/w/q1", JSON, b"{}")
    assert (reply.status, reply.json()) == (400, {"error": "worker_id is missing"})


@async_test
async def test_unregister_answers_204_and_drops_the_worker(http: Http) -> None:
    """docs/compatibility.md, Workers: DELETE /w/Q (presque::worker on exit) is an
    empty 204; the worker leaves the list, even when registered elsewhere too, and
    its counters are dropped."""
    await register(http, "q1", "w1")
    await register(http, "q2", "w1")
    await http.post_job("q1", {"n": 1})
    await take_one(http, "q1", "w1")
    reply = await wire(http, "DELETE", "/w/q1", {**JSON, WORKER: "w1"})
    assert (reply.status, reply.body) == (204, b"")
    assert (await http.get("/w/")).json() == []
    assert await http.worker_counts("w1") == (0, 0)


@async_test
async def test_w_slash_answers_the_registered_workers(http: Http) -> None:
    """docs/compatibility.md, Workers: GET /w/ is the array of registered workers."""
    await register(http, "q1", "w1")
    await register(http, "q2", "w2")
    reply = await http.get("/w/")
    assert (reply.status, sorted(reply.json())) == (200, ["w1", "w2"])


@async_test
async def test_w_slash_queue_name_has_exactly_the_presque_1_keys(http: Http) -> None:
    """docs/compatibility.md, Workers: GET /w/?queue_name=Q, compared key for key by
    presque 1's tests: the queue's workers and counters."""
    await register(http, "q1", "w1")
    await http.post_jobs("q1", 2)
    await take_one(http, "q1", "w1")
    await http.put("/q/q1", json_body={"n": 0}, headers={WORKER: "w1"})
    reply = await http.get("/w/?queue_name=q1")
    assert (reply.status, reply.json()) == (
        200,
        {"queue_name": "q1", "workers_list": ["w1"], "processed": 1, "failed": 1},
    )


@async_test
async def test_w_slash_worker_id_answers_the_workers_counters(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: GET /w/?worker_id=W (SPORE's
    worker_stats) answers W's counters (presque 1 crashed with a 500)."""
    await register(http, "q1", "w1")
    await http.post_job("q1", {"n": 1})
    await take_one(http, "q1", "w1")
    reply = await http.get("/w/?worker_id=w1")
    assert reply.status == 200
    body = reply.json()
    assert sorted(body) == ["failed", "processed", "started_at", "worker_id"]
    assert (body["worker_id"], body["processed"], body["failed"]) == ("w1", 1, 0)
    assert type(body["started_at"]) is int


@async_test
async def test_queue_name_wins_over_worker_id(http: Http) -> None:
    """docs/compatibility.md, Workers: with both queue_name and worker_id, GET /w/
    answers the queue's body, as presque 1 did."""
    await register(http, "q1", "w1")
    body = (await http.get("/w/?queue_name=q1&worker_id=w1")).json()
    assert body == {"queue_name": "q1", "workers_list": ["w1"], "processed": 0, "failed": 0}


@async_test
async def test_w_without_its_slash_answers_the_registered_workers(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: GET /w (Net::Presque's
    workers_stats) answers like GET /w/ (presque 1: 404 text/html)."""
    await register(http, "q1", "w1")
    response = await http.client.request("GET", http.base + "/w", allow_redirects=False)
    body = await response.content()
    assert response.code == 200
    assert response.headers.getRawHeaders("Content-Type") == ["application/json"]
    assert json.loads(body) == ["w1"]


@async_test
async def test_w_without_its_slash_answers_worker_stats(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: GET /w?worker_id=W
    (Net::Presque's worker_stats) answers W's counters, not a redirect."""
    await register(http, "q1", "w1")
    await http.post_job("q1", {"n": 1})
    await take_one(http, "q1", "w1")
    response = await http.client.request(
        "GET", http.base + "/w?worker_id=w1", allow_redirects=False
    )
    body = json.loads(await response.content())
    assert response.code == 200
    assert response.headers.getRawHeaders("Content-Type") == ["application/json"]
    assert sorted(body) == ["failed", "processed", "started_at", "worker_id"]
    assert (body["worker_id"], body["processed"], body["failed"]) == ("w1", 1, 0)


@async_test
async def test_w_without_its_slash_answers_queue_stats(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: GET /w?queue_name=Q
    (Net::Presque's queue_stats) answers the queue's body, not a redirect."""
    await register(http, "q1", "w1")
    response = await http.client.request(
        "GET", http.base + "/w?queue_name=q1", allow_redirects=False
    )
    body = json.loads(await response.content())
    assert response.code == 200
    assert response.headers.getRawHeaders("Content-Type") == ["application/json"]
    assert body == {"queue_name": "q1", "workers_list": ["w1"], "processed": 0, "failed": 0}


@pytest.mark.parametrize("path", ["/w/foo:queue_namefoo", "/w/:worker_idbob", "/w/x/y"])
@async_test
async def test_w_with_any_path_answers_as_w_slash(http: Http, path: str) -> None:
    """docs/compatibility.md, Where presque differs: GET /w/<anything> answers as
    GET /w/ (the Clojure client's queue-stats and worker-stats send such paths)."""
    await register(http, "foo", "bob")
    await register(http, "q1", "w1")
    reply = await wire(http, "GET", path, {**JSON, WORKER: "clj-worker"})
    assert (reply.status, sorted(reply.json())) == (200, ["bob", "w1"])


@async_test
async def test_w_with_any_path_and_a_worker_id_answers_that_workers_stats(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: GET /w/<anything>?worker_id=W
    answers as GET /w/?worker_id=W."""
    await register(http, "q1", "w1")
    reply = await http.get("/w/x?worker_id=w1")
    assert reply.status == 200
    body = reply.json()
    assert (body["worker_id"], body["processed"], body["failed"]) == ("w1", 0, 0)


@async_test
async def test_registering_again_keeps_the_counters(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: a second POST /w/Q (a worker
    restarting) keeps W's counters (presque 1 reset them to 0)."""
    await register(http, "q1", "w1")
    await http.post_job("q1", {"n": 1})
    await take_one(http, "q1", "w1")
    await register(http, "q1", "w1")
    assert await http.worker_counts("w1") == (1, 0)


@async_test
async def test_a_put_counts_a_failure_for_its_worker(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: PUT /q/Q with W counts a failure
    for W (presque 1 never did)."""
    await register(http, "q1", "w1")
    await http.put("/q/q1", json_body={"n": 1}, headers={WORKER: "w1"})
    assert await http.worker_counts("w1") == (0, 1)


@async_test
async def test_a_batch_fetch_counts_processed_for_its_worker(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: GET /qb/Q with W counts W's
    jobs (presque 1 never did)."""
    await register(http, "q1", "w1")
    await http.post_jobs("q1", 3)
    await http.get("/qb/q1", headers={WORKER: "w1"})
    assert await http.worker_counts("w1") == (3, 0)


@async_test
async def test_a_registered_worker_silent_longer_than_the_retention_leaves_the_list(
    presque: Presque,
) -> None:
    """docs/compatibility.md, Where presque differs: a registered worker that sends
    nothing for [workers] retention seconds is forgotten (presque 1 kept it)."""
    http = presque.http
    presque.broker.retention = 1.0
    await register(http, "q1", "w1")

    async def forgotten() -> bool:
        return (await http.get("/w/")).json() == []

    await eventually(forgotten, 10, "w1 stayed registered past the retention")


# Dashboard: /


@async_test
async def test_the_dashboard_is_an_html_page(http: Http) -> None:
    """docs/compatibility.md, Dashboard: GET / is a page for people, as in presque 1."""
    reply = await http.get("/")
    assert reply.status == 200
    assert content_types(reply) == ["text/html; charset=utf-8"]
    assert reply.body.lstrip().lower().startswith(b"<!doctype html>")


# Where presque differs from presque 1, on purpose (the rest)


@pytest.mark.parametrize("body", [b"not json", b"{'n': 1}", b'{"n": NaN}'])
@async_test
async def test_a_job_that_is_not_json_is_refused(http: Http, body: bytes) -> None:
    """docs/compatibility.md, Where presque differs: a job must be JSON (presque 1
    stored any bytes)."""
    reply = await http.post("/q/q1", body=body, headers=JSON)
    assert_error(reply, 400)
    assert await http.job_count("q1") == 0


@async_test
async def test_a_job_of_zero_is_a_job(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: the body 0 is a job (presque 1
    read it as false: "job is missing")."""
    assert (await http.post("/q/q1", body=b"0", headers=JSON)).status == 201
    assert (await http.get("/q/q1")).body == b"0"


@async_test
async def test_a_queue_named_0_is_a_queue(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: 0 is a queue name (presque 1
    answered "queue name is missing")."""
    assert (await http.post_job("0", {"n": 1})).status == 201
    assert (await http.get("/q/0")).json() == {"n": 1}


@async_test
async def test_the_json_content_type_is_matched_without_regard_to_case(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: Application/JSON is accepted
    (presque 1 matched case-sensitively)."""
    reply = await http.post("/q/q1", body=b"{}", headers={"Content-Type": "Application/JSON"})
    assert reply.status == 201


@pytest.mark.parametrize(
    "content_type", ["application/jsonp", "text/x-application/json", "application/json-seq"]
)
@async_test
async def test_a_content_type_that_only_contains_application_json_is_refused(
    http: Http, content_type: str
) -> None:
    """docs/compatibility.md, Where presque differs: the media type must be
    application/json (presque 1 accepted any value containing it)."""
    reply = await http.post("/q/q1", body=b"{}", headers={"Content-Type": content_type})
    assert (reply.status, reply.json()) == NOT_JSON_CONTENT_TYPE


@async_test
async def test_a_delayed_that_is_not_a_number_is_refused(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: ?delayed=<not a number> is 400
    (presque 1 answered 201 and lost the job)."""
    reply = await http.post("/q/q1?delayed=tomorrow", body=b'{"n": 1}', headers=JSON)
    assert_error(reply, 400)
    assert await http.job_count("q1") == 0


@async_test
async def test_counters_are_json_integers(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: counts are JSON integers
    (presque 1 sent many as digit strings such as "5")."""
    await register(http, "q1", "w1")
    await http.post_jobs("q1", 2)
    await take_one(http, "q1", "w1")
    counted = {
        "/j/q1": ("job_count", "job_processed", "job_failed"),
        "/status/q1": ("size",),
        "/control/q1": ("status",),
        "/w/?queue_name=q1": ("processed", "failed"),
        "/w/?worker_id=w1": ("processed", "failed", "started_at"),
    }
    for path, keys in counted.items():
        body: dict[str, Any] = (await http.get(path)).json()
        assert [type(body[key]) for key in keys] == [int] * len(keys), (path, body)


@async_test
async def test_a_queue_never_seen_reads_as_open_with_zero_counters(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: an unknown queue is status 1
    with 0 counters (presque 1 answered null there)."""
    assert (await http.get("/control/new")).json() == {"queue": "new", "status": 1}
    assert (await http.get("/w/?queue_name=new")).json() == {
        "queue_name": "new",
        "workers_list": [],
        "processed": 0,
        "failed": 0,
    }


@async_test
async def test_an_unknown_path_is_404_json(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: a path no route knows is 404
    JSON (presque 1 answered 404 text/html)."""
    reply = await http.get("/nowhere")
    assert (reply.status, reply.json()) == (404, {"error": "not found"})


@async_test
async def test_status_without_its_slash_redirects_to_status(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: GET /status is a 308 to /status/
    (presque 1 answered 404 text/html)."""
    response = await http.client.request("GET", http.base + "/status", allow_redirects=False)
    await response.content()
    assert response.code == 308
    assert response.headers.getRawHeaders("Location") == ["/status/"]


@async_test
async def test_an_unsupported_method_is_405_json_naming_the_allowed_ones(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: another method is 405 JSON with
    Allow (presque 1 answered 405 text/plain, or 500)."""
    reply = await http.request("PATCH", "/q/q1")
    assert_error(reply, 405)
    assert reply.header("Allow") == "DELETE, GET, OPTIONS, POST, PUT"


@async_test
async def test_a_queue_name_cannot_hold_a_slash(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: /q/a/b is not queue a/b
    (presque 1 took the rest of the path as the name): /q/Q/<id> names a job."""
    reply = await http.post("/q/a/b", body=b'{"n": 1}', headers=JSON)
    assert_error(reply, 405)
    reply = await http.post("/q/a%2Fb", body=b'{"n": 1}', headers=JSON)
    assert_error(reply, 400)


@async_test
async def test_a_queue_closed_before_its_first_job_is_listed(http: Http) -> None:
    """docs/compatibility.md, Where presque differs: a queue closed before its first job."""
    reply = await http.post("/control/early", body='{"status":"stop"}')
    assert reply.status == 200
    assert (await http.get("/status/")).json() == {"queues": ["early"], "size": 1}
