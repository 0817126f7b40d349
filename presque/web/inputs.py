"""
What a request may carry, declared once: every query argument and header
with its range, read by the routes through L{Arg.read} and described by the
same declarations in C{/openapi.json}. Every refusal is an L{ApiError} 400
whose message names the argument and what it must be.

Numbers are written as JSON writes them (C{30}, C{1.5}, C{2e3}: ASCII digits
only, at most 32 characters) and must lie in their range, which is checked
before any arithmetic, so no number overflows; integers are plain digits.
Durations are in seconds to the millisecond: a duration that is not 0 but
rounds to 0 ms is refused, since presque would otherwise read it as 0 (a
lease of 0 takes jobs for good). An argument may be given once; an empty
one counts as absent (presque 1's clients send C{?&batch_size=5}).
"""

from __future__ import annotations

import re
from dataclasses import KW_ONLY, dataclass
from typing import Any

from twisted.web.iweb import IRequest

from presque import headers
from presque.broker.settings import MAX_SECONDS, plain_number
from presque.config import ServerSettings
from presque.counts import STATES
from presque.web.errors import ApiError
from presque.web.jsontext import exact_float

_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?", re.ASCII)
_LONGEST_NUMBER = 32
#: The latest unix time C{delayed} may name: the end of year 9999.
LATEST_TIME = 253402300799


@dataclass(frozen=True)
class Arg:
    """A query argument: its name, what it means, and its default."""

    name: str
    doc: str
    _: KW_ONLY
    default: Any = None
    #: The route refuses a request without it (the API description says so).
    required: bool = False

    def read(self, request: IRequest) -> Any:
        """The argument's value in C{request}, or its default when it is absent or empty."""
        values = [value for value in request.args.get(self.name.encode("ascii"), ()) if value]
        if not values:
            return self.default
        if len(values) > 1:
            raise ApiError(400, f"{self.name} is given more than once")
        return self.parse(values[0].decode("utf-8", "replace"))

    def parse(self, raw: str) -> Any:
        """C{raw} as this argument holds it; L{ApiError} when it cannot."""
        return raw

    def schema(self, settings: ServerSettings) -> dict[str, Any]:
        """The argument in JSON Schema, for the API description."""
        return {"type": "string"}

    def refuse(self, expected: str) -> ApiError:
        """The refusal of a value that is not C{expected}."""
        return ApiError(400, f"{self.name} must be {expected}")


def _number(raw: str, low: float, high: float) -> float | None:
    """C{raw} as a number from C{low} to C{high}, or None when it is not one."""
    if len(raw) > _LONGEST_NUMBER or not _NUMBER.fullmatch(raw):
        return None
    value = exact_float(raw)
    return value if low <= value <= high else None


@dataclass(frozen=True, kw_only=True)
class Seconds(Arg):
    """A duration in seconds, from C{low} to C{high}, to the millisecond."""

    low: float = 0.0
    high: float = MAX_SECONDS

    def parse(self, raw: str) -> float:
        value = _number(raw, self.low, self.high)
        if value is None or (value and not round(value * 1000)):
            low, high = plain_number(self.low), plain_number(self.high)
            zero = "0 or " if self.low == 0 else ""
            raise self.refuse(f"{zero}a number of seconds from {max(low, 0.001)} to {high}")
        return round(value * 1000) / 1000

    def schema(self, settings: ServerSettings) -> dict[str, Any]:
        above_zero = {"type": "number", "minimum": max(self.low, 0.001), "maximum": self.high}
        if self.low > 0:
            return above_zero
        return {"anyOf": [{"type": "number", "const": 0}, above_zero]}


@dataclass(frozen=True, kw_only=True)
class UnixTime(Arg):
    """A moment, in unix seconds; 0 is no moment at all (presque 1's "not delayed")."""

    def parse(self, raw: str) -> float | None:
        value = _number(raw, 0, LATEST_TIME)
        if value is None:
            raise self.refuse(f"a unix time in seconds, from 0 to {LATEST_TIME}")
        return value or None

    def schema(self, settings: ServerSettings) -> dict[str, Any]:
        return {"type": "number", "minimum": 0, "maximum": LATEST_TIME}


@dataclass(frozen=True, kw_only=True)
class Count(Arg):
    """A whole number from C{low} to C{high}."""

    low: int = 0
    high: int = 10**9

    def parse(self, raw: str) -> int:
        if (
            not raw.isascii()
            or not raw.isdigit()
            or len(raw) > 10
            or not (self.low <= int(raw) <= self.high)
        ):
            raise self.refuse(f"an integer from {self.low} to {self.high}")
        return int(raw)

    def schema(self, settings: ServerSettings) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.low, "maximum": self.high}


@dataclass(frozen=True, kw_only=True)
class Choice(Arg):
    """One of a few words."""

    choices: tuple[str, ...] = ()

    def parse(self, raw: str) -> str:
        if raw not in self.choices:
            raise self.refuse("one of " + ", ".join(self.choices))
        return raw

    def schema(self, settings: ServerSettings) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.choices)}


_YES, _NO = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True, kw_only=True)
class Flag(Arg):
    """A yes-or-no argument: 1, true, yes or on; 0, false, no or off."""

    default: bool = False

    def parse(self, raw: str) -> bool:
        if raw.lower() not in (*_YES, *_NO):
            raise self.refuse("1 or 0 (or true or false)")
        return raw.lower() in _YES

    def schema(self, settings: ServerSettings) -> dict[str, Any]:
        return {"type": "string", "enum": [*_YES, *_NO]}


@dataclass(frozen=True, kw_only=True)
class Text(Arg):
    """A string of at most C{longest} characters, without control characters."""

    longest: int = 256

    def parse(self, raw: str) -> str:
        check_text(raw, self.name, self.longest)
        return raw

    def schema(self, settings: ServerSettings) -> dict[str, Any]:
        return text_schema(self.longest)


def text_schema(longest: int) -> dict[str, Any]:
    """Clean text of at most C{longest} characters, in JSON Schema."""
    return {"type": "string", "maxLength": longest, "pattern": r"^[^\x00-\x1f\x7f-\x9f]*$"}


@dataclass(frozen=True, kw_only=True)
class QueueName(Arg):
    """A queue's name (checked by L{queue_name}, which knows the server's limit)."""

    def schema(self, settings: ServerSettings) -> dict[str, Any]:
        return queue_name_schema(settings.max_queue_name_length)


def check_text(value: str, what: str, longest: int) -> None:
    """Refuse C{value} if it is longer than C{longest}, or not clean text."""
    if len(value) > longest:
        raise ApiError(400, f"{what} is longer than {longest} characters")
    if _CONTROL.search(value) or "\ufffd" in value:
        raise ApiError(400, f"{what} has control characters or is not valid UTF-8")


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# The arguments of the routes, each declared once.
LEASE = Seconds(
    "lease",
    "Lease the jobs for this many seconds (at-least-once); 0 takes them for good."
    " Without it, the queue's lease setting applies.",
)
WAIT = Seconds(
    "wait", "Wait up to this many seconds for a job (cut down to the server's max_wait)."
)
#: The most jobs one job may wait for.
MAX_BLOCKERS = 100
AFTER = Text(
    "after",
    "Hold the job (waiting) until the jobs of these ids are done: ID or QUEUE:ID,"
    " comma-separated; it goes to the dead letters if one of them does.",
    longest=4000,
)
DEPENDS = Text(
    "depends",
    "Hold the job (waiting) until the jobs holding these uniq keys are done: KEY or"
    " QUEUE:KEY, comma-separated (Net::Presque).",
    longest=4000,
)
OUTCOME_WAIT = Seconds(
    "wait",
    "Wait up to this many seconds for the job to be done or dead (cut down to the"
    " server's max_wait).",
)
DELAYED = UnixTime("delayed", "Hand the jobs out no sooner than this unix time, in seconds.")
UNIQ = Text("uniq", "Refuse the job while another job with this key is in the queue.")
GROUP = Text(
    "group",
    "The job's group (a tenant, say): the queue's group_concurrency bounds how many"
    " jobs of a group are leased at once, and fetches serve groups in turn.",
)
PRIORITY = Count(
    "priority", "0 (the default) to 9: higher priorities are handed out first.", default=0, high=9
)
BATCH_SIZE = Count(
    "batch_size",
    "Take up to this many jobs (cut down to the server's max_batch_size).",
    default=10,
    low=1,
)
IDS = Flag("ids", "Answer the ids of the jobs in X-Presque-Job-Ids.")
DELAY = Seconds("delay", "Retry the failed job after exactly this many seconds.")
DEAD = Flag("dead", "Send the failed job to the dead letters at once.")
FORCE = Flag("force", "Cancel the job even if it is leased (its worker may be halfway through).")
EXTENSION = Seconds("seconds", "The new lease, in seconds from now.", required=True, low=0.001)
PREFETCH = Count(
    "prefetch", "Jobs a stream may hold unsettled at a time.", default=1, low=1, high=100
)
STREAM_LEASE = Seconds(
    "lease", "Lease each streamed job for this many seconds.", default=30.0, low=0.001
)
WITH_DESC = Flag("with_desc", "Also list the ready jobs (the first 1,000).")
OFFSET = Count("offset", "Skip this many items.", default=0)
LIMIT = Count("limit", "Answer at most this many items.", default=100, high=1000)
PAYLOADS = Flag(
    "payloads", "Include each job's payload (0: ids, times and errors only).", default=True
)
STATE = Choice("state", "The state whose jobs to list.", choices=STATES, default=STATES[0])
SINCE = UnixTime("since", "Only the samples from this unix time on, in seconds.")
SAMPLES = Count("limit", "Answer at most this many samples.", default=1440, high=10080)
QUEUE_NAME = QueueName("queue_name", "The queue whose workers and counters to show.")
WORKER_ID = Text("worker_id", "The worker whose counters to show.")


@dataclass(frozen=True)
class Header:
    """A request header presque reads: at most C{longest} characters of clean text."""

    name: str
    doc: str
    longest: int
    _: KW_ONLY
    #: Routes that read it cannot do without it.
    required: bool = False

    def read(self, request: IRequest) -> str | None:
        """The header's value, or None when it is absent or empty."""
        raw = request.getHeader(self.name.encode("ascii"))
        if not raw:
            return None
        value = raw.decode("utf-8", "replace")
        check_text(value, self.name, self.longest)
        return value

    def require(self, request: IRequest, why: str) -> str:
        """The header's value; a 400 saying C{why} it is needed when it is absent."""
        value = self.read(request)
        if value is None:
            raise ApiError(400, why)
        return value


WORKER = Header(headers.WORKER, "The worker making the request (its counters follow).", 128)
THE_WORKER = Header(headers.WORKER, "The worker registering or leaving.", 128, required=True)
RECEIPT = Header(headers.RECEIPT, "The receipt of the delivery being settled.", 64, required=True)
IDEMPOTENCY_KEY = Header(
    headers.IDEMPOTENCY_KEY,
    "A key the producer chose for this request: repeating the request with it stores"
    " nothing more and answers the same ids.",
    255,
)


def worker_id(request: IRequest) -> str | None:
    """The worker named by the request, if any."""
    return WORKER.read(request)


def queue_name(name: str, longest: int, what: str = "queue name") -> str:
    """C{name}, from a URL path, if it is a usable queue name (or other C{what})."""
    if not name:
        raise ApiError(404, f"{what} is missing")
    check_text(name, what, longest)
    if "/" in name or name in (".", ".."):
        raise ApiError(400, f"{what} may not contain / nor be . or ..")
    return name


def queue_name_schema(longest: int) -> dict[str, Any]:
    """The rule of L{queue_name}, in JSON Schema."""
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": longest,
        "pattern": r"^[^/\x00-\x1f\x7f-\x9f]+$",
        "not": {"enum": [".", ".."]},
    }


def require_json_content_type(request: IRequest) -> None:
    """Refuse a body that is not declared as JSON: its media type must be application/json."""
    content_type = (request.getHeader(b"Content-Type") or b"").decode("latin-1")
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise ApiError(400, "content-type must be set to application/json")


def body(request: IRequest) -> bytes:
    """The whole request body."""
    request.content.seek(0)
    return request.content.read()
