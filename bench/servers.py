"""
The servers under test, all on 127.0.0.1 and on free ports.

A private redis-server with an everysec append-only file, one presque daemon
(twistd, default settings, its output in a file) and bare_server.py, the
ceiling of the stack. Each is started through L{Children}, which stops it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from errors import BenchError
from presque_client import call
from processes import START_TIMEOUT, Children, free_port, log_file, wait_for_port
from scenarios import QUEUE, Scenario

BARE_SERVER = Path(__file__).resolve().with_name("bare_server.py")


@dataclass(frozen=True)
class Servers:
    """Where the servers under test listen."""

    presque: int
    bare: int
    redis: int
    daemon_log: Path
    redis_log: Path

    def port(self, scenario: Scenario) -> int:
        """The port that serves C{scenario}."""
        return self.presque if scenario.server == "presque" else self.bare


def twistd_path() -> str:
    """The twistd beside this interpreter (the venv's), else the one on PATH."""
    beside = Path(sys.executable).with_name("twistd")
    if beside.exists():
        return str(beside)
    found = shutil.which("twistd")
    if found is None:
        raise BenchError("no twistd: run this script with the venv's python")
    return found


def redis_server_path() -> str:
    """The redis-server presque itself would use."""
    try:
        from presque.embedded import RedisServerNotFound, require_redis_server
    except ImportError:
        raise BenchError("presque is not importable: run this with the venv's python") from None
    try:
        return require_redis_server()
    except RedisServerNotFound as error:
        raise BenchError(str(error)) from None


def start_redis(children: Children, workdir: Path) -> int:
    """A private redis-server with an everysec append-only file; return its port."""
    port = free_port()
    data = workdir / "redis"
    data.mkdir()
    args = [
        redis_server_path(),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(data),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--save", "",
    ]  # fmt: skip
    with log_file(workdir / "redis.log") as log:
        process = children.start("redis-server", args, stdout=log, stderr=subprocess.STDOUT)
    wait_for_port("redis-server", port, process)
    return port


def start_daemon(children: Children, workdir: Path, redis_port: int) -> tuple[int, Path]:
    """One presque daemon with the default settings; return its port and its log."""
    port = free_port()
    config = workdir / "presque.ini"
    config.write_text(
        "# bench/run.py: every setting at its default (access log on);\n"
        "# --listen and --redis come from the command line.\n"
        "[server]\n"
    )
    args = [
        twistd_path(),
        "-n",
        "presque",
        "--config", str(config),
        "--listen", f"tcp:{port}:interface=127.0.0.1:backlog=1024",  # the default's backlog
        "--redis", f"redis://127.0.0.1:{redis_port}/0",
    ]  # fmt: skip
    log_path = workdir / "presque.log"
    with log_file(log_path) as log:
        process = children.start("presque", args, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    wait_for_port("presque", port, process)
    wait_for_redis_behind(port)
    return port, log_path


def wait_for_redis_behind(port: int) -> None:
    """Block until the daemon answers a route that needs Redis."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        status, _ = call(port, "GET", f"/j/{QUEUE}")
        if status == 200:
            return
        time.sleep(0.1)
    raise BenchError(f"presque does not reach Redis after {START_TIMEOUT:.0f}s")


def start_bare(children: Children, workdir: Path) -> int:
    """The bare twisted.web server; return its port."""
    port = free_port()
    args = [sys.executable, str(BARE_SERVER), str(port)]
    with log_file(workdir / "bare.log") as log:
        process = children.start("bare server", args, stdout=log, stderr=subprocess.STDOUT)
    wait_for_port("bare server", port, process)
    return port


def start_servers(children: Children, workdir: Path) -> Servers:
    """Redis, the presque daemon and the bare server, all on loopback."""
    redis_port = start_redis(children, workdir)
    presque_port, daemon_log = start_daemon(children, workdir, redis_port)
    bare_port = start_bare(children, workdir)
    return Servers(
        presque=presque_port,
        bare=bare_port,
        redis=redis_port,
        daemon_log=daemon_log,
        redis_log=workdir / "redis.log",
    )
