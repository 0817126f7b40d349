"""
JSON bodies at their edges, on every route that reads one: nesting deeper
than presque.web.jsontext.MAX_DEPTH, a megabyte of open brackets, lone
surrogate escapes, NaN and Infinity, a non-object where an object is
expected. Each is a 400 JSON error that changes nothing. What is valid
JSON (64 deep, a surrogate pair, huge numbers, -0.0) is stored and handed
out byte for byte, and an error that quotes its input always encodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer, reactor

from presque.web.jsontext import MAX_DEPTH
from tests.leasing import bury, lease_one
from tests.support import JSON, NO_QUEUES, Http, Reply, assert_error, queue_counts_body

RECEIPT = "X-Presque-Receipt"
NO_COUNTS = {"ready": 0, "delayed": 0, "leased": 0, "dead": 0, "waiting": 0}
OPEN = {"queue": "q1", "status": 1}
#: Just within the default max_body_size (1 MiB).
ALMOST_A_MEGABYTE = 1024 * 1024 - 64


def nested(depth: int) -> str:
    """An array nested C{depth} deep: [[...]]."""
    return "[" * depth + "]" * depth


async def queue_view(http: Http, queue: str = "q1") -> dict[str, Any]:
    reply = await http.get(f"/queues/{queue}")
    assert reply.status == 200, reply.body
    return reply.json()


async def job_view(http: Http, job_id: str) -> dict[str, Any]:
    reply = await http.get(f"/q/q1/{job_id}")
    assert reply.status == 200, reply.body
    return reply.json()


async def take(http: Http) -> bytes:
    reply = await http.get("/q/q1")
    assert reply.status == 200, reply.body
    return reply.body


async def post_job_text(http: Http, text: str | bytes) -> None:
    reply = await http.post("/q/q1", body=text, headers=JSON)
    assert reply.status == 201, reply.body[:300]


# The routes that read a body, each with the state a refused body must leave alone.


@dataclass(frozen=True)
class Scene:
    """
    A route that reads a JSON body. C{template} places a value in a body the
    route would otherwise act on (%s is the value); C{around} is how deep
    the template itself nests.
    """

    name: str
    method: str
    template: str
    around: int

    def body(self, value: str) -> str:
        return self.template % value

    async def prepare(self, http: Http) -> Any:
        return None

    def path(self, ready: Any) -> str:
        raise NotImplementedError

    def headers(self, ready: Any) -> dict[str, str]:
        return dict(JSON)

    async def send(self, http: Http, body: str | bytes, ready: Any) -> Reply:
        request = http.request(
            self.method, self.path(ready), body=body, headers=self.headers(ready)
        )
        # Answered, not hung: a refusal is quick.
        return await defer.Deferred.fromCoroutine(request).addTimeout(20, reactor)

    async def assert_unchanged(self, http: Http, ready: Any) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class Adding(Scene):
    """POST /q/q1, PUT /q/q1 or POST /qb/q1, to a queue that does not exist yet."""

    where: str = "/q/q1"

    def path(self, ready: Any) -> str:
        return self.where

    async def assert_unchanged(self, http: Http, ready: Any) -> None:
        assert (await http.get("/status/")).json() == NO_QUEUES
        assert await http.queue_counts("q1") == queue_counts_body("q1")
        assert (await queue_view(http))["counts"] == NO_COUNTS


@dataclass(frozen=True)
class Controlling(Scene):
    """POST /control/q1 with a body that would close the queue."""

    def path(self, ready: Any) -> str:
        return "/control/q1"

    async def assert_unchanged(self, http: Http, ready: Any) -> None:
        assert (await http.get("/control/q1")).json() == OPEN
        assert (await http.get("/status/")).json() == NO_QUEUES


@dataclass(frozen=True)
class Configuring(Scene):
    """PATCH /queues/q1."""

    async def prepare(self, http: Http) -> Any:
        return (await queue_view(http))["settings"]

    def path(self, ready: Any) -> str:
        return "/queues/q1"

    async def assert_unchanged(self, http: Http, ready: Any) -> None:
        assert (await queue_view(http))["settings"] == ready
        assert (await http.get("/status/")).json() == NO_QUEUES


@dataclass(frozen=True)
class Failing(Scene):
    """PUT /q/q1/<id> of a leased job, with its receipt."""

    async def prepare(self, http: Http) -> Any:
        await http.post_job("q1", {"n": 1})
        leased = await lease_one(http, "q1", seconds=30)
        return leased, await job_view(http, leased.id)

    def path(self, ready: Any) -> str:
        return f"/q/q1/{ready[0].id}"

    def headers(self, ready: Any) -> dict[str, str]:
        return {**JSON, RECEIPT: ready[0].receipt}

    async def assert_unchanged(self, http: Http, ready: Any) -> None:
        leased, before = ready
        after = await job_view(http, leased.id)
        assert after == before
        assert after["state"] == "leased"


@dataclass(frozen=True)
class Retrying(Scene):
    """POST /dead/q1/retry with one dead letter, which a body without ids would retry."""

    async def prepare(self, http: Http) -> Any:
        await bury(http, "q1", {"n": 1})

    def path(self, ready: Any) -> str:
        return "/dead/q1/retry"

    async def assert_unchanged(self, http: Http, ready: Any) -> None:
        assert (await queue_view(http))["counts"] == {**NO_COUNTS, "dead": 1}


SCENES = [
    Adding("POST /q", "POST", "%s", 0),
    Adding("PUT /q", "PUT", "%s", 0),
    Adding("POST /qb", "POST", '{"jobs": [%s]}', 2, where="/qb/q1"),
    Controlling("POST /control", "POST", '{"status": "stop", "x": %s}', 1),
    Configuring("PATCH /queues", "PATCH", '{"lease": %s}', 1),
    Failing("PUT /q/<id>", "PUT", '{"error": "boom", "x": %s}', 1),
    Retrying("POST /dead/retry", "POST", '{"x": %s}', 1),
]
EVERY_ROUTE = [pytest.param(scene, id=scene.name) for scene in SCENES]
BY_NAME = {scene.name: scene for scene in SCENES}


async def assert_refused(http: Http, scene: Scene, body: str | bytes) -> str:
    """C{body} on C{scene}'s route is a 400 JSON error that changes nothing; its message."""
    ready = await scene.prepare(http)
    reply = await scene.send(http, body, ready)
    message = assert_error(reply, 400, (scene.name, reply.status, reply.body[:300]))
    await scene.assert_unchanged(http, ready)
    return message


# Depth


def test_the_documented_depth_limit_is_64() -> None:
    assert MAX_DEPTH == 64


@pytest.mark.parametrize("scene", EVERY_ROUTE)
@async_test
async def test_a_body_nested_65_deep_is_refused(http: Http, scene: Scene) -> None:
    body = scene.body(nested(MAX_DEPTH + 1 - scene.around))
    message = await assert_refused(http, scene, body)
    assert str(MAX_DEPTH) in message, message


@async_test
async def test_a_job_nested_64_deep_is_accepted_and_handed_out_byte_for_byte(
    http: Http,
) -> None:
    job = nested(MAX_DEPTH)
    await post_job_text(http, job)
    assert await take(http) == job.encode()


@async_test
async def test_a_job_of_objects_nested_64_deep_is_accepted_byte_for_byte(http: Http) -> None:
    job = '{"a":' * (MAX_DEPTH - 1) + "{}" + "}" * (MAX_DEPTH - 1)
    await post_job_text(http, job)
    assert await take(http) == job.encode()


@async_test
async def test_brackets_inside_strings_do_not_count_as_depth(http: Http) -> None:
    job = '{"s": "' + "[" * 1000 + '"}'
    await post_job_text(http, job)
    assert await take(http) == job.encode()


@async_test
async def test_escaped_quotes_do_not_end_a_string_for_the_depth_count(http: Http) -> None:
    job = r'{"s": "a\\\"' + "[" * 1000 + r'\\", "t": ' + nested(MAX_DEPTH - 1) + "}"
    await post_job_text(http, job)
    assert await take(http) == job.encode()


@async_test
async def test_a_string_ending_in_an_escaped_backslash_hides_no_nesting(http: Http) -> None:
    job = r'{"s": "a\\", "t": ' + nested(MAX_DEPTH) + "}"
    await assert_refused(http, BY_NAME["POST /q"], job)


@pytest.mark.parametrize("scene", EVERY_ROUTE)
@async_test
async def test_a_megabyte_of_open_brackets_is_answered_400(http: Http, scene: Scene) -> None:
    await assert_refused(http, scene, b"[" * ALMOST_A_MEGABYTE)


# Lone surrogates

SURROGATE_ROUTES = [
    pytest.param(BY_NAME[name], id=name)
    for name in ("POST /q", "POST /qb", "POST /control", "PATCH /queues")
]
LONE_SURROGATES = {
    "high-alone": r"\ud800",
    "low-alone": r"\ude00",
    "upper-case-hex": r"\uD83D",
    "pair-reversed": r"\ude00\ud83d",
    "high-then-letter": r"\ud83dA",
}


@pytest.mark.parametrize("scene", SURROGATE_ROUTES)
@pytest.mark.parametrize("escape", [pytest.param(v, id=k) for k, v in LONE_SURROGATES.items()])
@async_test
async def test_a_lone_surrogate_in_a_string_is_refused(
    http: Http, scene: Scene, escape: str
) -> None:
    await assert_refused(http, scene, scene.body(f'"{escape}"'))


@pytest.mark.parametrize("scene", SURROGATE_ROUTES)
@async_test
async def test_a_lone_surrogate_in_an_object_key_is_refused(http: Http, scene: Scene) -> None:
    await assert_refused(http, scene, scene.body(r'{"\ud800": 1}'))


@pytest.mark.parametrize("scene", SURROGATE_ROUTES[2:])
@async_test
async def test_a_lone_surrogate_as_a_top_level_key_is_refused(http: Http, scene: Scene) -> None:
    body = r'{"\ud800": "stop"}' if scene.name == "POST /control" else r'{"\ud800": 1}'
    await assert_refused(http, scene, body)


@async_test
async def test_an_escaped_backslash_before_u_d800_is_no_surrogate(http: Http) -> None:
    job = r'{"s": "\\ud800", "\\udfff": 1}'
    await post_job_text(http, job)
    assert await take(http) == job.encode()


@async_test
async def test_a_surrogate_pair_is_accepted_and_handed_out_byte_for_byte(http: Http) -> None:
    job = r'{"smile": "\ud83d\ude00", "\ud83d\ude00": 1}'
    await post_job_text(http, job)
    assert await take(http) == job.encode()


# NaN and Infinity

NOT_JSON_NUMBERS = [pytest.param(v, id=v) for v in ("NaN", "Infinity", "-Infinity")]


@pytest.mark.parametrize("scene", EVERY_ROUTE)
@pytest.mark.parametrize("literal", NOT_JSON_NUMBERS)
@async_test
async def test_nan_and_infinity_are_refused(http: Http, scene: Scene, literal: str) -> None:
    await assert_refused(http, scene, scene.body(literal))


@pytest.mark.parametrize("literal", NOT_JSON_NUMBERS)
@async_test
async def test_nan_and_infinity_as_a_whole_job_are_refused(http: Http, literal: str) -> None:
    await assert_refused(http, BY_NAME["POST /q"], literal)


# A non-object where an object is expected


@pytest.mark.parametrize(
    ("scene", "body"),
    [
        pytest.param(BY_NAME["POST /control"], "[]", id="control-array"),
        pytest.param(BY_NAME["POST /control"], '"x"', id="control-string"),
        pytest.param(BY_NAME["POST /control"], '["stop"]', id="control-array-of-stop"),
        pytest.param(BY_NAME["POST /control"], '"stop"', id="control-string-stop"),
        pytest.param(BY_NAME["PATCH /queues"], "[]", id="patch-array"),
        pytest.param(BY_NAME["PATCH /queues"], "1", id="patch-number"),
        pytest.param(BY_NAME["POST /dead/retry"], "[]", id="retry-array"),
        pytest.param(BY_NAME["POST /dead/retry"], "null", id="retry-null"),
        pytest.param(BY_NAME["PUT /q/<id>"], "[]", id="fail-array"),
        pytest.param(BY_NAME["PUT /q/<id>"], '"boom"', id="fail-string"),
    ],
)
@async_test
async def test_a_body_that_is_not_an_object_is_refused(http: Http, scene: Scene, body: str) -> None:
    await assert_refused(http, scene, body)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("[]", id="array"),
        pytest.param('{"jobs": 1}', id="jobs-a-number"),
        pytest.param('{"jobs": {"n": 1}}', id="jobs-an-object"),
        pytest.param('{"jobs": "[]"}', id="jobs-a-string"),
        pytest.param("{}", id="no-jobs"),
    ],
)
@async_test
async def test_a_batch_without_an_array_of_jobs_is_the_contract_error(
    http: Http, body: str
) -> None:
    message = await assert_refused(http, BY_NAME["POST /qb"], body)
    assert message == "jobs should be an array of job"


# Huge numbers inside a job

HUGE_NUMBERS = {
    "5000-digit-integer": "1" * 5000,
    "1e400": "1e400",
    "minus-zero": "-0.0",
    "tiny": "1e-400",
    "long-fraction": "0." + "3" * 2000,
}


@pytest.mark.parametrize("number", [pytest.param(v, id=k) for k, v in HUGE_NUMBERS.items()])
@async_test
async def test_a_huge_number_in_a_job_is_handed_out_byte_for_byte(http: Http, number: str) -> None:
    job = f'{{"n": {number}, "list": [{number}]}}'
    await post_job_text(http, job)
    assert await take(http) == job.encode()


@pytest.mark.parametrize("number", [pytest.param(v, id=k) for k, v in HUGE_NUMBERS.items()])
@async_test
async def test_a_huge_number_in_a_batch_is_handed_out_as_posted(http: Http, number: str) -> None:
    job = f'{{"n": {number}}}'
    reply = await http.post("/qb/q1", body=f'{{"jobs": [{job}, 1]}}', headers=JSON)
    assert reply.status == 201, reply.body
    reply = await http.get("/qb/q1")
    assert reply.json() == [job, "1"]


# Errors that quote the input


async def control(http: Http, body: bytes | str) -> Reply:
    reply = await http.post("/control/q1", body=body, headers=JSON)
    assert (await http.get("/control/q1")).json() == OPEN
    return reply


@async_test
async def test_an_emoji_status_is_quoted_in_a_json_error(http: Http) -> None:
    message = assert_error(await control(http, r'{"status": "\ud83d\ude00"}'), 400)
    assert "\U0001f600" in message


@async_test
async def test_a_utf8_status_is_quoted_in_a_json_error(http: Http) -> None:
    message = assert_error(await control(http, '{"status": "café ☕"}'.encode()), 400)
    assert "café ☕" in message


@async_test
async def test_a_latin1_status_is_quoted_in_a_json_error(http: Http) -> None:
    message = assert_error(await control(http, b'{"status": "caf\xe9"}'), 400)
    assert "café" in message


@async_test
async def test_a_status_with_control_characters_is_quoted_in_a_json_error(http: Http) -> None:
    message = assert_error(await control(http, r'{"status": "a\u0000\u001b\u2028b"}'), 400)
    assert "status" in message


@async_test
async def test_a_100_kb_status_gets_a_bounded_error(http: Http) -> None:
    reply = await control(http, '{"status": "' + "x" * 100_000 + '"}')
    message = assert_error(reply, 400)
    assert "xxx" in message
    assert len(message) < 1024
    assert len(reply.body) < 1024
