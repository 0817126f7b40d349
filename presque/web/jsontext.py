"""
JSON as presque reads and writes it.

Jobs are kept as the text that was posted, byte for byte; they are checked
here before they are stored. A body is accepted when it is JSON (RFC 8259)
nested at most L{MAX_DEPTH} deep, without NaN or Infinity (which Python
would take) and without a lone surrogate escape such as C{"\\ud800"}
(which no UTF-8 encoder can write back; I-JSON, RFC 7493, forbids it too).
Bodies that are not UTF-8 are read as Latin-1: Net::Presque sends Perl
strings that way.

Views that embed jobs (a job's view, dead letters, stream events) splice
the stored text into the JSON they build, so that it reaches the client
exactly as posted, and as UTF-8 whatever it was posted as.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

from presque.web.errors import ApiError

#: How deep arrays and objects may nest in a request body.
MAX_DEPTH = 64

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _STEP)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SPACE = re.compile(r"[ \t\n\r]*")
_MANTISSA = re.compile(r"[eE]")
_NONZERO = re.compile(r"[1-9]")


def exact_float(text: str) -> float:
    """
    The number JSON text C{text} writes, as a float; NaN when no float is it:
    a number too small for one (C{1e-400}) would otherwise read as 0, which
    for a lease means "for good", and a huge one as infinity.
    """
    value = float(text)
    if (value == 0 and _NONZERO.search(_MANTISSA.split(text)[0])) or math.isinf(value):
        return math.nan
    return value


def _refuse_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _skip_number(text: str) -> None:
    """Numbers of a job are checked by the scanner, never turned into objects."""


# The checker skips numbers: no digit string is too long for it and no
# exponent overflows, since only the clients will read them.
_CHECKER = json.JSONDecoder(
    parse_constant=_refuse_constant, parse_int=_skip_number, parse_float=_skip_number
)


def _read_int(text: str) -> int | float:
    # Python refuses to make ints of more than 4,300 digits; such a number is
    # still JSON, and no setting it could be meant for holds it anyway.
    if len(text) <= _LONGEST_INT:
        return int(text)
    return -math.inf if text.startswith("-") else math.inf


_LONGEST_INT = 4000
_READER = json.JSONDecoder(
    parse_constant=_refuse_constant, parse_float=exact_float, parse_int=_read_int
)


def body_text(body: bytes) -> str:
    """C{body} (a job, say) as text: UTF-8, else Latin-1 (every byte a character)."""
    return _text_and_encoding(body)[0]


def _text_and_encoding(body: bytes) -> tuple[str, str]:
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return body.decode("latin-1"), "latin-1"


def as_utf8(payload: bytes) -> bytes:
    """A stored job as UTF-8: itself, or its Latin-1 text encoded."""
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload.decode("latin-1").encode("utf-8")
    return payload


def check_job(body: bytes, what: str = "job") -> None:
    """
    Refuse C{body} unless it is JSON that presque can store and hand out.

    @raise ApiError: 400, naming C{what}.
    """
    _decode(_CHECKER, body_text(body), what)


def read_json(body: bytes, what: str) -> Any:
    """
    The document in C{body}, for the bodies presque reads itself.

    @raise ApiError: 400 when it is not JSON presque accepts, naming C{what}.
    """
    return _decode(_READER, body_text(body), what)


def batch_jobs(body: bytes) -> list[bytes] | None:
    """
    The jobs of a batch C{{"jobs": [job, ...]}}, each as its own text, byte
    for byte as posted; None when the body is JSON but not such an object
    (a repeated C{"jobs"} counts last, as JSON parsers have it).

    @raise ApiError: 400 when the body is not JSON presque accepts.
    """
    text, encoding = _text_and_encoding(body)
    _decode(_CHECKER, text, "batch")
    spans = _jobs_spans(text)
    if spans is None:
        return None
    return [text[start:end].encode(encoding) for start, end in spans]


def _jobs_spans(text: str) -> list[tuple[int, int]] | None:
    """Where each element of the top-level C{"jobs"} array lies in C{text} (a valid document)."""
    at = _SPACE.match(text).end()
    if text[at : at + 1] != "{":
        return None
    spans = None
    at = _SPACE.match(text, at + 1).end()
    while text[at] != "}":
        key, at = _CHECKER.raw_decode(text, at)
        at = _SPACE.match(text, at).end() + 1  # the colon
        at = _SPACE.match(text, at).end()
        if key == "jobs" and text[at] == "[":
            spans, at = _array_spans(text, at)
        else:
            spans = None if key == "jobs" else spans
            _, at = _CHECKER.raw_decode(text, at)
        at = _SPACE.match(text, at).end()
        if text[at] == ",":
            at = _SPACE.match(text, at + 1).end()
    return spans


def _array_spans(text: str, at: int) -> tuple[list[tuple[int, int]], int]:
    spans = []
    at = _SPACE.match(text, at + 1).end()
    while text[at] != "]":
        _, end = _CHECKER.raw_decode(text, at)
        spans.append((at, end))
        at = _SPACE.match(text, end).end()
        if text[at] == ",":
            at = _SPACE.match(text, at + 1).end()
    return spans, at + 1


def _decode(decoder: json.JSONDecoder, text: str, what: str) -> Any:
    _check_depth(text, what)
    try:
        document = decoder.decode(text)
    except (ValueError, RecursionError):
        raise ApiError(400, f"{what} is not valid JSON") from None
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(document):
        raise ApiError(400, f"{what} has a lone surrogate (\\ud800 to \\udfff), which is not text")
    return document


def _check_depth(text: str, what: str) -> None:
    # Cheap first: fewer openings than the limit cannot nest deeper.
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    # Outside strings, JSON is ASCII: what is left are the brackets, in order.
    outside = _STRING.sub("", text).encode("ascii", "ignore")
    brackets = outside.translate(None, _NOT_BRACKETS)
    if brackets and max(accumulate(map(_STEP.__getitem__, brackets))) > MAX_DEPTH:
        raise ApiError(400, f"{what} nests arrays and objects deeper than {MAX_DEPTH}")


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return not value.isascii() and not _encodable(value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def spliced(document: dict[str, Any], name: str, raw: bytes) -> bytes:
    """C{document} as JSON with one more member, C{name}, whose value is the JSON text C{raw}."""
    head = encode_json(document)
    separator = b"," if document else b""
    return b"%s%s%s:%s}" % (head[:-1], separator, encode_json(name), as_utf8(raw))


def encode_json(value: Any) -> bytes:
    """Compact JSON, UTF-8, non-ASCII left as is (like Perl's encode_json)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
