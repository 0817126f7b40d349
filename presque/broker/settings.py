"""
The settings of a queue, declared once: their defaults, ranges and meaning
feed the INI file's C{[queues]} section, C{PATCH /queues/Q}, the values
stored in the queue's meta hash, the defaults the Lua scripts fall back on,
and the API description.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import Field, dataclass, field, fields, replace
from typing import Any

#: The longest duration any setting or argument may name: a week.
MAX_SECONDS = 7 * 24 * 3600
#: The longest that finished jobs (results, dead letters) may be kept: a year.
MAX_RETENTION = 365 * 24 * 3600


def _setting(default: float, low: float, high: float, doc: str, unit: str = "seconds") -> Any:
    return field(default=default, metadata={"low": low, "high": high, "doc": doc, "unit": unit})


@dataclass(frozen=True)
class QueueSettings:
    """
    How a queue treats its jobs. Every queue starts from the server's
    defaults ([queues] in the INI file) and may override each of them.
    Durations are in seconds, to the millisecond.
    """

    lease: float = _setting(
        0.0,
        0,
        MAX_SECONDS,
        "Seconds a fetched job stays leased when the fetch names no lease;"
        " 0 takes it out for good (presque 1).",
    )
    max_attempts: int = _setting(
        5, 1, 1000, "Deliveries of a failing job before it goes to the dead letters."
    )
    backoff_base: float = _setting(
        1.0, 0.001, MAX_SECONDS, "Seconds before the first retry; each retry doubles it..."
    )
    backoff_cap: float = _setting(3600.0, 0.001, MAX_SECONDS, "...up to this many seconds.")
    max_length: int = _setting(
        0,
        0,
        10**9,
        "Most jobs the queue holds, ready, delayed and leased; a post past it is"
        " refused whole (429). 0: no limit.",
    )

    rate: float = _setting(
        0.0,
        0,
        1_000_000,
        "Most jobs handed out per second, by every server sharing the Redis together; 0: no limit.",
        unit="jobs a second",
    )
    burst: int = _setting(
        0,
        0,
        1_000_000,
        "Most jobs handed out at once under the rate after a quiet spell;"
        " 0: a second's worth (at least 1).",
    )
    concurrency: int = _setting(
        0,
        0,
        1_000_000,
        "Most jobs leased at once, across every server; 0: no limit."
        " Jobs taken for good (no lease) are not counted.",
    )
    group_concurrency: int = _setting(
        0,
        0,
        1_000_000,
        "Most jobs of one group leased at once (1: each group's jobs one at a time,"
        " in order); 0: no limit.",
    )

    result_ttl: float = _setting(
        3600.0,
        0,
        MAX_RETENTION,
        "Seconds the outcome of an acked job (and its result) is kept; 0: not kept.",
    )
    max_results: int = _setting(
        10_000, 0, 10**7, "Most outcomes of acked jobs kept, the newest; 0: none."
    )
    dead_ttl: float = _setting(
        0.0, 0, MAX_RETENTION, "Seconds a dead letter is kept; 0: until max_dead pushes it out."
    )
    max_dead: int = _setting(10_000, 0, 10**7, "Most dead letters kept, the newest; 0: no limit.")

    def updated(self, changes: Mapping[str, Any]) -> QueueSettings:
        """
        These settings with C{changes} applied.

        @raise ValueError: an unknown name or an unusable value; the message
            names it.
        """
        declared = {f.name: f for f in fields(self)}
        checked = {}
        for name, value in changes.items():
            if name not in declared:
                known = ", ".join(sorted(declared))
                raise ValueError(f"unknown setting {name!r}; known: {known}")
            checked[name] = check_setting(declared[name], value)
        result = replace(self, **checked)
        if result.backoff_cap < result.backoff_base:
            raise ValueError("backoff_cap must be at least backoff_base")
        return result

    def as_dict(self) -> dict[str, float | int]:
        """Every setting by name, each number in its shortest form (60, not 60.0)."""
        return {f.name: plain_number(getattr(self, f.name)) for f in fields(self)}


def setting_fields() -> tuple[Field[Any], ...]:
    """The declaration of every setting, in order."""
    return fields(QueueSettings)


def is_count(setting: Field[Any]) -> bool:
    """Whether C{setting} is a whole number rather than a duration in seconds."""
    return setting.type in (int, "int")


def check_setting(setting: Field[Any], value: Any) -> float | int:
    """
    C{value} as C{setting} holds it.

    @raise ValueError: it is not a number in the setting's range; the message says so.
    """
    low, high = setting.metadata["low"], setting.metadata["high"]
    name = setting.name
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number")
    if is_count(setting):
        if value != int(value) or not low <= value <= high:
            raise ValueError(f"{name} must be an integer from {low} to {high}")
        return int(value)
    # The range first: a huge number times 1000 is infinite.
    if not low <= value <= high or (value > 0 and round(value * 1000) == 0):
        unit = setting.metadata["unit"]
        raise ValueError(f"{name} must be from {plain_number(low)} to {high} {unit}")
    return round(value * 1000) / 1000


def plain_number(value: float) -> float | int:
    """C{value} as an integer when it is whole, so that JSON shows 60 rather than 60.0."""
    return int(value) if float(value).is_integer() else value
