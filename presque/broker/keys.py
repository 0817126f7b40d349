"""
Redis key names and identifiers: the only place that spells a key.

Every key and channel of a deployment starts with its prefix (C{[redis]
prefix}, C{presque} by default), so that deployments sharing one Redis
database never see each other's: a L{KeySpace} spells the names of one
prefix, and each server's broker and long polls hold theirs.

Per-queue keys carry the hash tag C{<prefix>:{Q}:...} so that every script
touches a single Redis Cluster slot; keys across queues (the set of queues,
the workers, the schedule of due work) are written outside those scripts,
idempotently.
"""

from __future__ import annotations

import os
import random
import time
from functools import lru_cache

#: The prefix of every key when the configuration names none: the names
#: presque always used, so that the data of an upgraded server stays its own.
DEFAULT_PREFIX = "presque"
#: The longest prefix: it is repeated in every key and every channel.
MAX_PREFIX_LENGTH = 64

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


def check_prefix(prefix: str) -> str:
    """
    C{prefix} if it may start every key name, else a L{ValueError} saying why.

    A brace would open or close a Redis Cluster hash tag (C{{Q}}) in the
    prefix, and put every queue in one slot or split a queue over several;
    spaces and control characters make names that tools and logs mangle.
    """
    if not prefix:
        raise ValueError("must not be empty")
    if len(prefix) > MAX_PREFIX_LENGTH:
        raise ValueError(f"must be at most {MAX_PREFIX_LENGTH} characters, got {len(prefix)}")
    refused = [c for c in prefix if c in "{}" or c.isspace() or not c.isprintable()]
    if refused:
        raise ValueError(f"must have no braces, spaces or control characters, got {prefix!r}")
    return prefix


class QueueKeys:
    """The Redis keys and channels of one queue, as attributes named in L{QUEUE_KEYS}."""

    __slots__ = (
        "script_keys",
        *(name for name, _ in QUEUE_KEYS),
        *(name for name, _ in QUEUE_CHANNELS),
    )

    def __init__(self, start: str) -> None:
        for name, _ in (*QUEUE_KEYS, *QUEUE_CHANNELS):
            setattr(self, name, start + name)
        #: The KEYS of every per-queue script: the first key, from which the
        #: script names the others (L{presque.broker.scripts}).
        self.script_keys = [start + QUEUE_KEYS[0][0]]


class KeySpace:
    """
    The names of every key and channel of one deployment, all starting with
    C{prefix}: those across queues as attributes, those of a queue or a
    worker from the methods.
    """

    def __init__(self, prefix: str = DEFAULT_PREFIX) -> None:
        self.prefix = check_prefix(prefix)
        #: Every queue that ever received a job, in a sorted set whose scores are all
        #: 0, so that its members are in order of name (pages of queues cost log n).
        self.queues = f"{prefix}:queues"
        #: Registered workers (presque 1's POST /w/Q), by time of their last sign of life (ms).
        self.workers = f"{prefix}:workers"
        #: Every worker that made a request, by time of its last one (ms).
        self.seen_workers = f"{prefix}:seen"
        #: When each queue next has due work (delayed jobs, leases, handoffs), in ms.
        self.due = f"{prefix}:{{schedule}}:due"
        #: Queues whose due time was lowered while a scheduler held them.
        self.due_dirty = f"{prefix}:{{schedule}}:dirty"
        #: Schedules of recurring jobs: name -> definition (JSON, see broker/recurring.py).
        self.schedules = f"{prefix}:{{schedules}}:defs"
        #: Each schedule's next run (ms); a paused schedule has none.
        self.schedules_due = f"{prefix}:{{schedules}}:due"
        #: The due time (ms) of each run a server claimed and is firing.
        self.schedules_claims = f"{prefix}:{{schedules}}:claims"
        #: Virtual queues: name -> JSON array of their member queues, in order.
        self.virtual = f"{prefix}:{{virtual}}:defs"
        #: Moved on by every change of a virtual queue: servers reload them then.
        self.virtual_version = f"{prefix}:{{virtual}}:version"
        #: A stream of the sums of every sampled queue's history, a sample per minute.
        self.total_history = f"{prefix}:history"

        # The keys that scripts take together share a hash tag (one slot);
        # these are their KEYS, in the order the scripts read them.
        #: KEYS of lua/due_*.lua.
        self.due_keys = (self.due, self.due_dirty)
        #: KEYS of lua/recurring_*.lua.
        self.schedules_keys = (self.schedules, self.schedules_due, self.schedules_claims)
        #: KEYS of lua/virtual_change.lua.
        self.virtual_keys = (self.virtual, self.virtual_version)

        # What the keys and channels of every queue start with, before its
        # name; no prefix holds a brace, so the first one opens the hash tag.
        self._queue_start = f"{prefix}:{{"
        self._queue_keys = lru_cache(maxsize=4096)(self._build_queue_keys)

    def __repr__(self) -> str:
        return f"KeySpace({self.prefix!r})"

    def _build_queue_keys(self, queue: str) -> QueueKeys:
        return QueueKeys(self.queue_start(queue))

    def queue_start(self, queue: str) -> str:
        """What every key and channel of C{queue} starts with."""
        return f"{self._queue_start}{queue}}}:"

    def queue(self, queue: str) -> QueueKeys:
        """The keys of C{queue}, built once for the busiest queues."""
        return self._queue_keys(queue)

    def worker(self, worker: str) -> str:
        """The hash of one worker's counters and times."""
        return f"{self.prefix}:worker:{{{worker}}}"

    def worker_queues(self, worker: str) -> str:
        """The set of queues one worker was seen on or registered with."""
        return f"{self.prefix}:worker:{{{worker}}}:queues"

    def history_claim(self, minute: int) -> str:
        """The key of the C{minute} (ms) whose history a server took on (one server per minute)."""
        return f"{self.prefix}:history:{minute}"

    def parse_channel(self, channel: str) -> tuple[str, str] | None:
        """
        The queue and the kind (a name of L{QUEUE_CHANNELS}) of a pub/sub
        channel of this key space; None for any other channel.
        """
        if not channel.startswith(self._queue_start):
            return None
        for kind, _ in QUEUE_CHANNELS:
            suffix = f"}}:{kind}"
            if channel.endswith(suffix):
                return channel[len(self._queue_start) : -len(suffix)], kind
        return None


#: The digits of job ids, in ASCII order: ids of one width sort as the numbers
#: they write, and need no quoting in a URL, a header, JSON or a shell.
JOB_ID_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#: Digits of an id's first part, its milliseconds since 1970 (62**8 ms lasts
#: to the year 8900), and of its second, a counter within the millisecond.
JOB_ID_TIME_DIGITS = 8
JOB_ID_COUNTER_DIGITS = 6
#: What L{new_job_id} makes: 14 characters of L{JOB_ID_DIGITS}. Redis keeps a
#: hash field of up to 14 bytes in a 16-byte allocation (a byte of header and
#: a NUL) and one of 15 to 30 in 32 bytes, and a job's id is its field in
#: K.jobs and its element of the list it waits in: 14 is what saves the most.
JOB_ID_LENGTH = JOB_ID_TIME_DIGITS + JOB_ID_COUNTER_DIGITS
#: The ids of presque before 14-character ids: 26 lower-case hexadecimal
#: digits, 12 of milliseconds, 6 of a sequence, 8 random. Jobs stored then
#: keep them, and they are accepted wherever an id is.
HEX_JOB_ID_LENGTH = 26

_BASE = len(JOB_ID_DIGITS)
#: Values of the counter: 62**6, about 2**35.7.
_COUNTER_SPAN = _BASE**JOB_ID_COUNTER_DIGITS
#: Every two-digit string, by value: the counter is written with three look-ups.
_PAIRS = tuple(high + low for high in JOB_ID_DIGITS for low in JOB_ID_DIGITS)
_PAIR_SPAN = _BASE**2
_VALUES = {digit: value for value, digit in enumerate(JOB_ID_DIGITS)}


def _digits(number: int, width: int) -> str:
    """C{number} in C{width} digits of L{JOB_ID_DIGITS}, the first the highest."""
    digits = []
    for _ in range(width):
        number, digit = divmod(number, _BASE)
        digits.append(JOB_ID_DIGITS[digit])
    return "".join(reversed(digits))


class _IdClock:
    """The last id made, as a number, and its time part written out."""

    #: milliseconds * _COUNTER_SPAN + counter; ids made next are above it.
    last = 0
    millis = -1
    written = ""

    @classmethod
    def forget(cls) -> None:
        """Start afresh: a forked process must not count on from its parent's ids."""
        cls.last, cls.millis, cls.written = 0, -1, ""


# Two processes counting on from the same id would make the same ids.
os.register_at_fork(after_in_child=_IdClock.forget)


def new_job_id() -> str:
    """
    A fresh job id, unique across queues and servers, that sorts in creation
    order within a server: milliseconds, then a counter.

    The counter starts at random in each millisecond and counts up within it
    (past its last value, it carries into the milliseconds: the clock runs a
    little ahead, never back). Two servers making n ids each in the same
    millisecond make one alike only if their counters started fewer than n
    apart, of 62**6 values: a chance of 2n / 62**6, about n / 2**34.7, below
    the n / 2**32 of the 26-digit ids (8 random hexadecimal digits for each
    sequence number). Delayed jobs with the same due time tie in their
    sorted set, where Redis orders them by id: this keeps them in the order
    they were posted.
    """
    start = time.time_ns() // 1_000_000 * _COUNTER_SPAN
    if start > _IdClock.last:
        # Uniqueness, not secrecy: ids are not credentials, and os.urandom
        # costs a system call per job.
        _IdClock.last = start + random.randrange(_COUNTER_SPAN)
    else:
        _IdClock.last += 1
    millis, counter = divmod(_IdClock.last, _COUNTER_SPAN)
    if millis != _IdClock.millis:
        _IdClock.millis, _IdClock.written = millis, _digits(millis, JOB_ID_TIME_DIGITS)
    high, low = divmod(counter, _PAIR_SPAN)
    return _IdClock.written + _PAIRS[high // _PAIR_SPAN] + _PAIRS[high % _PAIR_SPAN] + _PAIRS[low]


#: Bytes of randomness in a nonce (24 hexadecimal digits).
NONCE_BYTES = 12


class _Randomness:
    """os.urandom's bytes, read for 256 nonces at a time: a system call each was 2% of a GET."""

    read = b""
    used = 0

    @classmethod
    def forget(cls) -> None:
        """A forked process must not hand out its parent's nonces."""
        cls.read, cls.used = b"", 0


os.register_at_fork(after_in_child=_Randomness.forget)


def new_nonce() -> str:
    """
    An unguessable token from which a delivery's receipts are made: only the
    worker that received a delivery can settle it.
    """
    if _Randomness.used >= len(_Randomness.read):
        _Randomness.read, _Randomness.used = os.urandom(NONCE_BYTES * 256), 0
    start = _Randomness.used
    _Randomness.used += NONCE_BYTES
    return _Randomness.read[start : _Randomness.used].hex()


def job_time(job_id: str) -> float | None:
    """
    When the job of C{job_id} was posted, in unix seconds, read off its id:
    either form, L{JOB_ID_LENGTH} digits or L{HEX_JOB_ID_LENGTH} hexadecimal
    ones; None for an id presque did not make.
    """
    if len(job_id) == JOB_ID_LENGTH:
        millis = 0
        for digit in job_id[:JOB_ID_TIME_DIGITS]:
            value = _VALUES.get(digit)
            if value is None:
                return None
            millis = millis * _BASE + value
        return millis / 1000
    if len(job_id) == HEX_JOB_ID_LENGTH:
        try:
            return int(job_id[:12], 16) / 1000
        except ValueError:
            return None
    return None
