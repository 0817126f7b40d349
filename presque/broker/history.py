"""
The history of each queue: a sample of its counts and totals per minute,
kept in Redis for the charts of the dashboard, so that they survive restarts
and agree between servers.

Once a minute one server (whichever claims the minute first) samples the
first C{max_queues} queues, one script call each; a queue whose figures did
not change that minute gets no sample. Their sums go to one more history,
of all the sampled queues together. Samples older than C{retention} seconds
are forgotten as new ones come.
"""

from __future__ import annotations

import time

from presque.broker.base import BrokerBase, gather
from presque.broker.model import Sample
from presque.broker.scripts import load_script
from presque.counts import QUEUE_TOTALS, STATES

_HISTORY = load_script("history")

#: Queues sampled at once, in one round trip of concurrent script calls.
_SAMPLED_AT_ONCE = 100
_MINUTE_MS = 60_000
#: The fields of a sample: the jobs in each state, then the totals.
_FIELDS = (*STATES, *(name for name, _ in QUEUE_TOTALS))


class HistoryOperations(BrokerBase):
    """Writing and reading the queues' history."""

    _history_minute = 0

    async def record_history(self, max_queues: int, retention: float) -> int:
        """
        Sample the first C{max_queues} queues, once per minute across every
        server; how many samples were written (0 when the minute was done).
        """
        minute = int(time.time() * 1000) // _MINUTE_MS * _MINUTE_MS
        if minute <= self._history_minute:
            return 0
        self._history_minute = minute
        claim = self.keys.history_claim(minute)
        if not await self.redis.execute("SET", claim, "1", "NX", "PX", 2 * _MINUTE_MS):
            return 0
        oldest = minute - int(retention * 1000)
        written = 0
        sums = [0] * len(_FIELDS)
        for first in range(0, max_queues, _SAMPLED_AT_ONCE):
            last = min(first + _SAMPLED_AT_ONCE, max_queues) - 1
            names = await self.queue_range(first, last)
            done = await gather([self.run(_HISTORY, name, [minute, oldest]) for name in names])
            for reply in done:
                written += int(reply[0])
                sums = [total + int(value) for total, value in zip(sums, reply[1:], strict=True)]
            if len(names) < last - first + 1:
                break
        if any(sums):
            fields = [part for pair in zip(_FIELDS, sums, strict=True) for part in pair]
            await self.redis.execute(
                "XADD", self.keys.total_history, "MINID", "~", f"{oldest}-0", f"{minute}-0", *fields
            )
        return written

    async def history(self, queue: str | None, since: float, limit: int) -> list[Sample]:
        """
        The samples of C{queue} (None: of the sampled queues together) from
        the unix time C{since}, oldest first, at most C{limit}.
        """
        if not limit:
            # XRANGE takes COUNT 0 for no limit (and Redis 6 answers it nil).
            return []
        key = self.keys.total_history if queue is None else self.keys.queue(queue).history
        start = f"{round(since * 1000)}-0" if since else "-"
        entries = await self.redis.execute("XRANGE", key, start, "+", "COUNT", limit)
        return [_sample(entry_id, fields) for entry_id, fields in entries]


def _sample(entry_id: bytes, fields: list[bytes]) -> Sample:
    # The counts come first, then the totals: both have a "dead".
    pairs = [
        (name.decode("ascii"), int(value))
        for name, value in zip(fields[::2], fields[1::2], strict=True)
    ]
    at = int(entry_id.split(b"-", 1)[0]) / 1000
    # Samples written before a state was added lack it: it counts 0.
    counts: dict[str, int] = {}
    for name, value in pairs:
        if name not in STATES or name in counts:
            break
        counts[name] = value
    totals = dict(pairs[len(counts) :])
    return Sample(at, {state: counts.get(state, 0) for state in STATES}, totals)
