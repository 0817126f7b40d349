"""What the C{presque} command prints, and how it fails."""

from __future__ import annotations

import json
from typing import IO, Any


class Failed(Exception):
    """A command that cannot go on: its message goes to stderr, and the exit code is 1."""


def compact(value: Any) -> str:
    """C{value} as JSON on one line."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def table(rows: list[list[str]], out: IO[str]) -> None:
    """Print C{rows} (the first one the header) in left-aligned columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip(), file=out)
