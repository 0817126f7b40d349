"""
C{GET /openapi.json}: the API described in OpenAPI 3.1, from the route
table itself: each route's path, method, summary, query arguments and
headers (with the ranges L{presque.web.inputs} enforces), body and answers.
The schemas of the bodies are in L{presque.web.schemas}.
"""

from __future__ import annotations

import re
from typing import Any

from presque import __version__, headers
from presque.config import ServerSettings
from presque.web.answers import Answer
from presque.web.inputs import queue_name_schema, text_schema
from presque.web.jsontext import encode_json
from presque.web.routing import JOB, NAME, QUEUE, REST, Call, Route
from presque.web.schemas import error_answer, ref, schemas

_COMMON = {
    400: "The request is refused: a bad name, argument, header or body (nothing changed).",
    413: "The body is over the server's max_body_size.",
    503: "Redis is unreachable, too slow, or cannot serve now.",
    507: "Redis is out of memory: it stores nothing more.",
}
#: The answers of a route that needs a token (with tokens on) and an allowed host.
_GUARDED = {
    401: "No token, or an unknown one (with [auth] mode = on).",
    403: "The token lacks the route's scope or queue, or the request came from another site.",
    421: "The request names a host that is not among [server] allowed_hosts.",
}


class OpenApi:
    """The C{/openapi.json} route, describing C{routes} and itself."""

    def __init__(self, routes: list[Route], settings: ServerSettings) -> None:
        self.route = Route(
            "GET",
            "/openapi.json",
            self.describe,
            "This description of the API, in OpenAPI 3.1.",
            answers={200: ("The description.", None)},
            safe=True,
            scope=None,
        )
        self._document = encode_json(document([*routes, self.route], settings))

    def routes(self) -> list[Route]:
        return [self.route]

    async def describe(self, call: Call) -> Answer:
        return Answer(200, self._document)


def document(routes: list[Route], settings: ServerSettings) -> dict[str, Any]:
    """The OpenAPI document of C{routes} under C{settings}."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        for path in _paths(route):
            paths.setdefault(path, {})[route.method.lower()] = _operation(route, path, settings)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "presque",
            "version": __version__,
            "description": "A persistent job queue with a REST interface. Every error is"
            ' {"error": "<message>"} with a 4xx (or a 503/507 about Redis).',
        },
        "paths": paths,
        "components": {
            "schemas": schemas(settings),
            "securitySchemes": {
                _BEARER: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token, with [auth] mode = on: its scopes (produce,"
                    " consume, read, admin) on its queues decide which routes it may call.",
                }
            },
        },
    }


def _paths(route: Route) -> list[str]:
    # A route that takes the rest of the path (GET /w/...) is described with
    # nothing after its prefix, and with one segment.
    if not route.path.endswith(REST):
        return [route.path]
    prefix = route.path[: -len(REST)]
    return [prefix, prefix + QUEUE]


def _operation(route: Route, path: str, settings: ServerSettings) -> dict[str, Any]:
    parameters = []
    if QUEUE in path:
        name_rule = queue_name_schema(settings.max_queue_name_length)
        parameters.append(
            {
                "name": "queue",
                "in": "path",
                "required": True,
                "description": "A queue name: no control characters, no slash, not . or ..",
                "schema": name_rule if QUEUE in route.path else {"type": "string"},
            }
        )
    if JOB in path:
        parameters.append(
            {"name": "job", "in": "path", "required": True, "schema": {"type": "string"}}
        )
    if NAME in path:
        parameters.append(
            {
                "name": "name",
                "in": "path",
                "required": True,
                "description": "A schedule's name, with the rules of a queue name.",
                "schema": queue_name_schema(settings.max_queue_name_length),
            }
        )
    for arg in route.args:
        parameters.append(
            {
                "name": arg.name,
                "in": "query",
                "required": arg.required,
                "description": arg.doc + ("" if arg.required else " Empty counts as absent."),
                "schema": arg.schema(settings),
                "allowEmptyValue": not arg.required,
            }
        )
    for header in route.headers:
        parameters.append(
            {
                "name": header.name,
                "in": "header",
                "required": header.required,
                "description": header.doc,
                "schema": {**text_schema(header.longest), "minLength": int(header.required)},
            }
        )
    operation: dict[str, Any] = {
        "operationId": _operation_id(route, path),
        "summary": route.summary,
        "parameters": parameters,
        "responses": _responses(route),
    }
    if route.scope is not None:
        # Optional: with [auth] mode = off (the default) no token is needed.
        operation["security"] = [{}, {_BEARER: [route.scope]}]
    if route.body is not None:
        operation["requestBody"] = {
            "content": {"application/json": {"schema": ref(route.body)}},
            "required": route.body in _REQUIRED_BODIES,
        }
    return operation


#: The name of the token scheme in the description.
_BEARER = "token"

#: The bodies a route cannot do without.
_REQUIRED_BODIES = (
    "Job",
    "Batch",
    "ControlChange",
    "Settings",
    "DropIds",
    "Login",
    "Settlements",
)


def _responses(route: Route) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, (description, schema) in sorted(route.answers.items()):
        answer: dict[str, Any] = {"description": description}
        if schema is not None:
            answer["content"] = {"application/json": {"schema": ref(schema)}}
        elif route.media_types:
            answer["content"] = {kind: {"schema": {"type": "string"}} for kind in route.media_types}
        answer_headers = _answer_headers(route, status)
        if answer_headers:
            answer["headers"] = answer_headers
        responses[str(status)] = answer
    if route.path.startswith(("/q/", "/qb/")) and route.method == "POST":
        responses.setdefault("422", error_answer("The Idempotency-Key came with another request."))
    for status, description in _COMMON.items():
        responses.setdefault(str(status), error_answer(description))
    if route.scope is not None:
        for status, description in _GUARDED.items():
            responses.setdefault(str(status), error_answer(description))
    return responses


def _answer_headers(route: Route, status: int) -> dict[str, Any]:
    found = {}
    if status == 201 and route.path == "/q/{queue}":
        found["Location"] = {"description": "The job's URL.", "schema": {"type": "string"}}
        found[headers.JOB_ID] = {"description": "The job's id.", "schema": {"type": "string"}}
    return found


def _operation_id(route: Route, path: str) -> str:
    words = re.findall(r"[a-z]+", path.replace(".json", "")) or ["root"]
    return route.method.lower() + "".join(word.capitalize() for word in words)
