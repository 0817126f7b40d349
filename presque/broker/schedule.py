"""
The schedule of due work: which queues have delayed jobs, leases or
deliveries falling due, and when, so that the periodic work of a server
costs in proportion to the queues with something due, not to all queues.

A sorted set across queues (C{KeySpace.due}) holds each queue's next due time.
Per-queue scripts cannot write it (it lives in another cluster slot), so
they tell the broker when a queue's earliest due time moved earlier
(C{schedule_at} in their replies, see C{lua/includes/schedule.lua}) and the
broker writes it with L{ScheduleOperations.note_due}. A scheduler takes the
queues whose time came (holding each for a while so other servers leave it
alone), does their work with C{tick.lua}, then puts back each queue's next
due time, or forgets the queue. A note that arrives while a queue is held
marks it dirty, so the scheduler never forgets a queue that gained work
meanwhile.

A server killed between a script and its note leaves a queue whose due work
the schedule does not know: fetches on that queue still do it, and a slow
sweep over every queue (a few per round) notes it again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from twisted.logger import Logger

from presque.broker.base import BATCH_LIMIT, BrokerBase, gather
from presque.broker.scripts import load_script
from presque.redis import RedisRefused, RedisUnavailable
from presque.replicas import NotReplicated

log = Logger()

_NOTE = load_script("due_note")
_CLAIM = load_script("due_claim")
_RESCHEDULE = load_script("due_reschedule")
_TICK = load_script("tick")
_UNBLOCK = load_script("unblock")
_OUTBOX_TAKE = load_script("outbox_take")
_OUTBOX_DONE = load_script("outbox_done")
_CANCEL_DEPENDENTS = load_script("cancel_dependents")

#: How long (ms) a server holds the outcomes it took from an outbox: one
#: killed meanwhile leaves them to be told again (telling twice is harmless).
OUTBOX_HOLD_MS = 30_000

#: How long a scheduler holds the queues it took before others may take them (ms).
HOLD_MS = 30_000
#: The most queues one round takes from the schedule.
QUEUES_PER_ROUND = 1000
#: Queues worked on at once within a round.
CONCURRENCY = 50


@dataclass(frozen=True)
class RoundDone:
    """What one round of periodic work did."""

    queues: int = 0
    promoted: int = 0
    expired: int = 0
    returned: int = 0


class ScheduleOperations(BrokerBase):
    """Noting due work, and doing it when its time comes."""

    _sweep_cursor = b"0"

    async def note_due(self, queue: str, at_ms: int) -> None:
        """
        C{queue} has work due at C{at_ms} (Redis milliseconds); 0 means none
        to note. Best effort: it comes after the state change it is about,
        which must not be answered as a failure; a note Redis refuses (out of
        memory, say) is made again by the sweep, and the queue's own fetches
        do its due work meanwhile.
        """
        if not at_ms:
            return
        try:
            await self.redis.eval(_NOTE, self.keys.due_keys, [queue, at_ms])
        except (RedisUnavailable, NotReplicated):
            # Said once per outage, by the Redis connection; a note made but
            # not replicated in time is made again by the sweep if it is lost.
            pass
        except RedisRefused as error:
            log.warn(
                "the schedule did not hear of due work of {queue}: {error}",
                queue=queue,
                error=error,
            )

    async def run_due(self) -> RoundDone:
        """One round: the work of every queue whose due time came."""
        reply = await self.redis.eval(_CLAIM, self.keys.due_keys, [QUEUES_PER_ROUND, HOLD_MS])
        queues = [name.decode("utf-8") for name in reply[1:]]
        done = []
        for first in range(0, len(queues), CONCURRENCY):
            done += await gather(
                [self._work_on(queue) for queue in queues[first : first + CONCURRENCY]]
            )
        return RoundDone(
            queues=len(queues),
            promoted=sum(d[0] for d in done),
            expired=sum(d[1] for d in done),
            returned=sum(d[2] for d in done),
        )

    async def _work_on(self, queue: str) -> tuple[int, int, int]:
        promoted, expired, returned, next_due, owed = await self.run(_TICK, queue, [BATCH_LIMIT])
        if owed:
            await self.deliver_outbox(queue)
        await self.redis.eval(_RESCHEDULE, self.keys.due_keys, [queue, next_due])
        return int(promoted), int(expired), int(returned)

    async def deliver_outbox(self, queue: str) -> int:
        """
        Tell the waiting jobs of other queues what became of the jobs of
        C{queue} they wait on; returns how many outcomes were told.
        """
        entries = await self.run(_OUTBOX_TAKE, queue, [BATCH_LIMIT, OUTBOX_HOLD_MS])
        for entry in entries:
            waiting_queue, job_id, blocker, outcome = json.loads(entry)
            await self.tell_waiting(waiting_queue, job_id, blocker, outcome)
        if entries:
            await self.run(_OUTBOX_DONE, queue, entries)
        return len(entries)

    async def cancel_dependents(self, queue: str) -> None:
        """
        Every job waiting on a job of C{queue}, which is about to go, learns
        that it is cancelled, in this queue and in others.
        """
        if await self.run(_CANCEL_DEPENDENTS, queue):
            while await self.deliver_outbox(queue) == BATCH_LIMIT:
                pass

    async def tell_waiting(self, queue: str, job_id: str, blocker: str, outcome: str) -> None:
        """The waiting job C{job_id} of C{queue} learns the C{outcome} of C{blocker}."""
        await self.note_due(queue, await self.run(_UNBLOCK, queue, [job_id, blocker, outcome]))

    async def sweep(self, count: int) -> int:
        """
        Look at C{count} more queues of the set of queues, in turn, and note
        their due work: the repair of notes lost with a killed server.
        Returns how many queues it looked at.
        """
        cursor, names_and_scores = await self.redis.execute(
            "ZSCAN", self.keys.queues, self._sweep_cursor, "COUNT", count
        )
        self._sweep_cursor = cursor
        for name in names_and_scores[::2]:
            queue = name.decode("utf-8")
            reply = await self.run(_TICK, queue, [BATCH_LIMIT])
            await self.note_due(queue, reply[3])
        return len(names_and_scores) // 2
