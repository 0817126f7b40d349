"""
C{/dead/Q}: a queue's dead letters, the jobs that failed for good. List
them a page at a time, put them back in the queue, or drop them.
"""

from __future__ import annotations

from presque.web.answers import Answer, empty_answer
from presque.web.browse import jobs_page
from presque.web.context import Resource
from presque.web.errors import ApiError
from presque.web.inputs import LIMIT, OFFSET, body
from presque.web.jsontext import encode_json, read_json
from presque.web.routing import Call, Route


class DeadLetters(Resource):
    """The C{/dead/} routes."""

    def routes(self) -> list[Route]:
        return [
            Route(
                "GET",
                "/dead/{queue}",
                self.page,
                "A page of dead letters, oldest first.",
                args=(OFFSET, LIMIT),
                answers={200: ("A page of dead letters.", "JobPage")},
                safe=True,
                scope="read",
            ),
            Route(
                "POST",
                "/dead/{queue}/retry",
                self.retry,
                'Put dead letters back in the queue: all of them, or those of {"ids": [...]}.',
                body="DeadIds",
                answers={
                    200: ("How many went back, and the ids that were no dead letters.", "Retried"),
                    404: ("None of the ids named is a dead letter.", "Error"),
                },
                scope="admin",
            ),
            Route(
                "POST",
                "/dead/{queue}/drop",
                self.drop,
                'Drop the dead letters of {"ids": [...]}; ids that are none are skipped.',
                body="DropIds",
                answers={200: ("How many were dropped.", "Dropped")},
                scope="admin",
            ),
            Route(
                "DELETE",
                "/dead/{queue}",
                self.drop_all,
                "Drop every dead letter.",
                answers={200: ("How many were dropped.", "Dropped")},
                scope="admin",
            ),
            Route(
                "DELETE",
                "/dead/{queue}/{job}",
                self.drop_one,
                "Drop one dead letter.",
                answers={204: ("Dropped.", None), 404: ("No such dead letter.", "Error")},
                scope="admin",
            ),
        ]

    async def page(self, call: Call) -> Answer:
        offset, limit = OFFSET.read(call.request), LIMIT.read(call.request)
        page = await self.broker.jobs_in_state(call.queue, "dead", offset, limit)
        return jobs_page(call.queue, "dead", offset, limit, page)

    async def retry(self, call: Call) -> Answer:
        ids = _ids(body(call.request))
        outcome = await self.broker.retry_dead(call.queue, ids)
        if ids and not outcome.retried:
            raise ApiError(404, "no such dead letter", refusal=False)
        answer = {"queue": call.queue, "retried": outcome.retried}
        if ids is not None:
            answer["missing"] = outcome.missing
        return Answer(200, encode_json(answer))

    async def drop_all(self, call: Call) -> Answer:
        return await self._dropped(call, None)

    async def drop(self, call: Call) -> Answer:
        ids = _ids(body(call.request))
        if ids is None:
            raise ApiError(400, "ids is missing: DELETE /dead/Q drops them all")
        return await self._dropped(call, ids)

    async def _dropped(self, call: Call, ids: list[str] | None) -> Answer:
        removed = await self.broker.drop_dead(call.queue, ids)
        return Answer(200, encode_json({"queue": call.queue, "removed": removed}))

    async def drop_one(self, call: Call) -> Answer:
        if not await self.broker.drop_dead(call.queue, [call.job]):
            raise ApiError(404, "no such dead letter", refusal=False)
        return empty_answer(204)


def _ids(content: bytes) -> list[str] | None:
    """The ids of an optional C{{"ids": [...]}} body; None means all."""
    if not content.strip():
        return None
    document = read_json(content, "body")
    if not isinstance(document, dict):
        raise ApiError(400, "body must be a JSON object")
    if "ids" not in document:
        return None
    ids = document["ids"]
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ApiError(400, "ids must be an array of job ids")
    return ids
