"""
C{GET /openapi.json}: the API described in OpenAPI 3.1, from the route
table itself: each route's path, method, summary, query arguments and
headers (with the ranges L{presque.web.inputs} enforces), body and answers.
The schemas of the bodies are here, the one place that spells them.
"""

from __future__ import annotations

import re
from typing import Any

from presque import __version__, headers
from presque.broker.recurring import MISSED, OVERLAPS
from presque.broker.settings import MAX_SECONDS, is_count, plain_number, setting_fields
from presque.config import ServerSettings
from presque.counts import QUEUE_TOTALS, STATES
from presque.web.answers import Answer
from presque.web.inputs import GROUP, queue_name_schema, text_schema
from presque.web.jsontext import MAX_DEPTH, encode_json
from presque.web.routing import JOB, NAME, QUEUE, REST, Call, Route

_NUMBER_OR_NULL = {"type": ["number", "null"]}
_COUNT = {"type": "integer", "minimum": 0}
_NAMES = {"type": "array", "items": {"type": "string"}}


def _object(
    required: dict[str, Any], optional: dict[str, Any] | None = None, others: bool = False
) -> dict[str, Any]:
    """A JSON object with these members, and others only when C{others}."""
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
        "additionalProperties": others,
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _schemas(settings: ServerSettings) -> dict[str, Any]:
    errors = {
        "type": "array",
        "items": _object(
            {"at": _NUMBER_OR_NULL, "attempt": {"type": "integer"}, "error": {"type": "string"}}
        ),
    }
    worker = _object(
        {
            "worker_id": {"type": "string"},
            "queues": _NAMES,
            "processed": {"type": "integer"},
            "failed": {"type": "integer"},
            "started_at": {"type": ["integer", "null"]},
            "last_seen": _NUMBER_OR_NULL,
            "alive": {"type": "boolean"},
        }
    )
    counts = _object({state: _COUNT for state in STATES})
    totals = _object({name: _COUNT for name, _ in QUEUE_TOTALS})
    summary = {
        "queue": {"type": "string"},
        "status": {"enum": ["open", "closed"]},
        "counts": counts,
    }
    page = {"total": _COUNT, "offset": _COUNT, "limit": _COUNT}
    return {
        "Error": _object({"error": {"type": "string"}}),
        "Job": {
            "description": "Any JSON document, nested at most"
            f" {MAX_DEPTH} deep, handed out byte for byte as it was posted.",
        },
        "JobTexts": {**_NAMES, "description": "Each job's JSON text, to be decoded again."},
        "Batch": _object(
            {"jobs": {"type": "array", "maxItems": settings.max_batch_size, "items": _ref("Job")}},
            {
                "groups": {
                    "type": ["array", "null"],
                    "items": {"anyOf": [text_schema(GROUP.longest), {"type": "null"}]},
                    "description": "The group of each job, in order (null: none).",
                }
            },
            others=True,
        ),
        "JobView": _object(
            {
                "id": {"type": "string"},
                "queue": {"type": "string"},
                "state": {"enum": [*STATES, "done"]},
                "priority": {"type": "integer"},
                "group": {"type": ["string", "null"]},
                "progress": {
                    "anyOf": [
                        _object(
                            {
                                "value": {"type": "number"},
                                "message": {"type": "string"},
                                "at": {"type": "number"},
                            }
                        ),
                        {"type": "null"},
                    ]
                },
                "finished": _NUMBER_OR_NULL,
                "attempts": {"type": "integer"},
                "errors": errors,
                "created": _NUMBER_OR_NULL,
                "delivered": _NUMBER_OR_NULL,
                "delivered_to": {"type": ["string", "null"]},
                "next_run": _NUMBER_OR_NULL,
                "lease_expires": _NUMBER_OR_NULL,
                "dead_since": _NUMBER_OR_NULL,
            },
            {
                "job": _ref("Job"),
                "result": {"description": "The result of a done job."},
                "held_by": {
                    "type": "array",
                    "description": "What holds a ready or delayed job back.",
                    "items": _object(
                        {
                            "reason": {
                                "enum": [
                                    "queue_closed",
                                    "delayed",
                                    "rate",
                                    "concurrency",
                                    "group_concurrency",
                                    "no_live_worker",
                                    "waiting",
                                ]
                            }
                        },
                        others=True,
                    ),
                },
            },
        ),
        "ScheduleDefinition": _object(
            {"queue": {"type": "string"}, "job": _ref("Job")},
            {
                "cron": {"type": "string", "description": "Five fields, or @daily and the like."},
                "tz": {"type": "string", "description": "A time zone, such as Europe/Paris."},
                "every": {"type": "number", "minimum": 1, "maximum": MAX_SECONDS},
                "priority": {"type": "integer", "minimum": 0, "maximum": 9},
                "uniq": {"type": ["string", "null"]},
                "group": {"type": ["string", "null"]},
                "overlap": {"enum": list(OVERLAPS)},
                "missed": {"enum": list(MISSED)},
                "paused": {"type": "boolean"},
            },
        ),
        "ScheduleView": _object(
            {
                name: {}
                for name in (
                    "name",
                    "queue",
                    "cron",
                    "tz",
                    "every",
                    "job",
                    "priority",
                    "uniq",
                    "group",
                    "overlap",
                    "missed",
                    "paused",
                    "next_run",
                    "last_run",
                )
            }
        ),
        "ScheduleList": _object({"schedules": {"type": "array", "items": _ref("ScheduleView")}}),
        "Result": _object(
            {}, {"result": {"description": "Any JSON, at most max_result_size bytes."}}
        ),
        "Progress": _object(
            {"progress": {"type": "number", "minimum": -1e15, "maximum": 1e15}},
            {"message": {**text_schema(1000), "description": "What the worker is at."}},
        ),
        "Failure": _object(
            {}, {"error": {"type": "string", "description": "What went wrong."}}, others=True
        ),
        "FailOutcome": _object(
            {
                "id": {"type": "string"},
                "state": {"enum": ["delayed", "dead"]},
                "next_run": _NUMBER_OR_NULL,
            }
        ),
        "Extension": _object({"id": {"type": "string"}, "lease_expires": {"type": "number"}}),
        "QueueNames": _object({"queues": _NAMES, "size": _COUNT}),
        "Health": _object({"status": {"type": "string", "enum": ["ok", "ready"]}}),
        "QueueSize": _object({"queue": {"type": "string"}, "size": _COUNT}, {"jobs": _NAMES}),
        "QueueCounts": _object(
            {
                "queue_name": {"type": "string"},
                "job_count": _COUNT,
                "job_processed": {"type": "integer"},
                "job_failed": {"type": "integer"},
            }
        ),
        "ControlStatus": _object({"queue": {"type": "string"}, "status": {"enum": [0, 1]}}),
        "ControlChange": _object({"status": {"enum": ["start", "stop"]}}, others=True),
        "ControlUpdated": _object({"queue": {"type": "string"}, "response": {"const": "updated"}}),
        "Worker": worker,
        "WorkerPage": _object({**page, "workers": {"type": "array", "items": _ref("Worker")}}),
        "WorkerStatistics": {
            "oneOf": [
                _object(
                    {
                        "queue_name": {"type": "string"},
                        "workers_list": _NAMES,
                        "processed": {"type": "integer"},
                        "failed": {"type": "integer"},
                    }
                ),
                _object(
                    {
                        "worker_id": {"type": "string"},
                        "processed": {"type": "integer"},
                        "failed": {"type": "integer"},
                        "started_at": {"type": ["integer", "null"]},
                    }
                ),
                _NAMES,
            ]
        },
        "JobPage": _object(
            {
                "queue": {"type": "string"},
                "state": {"enum": list(STATES)},
                **page,
                "jobs": {"type": "array", "items": _ref("JobView")},
            }
        ),
        "DeadIds": _object({}, {"ids": _NAMES}, others=True),
        "DropIds": _object({"ids": _NAMES}, others=True),
        "Retried": _object({"queue": {"type": "string"}, "retried": _COUNT}, {"missing": _NAMES}),
        "Dropped": _object({"queue": {"type": "string"}, "removed": _COUNT}),
        "QueueSummary": _object(summary),
        "QueuePage": _object({**page, "queues": {"type": "array", "items": _ref("QueueSummary")}}),
        "Settings": _settings_schema(),
        "History": _object(
            {
                "queue": {"type": ["string", "null"]},
                "samples": {
                    "type": "array",
                    "items": _object(
                        {"at": {"type": "number"}, "counts": counts, "totals": totals}
                    ),
                },
            }
        ),
        "Login": _object({"token": {"type": "string", "minLength": 1, "maxLength": 256}}),
        "Identity": _object(
            {"auth": {"enum": ["on", "off"]}},
            {"name": {"type": "string"}, "scopes": _NAMES, "queues": _NAMES},
        ),
        "Summary": _object(
            {"redis": {"enum": ["up", "down"]}, "at": {"type": "number"}},
            {
                "queues": _COUNT,
                "summed": _COUNT,
                "counts": counts,
                "totals": totals,
                "oldest_ready": _NUMBER_OR_NULL,
                "workers_alive": _COUNT,
                "redis_memory": _object({"used": _COUNT, "max": _COUNT}),
            },
        ),
        "QueueView": _object(
            {
                **summary,
                "ready_by_priority": {"type": "object", "additionalProperties": _COUNT},
                "totals": totals,
                "settings": _settings_schema(required=True),
                "workers": {"type": "array", "items": _ref("Worker")},
            }
        ),
    }


def _settings_schema(required: bool = False) -> dict[str, Any]:
    properties = {}
    for setting in setting_fields():
        low, high = setting.metadata["low"], setting.metadata["high"]
        properties[setting.name] = {
            "type": "integer" if is_count(setting) else "number",
            "minimum": plain_number(low),
            "maximum": high,
            "default": plain_number(setting.default),
            "description": setting.metadata["doc"],
        }
    return _object(properties) if required else _object({}, properties)


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


#: Answers every route may give besides its own.
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
            "schemas": _schemas(settings),
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
            "content": {"application/json": {"schema": _ref(route.body)}},
            "required": route.body in _REQUIRED_BODIES,
        }
    return operation


#: The name of the token scheme in the description.
_BEARER = "token"

#: The bodies a route cannot do without.
_REQUIRED_BODIES = ("Job", "Batch", "ControlChange", "Settings", "DropIds", "Login")


def _responses(route: Route) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, (description, schema) in sorted(route.answers.items()):
        answer: dict[str, Any] = {"description": description}
        if schema is not None:
            answer["content"] = {"application/json": {"schema": _ref(schema)}}
        elif route.media_types:
            answer["content"] = {kind: {"schema": {"type": "string"}} for kind in route.media_types}
        answer_headers = _answer_headers(route, status)
        if answer_headers:
            answer["headers"] = answer_headers
        responses[str(status)] = answer
    if route.path.startswith(("/q/", "/qb/")) and route.method == "POST":
        responses.setdefault("422", _error("The Idempotency-Key came with another request."))
    for status, description in _COMMON.items():
        responses.setdefault(str(status), _error(description))
    if route.scope is not None:
        for status, description in _GUARDED.items():
            responses.setdefault(str(status), _error(description))
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
