"""
C{/qb/Q}: jobs in batches. GET takes up to C{batch_size} jobs, POST adds
C{{"jobs": [...]}}, each element stored as its own text, byte for byte as
posted; PUT and DELETE are refused, as in presque 1. POST C{/qb/Q/settle}
acks and fails many leased jobs at once (L{presque.web.settlements}).

The job ids of a batch come in C{X-Presque-Job-Ids} only when the client
asks with C{ids=1} (or leases the jobs): for a large batch that header
outgrows the 8 KiB header lines that presque 1's Perl client accepts.
"""

from __future__ import annotations

from typing import Any

from presque import headers
from presque.web.answers import Answer, empty_answer, json_answer
from presque.web.context import Resource
from presque.web.errors import WAIT_ANSWER, ApiError
from presque.web.fetching import fetch_jobs
from presque.web.inputs import (
    AFTER,
    BATCH_SIZE,
    DELAYED,
    DEPENDS,
    GROUP,
    IDEMPOTENCY_KEY,
    IDS,
    LEASE,
    PRIORITY,
    WAIT,
    WORKER,
    body,
    check_text,
    require_json_content_type,
)
from presque.web.jobs import refuse_virtual, replayed
from presque.web.jsontext import body_text, encode_json, read_batch
from presque.web.routing import Call, Route
from presque.web.settlements import settle_document, settlements


class Batches(Resource):
    """The C{/qb/} routes."""

    def routes(self) -> list[Route]:
        refused = {400: ("Not supported in batch mode.", "Error")}
        return [
            Route(
                "GET",
                "/qb/{queue}",
                self.take,
                "Take up to batch_size jobs: an array of the jobs' JSON texts.",
                args=(BATCH_SIZE, LEASE, WAIT, IDS),
                headers=(WORKER,),
                answers={
                    200: ("The jobs' texts, in order.", "JobTexts"),
                    404: ("No job is ready, or the queue is closed.", "Error"),
                },
                sighting="queue",
                scope="consume",
            ),
            Route(
                "POST",
                "/qb/{queue}",
                self.add,
                'Add the jobs of {"jobs": [...]}, in order; {"groups": [...]} may name'
                " the group of each (a string, or null for none).",
                args=(DELAYED, PRIORITY, GROUP, IDS),
                headers=(WORKER, IDEMPOTENCY_KEY),
                body="Batch",
                answers={201: ("Stored.", None), **WAIT_ANSWER},
                sighting="queue",
                scope="produce",
            ),
            Route(
                "POST",
                "/qb/{queue}/settle",
                self.settle,
                "Settle many leased jobs at once: ack those of acks, fail those of fails,"
                " each job on its own; the answer tells which were settled, and why the"
                " others were not.",
                headers=(WORKER,),
                body="Settlements",
                answers={
                    200: ("What became of each job.", "SettleOutcome"),
                    413: ("A result is larger than max_result_size.", "Error"),
                },
                sighting="queue",
                scope="consume",
            ),
            Route(
                "PUT",
                "/qb/{queue}",
                self.refuse,
                "Refused.",
                answers=refused,
                scope="produce",
            ),
            Route(
                "DELETE",
                "/qb/{queue}",
                self.refuse,
                "Refused.",
                answers=refused,
                scope="produce",
            ),
        ]

    async def take(self, call: Call) -> Answer:
        count = min(BATCH_SIZE.read(call.request), self.context.settings.max_batch_size)
        delivery = await fetch_jobs(self.context, call, count)
        jobs = delivery.jobs
        answer_headers = {headers.QUEUE: delivery.queue}
        leased = delivery.lease_expires is not None
        if leased or IDS.read(call.request):
            answer_headers[headers.JOB_IDS] = ",".join(job.id for job in jobs)
        if leased:
            answer_headers[headers.RECEIPTS] = ",".join(str(job.receipt) for job in jobs)
            answer_headers[headers.ATTEMPTS] = ",".join(str(job.attempt) for job in jobs)
            answer_headers[headers.LEASE_EXPIRES] = f"{delivery.lease_expires:.3f}"
        # Each element is the job's JSON text, which clients decode again.
        texts = encode_json([body_text(job.payload) for job in jobs])
        return Answer(200, texts, answer_headers, delivery=delivery)

    async def add(self, call: Call) -> Answer:
        refuse_virtual(self.broker, call.queue)
        request = call.request
        require_json_content_type(request)
        run_at, priority = DELAYED.read(request), PRIORITY.read(request)
        idempotency, with_ids = IDEMPOTENCY_KEY.read(request), IDS.read(request)
        batch = read_batch(body(request))
        if batch is None:
            raise ApiError(400, "jobs should be an array of job")
        jobs, groups = batch
        most = self.context.settings.max_batch_size
        if len(jobs) > most:
            raise ApiError(400, f"a batch holds at most {most} jobs")
        groups = _groups(groups, len(jobs), GROUP.read(request))
        if AFTER.read(request) or DEPENDS.read(request):
            raise ApiError(400, "jobs of a batch cannot wait for others: post them one by one")
        if not jobs:
            return empty_answer(201)
        enqueued = await self.broker.enqueue(
            call.queue,
            jobs,
            run_at=run_at,
            priority=priority,
            idempotency=idempotency,
            groups=groups,
        )
        answer_headers = replayed(enqueued)
        if with_ids:
            answer_headers[headers.JOB_IDS] = ",".join(enqueued.ids)
        return empty_answer(201, answer_headers)

    async def settle(self, call: Call) -> Answer:
        # A virtual queue holds no job: its members' are settled on them,
        # each of a batch handed out coming from one member (X-Presque-Queue).
        refuse_virtual(self.broker, call.queue)
        request = call.request
        require_json_content_type(request)
        settings = self.context.settings
        acks, fails = settlements(body(request), settings.max_batch_size, settings.max_result_size)
        outcomes = await self.broker.settle(call.queue, acks, fails, call.worker)
        return json_answer(settle_document(outcomes))

    async def refuse(self, call: Call) -> Answer:
        raise ApiError(400, f"{call.request.method.decode('ascii')} is not supported in batch mode")


def _groups(listed: Any, count: int, for_all: str | None) -> list[str | None] | None:
    """The group of each of C{count} jobs: C{listed} in the body, else C{for_all}."""
    if listed is None:
        return [for_all] * count if for_all else None
    if for_all:
        raise ApiError(400, "name the groups in the body or with group=, not both")
    if not isinstance(listed, list) or len(listed) != count:
        raise ApiError(400, "groups should be an array with a group (or null) for each job")
    for group in listed:
        if group is not None and not isinstance(group, str):
            raise ApiError(400, "each of groups should be a string or null")
        if group:
            check_text(group, "a group", GROUP.longest)
    return listed
