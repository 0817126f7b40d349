"""
A daemon whose standard output is a pipe nobody reads any more (its
reader, a log shipper or C{| head}, exited) loses its lines but keeps
serving, without spending its CPU on writes that fail.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from harness.daemon import twistd_command
from harness.processes import free_port, stop_process, wait_for_port
from harness.redis import RedisServer


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def get(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/q/nothing", timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_daemon_whose_log_reader_went_away_serves_without_spinning(
    redis_server: RedisServer,
) -> None:
    port = free_port()
    daemon = subprocess.Popen(
        twistd_command(
            "-n",
            "--pidfile=",
            "presque",
            "--listen",
            f"tcp:{port}:interface=127.0.0.1",
            "--redis",
            redis_server.url,
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        assert daemon.stdout is not None
        daemon.stdout.close()  # the reader exits
        for _ in range(10):
            assert get(port) == 404
        time.sleep(0.5)
        before = cpu_seconds(daemon.pid)
        time.sleep(2)
        assert cpu_seconds(daemon.pid) - before < 0.5
        assert get(port) == 404
    finally:
        stop_process(daemon)
