"""The outcomes of broker calls that are not what the caller hoped for."""

from __future__ import annotations


class QueueClosed(Exception):
    """The queue is closed: jobs may be added but none handed out."""


class DuplicateJob(Exception):
    """A job with the same uniq key is still in the queue."""


class UnknownJob(Exception):
    """No job has this id in this queue."""


class StaleReceipt(Exception):
    """The receipt does not name the job's current delivery."""


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before, with a different request."""


class UnknownDeadLetters(Exception):
    """None of the ids named are dead letters of the queue."""
