"""
The subprocesses of the benchmark: started in their own session, stopped by pid.

Also the loopback ports they listen on: a free one to give them, and a wait
until they accept connections on it.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, NoReturn

from errors import BenchError

START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0


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
            stop_process(name, process)

    def _forget(self, process: subprocess.Popen[bytes]) -> None:
        self._running = [(n, p) for n, p in self._running if p is not process]


def stop_process(name: str, process: subprocess.Popen[bytes]) -> None:
    """SIGTERM C{process}, wait for it, SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        print(f"{name} (pid {process.pid}) ignored SIGTERM; killing it", file=sys.stderr)
        process.kill()
        process.wait()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(name: str, port: int, process: subprocess.Popen[bytes]) -> None:
    """Block until C{process} accepts connections on 127.0.0.1:C{port}."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"{name} exited with {process.returncode} while starting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise BenchError(f"{name} does not listen on port {port} after {START_TIMEOUT:.0f}s")


def log_file(path: Path) -> IO[bytes]:
    """A file for a child's stdout and stderr (the child keeps its own descriptor)."""
    return path.open("wb")


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
