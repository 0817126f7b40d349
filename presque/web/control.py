"""
C{/control/Q}: read and change whether a queue hands out jobs.
"""

from __future__ import annotations

from klein import Klein
from twisted.web.iweb import IRequest

from presque.broker import Broker
from presque.web.inputs import Limits, parse_json, read_body
from presque.web.responses import ApiError, json_response

# What presque 1 clients send in {"status": ...}, mapped to "is open".
_STATUSES = {"start": True, "stop": False}


def add_routes(app: Klein, broker: Broker, limits: Limits) -> None:
    """Register the C{/control/} routes on C{app}."""

    @app.route("/control/<queue>", methods=["GET"])
    async def control_status(request: IRequest, queue: str) -> bytes:
        queue = limits.queue_name(queue)
        is_open = await broker.is_open(queue)
        return json_response(request, {"queue": queue, "status": int(is_open)})

    # Old clients send this body without a JSON content type: do not ask for one.
    @app.route("/control/<queue>", methods=["POST"])
    async def change_control_status(request: IRequest, queue: str) -> bytes:
        queue = limits.queue_name(queue)
        body = read_body(request)
        if not body.strip():
            raise ApiError(400, "content is missing")
        document = parse_json(body, "content")
        wanted = document.get("status") if isinstance(document, dict) else None
        if not isinstance(wanted, str) or wanted not in _STATUSES:
            raise ApiError(400, f"invalid status {wanted}")
        await broker.set_open(queue, _STATUSES[wanted])
        return json_response(request, {"queue": queue, "response": "updated"})
