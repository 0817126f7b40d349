"""Child processes stopped by their pid, and the loopback ports they listen on."""

from __future__ import annotations

import signal
import socket
import subprocess
from pathlib import Path
from typing import Any

from harness.polling import wait_until

STOP_TIMEOUT = 20.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def accepts(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:C{port}."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_for_port(
    port: int, timeout: float = 15.0, process: subprocess.Popen[Any] | None = None
) -> None:
    """Block until something accepts connections on C{port}; fail early if C{process} died."""

    def listening() -> bool:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process exited with {process.returncode} while starting")
        return accepts(port)

    wait_until(listening, timeout, f"nothing listens on port {port} after {timeout}s")


def stop_process(process: subprocess.Popen[Any], sig: int = signal.SIGTERM) -> int | None:
    """Send C{sig} to C{process} (by its pid), wait for it, kill it if it lingers."""
    if process.poll() is not None:
        return process.returncode
    process.send_signal(sig)
    try:
        return process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def child_pids(pid: int, command: bytes = b"") -> list[int]:
    """
    The processes whose parent is C{pid} (and whose command line holds
    C{command}), from /proc.
    """
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            line = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # it ended meanwhile
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid and command in line:
            found.append(int(entry.name))
    return found
