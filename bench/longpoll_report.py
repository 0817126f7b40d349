"""
The printed result of bench.longpoll: the latency table per rate, the
cost of the idle waiters, then notes. Figures only: nothing is enforced.
"""

from __future__ import annotations

import os
from pathlib import Path

from bench.longpoll_flow import CONSUMER_LEASE, CONSUMER_WAIT, CONSUMERS, MAX_POSTS_IN_FLIGHT, Flow
from bench.longpoll_idle import WAIT, Idle, Window
from bench.readings import percentile
from bench.report import format_ms

# A run is below its rate when it takes fewer jobs a second than this share of it.
BELOW_RATE = 0.95


def align(lines: list[tuple[str, ...]]) -> list[str]:
    """Columns: the first left-aligned, the others right-aligned."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    ]


def format_flows(flows: list[Flow]) -> list[str]:
    """One line per rate."""
    header = ("rate/s", "jobs", "p50", "p90", "p99", "max", "achieved/s", "errors")
    cpu_header = ("daemon CPU", "redis CPU", "bench CPU", "all CPUs")
    lines = [header + cpu_header]
    for flow in flows:
        ordered = sorted(flow.latencies)
        figures = (
            tuple(format_ms(1000 * percentile(ordered, f)) for f in (0.5, 0.9, 0.99, 1.0))
            if ordered
            else ("-",) * 4
        )
        cpu = tuple(f"{flow.cpu[name]:.0f}%" for name in ("daemon", "redis", "bench", "all"))
        lines.append(
            (
                f"{flow.rate:,}",
                f"{len(ordered):,}",
                *figures,
                f"{flow.achieved:,.0f}",
                str(sum(flow.errors.values())),
                *cpu,
            )
        )
    return align(lines)


def flow_notes(flows: list[Flow]) -> list[str]:
    """Errors, lost jobs, held-back POSTs and rates not reached."""
    notes = []
    for flow in flows:
        label = f"{flow.rate:,} jobs/s"
        if flow.errors:
            detail = ", ".join(f"{what} x{count}" for what, count in flow.errors.most_common())
            notes.append(f"{label}: errors: {detail}")
        if len(flow.latencies) < flow.posted:
            notes.append(
                f"{label}: {flow.posted - len(flow.latencies):,} of {flow.posted:,} posted jobs"
                " were not taken before the consumers stopped"
            )
        if flow.held_back:
            notes.append(
                f"{label}: {flow.held_back:,} POSTs waited for one of the"
                f" {MAX_POSTS_IN_FLIGHT} in-flight slots (sent late, stamped when sent)"
            )
        if flow.achieved < BELOW_RATE * flow.rate:
            processes = {name: use for name, use in flow.cpu.items() if name != "all"}
            busiest = max(processes, key=processes.__getitem__)
            notes.append(
                f"{label}: only {flow.achieved:,.0f} jobs/s went through;"
                f" busiest process: {busiest} at {flow.cpu[busiest]:.0f}% of one core;"
                f" all CPUs: {flow.cpu['all']:.0f}% of {100 * (os.cpu_count() or 1)}%"
                + (" (the load generator: this row measures it too)" if busiest == "bench" else "")
            )
    return notes


def format_window(label: str, window: Window) -> list[str]:
    """Redis's commands a second, then the CPU use of each process and of all CPUs."""
    commands = ", ".join(f"{name} {count:,}" for name, count in window.commands.items())
    cpu = ", ".join(
        f"{'all CPUs' if name == 'all' else name} {percent:.1f}%"
        for name, percent in window.cpu.items()
    )
    return [
        f"  {label}, {window.seconds:.1f}s:",
        f"    redis: {window.command_rate:.1f} commands/s ({commands or 'none'})",
        f"    CPU, % of one core: {cpu}",
    ]


def format_idle(idle: Idle) -> list[str]:
    """The cost of the idle waiters, beside that of no waiter."""
    assert idle.empty is not None and idle.waiting is not None
    early = ", ".join(f"{what} x{count}" for what, count in idle.answered_early.items())
    return [
        f"idle waiters: requests waiting (wait={WAIT}) on an empty queue",
        *format_window("no waiter", idle.empty),
        *format_window(f"{idle.waiters:,} waiters", idle.waiting),
        f"  daemon file descriptors: {idle.fds_before:,} before, {idle.fds_waiting:,} while"
        f" waiting, {idle.fds_after:,} once the clients went away",
        f"  connected in {idle.connect_seconds:.1f}s; answered before the end: {early or 'none'}",
    ]


def idle_notes(idle: Idle) -> list[str]:
    """Waiters that never reached the daemon, or that it did not let go."""
    notes = []
    held = idle.fds_waiting - idle.fds_before
    if held < idle.waiters:
        notes.append(f"idle: the daemon held {held:,} new descriptors for {idle.waiters:,} waiters")
    if idle.fds_after > idle.fds_before:
        notes.append(
            f"idle: the daemon still held {idle.fds_after - idle.fds_before:,} more descriptors"
            " than before, after the clients went away"
        )
    if idle.answered_early:
        notes.append("idle: some waits ended before the window did (see above)")
    return notes


def longpoll_report(
    flows: list[Flow], idle: Idle, notes: list[str], duration: int, run_dir: Path
) -> str:
    """The whole printed result."""
    parts = [
        f"presque long-polling benchmark: {CONSUMERS} consumers"
        f" (wait={CONSUMER_WAIT}, lease={CONSUMER_LEASE}, ack), {duration}s per rate,"
        f" {os.cpu_count()} CPUs, results in {run_dir}",
        "",
        "end-to-end latency, POST sent -> job read by a consumer;"
        f" CPU in % of one core (all {os.cpu_count()} busy: {100 * (os.cpu_count() or 1)}%):",
        *(f"  {line}" for line in format_flows(flows)),
        "",
        *format_idle(idle),
    ]
    notes = flow_notes(flows) + idle_notes(idle) + notes
    if notes:
        parts += ["", "notes:", *(f"  - {note}" for note in notes)]
    return "\n".join(parts)
