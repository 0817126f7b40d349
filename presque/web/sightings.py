"""
Worker liveness: every request that names its worker (C{X-presque-workerid})
and is not refused tells the broker the worker is alive, without making the
request wait for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from presque.broker import Broker
from presque.redis import RedisUnavailable

log = Logger()

# Bounds the memory of who was seen when; forgetting only costs a write.
_MAX_REMEMBERED = 10_000


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
        self._last: dict[tuple[str, str], float] = {}

    def saw(self, worker: str, queue: str) -> None:
        """C{worker} made a request (on C{queue}, unless it is "")."""
        now = self.clock()
        if now - self._last.get((worker, queue), -self.interval) < self.interval:
            return
        if len(self._last) >= _MAX_REMEMBERED:
            self._last.clear()
        self._last[worker, queue] = now
        Deferred.fromCoroutine(self.broker.seen(worker, queue or None)).addErrback(_not_recorded)


def _not_recorded(failure: Failure) -> None:
    # Liveness is best effort: the request itself already succeeded or not.
    if not failure.check(RedisUnavailable):
        log.failure("recording a worker sighting failed", failure)
