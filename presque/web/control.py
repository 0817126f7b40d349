"""
C{/control/Q}: read and change whether a queue hands out jobs.
"""

from __future__ import annotations

from presque.web.answers import Answer, json_answer
from presque.web.context import Resource
from presque.web.errors import ApiError
from presque.web.inputs import body
from presque.web.jsontext import read_json
from presque.web.routing import Call, Route

# What presque 1 clients send in {"status": ...}, mapped to "is open".
_STATUSES = {"start": True, "stop": False}


class Control(Resource):
    """The C{/control/} routes."""

    def routes(self) -> list[Route]:
        return [
            Route(
                "GET",
                "/control/{queue}",
                self.status,
                "Whether a queue hands out jobs: status 1 (open) or 0 (closed).",
                answers={200: ("The queue's status.", "ControlStatus")},
                safe=True,
                scope="read",
            ),
            # Old clients send this body without a JSON content type: do not ask for one.
            Route(
                "POST",
                "/control/{queue}",
                self.change,
                'Close a queue with {"status": "stop"}, open it with {"status": "start"}.',
                body="ControlChange",
                answers={200: ("Updated.", "ControlUpdated")},
                scope="admin",
            ),
        ]

    async def status(self, call: Call) -> Answer:
        is_open = await self.broker.is_open(call.queue)
        return json_answer({"queue": call.queue, "status": int(is_open)})

    async def change(self, call: Call) -> Answer:
        content = body(call.request)
        if not content.strip():
            raise ApiError(400, "content is missing")
        document = read_json(content, "content")
        wanted = document.get("status") if isinstance(document, dict) else None
        if not isinstance(wanted, str) or wanted not in _STATUSES:
            raise ApiError(400, f"invalid status {wanted!r}: send start or stop"[:200])
        await self.broker.set_open(call.queue, _STATUSES[wanted])
        return json_answer({"queue": call.queue, "response": "updated"})
