"""Helpers for the tests of POST /qb/Q/settle: leasing a batch, settling it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.support import Http, Reply


@dataclass(frozen=True)
class Held:
    """One job of a leased batch: its id and its receipt."""

    id: str
    receipt: str


async def lease_batch(http: Http, queue: str, count: int, seconds: float = 30) -> list[Held]:
    """GET /qb/queue?lease=S: C{count} jobs, which must all be there."""
    reply = await http.get(f"/qb/{queue}", params={"batch_size": str(count), "lease": str(seconds)})
    assert reply.status == 200, reply.body
    ids = reply.header("X-Presque-Job-Ids").split(",")
    receipts = reply.header("X-Presque-Receipts").split(",")
    assert len(ids) == count, ids
    return [Held(i, r) for i, r in zip(ids, receipts, strict=True)]


def acks(held: list[Held], **extra: Any) -> list[dict[str, Any]]:
    """The entries that ack C{held}, each with C{extra} members."""
    return [{"id": job.id, "receipt": job.receipt, **extra} for job in held]


async def settle(http: Http, queue: str, body: Any, **headers: str) -> Reply:
    """POST /qb/queue/settle with C{body} as JSON."""
    return await http.post(f"/qb/{queue}/settle", json_body=body, headers=headers or None)


async def settled(http: Http, queue: str, body: Any, **headers: str) -> dict[str, Any]:
    """The answer of a settle that must be a 200."""
    reply = await settle(http, queue, body, **headers)
    assert reply.status == 200, reply.body
    return reply.json()


async def state(http: Http, queue: str, job_id: str) -> str:
    """The state of a job in its view."""
    reply = await http.get(f"/q/{queue}/{job_id}")
    assert reply.status == 200, reply.body
    return reply.json()["state"]
