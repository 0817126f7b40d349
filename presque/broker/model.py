"""What the broker hands out and takes: jobs, deliveries, views, settings."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any


class QueueClosed(Exception):
    """The queue is closed: jobs may be added but none handed out."""


class DuplicateJob(Exception):
    """A job with the same uniq key is still in the queue."""


class UnknownJob(Exception):
    """No job has this id in this queue."""


class StaleReceipt(Exception):
    """The receipt does not name the job's current delivery."""


@dataclass(frozen=True)
class QueueSettings:
    """
    How a queue treats its jobs. Every queue starts from the server's
    defaults ([queues] in the INI file) and may override each of them.
    """

    #: Seconds a fetched job stays leased; 0 takes it out for good (presque 1).
    lease: float = 0.0
    #: Deliveries before a failing job goes to the dead letters.
    max_attempts: int = 5
    #: Seconds before the first retry; each retry doubles it...
    backoff_base: float = 1.0
    #: ...up to this many seconds.
    backoff_cap: float = 3600.0

    def updated(self, changes: Mapping[str, Any]) -> QueueSettings:
        """
        These settings with C{changes} applied.

        @raise ValueError: an unknown name or an unusable value; the message
            names it.
        """
        known = {f.name for f in fields(self)}
        for name in changes:
            if name not in known:
                raise ValueError(f"unknown setting {name!r}; known: {', '.join(sorted(known))}")
        result = replace(self, **{name: _check(name, value) for name, value in changes.items()})
        if result.backoff_cap < result.backoff_base:
            raise ValueError("backoff_cap must be at least backoff_base")
        return result

    def as_dict(self) -> dict[str, float | int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_MAX_SECONDS = 7 * 24 * 3600


def _check(name: str, value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number")
    if name == "max_attempts":
        if value != int(value) or not 1 <= value <= 1000:
            raise ValueError("max_attempts must be an integer from 1 to 1000")
        return int(value)
    lowest = 0 if name == "lease" else 0.001
    if not lowest <= value <= _MAX_SECONDS:
        raise ValueError(f"{name} must be from {lowest} to {_MAX_SECONDS} seconds")
    return float(value)


@dataclass(frozen=True)
class Job:
    """A job as handed out; C{attempt} and C{receipt} only under a lease."""

    id: str
    payload: bytes
    attempt: int | None = None
    receipt: str | None = None


@dataclass(frozen=True)
class Delivery:
    """What one fetch handed out; C{lease_expires} is None without a lease."""

    jobs: list[Job]
    lease_expires: float | None = None


@dataclass(frozen=True)
class FailOutcome:
    """What became of a failed job: retried at C{retry_at}, or dead."""

    dead: bool
    retry_at: float | None = None


@dataclass(frozen=True)
class JobView:
    """Everything about one job, for C{GET /q/Q/<id>}."""

    id: str
    state: str
    payload: bytes
    attempts: int
    errors: list[dict[str, Any]]
    created: float | None
    next_run: float | None
    lease_expires: float | None
    dead_since: float | None


@dataclass(frozen=True)
class QueueCounts:
    """The numbers old clients read from C{/j/Q}."""

    ready: int
    processed: int
    failed: int


@dataclass(frozen=True)
class QueueView:
    """Everything about one queue, for C{GET /queues/Q}."""

    name: str
    open: bool
    counts: dict[str, int]
    #: Ready jobs of each priority that has any ("0" to "9").
    ready_by_priority: dict[str, int]
    totals: dict[str, int]
    workers: list[str]
    settings: QueueSettings


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
class DeadLetter:
    """One job in a queue's dead letters."""

    id: str
    dead_since: float
    payload: bytes
    attempts: int
    errors: list[dict[str, Any]]


@dataclass(frozen=True)
class DeadPage:
    """A page of dead letters, and how many there are in all."""

    total: int
    letters: list[DeadLetter]
