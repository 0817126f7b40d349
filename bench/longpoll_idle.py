"""
What idle long-polling requests cost: L{WAITERS} requests wait on an empty
queue while Redis's commands and the CPU time of the daemon and of Redis
are counted over L{WINDOW} seconds; the same counts over L{REFERENCE}
seconds with no waiter at all come first, for comparison.

The connections are opened in chunks of L{CHUNK}; each chunk is in once the
daemon holds that many more file descriptors. The waits are then cut short
by closing the connections (the client goes away), and the daemon must let
go of them.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field

from treq.client import HTTPClient
from twisted.internet import defer, reactor
from twisted.web.client import Agent, HTTPConnectionPool

from bench.longpoll_flow import sleep
from bench.readings import command_deltas, cpu_percent, open_fds, snapshot
from bench.scenarios import QUEUE
from harness.polling import eventually

WAITERS = 1000
WAIT = 60
CHUNK = 100
WINDOW = 10.0
REFERENCE = 5.0
# Seconds the daemon gets to hold a chunk's connections, or to let them go.
CONNECT_TIMEOUT = 5.0
# The daemon's descriptor count is settled once it holds this long.
STEADY = 0.5
# Seconds between the last connection and the window: the requests are read.
SETTLE = 1.0


@dataclass(frozen=True)
class Window:
    """Redis's commands and the processes' CPU use over some seconds."""

    seconds: float
    commands: dict[str, int]
    cpu: dict[str, float]

    @property
    def command_rate(self) -> float:
        """Redis commands a second."""
        return sum(self.commands.values()) / self.seconds


@dataclass
class Idle:
    """What the idle waiters cost, and what nothing costs."""

    waiters: int = 0
    empty: Window | None = None
    waiting: Window | None = None
    fds_before: int = 0
    fds_waiting: int = 0
    fds_after: int = 0
    answered_early: Counter[str] = field(default_factory=Counter)
    connect_seconds: float = 0.0


async def window(seconds: float, pids: dict[str, int], redis_port: int) -> Window:
    """Count Redis's commands and each process's CPU time over C{seconds}."""
    before = snapshot(pids, redis_port)
    await sleep(seconds)
    after = snapshot(pids, redis_port)
    return Window(after.at - before.at, command_deltas(before, after), cpu_percent(before, after))


async def wait_for_fds(pid: int, done: Callable[[int], bool]) -> None:
    """Poll the daemon's descriptor count until C{done(count)}; the notes tell a shortfall."""
    with suppress(TimeoutError):
        await eventually(lambda: done(open_fds(pid)), CONNECT_TIMEOUT)


async def steady_fds(pid: int) -> int:
    """The daemon's descriptor count once it stops changing (connections closed)."""
    seen = [open_fds(pid), time.monotonic()]  # the count, and since when it holds

    def held() -> bool:
        if (count := open_fds(pid)) != seen[0]:
            seen[:] = [count, time.monotonic()]
        return time.monotonic() - seen[1] >= STEADY

    with suppress(TimeoutError):
        await eventually(held, CONNECT_TIMEOUT)
    return int(seen[0])


async def measure_idle(base: str, daemon_pid: int, redis_port: int, pids: dict[str, int]) -> Idle:
    """A window without waiters; open L{WAITERS} waits, a window; close them."""
    idle = Idle()
    idle.fds_before = await steady_fds(daemon_pid)
    idle.empty = await window(REFERENCE, pids, redis_port)
    # A pool of its own, not persistent: each waiter has its own connection.
    http = HTTPClient(Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False)))
    url = f"{base}/q/{QUEUE}?wait={WAIT}"
    answers: Counter[str] = Counter()
    waits: list[defer.Deferred] = []
    started = time.monotonic()
    for _ in range(0, WAITERS, CHUNK):
        for _ in range(CHUNK):
            wait = http.get(url, timeout=WAIT + 10)
            # Either ends the chain: the cancellations at the end are not errors.
            wait.addCallbacks(
                lambda response: answers.update([str(response.code)]),
                lambda failure: answers.update([failure.type.__name__]),
            )
            waits.append(wait)
        wanted = idle.fds_before + len(waits)
        await wait_for_fds(daemon_pid, lambda n, wanted=wanted: n >= wanted)
    idle.connect_seconds = time.monotonic() - started
    idle.waiters = len(waits)
    await sleep(SETTLE)
    idle.fds_waiting = open_fds(daemon_pid)
    idle.waiting = await window(WINDOW, pids, redis_port)
    idle.answered_early = Counter(answers)
    for wait in waits:
        wait.cancel()
    await wait_for_fds(daemon_pid, lambda n: n <= idle.fds_before)
    idle.fds_after = await steady_fds(daemon_pid)
    return idle
