"""
A queue's jobs as an operator sees them: pages of each state, and the
actions on one job (make it ready now, send it to the dead letters, remove
it), each one script.
"""

from __future__ import annotations

from presque.broker.base import check_moved
from presque.broker.jobs import job_view
from presque.broker.model import JobView, Page
from presque.broker.schedule import ScheduleOperations
from presque.broker.scripts import load_script
from presque.counts import STATES

_JOBS_PAGE = load_script("jobs_page")
_JOB_READY = load_script("job_ready")
_JOB_DEAD = load_script("job_dead")

#: The most bytes of payloads a page of jobs holds (jobs may be of 1 MiB each).
PAGE_BYTES = 4 * 1024 * 1024


class BrowseOperations(ScheduleOperations):
    """Pages of jobs by state, and an operator's actions on one job."""

    async def jobs_in_state(
        self, queue: str, state: str, offset: int = 0, limit: int = 100, payloads: bool = True
    ) -> Page[JobView]:
        """
        Up to C{limit} jobs of C{queue} in C{state} from C{offset}: ready
        jobs in the order they will be handed out, delayed ones by due time,
        leased ones by lease deadline, dead letters by time of death. The
        page ends early rather than hold more than L{PAGE_BYTES} of
        payloads, but holds at least one job. Without C{payloads}, each
        job's payload is None.
        """
        if state not in STATES:
            raise ValueError(f"no such state: {state}")
        args = [state, offset, limit, PAGE_BYTES, int(payloads)]
        reply = await self.run(_JOBS_PAGE, queue, args)
        jobs = [
            job_view(
                reply[i].decode("ascii"),
                state,
                reply[i + 2] if payloads else None,
                reply[i + 3],
                reply[i + 1],
            )
            for i in range(1, len(reply), 4)
        ]
        return Page(int(reply[0]), jobs)

    async def make_ready(self, queue: str, job_id: str) -> None:
        """
        Make a delayed job or a dead letter ready now.

        @raise UnknownJob: no such job.
        @raise JobInState: the job is ready or leased already.
        """
        check_moved(await self.run(_JOB_READY, queue, [job_id]), queue, job_id)

    async def send_to_dead(self, queue: str, job_id: str, reason: str) -> None:
        """
        Send a job to the dead letters at once, from any state, with C{reason}.

        @raise UnknownJob: no such job.
        @raise JobInState: the job is a dead letter already.
        """
        reply = await self.run(_JOB_DEAD, queue, [job_id, reason])
        check_moved(reply, queue, job_id)
        await self.note_due(queue, reply[1])
