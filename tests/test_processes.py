"""
[server] processes: one daemon, several serving processes on its sockets,
supervised by it. Real daemons; a process is told apart from the others by
stopping the others (SIGSTOP), so that only it can accept.
"""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.daemon import Daemon, shipped_config_with
from harness.polling import wait_until
from harness.processes import child_pids
from tests.support import Daemons, process_alive

STATUS_COUNT = re.compile(
    rb'presque_http_request_duration_seconds_count\{code="2xx",method="GET",'
    rb'route="/status/\{queue\}"\} (\d+)'
)


def start(daemons: Daemons, folder: Path, processes: int = 2, **options: Any) -> Daemon:
    config = shipped_config_with(folder / "p.ini", {"processes = 1": f"processes = {processes}"})
    daemon = daemons.start(folder, config=config, **options)
    wait_until(lambda: len(children_of(daemon)) == processes - 1, 30, "no serving child")
    return daemon


def children_of(daemon: Daemon) -> list[int]:
    """The pids of the daemon's serving children."""
    assert daemon.process is not None
    return child_pids(daemon.process.pid, b"presque.child")


@contextmanager
def stopped(pid: int) -> Iterator[None]:
    """C{pid} stopped (SIGSTOP) meanwhile: it accepts no connection."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def test_a_serving_child_answers_while_the_daemon_itself_cannot(
    tmp_path: Path, daemons: Daemons
) -> None:
    daemon = start(daemons, tmp_path)
    assert daemon.request("POST", "/q/mail", {"to": "bob"})[0] == 201
    with stopped(daemon.process.pid):
        assert daemon.request("GET", "/q/mail") == (200, b'{"to": "bob"}')


def test_auto_runs_one_process_per_cpu(tmp_path: Path, daemons: Daemons) -> None:
    config = shipped_config_with(tmp_path / "p.ini", {"processes = 1": "processes = auto"})
    daemon = daemons.start(tmp_path, config=config)
    expected = len(os.sched_getaffinity(0)) - 1
    wait_until(lambda: len(children_of(daemon)) == expected, 30, "not one process per CPU")


def test_a_serving_child_that_dies_is_started_again(tmp_path: Path, daemons: Daemons) -> None:
    daemon = start(daemons, tmp_path)
    [child] = children_of(daemon)
    os.kill(child, signal.SIGKILL)
    wait_until(lambda: children_of(daemon) not in ([], [child]), 30, "not started again")
    wait_until(lambda: daemon.request("GET", "/ready")[0] == 200, 30, "not ready")
    with stopped(daemon.process.pid):
        wait_until(lambda: daemon.request("GET", "/status/mail")[0] == 200, 30, "no answer")
    assert "starting it again" in daemon.log.read_text()


def test_sigterm_stops_every_process_cleanly(tmp_path: Path, daemons: Daemons) -> None:
    daemon = start(daemons, tmp_path)
    [child] = children_of(daemon)
    assert daemon.stopped_cleanly()
    assert not process_alive(child)


def test_a_child_does_not_outlive_a_killed_daemon(tmp_path: Path, daemons: Daemons) -> None:
    daemon = start(daemons, tmp_path)
    [child] = children_of(daemon)
    daemon.stop(signal.SIGKILL)
    wait_until(lambda: not process_alive(child), 15, "the child outlived the daemon")


def test_metrics_add_up_the_requests_of_every_process(tmp_path: Path, daemons: Daemons) -> None:
    daemon = start(daemons, tmp_path)
    [child] = children_of(daemon)
    with stopped(daemon.process.pid):
        for _ in range(3):
            assert daemon.request("GET", "/status/mail")[0] == 200
    with stopped(child):
        for _ in range(4):
            assert daemon.request("GET", "/status/mail")[0] == 200

    def counted() -> int:
        found = STATUS_COUNT.search(daemon.request("GET", "/metrics")[1])
        return int(found.group(1)) if found else 0

    wait_until(lambda: counted() == 7, 10, lambda: f"counted {counted()}, not 7")


def test_a_child_logs_in_the_daemons_log(tmp_path: Path, daemons: Daemons) -> None:
    daemon = start(daemons, tmp_path)
    with stopped(daemon.process.pid):
        assert daemon.request("GET", "/status/from-the-child")[0] == 200
    wait_until(lambda: "GET /status/from-the-child 200" in daemon.log.read_text(), 10, "not logged")


def test_a_child_writes_its_text_lines_on_the_daemons_standard_output(
    tmp_path: Path, daemons: Daemons
) -> None:
    daemon = start(daemons, tmp_path)
    [child] = children_of(daemon)
    daemon_output = os.readlink(f"/proc/{daemon.process.pid}/fd/1")
    assert os.readlink(f"/proc/{child}/fd/1") == daemon_output


def test_with_a_json_logger_a_childs_events_carry_its_process_number(
    tmp_path: Path, daemons: Daemons
) -> None:
    daemon = start(daemons, tmp_path, twistd_args=("--logger", "presque.logs.json_observer"))
    with stopped(daemon.process.pid):
        assert daemon.request("GET", "/status/from-the-child")[0] == 200

    def child_access() -> list[dict[str, Any]]:
        events = [json.loads(line) for line in daemon.log.read_text().splitlines() if line]
        return [e for e in events if e.get("uri") == "/status/from-the-child"]

    [event] = wait_until(child_access, 10, "not logged")
    assert (event["code"], event["presque_process"]) == (200, 2)
