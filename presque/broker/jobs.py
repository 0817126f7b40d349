"""Jobs in, and jobs looked at: enqueue, inspect, purge."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from presque.broker.base import errors_of, millis, seconds
from presque.broker.errors import (
    DuplicateJob,
    IdempotencyConflict,
    QueueFull,
    RedisNearlyFull,
    UnknownJob,
)
from presque.broker.keys import job_time, new_job_id, worker_key
from presque.broker.model import Enqueued, JobView
from presque.broker.schedule import ScheduleOperations
from presque.broker.scripts import load_script

_ENQUEUE = load_script("enqueue")
_INSPECT = load_script("inspect")
_PURGE = load_script("purge")


class JobOperations(ScheduleOperations):
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
        @raise DuplicateJob: C{uniq} is taken.
        @raise IdempotencyConflict: C{idempotency} came with another request.
        @raise QueueFull: the jobs would take the queue past its max_length.
        @raise RedisNearlyFull: Redis' memory passed the share producers may
            fill (a job given back is taken all the same).
        """
        if self.memory_full and not as_failure:
            raise RedisNearlyFull(queue)
        options = [millis(run_at), uniq or "", "1" if as_failure else "0", priority]
        each_group = [group or "" for group in groups] if groups else [""] * len(payloads)
        # Groups join the digest only when there are some: keys remembered
        # from before groups existed still match their requests.
        digested = [*options, *each_group] if any(each_group) else options
        digest = "" if idempotency is None else _digest(digested, payloads)
        args = [*options, idempotency or "", digest, millis(self.idempotency_window)]
        job_ids = [new_job_id() for _ in payloads]
        for job_id, payload, group in zip(job_ids, payloads, each_group, strict=True):
            args += (job_id, payload, group)
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
        if as_failure and failed_by:
            await self.redis.execute("HINCRBY", worker_key(failed_by), "failed", 1)
        if unlisted:
            await self.list_queue(queue)
        return Enqueued(job_ids)

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
        payload, raw_info, due, deadline, dead_since = reply
        if dead_since:
            state = "dead"
        elif deadline:
            state = "leased"
        elif due:
            state = "delayed"
        else:
            state = "ready"
        times = {"delayed": due, "leased": deadline, "dead": dead_since}
        return job_view(job_id, state, payload, raw_info, times.get(state))

    async def purge(self, queue: str) -> None:
        """Remove every job of C{queue}, in every state, its uniq keys and counters."""
        await self.run(_PURGE, queue)


def job_view(
    job_id: str, state: str, payload: bytes | None, raw_info: bytes, state_time: bytes | None
) -> JobView:
    """
    A job as Redis holds it: C{state_time} is its due time, lease deadline
    or time of death (ms), as its C{state} has one.
    """
    info = json.loads(raw_info)
    at = seconds(state_time)
    return JobView(
        id=job_id,
        state=state,
        payload=payload,
        attempts=info.get("attempts", 0),
        errors=errors_of(info),
        created=seconds(info.get("created")),
        next_run=at if state == "delayed" else None,
        lease_expires=at if state == "leased" else None,
        dead_since=at if state == "dead" else None,
        priority=info.get("priority") or 0,
        group=info.get("group"),
        progress=_progress(info.get("progress")),
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
