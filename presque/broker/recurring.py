"""
Schedules of recurring jobs: a job posted to a queue on a cron expression
(in a time zone) or every so many seconds.

Definitions live in a hash across queues and their next runs in a sorted
set (L{presque.broker.keys.KeySpace.schedules}, ...). Every server's scheduler
claims the runs that fell due (C{recurring_claim.lua}: one server per run),
posts each run's job with the Idempotency-Key C{schedule:<name>:<due ms>}
and then records the run and the next one (C{recurring_done.lua}). A server
that dies in between leaves its claim to run out; the next server posts the
same run again and the Idempotency-Key makes that post store nothing: one
job per due time, across all servers.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter
from twisted.logger import Logger

from presque.broker.errors import (
    Backpressure,
    DuplicateJob,
    IdempotencyConflict,
    ScheduleFull,
    UnknownJob,
    UnknownSchedule,
)
from presque.broker.jobs import JobOperations
from presque.broker.model import Page
from presque.broker.scripts import load_script
from presque.broker.settings import MAX_SECONDS

log = Logger()

_SET = load_script("recurring_set")
_DELETE = load_script("recurring_delete")
_CLAIM = load_script("recurring_claim")
_DONE = load_script("recurring_done")

#: The most schedules there may be, and the largest job one posts (bytes of
#: JSON): together they bound what the schedules keep in Redis.
MAX_SCHEDULES = 10_000
MAX_SCHEDULED_JOB = 64 * 1024
#: Runs of schedules claimed per round of a scheduler.
RUNS_PER_ROUND = 100
#: How long (ms) a claimed run is left to its server before another fires it.
CLAIM_MS = 30_000
#: A run fired later than this (seconds) was missed: the servers were down.
MISSED_AFTER = 60.0
#: Overlap policies: post the job even while the last run's is still queued
#: or running ("allow"), or skip the run then ("skip").
OVERLAPS = ("allow", "skip")
#: What to do about runs missed while no server ran: skip them, or post one
#: job for them all.
MISSED = ("skip", "run_once")
#: The states of a job that has not finished.
_PENDING = ("ready", "delayed", "leased")


@dataclass(frozen=True)
class Schedule:
    """
    A schedule: its C{queue}, when (C{cron} in C{tz}, or C{every} seconds),
    the C{job} it posts (JSON text) with its options, and its policies.
    """

    name: str
    queue: str
    job: str
    cron: str | None = None
    tz: str = "UTC"
    every: float | None = None
    priority: int = 0
    uniq: str | None = None
    group: str | None = None
    overlap: str = "allow"
    missed: str = "skip"
    paused: bool = False
    #: When it was written (ms); an interval counts from there.
    created: int = 0
    #: Changes with every write: a run fired under another version is not recorded.
    version: str = ""
    #: The last run: {"at": due ms, "job": id or None, "skipped": why or None}.
    last_run: dict[str, Any] | None = None

    def next_run(self, after_ms: int) -> int | None:
        """The first due time (ms) after C{after_ms}; None if there is none."""
        if self.every is not None:
            period = round(self.every * 1000)
            runs = (after_ms - self.created) // period + 1
            return self.created + max(runs, 1) * period
        zone = ZoneInfo(self.tz)
        start = datetime.fromtimestamp(after_ms / 1000, UTC).astimezone(zone)
        try:
            upcoming = croniter(self.cron, start).get_next(datetime)
        except CroniterBadDateError:
            return None
        return math.floor(upcoming.timestamp() * 1000)

    def stored(self) -> str:
        """The definition as Redis keeps it."""
        document = {key: value for key, value in self.__dict__.items() if key != "name"}
        return json.dumps(document, separators=(",", ":"))

    @classmethod
    def from_stored(cls, name: str, text: bytes) -> Schedule:
        """A definition as Redis keeps it (see L{stored})."""
        document = json.loads(text)
        known = {key: value for key, value in document.items() if key in cls.__dataclass_fields__}
        return cls(**{**known, "name": name})


def check_schedule(name: str, document: Any, now_ms: int) -> Schedule:
    """
    The schedule C{name} that C{document} (from C{PUT /schedules/NAME})
    describes; its job must be checked as JSON by the caller.

    @raise ValueError: what is wrong with it, said plainly.
    """
    if not isinstance(document, Mapping):
        raise ValueError("a schedule must be a JSON object")
    allowed = {"queue", "cron", "tz", "every", "job", "priority", "uniq", "group"}
    allowed |= {"overlap", "missed", "paused"}
    unknown = sorted(set(document) - allowed)
    if unknown:
        raise ValueError(f"unknown member {unknown[0]!r}; known: {', '.join(sorted(allowed))}")
    queue = document.get("queue")
    if not isinstance(queue, str) or not queue:
        raise ValueError("queue is missing: the queue the jobs go to")
    if "job" not in document:
        raise ValueError("job is missing: the job to post")
    cron, every = document.get("cron"), document.get("every")
    if (cron is None) == (every is None):
        raise ValueError("give either cron (with tz) or every (seconds)")
    schedule = Schedule(
        name=name,
        queue=queue,
        job=json.dumps(document["job"], separators=(",", ":"), ensure_ascii=False),
        cron=_cron(cron),
        tz=_zone(document.get("tz", "UTC")) if cron is not None else "UTC",
        every=_every(every),
        priority=_choice_int(document.get("priority", 0), "priority", 0, 9),
        uniq=_text_or_none(document.get("uniq"), "uniq"),
        group=_text_or_none(document.get("group"), "group"),
        overlap=_one_of(document.get("overlap", "allow"), "overlap", OVERLAPS),
        missed=_one_of(document.get("missed", "skip"), "missed", MISSED),
        paused=_flag(document.get("paused", False), "paused"),
        created=now_ms,
        version=os.urandom(8).hex(),
    )
    if schedule.next_run(now_ms) is None:
        raise ValueError(f"cron {cron!r} never runs")
    if len(schedule.job.encode("utf-8")) > MAX_SCHEDULED_JOB:
        raise ValueError(f"the job is larger than {MAX_SCHEDULED_JOB} bytes")
    return schedule


def _cron(cron: Any) -> str | None:
    if cron is None:
        return None
    if not isinstance(cron, str) or len(cron) > 200:
        raise ValueError("cron must be a cron expression")
    fields = cron.split()
    if not (len(fields) == 5 or (len(fields) == 1 and cron.startswith("@"))):
        raise ValueError("cron must have five fields: minute hour day month weekday")
    if not croniter.is_valid(cron):
        raise ValueError(f"cron {cron!r} is not a valid cron expression")
    return " ".join(fields)


def _zone(tz: Any) -> str:
    if not isinstance(tz, str) or len(tz) > 64:
        raise ValueError("tz must be a time zone name, such as Europe/Paris")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"tz {tz!r} is not a known time zone") from None
    return tz


def _every(every: Any) -> float | None:
    if every is None:
        return None
    if isinstance(every, bool) or not isinstance(every, int | float) or not math.isfinite(every):
        raise ValueError("every must be a number of seconds")
    if not 1 <= every <= MAX_SECONDS:
        raise ValueError(f"every must be from 1 to {MAX_SECONDS} seconds")
    return round(every * 1000) / 1000


def _choice_int(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{what} must be an integer from {low} to {high}")
    return value


def _text_or_none(value: Any, what: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 256:
        raise ValueError(f"{what} must be text of at most 256 characters")
    return value


def _one_of(value: Any, what: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{what} must be one of: {', '.join(choices)}")
    return value


def _flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be true or false")
    return value


class RecurringOperations(JobOperations):
    """Writing schedules of recurring jobs, and firing their runs."""

    async def put_schedule(self, schedule: Schedule) -> None:
        """
        Write C{schedule} (replacing one of the same name), next run first.

        @raise ScheduleFull: there are L{MAX_SCHEDULES} schedules already.
        """
        due = "" if schedule.paused else schedule.next_run(schedule.created)
        args = [schedule.name, schedule.stored(), due, MAX_SCHEDULES]
        if await self.redis.eval(_SET, self.keys.schedules_keys, args) == b"full":
            raise ScheduleFull(MAX_SCHEDULES)

    async def schedule(self, name: str) -> tuple[Schedule, int | None]:
        """
        The schedule C{name} and its next run (ms; None when paused).

        @raise UnknownSchedule: no such schedule.
        """
        found = await self._read_schedules([name])
        if not found:
            raise UnknownSchedule(name)
        return found[0]

    async def schedules(self, offset: int, limit: int) -> Page[tuple[Schedule, int | None]]:
        """A page of the schedules, by name, each with its next run."""
        names = await self.redis.execute("HKEYS", self.keys.schedules)
        names = sorted(name.decode("utf-8") for name in names)
        page = names[offset : offset + limit]
        return Page(len(names), await self._read_schedules(page) if page else [])

    async def _read_schedules(self, names: list[str]) -> list[tuple[Schedule, int | None]]:
        """The schedules of C{names} still there, each with its next run: two calls in all."""
        texts = await self.redis.execute("HMGET", self.keys.schedules, *names)
        dues = await self.redis.execute("ZMSCORE", self.keys.schedules_due, *names)
        return [
            (Schedule.from_stored(name, text), None if due is None else int(float(due)))
            for name, text, due in zip(names, texts, dues, strict=True)
            if text is not None
        ]

    async def pause_schedule(self, name: str, paused: bool, now_ms: int) -> None:
        """
        Pause or resume a schedule; resumed, its next run counts from C{now_ms}.

        @raise UnknownSchedule: no such schedule.
        """
        schedule, _ = await self.schedule(name)
        changed = replace(schedule, paused=paused, version=os.urandom(8).hex())
        due = "" if paused else changed.next_run(now_ms)
        await self.redis.eval(
            _SET, self.keys.schedules_keys, [name, changed.stored(), due, MAX_SCHEDULES]
        )

    async def delete_schedule(self, name: str) -> None:
        """
        Delete a schedule.

        @raise UnknownSchedule: no such schedule.
        """
        if not await self.redis.eval(_DELETE, self.keys.schedules_keys, [name]):
            raise UnknownSchedule(name)

    async def fire_schedules(self) -> int:
        """Post the job of every run that fell due (or skip it); returns how many runs."""
        now, *claimed = await self.redis.eval(
            _CLAIM, self.keys.schedules_keys, [RUNS_PER_ROUND, CLAIM_MS]
        )
        for i in range(0, len(claimed), 3):
            name = claimed[i].decode("utf-8")
            due = int(float(claimed[i + 2]))
            try:
                schedule = Schedule.from_stored(name, claimed[i + 1])
            except (ValueError, TypeError):
                log.warn("schedule {name}: its definition is unreadable", name=name)
                continue
            await self._fire(schedule, due, int(now))
        return len(claimed) // 3

    async def _fire(self, schedule: Schedule, due: int, now: int) -> None:
        skipped, job_id = None, None
        if now - due > MISSED_AFTER * 1000 and schedule.missed == "skip":
            skipped = "missed"
        elif schedule.overlap == "skip" and await self._still_pending(schedule):
            # The job still pending stays the last run's: the next run looks at it.
            skipped, job_id = "overlap", (schedule.last_run or {}).get("job")
        elif self.members(schedule.queue) is not None:
            skipped = "virtual"
        if skipped is None:
            try:
                enqueued = await self.enqueue(
                    schedule.queue,
                    [schedule.job.encode("utf-8")],
                    uniq=schedule.uniq,
                    priority=schedule.priority,
                    groups=[schedule.group],
                    idempotency=f"schedule:{schedule.name}:{due}",
                )
                job_id = enqueued.ids[0]
            except (DuplicateJob, Backpressure, IdempotencyConflict) as error:
                skipped = _refusal(error)
        last = {"at": due, "job": job_id, "skipped": skipped}
        following = schedule.next_run(max(due, now))
        args = [schedule.name, schedule.version, json.dumps(last), following or ""]
        await self.redis.eval(_DONE, self.keys.schedules_keys, args)

    async def _still_pending(self, schedule: Schedule) -> bool:
        last = schedule.last_run or {}
        if not last.get("job"):
            return False
        try:
            view = await self.inspect(schedule.queue, last["job"])
        except UnknownJob:
            return False
        return view.state in _PENDING


def _refusal(error: Exception) -> str:
    """Why a run posted no job, when its queue refused it."""
    if isinstance(error, DuplicateJob):
        return "uniq"
    if isinstance(error, Backpressure):
        return "full"
    return "conflict"
