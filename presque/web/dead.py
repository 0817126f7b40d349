"""
C{/dead/Q}: a queue's dead letters, the jobs that failed for good. List
them a page at a time, put them back in the queue, or drop them.
"""

from __future__ import annotations

from klein import Klein
from twisted.web.iweb import IRequest

from presque.broker import Broker, DeadLetter
from presque.web.inputs import Limits, count_arg, json_object, parse_json
from presque.web.responses import ApiError, empty_response, json_response

MAX_PAGE = 1000


def _letter(letter: DeadLetter) -> dict[str, object]:
    return {
        "id": letter.id,
        "dead_since": letter.dead_since,
        "attempts": letter.attempts,
        "errors": letter.errors,
        "job": parse_json(letter.payload, "job"),
    }


def _ids(request: IRequest) -> list[str] | None:
    """The ids of an optional C{{"ids": [...]}} body; None means all."""
    document = json_object(request, "body", required=False)
    if "ids" not in document:
        return None
    ids = document["ids"]
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ApiError(400, "ids must be an array of job ids")
    return ids


def add_routes(app: Klein, broker: Broker, limits: Limits) -> None:
    """Register the C{/dead/} routes on C{app}."""

    @app.route("/dead/<queue>", methods=["GET"])
    async def list_dead_letters(request: IRequest, queue: str) -> bytes:
        queue = limits.queue_name(queue)
        offset = count_arg(request, b"offset", 0, 10**9)
        limit = count_arg(request, b"limit", 100, MAX_PAGE)
        page = await broker.dead_letters(queue, offset, limit)
        return json_response(
            request,
            {
                "queue": queue,
                "total": page.total,
                "offset": offset,
                "limit": limit,
                "jobs": [_letter(letter) for letter in page.letters],
            },
        )

    @app.route("/dead/<queue>/retry", methods=["POST"])
    async def retry_dead_letters(request: IRequest, queue: str) -> bytes:
        queue = limits.queue_name(queue)
        retried = await broker.retry_dead(queue, _ids(request))
        return json_response(request, {"queue": queue, "retried": retried})

    @app.route("/dead/<queue>", methods=["DELETE"])
    async def purge_dead_letters(request: IRequest, queue: str) -> bytes:
        queue = limits.queue_name(queue)
        removed = await broker.drop_dead(queue)
        return json_response(request, {"queue": queue, "removed": removed})

    @app.route("/dead/<queue>/<job_id>", methods=["DELETE"])
    async def drop_dead_letter(request: IRequest, queue: str, job_id: str) -> bytes:
        queue = limits.queue_name(queue)
        if not await broker.drop_dead(queue, [job_id]):
            raise ApiError(404, "no such dead letter")
        return empty_response(request, 204)
