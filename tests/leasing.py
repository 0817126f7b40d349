"""Helpers for the tests of leased delivery."""

from __future__ import annotations

from dataclasses import dataclass

from tests.support import Http, Reply


@dataclass
class Leased:
    """One leased delivery as a worker sees it."""

    id: str
    attempt: int
    receipt: str
    expires: float
    job: object


async def lease_one(http: Http, queue: str, seconds: float = 30) -> Leased:
    """GET one job of C{queue} under a lease; fail the test if there is none."""
    reply = await http.get(f"/q/{queue}", params={"lease": str(seconds)})
    assert reply.status == 200, reply.body
    return Leased(
        id=reply.header("X-Presque-Job-Id"),
        attempt=int(reply.header("X-Presque-Attempt")),
        receipt=reply.header("X-Presque-Receipt"),
        expires=float(reply.header("X-Presque-Lease-Expires")),
        job=reply.json(),
    )


async def ack(http: Http, queue: str, job_id: str, receipt: str) -> Reply:
    return await http.delete(f"/q/{queue}/{job_id}", headers={"X-Presque-Receipt": receipt})


async def fail(
    http: Http, queue: str, job_id: str, receipt: str, error: str | None = None, **params: str
) -> Reply:
    return await http.put(
        f"/q/{queue}/{job_id}",
        json_body=None if error is None else {"error": error},
        headers={"X-Presque-Receipt": receipt},
        params=params or None,
    )


async def extend(http: Http, queue: str, job_id: str, receipt: str, seconds: float) -> Reply:
    return await http.post(
        f"/q/{queue}/{job_id}/lease",
        headers={"X-Presque-Receipt": receipt},
        params={"seconds": str(seconds)},
    )


async def state_of(http: Http, queue: str, job_id: str) -> str:
    reply = await http.get(f"/q/{queue}/{job_id}")
    assert reply.status == 200, reply.body
    return reply.json()["state"]
