"""
C{/schedules}: recurring jobs. PUT C{/schedules/NAME} writes a schedule (a
cron expression in a time zone, or an interval, the queue and the job to
post); GET lists them with their next and last runs; pause, resume, delete.
"""

from __future__ import annotations

import time

from presque.broker import Schedule, check_schedule
from presque.web.answers import Answer, empty_answer, json_answer
from presque.web.context import Resource
from presque.web.errors import ApiError
from presque.web.inputs import (
    GROUP,
    LIMIT,
    OFFSET,
    UNIQ,
    body,
    check_text,
    queue_name,
    require_json_content_type,
)
from presque.web.jsontext import check_job, read_json
from presque.web.routing import Call, Route

_SCHEDULE = "/schedules/{name}"


class Schedules(Resource):
    """The C{/schedules} routes."""

    def routes(self) -> list[Route]:
        unknown = {404: ("No such schedule.", "Error")}
        shown = {200: ("The schedule.", "ScheduleView"), **unknown}
        return [
            Route(
                "GET",
                "/schedules",
                self.listing,
                "The schedules of recurring jobs, by name, a page at a time, with their next"
                " and last runs.",
                args=(OFFSET, LIMIT),
                answers={200: ("A page of schedules.", "ScheduleList")},
                safe=True,
                scope="read",
            ),
            Route(
                "PUT",
                _SCHEDULE,
                self.put,
                "Write a schedule: a cron expression (with tz) or every N seconds, the"
                " queue and the job to post; it replaces one of the same name.",
                body="ScheduleDefinition",
                answers={
                    200: ("Written.", "ScheduleView"),
                    409: ("There are as many schedules as there may be.", "Error"),
                },
            ),
            Route(
                "GET", _SCHEDULE, self.show, "One schedule.", answers=shown, safe=True, scope="read"
            ),
            Route(
                "POST",
                _SCHEDULE + "/pause",
                self.pause,
                "Pause a schedule: no run until it is resumed.",
                answers=shown,
            ),
            Route(
                "POST",
                _SCHEDULE + "/resume",
                self.resume,
                "Resume a schedule: its next run counts from now (missed runs are not made up).",
                answers=shown,
            ),
            Route(
                "DELETE",
                _SCHEDULE,
                self.delete,
                "Delete a schedule.",
                answers={204: ("Deleted.", None), **unknown},
            ),
        ]

    async def listing(self, call: Call) -> Answer:
        offset, limit = OFFSET.read(call.request), LIMIT.read(call.request)
        page = await self.broker.schedules(offset, limit)
        views = [schedule_view(*entry) for entry in page.items]
        return json_answer(
            {"total": page.total, "offset": offset, "limit": limit, "schedules": views}
        )

    async def put(self, call: Call) -> Answer:
        request = call.request
        require_json_content_type(request)
        text = body(request)
        if not text.strip():
            raise ApiError(400, "the schedule is missing")
        document = read_json(text, "schedule")
        try:
            schedule = check_schedule(call.name, document, _now_ms())
        except ValueError as error:
            raise ApiError(400, str(error)) from None
        queue_name(schedule.queue, self.context.settings.max_queue_name_length)
        # The rules of POST /q's uniq= and group=, which its jobs go through.
        for arg, value in ((UNIQ, schedule.uniq), (GROUP, schedule.group)):
            if value is not None:
                check_text(value, arg.name, arg.longest)
        if self.broker.members(schedule.queue) is not None:
            raise ApiError(400, "the queue is virtual: schedule the jobs of one of its queues")
        # Its job, written again from the document, must be JSON too: 1e999 is not.
        check_job(schedule.job.encode("utf-8"))
        await self.broker.put_schedule(schedule)
        return await self.show(call)

    async def show(self, call: Call) -> Answer:
        return json_answer(schedule_view(*await self.broker.schedule(call.name)))

    async def pause(self, call: Call) -> Answer:
        await self.broker.pause_schedule(call.name, True, _now_ms())
        return await self.show(call)

    async def resume(self, call: Call) -> Answer:
        await self.broker.pause_schedule(call.name, False, _now_ms())
        return await self.show(call)

    async def delete(self, call: Call) -> Answer:
        await self.broker.delete_schedule(call.name)
        return empty_answer(204)


def schedule_view(schedule: Schedule, next_ms: int | None) -> dict:
    """A schedule as the API shows it: times in unix seconds, the job decoded."""
    last = schedule.last_run
    return {
        "name": schedule.name,
        "queue": schedule.queue,
        "cron": schedule.cron,
        "tz": schedule.tz if schedule.cron else None,
        "every": schedule.every,
        "job": read_json(schedule.job.encode("utf-8"), "job"),
        "priority": schedule.priority,
        "uniq": schedule.uniq,
        "group": schedule.group,
        "overlap": schedule.overlap,
        "missed": schedule.missed,
        "paused": schedule.paused,
        "next_run": None if next_ms is None else next_ms / 1000,
        "last_run": None
        if last is None
        else {"at": last["at"] / 1000, "job": last.get("job"), "skipped": last.get("skipped")},
    }


def _now_ms() -> int:
    # The server's clock: schedules are written rarely, and the runs are
    # timed by Redis' clock when they are claimed.
    return round(time.time() * 1000)
