"""
C{/q/Q}: one job at a time. GET takes a job (for good, or leased with
C{lease=S}), POST adds one, PUT gives a failed job back, DELETE purges the
queue. Below it, C{/q/Q/<id>}: GET shows a job; a leased job is acked with
DELETE, failed with PUT, and its lease extended with POST C{.../lease}.
"""

from __future__ import annotations

from urllib.parse import quote

from presque import headers
from presque.broker import Broker, Enqueued, IsVirtual, JobView
from presque.longpoll import Departure
from presque.web.answers import Answer, empty_answer, json_answer
from presque.web.context import Resource
from presque.web.errors import WAIT_ANSWER, ApiError
from presque.web.fetching import fetch_jobs
from presque.web.inputs import (
    AFTER,
    DEAD,
    DELAY,
    DELAYED,
    DEPENDS,
    EXTENSION,
    GROUP,
    IDEMPOTENCY_KEY,
    LEASE,
    OUTCOME_WAIT,
    PRIORITY,
    RECEIPT,
    UNIQ,
    WAIT,
    WORKER,
    body,
    require_json_content_type,
)
from presque.web.job_inputs import ack_result, blockers, error_message, progress_report
from presque.web.jsontext import check_job, encode_json, spliced
from presque.web.routing import Call, Route

_JOB = "/q/{queue}/{job}"


class Jobs(Resource):
    """The C{/q/} routes."""

    def routes(self) -> list[Route]:
        settled = {404: ("No such job.", "Error"), 409: ("The receipt is not current.", "Error")}
        added = {201: ("Stored; its id is in X-Presque-Job-Id and Location.", None), **WAIT_ANSWER}
        posted = {
            **added,
            409: ("A job it waits for has as many jobs waiting on it as may.", "Error"),
        }
        return [
            Route(
                "GET",
                "/q/{queue}",
                self.take,
                "Take the next job: for good, or leased with lease=S.",
                args=(LEASE, WAIT),
                headers=(WORKER,),
                answers={
                    200: ("The job, byte for byte as it was posted.", "Job"),
                    404: ("No job is ready, or the queue is closed.", "Error"),
                },
                sighting="queue",
                scope="consume",
            ),
            Route(
                "POST",
                "/q/{queue}",
                self.add,
                "Add a job.",
                args=(DELAYED, UNIQ, PRIORITY, GROUP, AFTER, DEPENDS),
                headers=(WORKER, IDEMPOTENCY_KEY),
                body="Job",
                answers=posted,
                sighting="queue",
                scope="produce",
            ),
            Route(
                "PUT",
                "/q/{queue}",
                self.give_back,
                "Give a job back after failing it (presque 1): counted as failed, then added.",
                args=(DELAYED, UNIQ, PRIORITY, GROUP),
                headers=(WORKER,),
                body="Job",
                answers=added,
                sighting="queue",
                scope="consume",
            ),
            Route(
                "DELETE",
                "/q/{queue}",
                self.purge,
                "Purge the queue: every job in every state, its uniq keys and counters.",
                answers={204: ("Purged.", None)},
                sighting="queue",
                scope="admin",
            ),
            Route(
                "GET",
                _JOB,
                self.show,
                "Everything about one job; with wait=S, once it is done or dead (or S"
                " seconds passed).",
                args=(OUTCOME_WAIT,),
                answers={200: ("The job.", "JobView"), 404: ("No such job.", "Error")},
                safe=True,
                scope="read",
            ),
            Route(
                "DELETE",
                _JOB,
                self.ack,
                'Ack a leased job: done, gone for good; {"result": ...} is kept for the'
                " queue's result_ttl.",
                headers=(RECEIPT, WORKER),
                body="Result",
                answers={204: ("Acked.", None), **settled},
                sighting="queue",
                scope="consume",
            ),
            Route(
                "POST",
                _JOB + "/progress",
                self.progress,
                "Tell how far a leased job got, shown in its view.",
                headers=(RECEIPT, WORKER),
                body="Progress",
                answers={204: ("Noted.", None), **settled},
                sighting="queue",
                scope="consume",
            ),
            Route(
                "PUT",
                _JOB,
                self.fail,
                "Fail a leased job: retried after a backoff, or dead.",
                args=(DELAY, DEAD),
                headers=(RECEIPT, WORKER),
                body="Failure",
                answers={200: ("What became of the job.", "FailOutcome"), **settled},
                sighting="queue",
                scope="consume",
            ),
            Route(
                "POST",
                _JOB + "/lease",
                self.extend,
                "Extend the lease of a job.",
                args=(EXTENSION,),
                headers=(RECEIPT, WORKER),
                answers={200: ("The new deadline.", "Extension"), **settled},
                sighting="queue",
                scope="consume",
            ),
        ]

    async def take(self, call: Call) -> Answer:
        delivery = await fetch_jobs(self.context, call, 1)
        [job] = delivery.jobs
        answer_headers = {headers.JOB_ID: job.id, headers.QUEUE: delivery.queue}
        if delivery.lease_expires is not None:
            answer_headers[headers.ATTEMPT] = str(job.attempt)
            answer_headers[headers.RECEIPT] = str(job.receipt)
            answer_headers[headers.LEASE_EXPIRES] = f"{delivery.lease_expires:.3f}"
        return Answer(200, job.payload, answer_headers, delivery=delivery)

    async def add(self, call: Call) -> Answer:
        return await self._insert(call, as_failure=False)

    async def give_back(self, call: Call) -> Answer:
        return await self._insert(call, as_failure=True)

    async def _insert(self, call: Call, as_failure: bool) -> Answer:
        refuse_virtual(self.broker, call.queue)
        request = call.request
        require_json_content_type(request)
        payload = body(request)
        if not payload.strip():
            raise ApiError(400, "job is missing")
        check_job(payload)
        enqueued = await self.broker.enqueue(
            call.queue,
            [payload],
            run_at=DELAYED.read(request),
            uniq=UNIQ.read(request),
            failed_by=call.worker,
            as_failure=as_failure,
            priority=PRIORITY.read(request),
            idempotency=None if as_failure else IDEMPOTENCY_KEY.read(request),
            groups=[GROUP.read(request)],
            after=blockers(call, self.context.settings.max_queue_name_length),
        )
        [job_id] = enqueued.ids
        answer_headers = {
            "Location": f"/q/{quote(call.queue, safe='')}/{job_id}",
            headers.JOB_ID: job_id,
            **replayed(enqueued),
        }
        return empty_answer(201, answer_headers)

    async def purge(self, call: Call) -> Answer:
        refuse_virtual(self.broker, call.queue)
        await self.broker.purge(call.queue)
        return empty_answer(204)

    async def show(self, call: Call) -> Answer:
        await self._find_member(call)
        wait = min(OUTCOME_WAIT.read(call.request) or 0.0, self.context.settings.max_wait)
        view = await self.broker.inspect(call.queue, call.job)
        if wait > 0 and not view.finished_for_good:
            view = await self._outcome(call, view, wait)
        return Answer(200, job_document(call.queue, view))

    async def _outcome(self, call: Call, view: JobView, wait: float) -> JobView:
        """The job once it is done or dead, or as it is when C{wait} seconds passed."""
        longpoll = self.context.longpoll
        reactor = longpoll.reactor
        departure = Departure.of_request(call.request)
        deadline = reactor.seconds() + wait
        while not view.finished_for_good and not longpoll.closed and not departure.happened:
            left = deadline - reactor.seconds()
            if left <= 0:
                break
            await longpoll.finished(call.queue, call.job, left, departure)
            view = await self.broker.inspect(call.queue, call.job)
        return view

    async def _find_member(self, call: Call) -> None:
        """On a virtual queue, the call is about its member queue that holds the job."""
        members = self.broker.members(call.queue)
        if members is not None:
            self.context.access.require_on(call, call.route.scope or "read", members)
            call.queue = await self.broker.queue_holding(members, call.job)

    async def ack(self, call: Call) -> Answer:
        await self._find_member(call)
        result = ack_result(body(call.request), self.context.settings.max_result_size)
        await self.broker.ack(call.queue, call.job, _receipt(call), call.worker, result)
        return empty_answer(204)

    async def progress(self, call: Call) -> Answer:
        await self._find_member(call)
        value, message = progress_report(body(call.request))
        await self.broker.report_progress(call.queue, call.job, _receipt(call), value, message)
        return empty_answer(204)

    async def fail(self, call: Call) -> Answer:
        await self._find_member(call)
        request = call.request
        outcome = await self.broker.fail(
            call.queue,
            call.job,
            _receipt(call),
            error=error_message(body(request)),
            delay=DELAY.read(request),
            dead=DEAD.read(request),
            worker=call.worker,
        )
        return json_answer(
            {
                "id": call.job,
                "state": "dead" if outcome.dead else "delayed",
                "next_run": outcome.retry_at,
            }
        )

    async def extend(self, call: Call) -> Answer:
        await self._find_member(call)
        lease = EXTENSION.read(call.request)
        if lease is None:
            raise ApiError(400, "seconds is missing: how long the new lease lasts")
        deadline = await self.broker.extend(call.queue, call.job, _receipt(call), lease)
        return json_answer({"id": call.job, "lease_expires": deadline})


def replayed(enqueued: Enqueued) -> dict[str, str]:
    """The header that tells a producer its repeated POST stored nothing new."""
    return {headers.IDEMPOTENT_REPLAYED: "true"} if enqueued.replayed else {}


async def job_answer(broker: Broker, queue: str, job_id: str) -> Answer:
    """Everything about one job, as C{GET /q/Q/<id>} answers it."""
    return Answer(200, job_document(queue, await broker.inspect(queue, job_id)))


def job_document(queue: str, view: JobView) -> bytes:
    """A job as the API shows it, its payload (if read) spliced in byte for byte."""
    summary = {
        "id": view.id,
        "queue": queue,
        "state": view.state,
        "priority": view.priority,
        "group": view.group,
        "progress": view.progress,
        "attempts": view.attempts,
        "errors": view.errors,
        "created": view.created,
        "delivered": view.delivered,
        "delivered_to": view.delivered_to,
        "next_run": view.next_run,
        "lease_expires": view.lease_expires,
        "dead_since": view.dead_since,
        "finished": view.finished,
    }
    if view.held_by is not None:
        summary["held_by"] = view.held_by
    if view.result is not None:
        return spliced(summary, "result", view.result)
    if view.payload is None:
        return encode_json(summary)
    return spliced(summary, "job", view.payload)


def _receipt(call: Call) -> str:
    return RECEIPT.require(
        call.request, "receipt is missing: send the X-Presque-Receipt of the delivery"
    )


def refuse_virtual(broker: Broker, queue: str) -> None:
    """
    Jobs go to the member queues of a virtual queue, never to it; it has no
    status, settings or jobs of its own either.
    """
    if broker.members(queue) is not None:
        raise IsVirtual(queue)
