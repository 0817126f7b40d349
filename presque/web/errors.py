"""
Every answer that is not a success, in one table: the errors routes raise
and the outcomes of broker and Redis calls, each with its status and the
message of its C{{"error": ...}} body.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from twisted.logger import Logger
from twisted.python.failure import Failure

from presque import headers
from presque.broker import (
    Backpressure,
    Delivery,
    DuplicateJob,
    IdempotencyConflict,
    IsVirtual,
    JobInState,
    NameTaken,
    NotVirtual,
    QueueClosed,
    QueueFull,
    RedisNearlyFull,
    ScheduleFull,
    StaleReceipt,
    TooManyDependents,
    TooManyMembers,
    UnknownJob,
    UnknownSchedule,
    VirtualFull,
)
from presque.redis import RedisOutOfMemory, RedisRefused, RedisUnavailable
from presque.replicas import NotReplicated

log = Logger()


class ApiError(Exception):
    """
    An answer other than a success, with its C{status} and C{message}.

    A I{refusal} (the default) is a request refused for what it carries:
    it changed nothing, not even the record of its worker's liveness.
    """

    def __init__(
        self,
        status: int,
        message: str,
        refusal: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.refusal = refusal
        #: Headers the answer needs (Allow of a 405, say).
        self.headers = dict(headers or {})


class NoJob(ApiError):
    """
    A fetch found nothing to hand out: an answer, not a refusal. When a
    limit of the queue held it back, C{Retry-After} says when to try again
    and C{X-Presque-Held-By} which limit it was.
    """

    def __init__(self, delivery: Delivery) -> None:
        held = {}
        if delivery.held:
            wait = math.ceil(delivery.retry_after or 1)
            held = {headers.RETRY_AFTER: str(wait), headers.HELD_BY: delivery.held}
        super().__init__(404, "no job", refusal=False, headers=held)


#: The answer of a post that must wait (queue at max_length, Redis nearly full).
WAIT_ANSWER = {429: ("Full: nothing was stored; post again after Retry-After seconds.", "Error")}

#: The outcomes of broker and Redis calls that are answered as errors.
OUTCOMES: dict[type[Exception], tuple[int, str]] = {
    QueueClosed: (404, "queue is closed"),
    DuplicateJob: (400, "job already exists"),
    UnknownJob: (404, "no such job"),
    UnknownSchedule: (404, "no such schedule"),
    ScheduleFull: (409, "there are as many schedules as there may be"),
    TooManyDependents: (409, "as many jobs wait on that job as may: nothing was stored"),
    IsVirtual: (400, "this is a virtual queue: act on its queues"),
    NotVirtual: (404, "no such virtual queue"),
    NameTaken: (409, "this is the name of a queue of jobs: a virtual queue needs its own"),
    VirtualFull: (409, "there are as many virtual queues as there may be"),
    TooManyMembers: (400, "a virtual queue has too many queues"),
    StaleReceipt: (409, "receipt is not current: the lease ran out or the job was settled"),
    JobInState: (409, "the job's state does not allow this"),
    QueueFull: (429, "queue is full"),
    RedisNearlyFull: (429, "redis is nearly full: producers wait while consumers drain it"),
    IdempotencyConflict: (422, "this Idempotency-Key came with another request before"),
    RedisUnavailable: (503, "redis is unavailable"),
    NotReplicated: (
        503,
        "too few of redis' replicas confirmed the change in time: it was made on the"
        " master, but a failover now may lose it",
    ),
    RedisOutOfMemory: (507, "redis is out of memory and refuses new data"),
    RedisRefused: (503, "redis refused the command"),
}


def _explained(error: Exception, message: str) -> str:
    """C{message}, with what Redis told when that says why (never the whole reply)."""
    if isinstance(error, RedisUnavailable) and error.cause:
        return f"{message}: {error.cause}"
    if isinstance(error, JobInState):
        return f"{message}: it is {error.state}"
    if isinstance(error, TooManyMembers):
        return f"{message}: at most {error.most}"
    if isinstance(error, QueueFull):
        return f"{message}: it holds its max_length, {error.most} jobs"
    if type(error) is RedisRefused:
        return f"{message}: {error.code}"
    return message


@dataclass(frozen=True)
class ErrorAnswer:
    """What to answer for an error."""

    status: int
    message: str
    refusal: bool
    headers: Mapping[str, str] = field(default_factory=dict)


def error_answer(failure: Failure, uri: bytes = b"") -> ErrorAnswer:
    """The answer to C{failure}; a 500 (logged: it is a bug) for anything unknown."""
    error = failure.value
    if isinstance(error, ApiError):
        return ErrorAnswer(error.status, error.message, error.refusal, error.headers)
    for kind in type(error).__mro__:
        if kind in OUTCOMES:
            status, message = OUTCOMES[kind]
            if isinstance(error, RedisRefused):
                _warn_about_redis(error)
            waiting = {}
            if isinstance(error, Backpressure):
                waiting = {headers.RETRY_AFTER: str(error.retry_after)}
            return ErrorAnswer(status, _explained(error, message), refusal=False, headers=waiting)
    log.failure("unexpected error on {uri}", failure, uri=uri.decode("utf-8", "replace"))
    return ErrorAnswer(500, "internal error", refusal=False)


class _Throttle:
    """Lets something happen at most once per C{period} seconds."""

    def __init__(self, period: float) -> None:
        self.period = period
        self._last = -period

    def allows(self) -> bool:
        now = time.monotonic()
        if now - self._last < self.period:
            return False
        self._last = now
        return True


# Redis refusing every request (out of memory, say) would flood the log: one
# warning per period instead. An outage is told by the Redis connection.
_redis_warnings = _Throttle(10.0)


def _warn_about_redis(error: Exception) -> None:
    if _redis_warnings.allows():
        log.warn("redis: {kind}: {reason}", kind=type(error).__name__, reason=error)
