"""
The schemas of the API's bodies and answers, for C{/openapi.json}: the one
place that spells them.
"""

from __future__ import annotations

from typing import Any

from presque.broker.recurring import MISSED, OVERLAPS
from presque.broker.settings import MAX_SECONDS, is_count, plain_number, setting_fields
from presque.config import ServerSettings
from presque.counts import QUEUE_TOTALS, STATES
from presque.web.inputs import GROUP, RECEIPT, text_schema
from presque.web.jsontext import MAX_DEPTH
from presque.web.settlements import MAX_ID_LENGTH

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


def ref(name: str) -> dict[str, str]:
    """A reference to the schema C{name} of the components."""
    return {"$ref": f"#/components/schemas/{name}"}


def schemas(settings: ServerSettings) -> dict[str, Any]:
    """Every schema of the components, by name, under the server's C{settings}."""
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
    # A leased job being settled, in a batch; the rules of the single routes.
    settled_job = {
        "id": {**text_schema(MAX_ID_LENGTH), "minLength": 1},
        "receipt": {**text_schema(RECEIPT.longest), "minLength": 1},
    }
    return {
        "Error": _object({"error": {"type": "string"}}),
        "Job": {
            "description": "Any JSON document, nested at most"
            f" {MAX_DEPTH} deep, handed out byte for byte as it was posted.",
        },
        "JobTexts": {**_NAMES, "description": "Each job's JSON text, to be decoded again."},
        "Batch": _object(
            {"jobs": {"type": "array", "maxItems": settings.max_batch_size, "items": ref("Job")}},
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
                "job": ref("Job"),
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
            {"queue": {"type": "string"}, "job": ref("Job")},
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
        "ScheduleList": _object(
            {**page, "schedules": {"type": "array", "items": ref("ScheduleView")}}
        ),
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
        "Settlements": _object(
            {},
            {
                "acks": {
                    "type": "array",
                    "items": _object(
                        settled_job,
                        {"result": {"description": "Any JSON, at most max_result_size bytes."}},
                    ),
                },
                "fails": {
                    "type": "array",
                    "items": _object(
                        settled_job,
                        {
                            "error": {"type": "string", "description": "What went wrong."},
                            "delay": {
                                "anyOf": [
                                    {"type": "number", "const": 0},
                                    {"type": "number", "minimum": 0.001, "maximum": MAX_SECONDS},
                                    {"type": "null"},
                                ],
                                "description": "Retry after exactly this many seconds"
                                " (null, or none: after the backoff).",
                            },
                            "dead": {
                                "type": "boolean",
                                "description": "Send the job to the dead letters at once.",
                            },
                        },
                    ),
                },
            },
        ),
        "SettleOutcome": _object(
            {
                "settled": {
                    "type": "array",
                    "items": _object(
                        {
                            "id": {"type": "string"},
                            "state": {"enum": ["done", "delayed", "dead"]},
                            "next_run": _NUMBER_OR_NULL,
                        }
                    ),
                },
                "refused": {
                    "type": "array",
                    "items": _object(
                        {
                            "id": {"type": "string"},
                            "status": {"enum": [404, 409]},
                            "error": {"type": "string"},
                        }
                    ),
                },
            }
        ),
        "Extension": _object({"id": {"type": "string"}, "lease_expires": {"type": "number"}}),
        "QueueNames": _object({"queues": _NAMES, "size": _COUNT}),
        "Health": _object({"status": {"type": "string", "enum": ["ok", "ready"]}}),
        "QueueSize": _object(
            {"queue": {"type": "string"}, "size": _COUNT},
            {"jobs": _NAMES, "type": {"const": "virtual"}, "queues": _NAMES},
        ),
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
        "ControlUpdated": {
            "oneOf": [
                _object({"queue": {"type": "string"}, "response": {"const": "updated"}}),
                _object(
                    {"queue": {"type": "string"}, "type": {"const": "virtual"}, "queues": _NAMES}
                ),
            ]
        },
        "Worker": worker,
        "WorkerPage": _object({**page, "workers": {"type": "array", "items": ref("Worker")}}),
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
                "jobs": {"type": "array", "items": ref("JobView")},
            }
        ),
        "DeadIds": _object({}, {"ids": _NAMES}, others=True),
        "DropIds": _object({"ids": _NAMES}, others=True),
        "Retried": _object({"queue": {"type": "string"}, "retried": _COUNT}, {"missing": _NAMES}),
        "Dropped": _object({"queue": {"type": "string"}, "removed": _COUNT}),
        "QueueSummary": _object(summary),
        "QueuePage": _object({**page, "queues": {"type": "array", "items": ref("QueueSummary")}}),
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
                "workers": {"type": "array", "items": ref("Worker")},
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


def error_answer(description: str) -> dict[str, Any]:
    """An answer whose body is an C{{"error": ...}}, described as C{description}."""
    return {"description": description, "content": {"application/json": {"schema": ref("Error")}}}


#: Answers every route may give besides its own.
