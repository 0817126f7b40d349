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


class Backpressure(Exception):
    """Producers must wait: the queue, or Redis, holds as much as it may."""

    #: Seconds to wait before posting again.
    retry_after = 1


class QueueFull(Backpressure):
    """The jobs would take the queue past its max_length."""

    def __init__(self, queue: str, most: int) -> None:
        super().__init__(f"{queue} holds its max_length, {most} jobs")
        self.most = most


class RedisNearlyFull(Backpressure):
    """Redis' memory passed the share of maxmemory that producers may fill."""


class JobInState(Exception):
    """The job is in a state that the action asked cannot take it from."""

    def __init__(self, job: str, state: str) -> None:
        super().__init__(f"{job} is {state}")
        #: The job's state: ready, delayed, leased or dead.
        self.state = state


class UnknownSchedule(Exception):
    """No schedule has this name."""


class ScheduleFull(Exception):
    """There are as many schedules as there may be."""

    def __init__(self, most: int) -> None:
        super().__init__(f"there are {most} schedules already")
        self.most = most


class TooManyDependents(Exception):
    """A job has as many jobs waiting on it as may."""

    def __init__(self, queue: str, name: str, most: int) -> None:
        super().__init__(f"{most} jobs wait on {queue}/{name} already")
        self.most = most


class NotVirtual(Exception):
    """The name is not that of a virtual queue."""


class VirtualFull(Exception):
    """There are as many virtual queues as there may be."""

    def __init__(self, most: int) -> None:
        super().__init__(f"there are {most} virtual queues already")


class TooManyMembers(Exception):
    """A virtual queue would have more member queues than it may."""

    def __init__(self, most: int) -> None:
        super().__init__(f"a virtual queue has at most {most} queues")
        self.most = most


class IsVirtual(Exception):
    """Jobs are posted to the member queues of a virtual queue, not to it."""


class NameTaken(Exception):
    """A virtual queue needs a name of its own, not that of a queue of jobs."""
