"""The one exception of the benchmark: it cannot go on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


@contextmanager
def waiting_for(what: str) -> Iterator[None]:
    """
    A wait of the harness that fails (L{TimeoutError}: it ran out;
    L{RuntimeError}: the process died, or Redis answered an error) ends the
    benchmark with a L{BenchError} saying C{what}.
    """
    try:
        yield
    except (TimeoutError, RuntimeError) as error:
        raise BenchError(f"{what}: {error}") from None
