"""
The queue model: the only code that knows Redis key names.

Every state change of a request is one Lua script from L{presque.lua}, so a
crash at any instant leaves each job either wholly in its queue or wholly
out of it.
"""

from __future__ import annotations

from presque.broker.dead import DeadLetterOperations
from presque.broker.jobs import JobOperations
from presque.broker.keys import new_job_id
from presque.broker.model import (
    DeadLetter,
    DeadPage,
    Delivery,
    DuplicateJob,
    FailOutcome,
    Job,
    JobView,
    QueueClosed,
    QueueCounts,
    QueueSettings,
    QueueView,
    StaleReceipt,
    UnknownJob,
    WorkerStats,
)
from presque.broker.registry import RegistryOperations

__all__ = [
    "Broker",
    "DeadLetter",
    "DeadPage",
    "Delivery",
    "DuplicateJob",
    "FailOutcome",
    "Job",
    "JobView",
    "QueueClosed",
    "QueueCounts",
    "QueueSettings",
    "QueueView",
    "StaleReceipt",
    "UnknownJob",
    "WorkerStats",
    "new_job_id",
]


class Broker(JobOperations, DeadLetterOperations, RegistryOperations):
    """Every queue operation, over one Redis connection pool."""
