"""
The printed result of a benchmark: the table, the targets, then the notes.

Targets are printed as met or below, never enforced: the figures depend on
the machine.
"""

from __future__ import annotations

import os
from pathlib import Path

from measure import Row
from scenarios import SCENARIOS, TARGET_RATIO
from wrk import WRK_THREADS


def format_table(rows: list[Row]) -> str:
    """The table of all runs."""
    header = ("scenario", "conns", "req/s", "jobs/s", "p50", "p99", "vs bare", "errors")
    lines = [header]
    for row in rows:
        errors = row.wrk.non_2xx + row.wrk.socket_errors
        lines.append(
            (
                row.scenario.name,
                str(row.connections),
                f"{row.wrk.requests_per_second:,.0f}",
                "-" if row.jobs_per_second is None else f"{row.jobs_per_second:,.0f}",
                format_ms(row.wrk.p50_ms),
                format_ms(row.wrk.p99_ms),
                "-" if row.ratio is None else f"{row.ratio:.2f}x",
                str(errors),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    )


def format_ms(ms: float) -> str:
    """A latency, readable at a glance."""
    return f"{ms * 1000:.0f}us" if ms < 1 else f"{ms:.2f}ms"


def format_targets(rows: list[Row]) -> str:
    """One line per target, with the figure at each connection count."""
    lines = ["targets (figures only; nothing is enforced):"]
    for scenario in SCENARIOS:
        measured = [row for row in rows if row.scenario is scenario]
        if scenario.baseline:
            goal = f">= {TARGET_RATIO} x {scenario.baseline}"
            cells = [
                target_cell(row, row.ratio, TARGET_RATIO, f"{row.ratio or 0:.2f}x")
                for row in measured
            ]
        elif scenario.min_jobs_per_second:
            goal = f">= {scenario.min_jobs_per_second:,.0f} jobs/s"
            cells = [
                target_cell(
                    row,
                    row.jobs_per_second,
                    scenario.min_jobs_per_second,
                    f"{row.jobs_per_second or 0:,.0f}",
                )
                for row in measured
            ]
        else:
            continue
        lines.append(f"  {scenario.name:<14} {goal:<22} " + "   ".join(cells))
    return "\n".join(lines)


def target_cell(row: Row, value: float | None, threshold: float, text: str) -> str:
    """C{text}, the figure of C{row}, with whether it reaches C{threshold}."""
    verdict = "met" if value is not None and value >= threshold else "below"
    return f"c={row.connections}: {text} ({verdict})"


def report(rows: list[Row], notes: list[str], duration: int, run_dir: Path) -> str:
    """The whole printed result."""
    parts = [
        f"presque HTTP benchmark: wrk -t{WRK_THREADS}, {duration}s per run, "
        f"{os.cpu_count()} CPUs, results in {run_dir}",
        "",
        format_table(rows),
        "",
        format_targets(rows),
    ]
    if notes:
        parts += ["", "notes:", *(f"  - {note}" for note in notes)]
    return "\n".join(parts)
