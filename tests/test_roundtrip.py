"""
A property of presque's jobs: any JSON text presque accepts comes back byte
for byte, from GET /q/Q when posted alone and from GET /qb/Q when posted in
a batch. The texts are generated: values of every kind, numbers and escapes
written in every way JSON allows, any whitespace, nesting up to MAX_DEPTH.

Hypothesis runs in a thread (blocking requests with urllib) so that the
reactor keeps serving the in-process presque.
"""

from __future__ import annotations

import itertools
import json
import urllib.error
import urllib.request

from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_twisted import ensureDeferred as async_test
from twisted.internet.threads import deferToThread

from presque.web.jsontext import MAX_DEPTH
from tests.support import Http

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None)
_QUEUES = itertools.count()

# Text


WHITESPACE = st.text(alphabet=" \t\n\r", max_size=3)

# Numbers as JSON writes them, including forms no serialiser would choose.
NUMBER_TEXTS = st.one_of(
    st.from_regex(r"-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,20})?([eE][-+]?[0-9]{1,4})?", fullmatch=True),
    st.integers().map(str),
    st.integers(min_value=300, max_value=6000).map(lambda n: "9" * n),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["-0", "-0.0", "0e0", "1E+2", "1e400", "-1e400", "1e-400", "0.1e-7", "1.50"]),
)

# What may stand for one character inside a JSON string: itself, or an escape.
_RAW_CHARACTER = st.characters(codec="utf-8", exclude_characters='"\\').filter(lambda c: c >= " ")
_ESCAPE = st.one_of(
    st.sampled_from(['\\"', "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"]),
    st.characters(codec="utf-8").map(
        lambda c: "".join(f"\\u{unit:04x}" for unit in _utf16_units(c))
    ),
    st.characters(codec="utf-8").map(
        lambda c: "".join(f"\\u{unit:04X}" for unit in _utf16_units(c))
    ),
)


def _utf16_units(character: str) -> list[int]:
    data = character.encode("utf-16-be")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


STRING_TEXTS = st.one_of(
    st.lists(st.one_of(_RAW_CHARACTER, _ESCAPE), max_size=12).map(
        lambda pieces: '"' + "".join(pieces) + '"'
    ),
    st.builds(json.dumps, st.text(max_size=12), ensure_ascii=st.booleans()),
)
SCALAR_TEXTS = st.one_of(st.sampled_from(["null", "true", "false"]), NUMBER_TEXTS, STRING_TEXTS)
# Short keys from a small alphabet, so that objects often repeat one.
KEY_TEXTS = st.one_of(
    st.sampled_from(['"a"', '"b"', '"\\u0061"', '"é"', '"\\u00e9"']), STRING_TEXTS
)


def _array(items: list[tuple[str, str, str]], inside: str) -> str:
    return "[" + (",".join(a + item + b for a, item, b in items) or inside) + "]"


def _object(members: list[tuple[str, str, str, str, str, str]], inside: str) -> str:
    written = (a + key + b + ":" + c + value + d for a, key, b, c, value, d in members)
    return "{" + (",".join(written) or inside) + "}"


def _containers(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    item = st.tuples(WHITESPACE, children, WHITESPACE)
    member = st.tuples(WHITESPACE, KEY_TEXTS, WHITESPACE, WHITESPACE, children, WHITESPACE)
    return st.one_of(
        st.builds(_array, st.lists(item, max_size=4), WHITESPACE),
        st.builds(_object, st.lists(member, max_size=4), WHITESPACE),
        st.builds(_twice, member, children),
    )


def _twice(member: tuple[str, str, str, str, str, str], value: str) -> str:
    """An object whose key comes twice, with two values."""
    a, key, b, c, first, d = member
    return "{" + a + key + b + ":" + c + first + d + "," + key + ":" + value + "}"


# Texts written by hand: any whitespace, any escapes, numbers as written.
HAND_WRITTEN = st.recursive(SCALAR_TEXTS, _containers, max_leaves=12)

# Texts written by a serialiser, with its own choice of layout.
_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=10),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=12,
)
SERIALISED = st.builds(
    json.dumps,
    _VALUES,
    indent=st.one_of(st.none(), st.integers(0, 4), st.sampled_from(["\t", " \r\n"])),
    separators=st.sampled_from([None, (",", ":"), (", ", ": "), (" ,\n", " :\t")]),
    ensure_ascii=st.booleans(),
    sort_keys=st.booleans(),
)


def _nested(depth: int, leaf: str, openings: list[bool]) -> str:
    text = leaf
    for is_object in openings[:depth]:
        text = '{"k":' + text + "}" if is_object else "[" + text + "]"
    return text


def deep_texts(most: int) -> st.SearchStrategy[str]:
    """Texts nested from 1 to C{most} deep, arrays and objects mixed."""
    return st.builds(
        _nested,
        st.one_of(st.integers(1, most), st.integers(most - 3, most)),
        SCALAR_TEXTS,
        st.lists(st.booleans(), min_size=most, max_size=most),
    )


def json_texts(most_depth: int = MAX_DEPTH) -> st.SearchStrategy[str]:
    """JSON texts nested at most C{most_depth} deep."""
    return st.one_of(HAND_WRITTEN, SERIALISED, SCALAR_TEXTS, deep_texts(most_depth))


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


# Requests, blocking: they run in Hypothesis's thread.

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def request(base: str, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    call = urllib.request.Request(base + path, data=body, method=method, headers=headers)
    try:
        with _OPENER.open(call, timeout=10) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def fresh_queue() -> str:
    return f"roundtrip{next(_QUEUES)}"


# Properties


def every_text_comes_back_from_q(base: str) -> None:
    @SETTINGS
    @given(before=WHITESPACE, text=json_texts(), after=WHITESPACE)
    def comes_back(before: str, text: str, after: str) -> None:
        assert _depth(json.loads(text, parse_int=str, parse_float=str)) <= MAX_DEPTH
        job = (before + text + after).encode("utf-8")
        queue = fresh_queue()
        status, answer = request(base, "POST", f"/q/{queue}", job)
        assert status == 201, answer
        assert request(base, "GET", f"/q/{queue}") == (200, job)

    comes_back()


def every_text_of_a_batch_comes_back_from_qb(base: str) -> None:
    @SETTINGS
    @given(
        texts=st.lists(json_texts(MAX_DEPTH - 2), min_size=1, max_size=8),
        spaces=st.lists(WHITESPACE, min_size=20, max_size=20),
    )
    def comes_back(texts: list[str], spaces: list[str]) -> None:
        around, outside = spaces[:16], spaces[16:]
        pairs = zip(around[0::2], around[1::2], strict=True)
        items = ",".join(a + text + b for text, (a, b) in zip(texts, pairs, strict=False))
        start, colon, bracket, end = outside
        batch = "{" + start + '"jobs"' + colon + ":" + bracket + "[" + items + "]}" + end
        queue = fresh_queue()
        status, answer = request(base, "POST", f"/qb/{queue}", batch.encode("utf-8"))
        assert status == 201, answer
        status, answer = request(base, "GET", f"/qb/{queue}?batch_size=1000")
        assert status == 200, answer
        assert json.loads(answer) == texts

    comes_back()


@async_test
async def test_any_accepted_json_text_comes_back_from_q_byte_for_byte(http: Http) -> None:
    await deferToThread(every_text_comes_back_from_q, http.base)


@async_test
async def test_any_accepted_json_text_comes_back_from_a_batch_as_written(http: Http) -> None:
    await deferToThread(every_text_of_a_batch_comes_back_from_qb, http.base)
