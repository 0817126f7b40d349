"""
The queue model: the only code that knows Redis key names.

Every state change of a request is one Lua script from L{presque.lua}, so a
crash at any instant leaves each job either wholly in its queue or wholly
out of it.
"""

from __future__ import annotations

from presque.broker.browse import BrowseOperations
from presque.broker.dead import DeadLetterOperations
from presque.broker.deliveries import MAX_LEASED_BATCH, DeliveryOperations
from presque.broker.errors import (
    Backpressure,
    DuplicateJob,
    IdempotencyConflict,
    IsVirtual,
    JobInState,
    NameTaken,
    NotVirtual,
    QueueClosed,
    QueueFull,
    RedisNearlyFull,
    ScheduleFull,
    StaleReceipt,
    TooManyDependents,
    TooManyMembers,
    UnknownJob,
    UnknownSchedule,
    VirtualFull,
)
from presque.broker.history import HistoryOperations
from presque.broker.jobs import JobOperations
from presque.broker.model import (
    PRIORITIES,
    Blocker,
    Delivery,
    Enqueued,
    FailOutcome,
    Figures,
    Job,
    JobView,
    Page,
    QueueSummary,
    QueueView,
    Retried,
    Sample,
    WorkerStats,
)
from presque.broker.queues import QueueOperations
from presque.broker.recurring import RecurringOperations, Schedule, check_schedule
from presque.broker.settings import QueueSettings
from presque.broker.settling import Ack, Fail, Settled, SettleOperations
from presque.broker.virtual import ACTIONS as VIRTUAL_ACTIONS
from presque.broker.virtual import VirtualOperations

__all__ = [
    "MAX_LEASED_BATCH",
    "PRIORITIES",
    "VIRTUAL_ACTIONS",
    "Ack",
    "Backpressure",
    "Blocker",
    "Broker",
    "Delivery",
    "DuplicateJob",
    "Enqueued",
    "Fail",
    "FailOutcome",
    "Figures",
    "IdempotencyConflict",
    "IsVirtual",
    "Job",
    "JobInState",
    "JobView",
    "NameTaken",
    "NotVirtual",
    "Page",
    "QueueClosed",
    "QueueFull",
    "QueueSettings",
    "QueueSummary",
    "QueueView",
    "RedisNearlyFull",
    "Retried",
    "Sample",
    "Schedule",
    "ScheduleFull",
    "Settled",
    "StaleReceipt",
    "TooManyDependents",
    "TooManyMembers",
    "UnknownJob",
    "UnknownSchedule",
    "VirtualFull",
    "WorkerStats",
    "check_schedule",
]


class Broker(
    VirtualOperations,
    RecurringOperations,
    JobOperations,
    DeliveryOperations,
    SettleOperations,
    DeadLetterOperations,
    BrowseOperations,
    QueueOperations,
    HistoryOperations,
):
    """Every queue operation, over one Redis connection pool."""
