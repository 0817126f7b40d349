"""
Worker liveness: every request that carries C{X-presque-workerid} tells the
broker the worker is alive, without making the request wait for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.iweb import IRequest

from presque.broker import Broker
from presque.redis import RedisUnavailable
from presque.web.inputs import worker_id

log = Logger()

# Routes whose second path segment is a queue a worker works on.
_QUEUE_ROUTES = {b"q", b"qb", b"w"}
# Bounds the memory of who was seen when; forgetting only costs a write.
_MAX_REMEMBERED = 10_000


def _is_farewell(request: IRequest) -> bool:
    # Unregistering forgets the worker: recording it as seen would race with
    # that and could bring it back.
    return request.method == b"DELETE" and request.path.startswith(b"/w/")


def queue_in_path(path: bytes) -> str | None:
    """The queue named by C{/q/Q...}, C{/qb/Q...} or C{/w/Q}, if any."""
    parts = path.split(b"/", 3)
    if len(parts) < 3 or parts[1] not in _QUEUE_ROUTES or not parts[2]:
        return None
    try:
        return unquote_to_bytes(parts[2]).decode("utf-8")
    except UnicodeDecodeError:
        return None


class Sightings:
    """
    Records worker sightings in Redis, at most once per C{interval} seconds
    for each worker and queue: a busy worker costs one write a second, not
    one per request.
    """

    def __init__(
        self,
        broker: Broker,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.broker = broker
        self.interval = interval
        self.clock = clock
        self._last: dict[tuple[str, str | None], float] = {}

    def saw(self, request: IRequest) -> None:
        """Note the worker of C{request}, if it names one."""
        worker = worker_id(request)
        if not worker or _is_farewell(request):
            return
        queue = queue_in_path(request.path)
        now = self.clock()
        if now - self._last.get((worker, queue), -self.interval) < self.interval:
            return
        if len(self._last) >= _MAX_REMEMBERED:
            self._last.clear()
        self._last[worker, queue] = now
        Deferred.fromCoroutine(self.broker.seen(worker, queue)).addErrback(_not_recorded)


def _not_recorded(failure: Failure) -> None:
    # Liveness is best effort: the request itself already succeeded or not.
    if not failure.check(RedisUnavailable):
        log.failure("recording a worker sighting failed", failure)
