"""Waiting for something to become true: the one way tests and benchmarks poll."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: How often a condition is looked at again, in seconds.
INTERVAL = 0.01


def wait_until(condition: Callable[[], T], timeout: float, what: str | Callable[[], str]) -> T:
    """
    Block until C{condition()} returns something true, and return it. After
    C{timeout} seconds, raise L{TimeoutError} saying C{what} (or what it returns).
    """
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(what() if callable(what) else what)
        time.sleep(INTERVAL)
    return result


async def eventually(
    condition: Callable[[], Any | Awaitable[Any]],
    timeout: float = 10.0,
    what: str | Callable[[], str] = "the condition",
) -> Any:
    """
    In Twisted code: wait, without blocking the reactor, until C{condition()}
    (a function or a coroutine function) returns something true, and return it.
    """
    from twisted.internet import reactor
    from twisted.internet.task import deferLater

    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if hasattr(result, "__await__"):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(what() if callable(what) else what)
        await deferLater(reactor, INTERVAL)
