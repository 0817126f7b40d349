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
from typing import Any

from presque.web.errors import ApiError

#: How deep arrays and objects may nest in a request body.
MAX_DEPTH = 64

# What the depth check keeps of a body: quotes and brackets, as square ones.
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_AS_SQUARE = bytes.maketrans(b"{}", b"[]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SPACE = re.compile(r"[ \t\n\r]*")
_SEPARATOR = re.compile(r"[ \t\n\r]*([,\]])[ \t\n\r]*")
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


# The checker lets C make the numbers, which is quick; a digit string too
# long for Python's int() is still JSON, and the careful checker, which
# skips numbers (only the clients will read them), says so.
_CHECKER = json.JSONDecoder(parse_constant=_refuse_constant)
_CAREFUL_CHECKER = json.JSONDecoder(
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
    _decode(_CHECKER, body, body_text(body), what)


def read_json(body: bytes, what: str) -> Any:
    """
    The document in C{body}, for the bodies presque reads itself.

    @raise ApiError: 400 when it is not JSON presque accepts, naming C{what}.
    """
    return _decode(_READER, body, body_text(body), what)


def batch_jobs(body: bytes) -> list[bytes] | None:
    """
    The jobs of a batch C{{"jobs": [job, ...]}}, each as its own text, byte
    for byte as posted; None when the body is JSON but not such an object
    (a repeated C{"jobs"} counts last, as JSON parsers have it).

    @raise ApiError: 400 when the body is not JSON presque accepts.
    """
    batch = read_batch(body)
    return None if batch is None else batch[0]


def read_batch(body: bytes) -> tuple[list[bytes], Any] | None:
    """
    The jobs of a batch, as L{batch_jobs} has them, and the decoded value
    of its C{"groups"} member (None without one).

    @raise ApiError: 400 when the body is not JSON presque accepts.
    """
    text, encoding = _text_and_encoding(body)
    if _SURROGATE_ESCAPE.search(text):
        # Rare: whether an escape is a lone surrogate is seen once decoded.
        _decode(_CHECKER, body, text, "batch")
    else:
        _check_depth(body, "batch")
    walk = _Walk(text)
    spans = walk.jobs_spans()
    if spans is None:
        return None
    return [text[start:end].encode(encoding) for start, end in spans], walk.groups


class _Walk:
    """
    A walk through the top-level object of a batch that checks it as JSON
    and finds where each element of its C{"jobs"} array lies; each value is
    read once, by the C scanner of the json module.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        #: The value of the batch's "groups" member, if it has one.
        self.groups: Any = None

    def jobs_spans(self) -> list[tuple[int, int]] | None:
        text = self.text
        at = self._space(0)
        if text[at : at + 1] != "{":
            _, end = _scan(text, at, "batch")
            return self._end(end, None)
        spans = None
        at = self._space(at + 1)
        if text[at : at + 1] == "}":
            return self._end(at + 1, None)
        while True:
            if text[at : at + 1] != '"':
                raise _invalid("batch")
            key, at = _scan(text, at, "batch")
            at = self._expect(":", self._space(at))
            if key == "jobs" and text[at : at + 1] == "[":
                spans, at = self._array_spans(at)
            else:
                spans = None if key == "jobs" else spans
                value, at = _scan(text, at, "batch")
                if key == "groups":
                    self.groups = value
            at = self._space(at)
            if text[at : at + 1] == "}":
                return self._end(at + 1, spans)
            at = self._expect(",", at)

    def _array_spans(self, at: int) -> tuple[list[tuple[int, int]], int]:
        text, spans = self.text, []
        at = self._space(at + 1)
        if text[at : at + 1] == "]":
            return spans, at + 1
        # The loop of every job of a batch: the least work per element.
        scan, separator = _CHECKER.scan_once, _SEPARATOR.match
        while True:
            try:
                end = scan(text, at)[1]
            except (StopIteration, ValueError, RecursionError):
                end = _scan(text, at, "batch")[1]
            spans.append((at, end))
            found = separator(text, end)
            if found is None:
                raise _invalid("batch")
            if found.group(1) == "]":
                return spans, found.end(1)
            at = found.end()

    def _space(self, at: int) -> int:
        return _SPACE.match(self.text, at).end()

    def _expect(self, separator: str, at: int) -> int:
        """Past C{separator} at C{at} and the space after it."""
        if self.text[at : at + 1] != separator:
            raise _invalid("batch")
        return self._space(at + 1)

    def _end(self, at: int, spans: list[tuple[int, int]] | None) -> list[tuple[int, int]] | None:
        if self._space(at) != len(self.text):
            raise _invalid("batch")
        return spans


def _scan(text: str, at: int, what: str) -> tuple[Any, int]:
    """The JSON value that starts at C{at} in C{text}, and where it ends."""
    for checker in (_CHECKER, _CAREFUL_CHECKER):
        try:
            return checker.scan_once(text, at)
        except (StopIteration, ValueError, RecursionError):
            continue
    raise _invalid(what)


def _invalid(what: str) -> ApiError:
    return ApiError(400, f"{what} is not valid JSON")


def _decode(decoder: json.JSONDecoder, body: bytes, text: str, what: str) -> Any:
    _check_depth(body, what)
    try:
        document = decoder.decode(text)
    except (ValueError, RecursionError):
        if decoder is not _CHECKER:
            raise _invalid(what) from None
        document = _decode(_CAREFUL_CHECKER, body, text, what)
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(document):
        raise ApiError(400, f"{what} has a lone surrogate (\\ud800 to \\udfff), which is not text")
    return document


def _check_depth(body: bytes, what: str) -> None:
    # Cheap first: fewer openings than the limit cannot nest deeper.
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return
    # Escaped backslashes go first, then escaped quotes: the quotes left
    # open and close strings, so every other piece between quotes is
    # outside them. There JSON is ASCII: what is left of it once the rest
    # is dropped are its brackets, in order (a byte of a UTF-8 or Latin-1
    # character that is not ASCII is never a bracket).
    if b"\\" in body:
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(body.translate(None, _NOT_STRUCTURE).split(b'"')[::2])
    brackets = outside.translate(_AS_SQUARE)
    # Each pass takes away the innermost level of nesting.
    for _ in range(MAX_DEPTH):
        if not brackets:
            return
        shallower = brackets.replace(b"[]", b"")
        if shallower == brackets:
            raise _invalid(what)  # brackets that do not pair up
        brackets = shallower
    if brackets:
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
