"""What the broker hands out and takes: jobs, deliveries, views, pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from presque.broker.settings import QueueSettings

T = TypeVar("T")

#: The priorities a job may have, lowest first.
PRIORITIES = range(10)


@dataclass(frozen=True)
class Job:
    """A job as handed out; C{attempt} and C{receipt} only under a lease."""

    id: str
    payload: bytes
    attempt: int | None = None
    receipt: str | None = None


@dataclass(frozen=True)
class Delivery:
    """
    What one fetch handed out, and how: C{"lease"} (the jobs come back unless
    settled by C{deadline}), C{"handoff"} (taken for good once the server
    confirms that the answer was written, see L{Broker.delivered}), or
    C{""} when it handed out nothing.
    """

    queue: str
    jobs: list[Job]
    kind: str = ""
    #: The lease's or the handoff's deadline, in Redis milliseconds.
    deadline_ms: int = 0
    #: The worker named by the request, whose counters follow the delivery.
    worker: str | None = None
    #: What names a delivery for good when it is confirmed or given back.
    token: str = ""
    #: When nothing was handed out: the limit that held the fetch back
    #: ("rate", "concurrency", "group"), or "" when no job was ready.
    held: str = ""
    #: Seconds until the rate lets a job out; None when unknown (a lease
    #: must end first) or when nothing held the fetch back.
    retry_after: float | None = None

    @property
    def lease_expires(self) -> float | None:
        """When the lease runs out, in unix seconds; None without a lease."""
        return self.deadline_ms / 1000 if self.kind == "lease" else None


@dataclass(frozen=True)
class Blocker:
    """What a job waits for: the job of C{queue} named by its id or by the uniq key it holds."""

    queue: str
    #: "id" or "uniq".
    kind: str
    name: str

    @property
    def key(self) -> str:
        """How the waiting job's metadata names it (the scripts keep it as it is)."""
        return f"{self.queue}\t{self.kind}:{self.name}"

    @classmethod
    def from_key(cls, key: str) -> Blocker:
        """The blocker a waiting job's metadata names C{key}."""
        queue, reference = key.split("\t", 1)
        kind, name = reference.split(":", 1)
        return cls(queue, kind, name)


@dataclass(frozen=True)
class Enqueued:
    """The ids of the jobs a POST stored, or stored before under its Idempotency-Key."""

    ids: list[str]
    #: The request was a repeat of one whose Idempotency-Key is remembered.
    replayed: bool = False


@dataclass(frozen=True)
class FailOutcome:
    """What became of a failed job: retried at C{retry_at}, or dead."""

    dead: bool
    retry_at: float | None = None


@dataclass(frozen=True)
class JobView:
    """Everything about one job, for C{GET /q/Q/<id>} and the pages of jobs."""

    id: str
    state: str
    #: None when it was not read (a listing of ids and times).
    payload: bytes | None
    attempts: int
    errors: list[dict[str, Any]]
    created: float | None
    next_run: float | None
    lease_expires: float | None
    dead_since: float | None
    priority: int = 0
    #: When the job was last handed out, and to which worker (if it said).
    delivered: float | None = None
    delivered_to: str | None = None
    #: The group it was posted with, if any.
    group: str | None = None
    #: What a waiting job waits for (the keys of L{Blocker}).
    blockers: list[str] = field(default_factory=list)
    #: The last progress its worker reported: {"value", "message", "at"}.
    progress: dict[str, Any] | None = None
    #: What holds a ready or delayed job back: queue closed, delayed, a
    #: limit, no live worker; each C{{"reason": ..., ...}}. None when not
    #: looked at (listings, and jobs in other states).
    held_by: list[dict[str, Any]] | None = None
    #: When a done job was acked, and the result its worker gave (JSON text).
    finished: float | None = None
    result: bytes | None = None

    @classmethod
    def done(
        cls, job_id: str, finished: float | None, result: bytes | None, created: float | None
    ) -> JobView:
        """An acked job whose outcome is kept: its payload and metadata are gone."""
        return cls(
            id=job_id,
            state="done",
            payload=None,
            attempts=0,
            errors=[],
            created=created,
            next_run=None,
            lease_expires=None,
            dead_since=None,
            finished=finished,
            result=result,
        )

    @property
    def finished_for_good(self) -> bool:
        """Whether nothing more will happen to the job: done, or dead."""
        return self.state in ("done", "dead")


@dataclass(frozen=True)
class QueueSummary:
    """A queue's status, its jobs in each state and its counters."""

    name: str
    open: bool
    #: Ready jobs of each priority, 0 to 9.
    ready_by_priority: list[int]
    delayed: int
    leased: int
    dead: int
    #: Jobs held until the jobs they depend on are done.
    waiting: int
    #: processed, failed, retried and dead (dead-lettered ever), enqueued,
    #: delivered, acked and expired (leases that ran out).
    totals: dict[str, int]
    #: When the oldest of the next ready jobs (of priority 0, and urgent) was
    #: posted, in unix seconds; None when none is ready.
    oldest_ready: float | None = None

    @property
    def ready(self) -> int:
        """Ready jobs of every priority."""
        return sum(self.ready_by_priority)

    @property
    def counts(self) -> dict[str, int]:
        """Jobs in each state."""
        return {
            "ready": self.ready,
            "delayed": self.delayed,
            "leased": self.leased,
            "dead": self.dead,
            "waiting": self.waiting,
        }


@dataclass(frozen=True)
class QueueView:
    """Everything about one queue, for C{GET /queues/Q}."""

    summary: QueueSummary
    settings: QueueSettings
    workers: list[str]


@dataclass(frozen=True)
class WorkerStats:
    """A worker's counters; C{started_at} is None if it never registered."""

    processed: int
    failed: int
    started_at: int | None
    last_seen: float | None = None
    queues: list[str] = field(default_factory=list)
    #: Seen within the broker's alive window.
    alive: bool = False


@dataclass(frozen=True)
class Page(Generic[T]):
    """A slice of a longer list, and how long that list is."""

    total: int
    items: list[T]


@dataclass(frozen=True)
class Retried:
    """Dead letters put back in their queue, and the ids named that were none."""

    retried: int
    missing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Figures:
    """What GET /metrics reports of the queues and of Redis, read at one time."""

    #: How many queues there are.
    queue_count: int
    #: The summaries of the first queues, in name order.
    summaries: list[QueueSummary]
    #: Workers seen within the alive window, on every server.
    workers_alive: int
    #: Redis's used_memory and maxmemory (0: no limit), in bytes.
    redis_memory: tuple[int, int]


@dataclass(frozen=True)
class Sample:
    """A queue's figures at the end of one minute of its history."""

    #: The start of the minute, in unix seconds.
    at: float
    #: Jobs in each state: ready, delayed, leased, dead.
    counts: dict[str, int]
    #: The queue's totals then (see QueueSummary.totals).
    totals: dict[str, int]
