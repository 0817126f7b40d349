"""
Redis key names and identifiers: the only place that spells a key.

Per-queue keys carry the hash tag C{presque:{Q}:...} so that every script
touches a single Redis Cluster slot; keys across queues (the set of queues,
the workers, the schedule of due work) are written outside those scripts,
idempotently.
"""

from __future__ import annotations

import os
import random
import time
from functools import lru_cache

#: Every queue that ever received a job, in a sorted set whose scores are all
#: 0, so that its members are in order of name (pages of queues cost log n).
QUEUES_KEY = "presque:queues"
#: Registered workers (presque 1's POST /w/Q), by time of their last sign of life (ms).
WORKERS_KEY = "presque:workers"
#: Every worker that made a request, by time of its last one (ms).
SEEN_WORKERS_KEY = "presque:seen"
#: When each queue next has due work (delayed jobs, leases, handoffs), in ms.
#: Both schedule keys share one hash tag: the scripts on them touch one slot.
DUE_KEY = "presque:{schedule}:due"
#: Queues whose due time was lowered while a scheduler held them.
DUE_DIRTY_KEY = "presque:{schedule}:dirty"
#: Schedules of recurring jobs: name -> definition (JSON, see broker/recurring.py).
#: The three schedules keys share one hash tag: the scripts on them touch one slot.
SCHEDULES_KEY = "presque:{schedules}:defs"
#: Each schedule's next run (ms); a paused schedule has none.
SCHEDULES_DUE_KEY = "presque:{schedules}:due"
#: The due time (ms) of each run a server claimed and is firing.
SCHEDULES_CLAIMS_KEY = "presque:{schedules}:claims"
#: Virtual queues: name -> JSON array of their member queues, in order. Both
#: keys share one hash tag.
VIRTUAL_KEY = "presque:{virtual}:defs"
#: Moved on by every change of a virtual queue: servers reload them then.
VIRTUAL_VERSION_KEY = "presque:{virtual}:version"

#: The keys of one queue, in the order every per-queue script takes them as
#: KEYS; scripts see them as C{K.<name>} (L{presque.broker.scripts} builds that table
#: from this one), so a key is added here and nowhere else.
QUEUE_KEYS: tuple[tuple[str, str], ...] = (
    (
        "meta",
        "hash: status, listed, settings, prioritized, grouping, seq, indexed, deleting,"
        " tokens and tokens_at (the rate's bucket)",
    ),
    ("ready", "list: ready job ids of priority 0, head first out"),
    ("urgent", "sorted set: ready job ids of priority 1-9 (see includes/ready.lua)"),
    ("grouped", "sorted set: ready job ids of every group, scored as in their group's"),
    ("groups", "sorted set: the ring of groups with ready jobs -> turn (includes/groups.lua)"),
    ("group_leased", "hash: group -> its jobs leased now"),
    ("delayed", "sorted set: job id -> due time (ms)"),
    ("leased", "sorted set: job id -> lease deadline (ms)"),
    ("handoff", "sorted set: token of a delivery for good not yet confirmed -> deadline (ms)"),
    ("handed", "hash: token of such a delivery -> its jobs, packed (see includes/handoff.lua)"),
    ("dead", "sorted set: job id -> time dead-lettered (ms)"),
    ("waiting", "sorted set: job id held until jobs it depends on are done -> since (ms)"),
    (
        "dependents",
        "hash: job id -> JSON [[queue, job id, blocker], ...] of the jobs waiting on it",
    ),
    (
        "outbox",
        "sorted set: JSON outcome of a job for a waiting job of another queue -> since (ms)",
    ),
    ("jobs", "hash: job id -> payload"),
    (
        "info",
        "hash: job id -> JSON {uniq, attempts, errors, receipt, delivered, priority, group,"
        " blockers, progress}, only for a job with more than the defaults (includes/jobs.lua);"
        " entries written before that also hold its creation time, 'created'",
    ),
    ("uniq", "hash: uniq key -> job id"),
    ("stats", "hash: the queue's totals (QUEUE_TOTALS)"),
    ("acked", "sorted set: job id -> time acked (ms), within result_ttl and max_results"),
    ("results", "hash: job id -> the result its worker acked it with, while its outcome is kept"),
    ("idempotency", "hash: Idempotency-Key -> digest of its request and the ids it stored"),
    ("remembered", "sorted set: Idempotency-Key -> when it is forgotten (ms)"),
    ("workers", "sorted set: worker registered on the queue -> last sign of life (ms)"),
    ("seen", "sorted set: worker -> time of its last request on the queue (ms)"),
    ("history", "stream: a sample of the counts and totals per minute (id: its start in ms)"),
)

#: The minute whose history a server took on (one server per minute), by minute.
HISTORY_CLAIM_KEY = "presque:history:{minute}"
#: A stream of the sums of every sampled queue's history, a sample per minute.
TOTAL_HISTORY_KEY = "presque:history"

#: The pub/sub channels of one queue, which scripts publish on.
QUEUE_CHANNELS: tuple[tuple[str, str], ...] = (
    ("wake", "jobs became ready: waiting consumers of every server try again"),
    ("settled", "a leased job was settled: streams with a full window look again"),
    ("finished", "a job was acked or dead-lettered (its id): producers waiting on it look"),
)

#: The per-queue keys that hold jobs or their traces: what a purge removes.
JOB_KEYS = (
    "ready",
    "urgent",
    "grouped",
    "groups",
    "group_leased",
    "delayed",
    "leased",
    "handoff",
    "handed",
    "dead",
    "waiting",
    "dependents",
    "outbox",
    "jobs",
    "info",
    "uniq",
    "stats",
    "acked",
    "results",
)

#: What the keys and channels of every queue start with, before its name.
QUEUE_NAME_START = "presque:{"


def queue_prefix(queue: str) -> str:
    """What every key and channel of C{queue} starts with."""
    return f"{QUEUE_NAME_START}{queue}}}:"


class QueueKeys:
    """The Redis keys and channels of one queue, as attributes named in L{QUEUE_KEYS}."""

    __slots__ = ("all", *(name for name, _ in QUEUE_KEYS), *(name for name, _ in QUEUE_CHANNELS))

    def __init__(self, queue: str) -> None:
        prefix = queue_prefix(queue)
        for name, _ in (*QUEUE_KEYS, *QUEUE_CHANNELS):
            setattr(self, name, prefix + name)
        #: The KEYS of every per-queue script, in order.
        self.all = [prefix + name for name, _ in QUEUE_KEYS]


@lru_cache(maxsize=4096)
def queue_keys(queue: str) -> QueueKeys:
    """The keys of C{queue}, built once for the busiest queues."""
    return QueueKeys(queue)


def worker_key(worker: str) -> str:
    """The hash of one worker's counters and times."""
    return f"presque:worker:{{{worker}}}"


def worker_queues_key(worker: str) -> str:
    """The set of queues one worker was seen on or registered with."""
    return f"presque:worker:{{{worker}}}:queues"


def parse_channel(channel: str) -> tuple[str, str] | None:
    """The queue and the kind (a name of L{QUEUE_CHANNELS}) of a pub/sub channel."""
    for kind, _ in QUEUE_CHANNELS:
        suffix = f"}}:{kind}"
        if channel.startswith(QUEUE_NAME_START) and channel.endswith(suffix):
            return channel[len(QUEUE_NAME_START) : -len(suffix)], kind
    return None


class _IdClock:
    """Milliseconds that never go back, and a sequence within each one."""

    millis = 0
    sequence = 0


def new_job_id() -> str:
    """
    A fresh job id, unique across queues and servers, that sorts in creation
    order within a server: milliseconds, a sequence, then randomness.

    Delayed jobs with the same due time tie in their sorted set, where Redis
    orders them by id: this keeps them in the order they were posted.
    """
    millis = max(time.time_ns() // 1_000_000, _IdClock.millis)
    if millis == _IdClock.millis:
        _IdClock.sequence += 1
    else:
        _IdClock.millis, _IdClock.sequence = millis, 0
    # Uniqueness, not secrecy: ids are not credentials, and os.urandom
    # costs a system call per job.
    return f"{millis:012x}{_IdClock.sequence:06x}{random.getrandbits(32):08x}"


#: What L{new_job_id} makes: 26 lower-case hexadecimal digits.
JOB_ID_LENGTH = 26


def new_nonce() -> str:
    """
    An unguessable token from which a delivery's receipts are made: only the
    worker that received a delivery can settle it.
    """
    return os.urandom(12).hex()


def job_time(job_id: str) -> float | None:
    """When the job of C{job_id} was posted, in unix seconds (from the id's first part)."""
    try:
        return int(job_id[:12], 16) / 1000
    except ValueError:
        return None
