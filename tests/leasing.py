"""Helpers for the tests of leased delivery."""

from __future__ import annotations

from dataclasses import dataclass

from tests.support import JSON, Http, Reply


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


async def bury(http: Http, queue: str, job: object, error: str = "bad input") -> str:
    """Post C{job} to C{queue}, lease it and fail it with C{dead=1}; return its id.
    The queue must have no other ready job."""
    await http.post_job(queue, job)
    leased = await lease_one(http, queue)
    assert leased.job == job
    reply = await fail(http, queue, leased.id, leased.receipt, error=error, dead="1")
    assert reply.json()["state"] == "dead", reply.body
    return leased.id


async def dead_page(http: Http, queue: str, **params: str) -> dict:
    """The body of C{GET /dead/queue}, which must answer 200."""
    reply = await http.get(f"/dead/{queue}", params=params or None)
    assert reply.status == 200, reply.body
    return reply.json()


async def dead_ids(http: Http, queue: str) -> list[str]:
    """The ids of the first page of C{queue}'s dead letters, oldest first."""
    return [letter["id"] for letter in (await dead_page(http, queue))["jobs"]]


async def configure(http: Http, queue: str, settings: object = None, body: str | None = None):
    """PATCH /queues/queue with C{settings} as JSON, or with the raw C{body}."""
    if body is not None:
        return await http.request("PATCH", f"/queues/{queue}", body=body, headers=JSON)
    return await http.request("PATCH", f"/queues/{queue}", json_body=settings)
