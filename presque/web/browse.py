"""
C{/queues/Q/jobs}: a queue's jobs as an operator sees them, a page of one
state at a time, and the actions on one job: make it ready now, send it to
the dead letters, or remove it.
"""

from __future__ import annotations

from presque.broker import JobView, Page
from presque.web.answers import Answer, empty_answer
from presque.web.context import Resource
from presque.web.inputs import FORCE, LIMIT, OFFSET, PAYLOADS, STATE, body
from presque.web.job_inputs import error_message
from presque.web.jobs import job_answer, job_document
from presque.web.jsontext import encode_json
from presque.web.routing import Call, Route

_JOB = "/queues/{queue}/jobs/{job}"
#: What a job sent to the dead letters by hand says, unless told why.
DEFAULT_REASON = "sent to the dead letters by an operator"


def jobs_page(queue: str, state: str, offset: int, limit: int, page: Page[JobView]) -> Answer:
    """A page of jobs in one state, each as L{job_document} shows it."""
    head = encode_json(
        {"queue": queue, "state": state, "total": page.total, "offset": offset, "limit": limit}
    )
    jobs = b",".join(job_document(queue, view) for view in page.items)
    return Answer(200, b'%s,"jobs":[%s]}' % (head[:-1], jobs))


class Browse(Resource):
    """The C{/queues/Q/jobs} routes."""

    def routes(self) -> list[Route]:
        unknown = {404: ("No such job.", "Error")}
        return [
            Route(
                "GET",
                "/queues/{queue}/jobs",
                self.page,
                "A page of the jobs in one state, in that state's order: ready jobs as they"
                " will be handed out, delayed ones by due time, leased ones by lease deadline,"
                " dead letters by time of death.",
                args=(STATE, OFFSET, LIMIT, PAYLOADS),
                answers={200: ("A page of jobs.", "JobPage")},
                safe=True,
                scope="read",
            ),
            Route(
                "POST",
                _JOB + "/ready",
                self.make_ready,
                "Make a delayed job or a dead letter ready now (a dead letter with fresh"
                " attempts), at the end of its priority.",
                answers={
                    200: ("The job, now ready.", "JobView"),
                    **unknown,
                    409: ("The job is ready or leased already.", "Error"),
                },
                scope="admin",
            ),
            Route(
                "POST",
                _JOB + "/dead",
                self.send_to_dead,
                'Send a job to the dead letters at once, from any state, with {"error": ...}'
                " among its errors; a leased job's holder can no longer settle it.",
                body="Failure",
                answers={
                    200: ("The job, now dead.", "JobView"),
                    **unknown,
                    409: ("The job is a dead letter already.", "Error"),
                },
                scope="admin",
            ),
            Route(
                "DELETE",
                _JOB,
                self.remove,
                "Cancel a job: remove it for good, from any state; a leased one only with force=1.",
                args=(FORCE,),
                answers={
                    204: ("Removed.", None),
                    **unknown,
                    409: ("The job is leased: force=1 cancels it all the same.", "Error"),
                },
                scope="admin",
            ),
        ]

    async def page(self, call: Call) -> Answer:
        request = call.request
        state, offset, limit = STATE.read(request), OFFSET.read(request), LIMIT.read(request)
        page = await self.broker.jobs_in_state(
            call.queue, state, offset, limit, PAYLOADS.read(request)
        )
        return jobs_page(call.queue, state, offset, limit, page)

    async def make_ready(self, call: Call) -> Answer:
        await self.broker.make_ready(call.queue, call.job)
        return await job_answer(self.broker, call.queue, call.job)

    async def send_to_dead(self, call: Call) -> Answer:
        reason = error_message(body(call.request)) or DEFAULT_REASON
        await self.broker.send_to_dead(call.queue, call.job, reason)
        return await job_answer(self.broker, call.queue, call.job)

    async def remove(self, call: Call) -> Answer:
        await self.broker.remove_job(call.queue, call.job, FORCE.read(call.request))
        return empty_answer(204)
