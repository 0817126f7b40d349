"""
The printed result of a benchmark: the table, the targets, then the notes.

Targets are printed as met or below, never enforced: the figures depend on
the machine. With C{--against}, the table has a row per daemon and the ratio
of this checkout's req/s to the other's; the targets are this checkout's.
With C{--perl}, the original presque's rows and this checkout's req/s over
its, against the project's target of L{TARGET_VS_PERL} times.
"""

from __future__ import annotations

import os
from pathlib import Path

from bench.measure import Row
from bench.scenarios import SCENARIOS, TARGET_RATIO, TARGET_VS_PERL
from bench.servers import AGAINST, PERL, THIS
from bench.wrk import WRK_THREADS


def format_table(rows: list[Row], comparing: bool = False, perl: bool = False) -> str:
    """
    The table of all runs; with C{comparing} (--against), the daemon of each
    and this/against; with C{perl}, the daemon of each and this/perl.
    """
    header: tuple[str, ...] = (
        "scenario", "conns", "req/s", "jobs/s", "p50", "p99", "vs bare", "errors"
    )  # fmt: skip
    left = {0}
    if comparing or perl:
        header = (*header[:2], "daemon", *header[2:])
        left.add(2)
    if comparing:
        header += ("this/against",)
    if perl:
        header += ("this/perl",)
    lines = [header]
    for row in rows:
        errors = row.wrk.non_2xx + row.wrk.socket_errors
        cells = [
            row.scenario.name,
            str(row.connections),
            f"{row.wrk.requests_per_second:,.0f}",
            "-" if row.jobs_per_second is None else f"{row.jobs_per_second:,.0f}",
            format_ms(row.wrk.p50_ms),
            format_ms(row.wrk.p99_ms),
            "-" if row.ratio is None else f"{row.ratio:.2f}x",
            str(errors),
        ]
        if comparing or perl:
            cells.insert(2, row.daemon or "-")
        if comparing:
            cells.append(format_ratio(row.against_ratio))
        if perl:
            cells.append(format_ratio(row.perl_ratio))
        lines.append(tuple(cells))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i in left else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    )


def format_ratio(ratio: float | None) -> str:
    """A ratio of req/s, or "-"."""
    return "-" if ratio is None else f"{ratio:.2f}x"


def format_ms(ms: float) -> str:
    """A latency, readable at a glance."""
    return f"{ms * 1000:.0f}us" if ms < 1 else f"{ms:.2f}ms"


def format_targets(rows: list[Row], comparing: bool = False) -> str:
    """
    One line per target, with this checkout's figure at each connection
    count; then, if the original presque was measured, one line per scenario
    it ran, with this checkout's req/s over its.
    """
    whose = " of this checkout" if comparing else ""
    lines = [f"targets{whose} (figures only; nothing is enforced):"]
    for scenario in SCENARIOS:
        measured = [row for row in rows if row.scenario is scenario and row.daemon == THIS]
        if not measured:
            continue  # not run (--only)
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
    for scenario in SCENARIOS:
        measured = [row for row in rows if row.scenario is scenario and row.perl_ratio is not None]
        if not measured:
            continue
        goal = f">= {TARGET_VS_PERL:g} x Perl presque"
        cells = [
            target_cell(row, row.perl_ratio, TARGET_VS_PERL, f"{row.perl_ratio or 0:.2f}x")
            for row in measured
        ]
        lines.append(f"  {scenario.name:<14} {goal:<22} " + "   ".join(cells))
    return "\n".join(lines)


def target_cell(row: Row, value: float | None, threshold: float, text: str) -> str:
    """C{text}, the figure of C{row}, with whether it reaches C{threshold}."""
    verdict = "met" if value is not None and value >= threshold else "below"
    return f"c={row.connections}: {text} ({verdict})"


def report(
    rows: list[Row],
    notes: list[str],
    duration: int,
    run_dir: Path,
    checkouts: dict[str, str] | None = None,
) -> str:
    """
    The whole printed result. C{checkouts}, given with --against or --perl:
    each daemon's label and what its checkout (or Perl install) is.
    """
    checkouts = checkouts or {}
    comparing, perl = AGAINST in checkouts, PERL in checkouts
    parts = [
        f"presque HTTP benchmark: wrk -t{WRK_THREADS}, {duration}s per run, "
        f"{os.cpu_count()} CPUs, results in {run_dir}",
    ]
    if checkouts:
        width = max(len(label) for label in checkouts) + 1
        parts += [f"  {label + ':':<{width}} {what}" for label, what in checkouts.items()]
    if comparing:
        parts += [
            "  this/against: this checkout's req/s over the other's, same scenario and conns;",
            "  each presque run is made on both daemons in turn, each with its own Redis",
        ]
    if perl:
        parts += [
            "  this/perl: this checkout's req/s over the original presque's (Perl, 2010),",
            "  same requests and conns, run in turn with this checkout's, each with its own Redis",
        ]
    parts += [
        "",
        format_table(rows, comparing, perl),
        "",
        format_targets(rows, comparing or perl),
    ]
    if notes:
        parts += ["", "notes:", *(f"  - {note}" for note in notes)]
    return "\n".join(parts)
