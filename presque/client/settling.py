"""
Settling many leased jobs in one request (C{POST /qb/Q/settle}): what a
client method takes (L{Job}s to ack, or L{Ack} and L{Fail} for a result or
an error) and what it answers (a L{Settlement}).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from presque.client.models import Answer, Call, Job
from presque.client.requests import NO_RESULT


@dataclass(frozen=True)
class Ack:
    """Ack C{job}, with C{result} (any JSON value) for the producer, if given."""

    job: Job
    result: Any = NO_RESULT


@dataclass(frozen=True)
class Fail:
    """Fail C{job} as L{presque.client.Client.fail} does: retried after the backoff,
    or after C{delay} seconds, or dead at once with C{dead}."""

    job: Job
    error: str | None = None
    delay: float | None = None
    dead: bool = False


@dataclass
class Settlement:
    """
    What became of the jobs of a settle: C{settled}, each C{{"id", "state",
    "next_run"}} (state C{done}, C{delayed} or C{dead}); C{refused}, each
    C{{"id", "status", "error"}}, left as it was (404: no such job; 409: the
    receipt is not current, the lease ran out or the job was settled).
    """

    settled: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)

    def add(self, other: Settlement) -> None:
        """Take in the answer of another request of the same settle."""
        self.settled += other.settled
        self.refused += other.refused


def _settlement(answer: Answer) -> Settlement:
    document = answer.json()
    return Settlement(document["settled"], document["refused"])


def _leased(job: Job) -> bool:
    return job.receipt is not None


def _ack_entry(ack: Ack) -> dict[str, Any]:
    entry = {"id": ack.job.id, "receipt": ack.job.receipt}
    if ack.result is not NO_RESULT:
        entry["result"] = ack.result
    return entry


def _fail_entry(fail: Fail) -> dict[str, Any]:
    if not _leased(fail.job):
        # Nothing to settle: presque 1's give-back (Client.fail) is the way.
        raise ValueError(f"job {fail.job.id} was not leased: give it back with fail()")
    entry: dict[str, Any] = {"id": fail.job.id, "receipt": fail.job.receipt}
    if fail.error is not None:
        entry["error"] = fail.error
    if fail.delay is not None:
        entry["delay"] = fail.delay
    if fail.dead:
        entry["dead"] = True
    return entry


def settle_calls(
    acks: Iterable[Job | Ack], fails: Iterable[Fail], batch: int
) -> Iterator[Call[Settlement]]:
    """
    POST /qb/Q/settle, one per queue the jobs belong to (the members of a
    virtual queue settle their own) and per C{batch} jobs of it. Jobs taken
    for good have nothing to settle: their acks are left out.
    """
    if batch < 1:
        raise ValueError("batch must be a positive number of jobs")
    by_queue: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
    for ack in acks:
        ack = ack if isinstance(ack, Ack) else Ack(ack)
        if _leased(ack.job):
            by_queue.setdefault(ack.job.queue, ([], []))[0].append(_ack_entry(ack))
    for fail in fails:
        by_queue.setdefault(fail.job.queue, ([], []))[1].append(_fail_entry(fail))
    for queue, (acked, failed) in by_queue.items():
        path = f"/qb/{quote(queue, safe='')}/settle"
        entries = [("acks", entry) for entry in acked] + [("fails", entry) for entry in failed]
        for first in range(0, len(entries), batch):
            body: dict[str, list[dict[str, Any]]] = {"acks": [], "fails": []}
            for kind, entry in entries[first : first + batch]:
                body[kind].append(entry)
            yield Call("POST", path, _settlement, body=body)
