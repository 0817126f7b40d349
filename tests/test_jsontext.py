"""
presque.web.jsontext: what a body must be to be stored, and how a batch is
cut into its jobs' own texts. (tests/test_edge_bodies.py tries the same
rules through the HTTP API.)
"""

from __future__ import annotations

import pytest

from presque.web.errors import ApiError
from presque.web.jsontext import MAX_DEPTH, batch_jobs, check_job


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def refusal(body: bytes, read=check_job) -> str:
    with pytest.raises(ApiError) as raised:
        read(body)
    assert raised.value.status == 400
    return raised.value.message


# Depth.


def test_a_job_nested_as_deep_as_the_limit_is_accepted() -> None:
    check_job(nested(MAX_DEPTH))


def test_a_job_nested_deeper_than_the_limit_is_refused() -> None:
    assert "deeper than" in refusal(nested(MAX_DEPTH + 1))


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    check_job(b'{"text": "' + b"[{" * 200 + b'"}')


def test_escaped_quotes_do_not_end_a_string_for_the_depth_check() -> None:
    check_job(b'["\\"' + b"[" * 200 + b'"]')


def test_an_escaped_backslash_before_a_quote_ends_the_string() -> None:
    # "\\" is a string of one backslash: the brackets after it are real.
    assert "deeper than" in refusal(b'["\\\\", ' + nested(MAX_DEPTH) + b"]")


@pytest.mark.parametrize("body", [b"[" * (MAX_DEPTH + 1), b"]]" + b"[]" * MAX_DEPTH])
def test_brackets_that_do_not_pair_up_are_not_json(body: bytes) -> None:
    assert refusal(body) == "job is not valid JSON"


def test_a_batch_deeper_than_the_limit_is_refused() -> None:
    body = b'{"jobs": [' + nested(MAX_DEPTH) + b"]}"
    assert "deeper than" in refusal(body, batch_jobs)


# Batches: each job's own text.


def test_each_job_of_a_batch_is_its_text_as_posted() -> None:
    body = b'{ "jobs" : [ {"b": 1.50, "a": "\\u00e9"} ,\n[2] ,"s",3e2 ] }'
    assert batch_jobs(body) == [b'{"b": 1.50, "a": "\\u00e9"}', b"[2]", b'"s"', b"3e2"]


def test_an_empty_batch_has_no_jobs() -> None:
    assert batch_jobs(b'{"jobs": [ ]}') == []


def test_the_last_jobs_member_counts() -> None:
    assert batch_jobs(b'{"jobs": 1, "jobs": [7]}') == [b"7"]
    assert batch_jobs(b'{"jobs": [7], "jobs": 1}') is None


def test_other_members_of_a_batch_are_read_and_left_alone() -> None:
    assert batch_jobs(b'{"note": {"x": [1, 2]}, "jobs": [1]}') == [b"1"]


@pytest.mark.parametrize("body", [b"[1, 2]", b'"jobs"', b"{}", b'{"other": [1]}'])
def test_json_that_is_not_a_batch_has_no_jobs(body: bytes) -> None:
    assert batch_jobs(body) is None


@pytest.mark.parametrize(
    "body",
    [
        b'{"jobs" [1]}',
        b'{"jobs": [1 2]}',
        b'{"jobs": [1,]}',
        b'{"jobs": [1]',
        b'{"jobs": [1]} x',
        b'{"jobs": [1],}',
        b"{jobs: [1]}",
        b'{"a": 1 "jobs": [1]}',
        b"[1,",
        b"",
    ],
)
def test_a_batch_that_is_not_json_is_refused(body: bytes) -> None:
    assert refusal(body, batch_jobs) == "batch is not valid JSON"


def test_a_job_with_a_number_too_long_for_python_is_still_json() -> None:
    number = b"9" * 5000
    assert batch_jobs(b'{"jobs": [' + number + b"]}") == [number]
    check_job(number)


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_a_batch_with_nan_or_infinity_is_refused(constant: bytes) -> None:
    assert refusal(b'{"jobs": [' + constant + b"]}", batch_jobs) == "batch is not valid JSON"


def test_a_batch_with_a_lone_surrogate_is_refused() -> None:
    assert "lone surrogate" in refusal(b'{"jobs": ["\\ud800"]}', batch_jobs)


def test_a_batch_in_latin_1_keeps_each_job_s_bytes() -> None:
    assert batch_jobs(b'{"jobs": ["caf\xe9", 1]}') == [b'"caf\xe9"', b"1"]
