"""Jobs in, and jobs looked at: enqueue, inspect, purge."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from presque.broker.base import check_moved, errors_of, millis, seconds
from presque.broker.errors import (
    DuplicateJob,
    IdempotencyConflict,
    QueueFull,
    RedisNearlyFull,
    TooManyDependents,
    UnknownJob,
)
from presque.broker.keys import job_time, new_job_id
from presque.broker.model import Blocker, Enqueued, JobView
from presque.broker.queues import QueueOperations
from presque.broker.scripts import load_script

_ENQUEUE = load_script("enqueue")
_INSPECT = load_script("inspect")
_HOLD = load_script("hold")
_DEPEND = load_script("depend")
_JOB_REMOVE = load_script("job_remove")
_PURGE = load_script("purge")

#: The most jobs that may wait on one job.
MAX_DEPENDENTS = 1000


class JobOperations(QueueOperations):
    """Adding jobs and looking at one."""

    async def enqueue(
        self,
        queue: str,
        payloads: Sequence[bytes],
        run_at: float | None = None,
        uniq: str | None = None,
        failed_by: str | None = None,
        as_failure: bool = False,
        priority: int = 0,
        idempotency: str | None = None,
        groups: Sequence[str | None] | None = None,
        after: Sequence[Blocker] = (),
    ) -> Enqueued:
        """
        Add C{payloads} to C{queue} as jobs and return their ids.

        @param run_at: unix time before which the jobs are not handed out.
        @param uniq: refuse the job while another with this key is queued.
        @param as_failure: a worker gives the job back after failing it:
            count a failure for the queue, and for the worker C{failed_by}.
        @param priority: 0 to 9; higher priorities are handed out first.
        @param idempotency: the request's Idempotency-Key: a request repeated
            with it within the broker's window stores nothing and answers
            the ids stored the first time.
        @param groups: the group of each job (None for none), in order: the
            queue's group_concurrency bounds how many jobs of a group are
            leased at once, and fetches serve groups in turn.
        @param after: what the job (a single one, not delayed) waits for: it
            is waiting until each is done (acked, or taken for good), and
            goes to the dead letters when one of them does, or is cancelled.
        @raise DuplicateJob: C{uniq} is taken.
        @raise IdempotencyConflict: C{idempotency} came with another request.
        @raise QueueFull: the jobs would take the queue past its max_length.
        @raise RedisNearlyFull: Redis' memory passed the share producers may
            fill (a job given back is taken all the same).
        @raise TooManyDependents: a job waited on has as many jobs waiting on
            it as may (nothing is stored).
        """
        if self.memory_full and not as_failure:
            raise RedisNearlyFull(queue)
        options = [millis(run_at), uniq or "", "1" if as_failure else "0", priority]
        each_group = [group or "" for group in groups] if groups else [""] * len(payloads)
        # Groups join the digest only when there are some: keys remembered
        # from before groups existed still match their requests.
        digested = [*options, *each_group] if any(each_group) else options
        blockers = [blocker.key for blocker in after]
        digested = [*digested, *blockers]
        digest = "" if idempotency is None else _digest(digested, payloads)
        args = [*options, idempotency or "", digest, millis(self.idempotency_window)]
        args.append(json.dumps(blockers) if blockers else "")
        job_ids = [new_job_id() for _ in payloads]
        # A batch without groups, the common case, sends no group per job.
        grouped = any(each_group)
        args.append("1" if grouped else "0")
        for job_id, payload, group in zip(job_ids, payloads, each_group, strict=True):
            args += (job_id, payload, group) if grouped else (job_id, payload)
        status, unlisted, schedule_at, *stored = await self.run(_ENQUEUE, queue, args)
        if status == b"exists":
            raise DuplicateJob(uniq)
        if status == b"conflict":
            raise IdempotencyConflict(idempotency)
        if status == b"full":
            raise QueueFull(queue, int(stored[0]))
        if status == b"replay":
            return Enqueued([job_id.decode("ascii") for job_id in stored], replayed=True)
        await self.note_due(queue, schedule_at)
        if after:
            await self._wait_on(queue, job_ids[0], after)
        if as_failure and failed_by:
            await self.redis.execute("HINCRBY", self.keys.worker(failed_by), "failed", 1)
        if unlisted:
            await self.list_queue(queue)
        return Enqueued(job_ids)

    async def _wait_on(self, queue: str, job_id: str, after: Sequence[Blocker]) -> None:
        """
        The waiting job C{job_id} is registered with each job it waits for,
        and learns at once of those that are finished already.
        """
        for blocker in after:
            args = [blocker.kind, blocker.name, queue, job_id, blocker.key, MAX_DEPENDENTS]
            outcome = (await self.run(_DEPEND, blocker.queue, args)).decode("ascii")
            if outcome == "full":
                await self.remove_job(queue, job_id, force=True)
                raise TooManyDependents(blocker.queue, blocker.name, MAX_DEPENDENTS)
            if outcome != "pending":
                await self.tell_waiting(queue, job_id, blocker.key, outcome)

    async def remove_job(self, queue: str, job_id: str, force: bool = False) -> None:
        """
        Cancel a job: remove it for good, from any state; a leased one only
        with C{force}. The jobs waiting on it go to the dead letters.

        @raise UnknownJob: no such job.
        @raise JobInState: the job is leased, and C{force} was not given.
        """
        reply = await self.run(_JOB_REMOVE, queue, [job_id, "1" if force else "0"])
        check_moved(reply, queue, job_id)
        await self.note_due(queue, reply[1])

    async def inspect(self, queue: str, job_id: str) -> JobView:
        """
        Everything about one job.

        @raise UnknownJob: no such job.
        """
        reply = await self.run(_INSPECT, queue, [job_id])
        if not reply:
            raise UnknownJob(f"{queue}/{job_id}")
        if len(reply) == 3:
            _, acked, result = reply
            return JobView.done(job_id, seconds(acked), result or None, job_time(job_id))
        payload, raw_info, due, deadline, dead_since, waiting = reply
        if dead_since:
            state = "dead"
        elif waiting:
            state = "waiting"
        elif deadline:
            state = "leased"
        elif due:
            state = "delayed"
        else:
            state = "ready"
        times = {"delayed": due, "leased": deadline, "dead": dead_since}
        view = job_view(job_id, state, payload, raw_info, times.get(state))
        if state in ("ready", "delayed", "waiting"):
            view = replace(view, held_by=await self._holds(queue, view))
        return view

    async def _holds(self, queue: str, view: JobView) -> list[dict[str, Any]]:
        """What holds a ready or delayed job back, each as C{{"reason", ...}}."""
        closed, leased, group_leased, rate_wait, last_seen, now = await self.run(
            _HOLD, queue, [view.group or ""]
        )
        settings = await self.settings(queue)
        holds: list[dict[str, Any]] = []
        if closed:
            holds.append({"reason": "queue_closed"})
        if view.state == "delayed":
            holds.append({"reason": "delayed", "until": view.next_run})
        if view.state == "waiting":
            holds.append({"reason": "waiting", "on": [_blocker(key) for key in view.blockers]})
        if rate_wait:
            holds.append({"reason": "rate", "rate": settings.rate, "retry_in": rate_wait / 1000})
        if settings.concurrency and leased >= settings.concurrency:
            holds.append({"reason": "concurrency", "leased": leased, "limit": settings.concurrency})
        if view.group and settings.group_concurrency and group_leased >= settings.group_concurrency:
            holds.append(
                {
                    "reason": "group_concurrency",
                    "group": view.group,
                    "leased": group_leased,
                    "limit": settings.group_concurrency,
                }
            )
        if now - last_seen > self.alive_window * 1000:
            holds.append({"reason": "no_live_worker", "last_seen": seconds(last_seen or None)})
        return holds

    async def purge(self, queue: str) -> None:
        """
        Remove every job of C{queue}, in every state, its uniq keys and
        counters; the jobs of other queues waiting on them are dead.
        """
        await self.cancel_dependents(queue)
        await self.run(_PURGE, queue)


def job_view(
    job_id: str, state: str, payload: bytes | None, raw_info: bytes, state_time: bytes | None
) -> JobView:
    """
    A job as Redis holds it: C{state_time} is its due time, lease deadline
    or time of death (ms), as its C{state} has one. C{raw_info} is its
    metadata, C{{}} for a job stored with every default (none is stored then).
    """
    info = json.loads(raw_info)
    at = seconds(state_time)
    # Metadata stored before presque stopped writing defaults holds the
    # creation time; since then, the job's id tells it.
    created = seconds(info["created"]) if "created" in info else job_time(job_id)
    return JobView(
        id=job_id,
        state=state,
        payload=payload,
        attempts=info.get("attempts", 0),
        errors=errors_of(info),
        created=created,
        next_run=at if state == "delayed" else None,
        lease_expires=at if state == "leased" else None,
        dead_since=at if state == "dead" else None,
        priority=info.get("priority") or 0,
        group=info.get("group"),
        progress=_progress(info.get("progress")),
        blockers=sorted(info.get("blockers") or ()),
        delivered=seconds(info.get("delivered")),
        delivered_to=info.get("worker"),
    )


def _digest(options: list[str | int], payloads: Sequence[bytes]) -> str:
    """What tells a repeated request from another one under the same Idempotency-Key."""
    hashed = hashlib.sha256(json.dumps(options).encode())
    for payload in payloads:
        hashed.update(b"%d:" % len(payload))
        hashed.update(payload)
    return hashed.hexdigest()[:32]


def _progress(reported: dict[str, Any] | None) -> dict[str, Any] | None:
    """A progress report as the API shows it: its time in unix seconds."""
    if not reported:
        return None
    return {**reported, "at": seconds(reported.get("at"))}


def _blocker(key: str) -> dict[str, str]:
    """A blocker as the API shows it: {"queue", "id"} or {"queue", "uniq"}."""
    blocker = Blocker.from_key(key)
    return {"queue": blocker.queue, blocker.kind: blocker.name}
