"""
C{/control/Q}: read and change whether a queue hands out jobs; with
C{{"type": "virtual", "action": ..., "queues": [...]}} (Net::Presque), define,
change or destroy a virtual queue.
"""

from __future__ import annotations

from presque.broker import VIRTUAL_ACTIONS
from presque.web.answers import Answer, json_answer
from presque.web.context import Resource
from presque.web.errors import ApiError
from presque.web.inputs import body, queue_name
from presque.web.jobs import refuse_virtual
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
                'Close a queue with {"status": "stop"}, open it with {"status": "start"};'
                ' define a virtual queue with {"type": "virtual", "action": "set", "queues":'
                ' [...]} ("remove" takes queues out, "destroy" deletes it).',
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
        if isinstance(document, dict) and "type" in document:
            return await self._virtual(call, document)
        wanted = document.get("status") if isinstance(document, dict) else None
        if not isinstance(wanted, str) or wanted not in _STATUSES:
            raise ApiError(400, f"invalid status {wanted!r}: send start or stop"[:200])
        refuse_virtual(self.broker, call.queue)
        await self.broker.set_open(call.queue, _STATUSES[wanted])
        return json_answer({"queue": call.queue, "response": "updated"})

    async def _virtual(self, call: Call, document: dict) -> Answer:
        if document.get("type") != "virtual":
            raise ApiError(400, 'type must be "virtual"')
        action, queues = document.get("action"), document.get("queues", [])
        if action not in VIRTUAL_ACTIONS:
            raise ApiError(400, f"action must be one of: {', '.join(VIRTUAL_ACTIONS)}")
        if not isinstance(queues, list) or not all(isinstance(q, str) for q in queues):
            raise ApiError(400, "queues must be an array of queue names")
        longest = self.context.settings.max_queue_name_length
        members = list(dict.fromkeys(queue_name(queue, longest) for queue in queues))
        if call.queue in members:
            raise ApiError(400, "a virtual queue cannot be one of its own queues")
        if action == "set" and not members:
            raise ApiError(400, "queues is missing: the queues to fetch from, in order")
        if any(self.broker.members(member) is not None for member in members):
            raise ApiError(400, "a virtual queue's queues cannot be virtual themselves")
        if action == "set" and self.broker.virtual_holding(call.queue):
            raise ApiError(400, "this name is a queue of a virtual queue: it cannot be virtual")
        now = await self.broker.change_virtual(call.queue, action, members)
        return json_answer({"queue": call.queue, "type": "virtual", "queues": list(now)})
