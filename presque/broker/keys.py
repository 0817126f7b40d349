"""
Redis key names and identifiers: the only place that spells a key.

Per-queue keys carry the hash tag C{presque:{Q}:...} so that every script
touches a single Redis Cluster slot; keys across queues (the set of queues,
the workers) are written outside those scripts, idempotently.
"""

from __future__ import annotations

import os
import random
import time

QUEUES_KEY = "presque:queues"
WORKERS_KEY = "presque:workers"
SEEN_WORKERS_KEY = "presque:seen"


class QueueKeys:
    """The Redis keys of one queue."""

    __slots__ = (
        "all",
        "meta",
        "ready",
        "seen",
        "settled",
        "stats",
        "urgent",
        "wake",
        "workers",
    )

    def __init__(self, queue: str) -> None:
        prefix = f"presque:{{{queue}}}:"
        self.meta = prefix + "meta"
        self.ready = prefix + "ready"
        self.stats = prefix + "stats"
        self.urgent = prefix + "urgent"
        self.workers = prefix + "workers"
        # Workers that made requests on this queue, by last time (ms).
        self.seen = prefix + "seen"
        # The pub/sub channel scripts publish on when jobs become ready
        # (includes/queue_keys.lua builds the same name).
        self.wake = prefix + "wake"
        self.settled = prefix + "settled"
        # The KEYS of every per-queue script, in the order of
        # presque/lua/includes/queue_keys.lua.
        self.all = [
            self.meta,
            self.ready,
            prefix + "delayed",
            prefix + "jobs",
            prefix + "info",
            prefix + "uniq",
            self.stats,
            prefix + "leased",
            prefix + "dead",
            prefix + "acked",
            self.urgent,
        ]


def worker_key(worker: str) -> str:
    """The hash of one worker's counters and times."""
    return f"presque:worker:{{{worker}}}"


def worker_queues_key(worker: str) -> str:
    """The set of queues one worker was seen on or registered with."""
    return f"presque:worker:{{{worker}}}:queues"


class _IdClock:
    """Milliseconds that never go back, and a sequence within each one."""

    millis = 0
    sequence = 0


def new_job_id() -> str:
    """
    A fresh job id, unique across queues and servers, that sorts in creation
    order within a server: milliseconds, a sequence, then randomness.

    Delayed jobs with the same due time tie in their sorted set, where Redis
    orders them by id: this keeps them in the order they were posted.
    """
    millis = max(time.time_ns() // 1_000_000, _IdClock.millis)
    if millis == _IdClock.millis:
        _IdClock.sequence += 1
    else:
        _IdClock.millis, _IdClock.sequence = millis, 0
    # Uniqueness, not secrecy: ids are not credentials, and os.urandom
    # costs a system call per job.
    return f"{millis:012x}{_IdClock.sequence:06x}{random.getrandbits(32):08x}"


def new_nonce() -> str:
    """
    An unguessable token from which a delivery's receipts are made: only the
    worker that received a delivery can settle it.
    """
    return os.urandom(12).hex()


def parse_channel(channel: str) -> tuple[str, str] | None:
    """
    The queue and the kind of a pub/sub channel: C{presque:{Q}:wake} (jobs
    became ready) or C{presque:{Q}:settled} (a leased job was settled).
    """
    for kind in ("wake", "settled"):
        suffix = f"}}:{kind}"
        if channel.startswith("presque:{") and channel.endswith(suffix):
            return channel[len("presque:{") : -len(suffix)], kind
    return None
