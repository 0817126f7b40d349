"""
The subprocesses of a benchmark run: started in their own session, stopped by
pid, all of them, whatever ends the run (an error, Ctrl-C, SIGTERM).

Stopping one is L{harness.processes.stop_process}; this module keeps the
registry of what is still running, which the harness has no equivalent of.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from bench.errors import BenchError
from harness.processes import stop_process


class Children:
    """The subprocesses this run started, stopped last first, each by its pid."""

    def __init__(self) -> None:
        self._running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        """Start C{args} in its own session, so that Ctrl-C reaches only this script."""
        process = subprocess.Popen(args, start_new_session=True, **kwargs)
        self._running.append((name, process))
        return process

    def run(self, name: str, args: list[str], timeout: float, **kwargs: Any) -> str:
        """Run C{args} to the end and return its output (stdout, then stderr)."""
        process = self.start(name, args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise BenchError(f"{name} did not finish within {timeout:.0f}s") from None
        self._forget(process)
        text = out.decode("utf-8", "replace") + err.decode("utf-8", "replace")
        if process.returncode != 0:
            raise BenchError(f"{name} exited with {process.returncode}:\n{text}")
        return text

    def pid(self, name: str) -> int:
        """The pid of the running child started as C{name}."""
        for known, process in self._running:
            if known == name and process.poll() is None:
                return process.pid
        raise BenchError(f"{name} is not running")

    def stop_all(self) -> None:
        """SIGTERM each process still running, newest first, and wait for it."""
        while self._running:
            name, process = self._running.pop()
            if stop_process(process) == -signal.SIGKILL:
                print(f"{name} (pid {process.pid}) ignored SIGTERM; killed", file=sys.stderr)

    def _forget(self, process: subprocess.Popen[bytes]) -> None:
        self._running = [(n, p) for n, p in self._running if p is not process]


def _terminated(signum: int, frame: object) -> NoReturn:
    raise KeyboardInterrupt


def run_benchmark(prefix: str, work: Callable[[Children, Path], None]) -> int:
    """
    Run C{work} with a fresh L{Children} and a temporary folder; whatever
    happens (an error, Ctrl-C, SIGTERM), stop every child and remove the
    folder. Returns the exit code.
    """
    children = Children()
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    signal.signal(signal.SIGTERM, _terminated)
    try:
        work(children, workdir)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        children.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0
