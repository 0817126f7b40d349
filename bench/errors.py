"""The one exception of the benchmark: it cannot go on."""

from __future__ import annotations


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""
