"""C{twistd -n presque} as a real child process, for tests and benchmarks."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from harness.polling import wait_until
from harness.processes import free_port, stop_process, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = ROOT / "etc" / "presque.ini"


def twistd_command(*args: str) -> list[str]:
    """The command line of the twistd beside this interpreter (the venv's)."""
    return [str(Path(sys.executable).with_name("twistd")), *args]


class Daemon:
    """
    C{twistd -n presque --config CONFIG --listen tcp:PORT ... ARGS}, run from
    C{workdir} with C{env} added to the environment, its output in
    C{workdir/daemon.log} (or C{log}). C{tls}, the options of an C{ssl:}
    endpoint (C{privateKey=...:certKey=...}), makes it listen with TLS, and
    C{trust}, a CA file, is what its requests then verify it with.
    """

    def __init__(
        self,
        workdir: Path,
        *args: str,
        twistd_args: tuple[str, ...] = (),
        port: int | None = None,
        config: Path = SHIPPED_CONFIG,
        log: Path | None = None,
        env: dict[str, str] | None = None,
        tls: str | None = None,
        trust: Path | None = None,
    ) -> None:
        self.workdir = workdir
        self.tls = tls
        self._context = None if trust is None else ssl.create_default_context(cafile=str(trust))
        self.port = port or free_port()
        self.log = log or workdir / "daemon.log"
        self.args = args
        self.twistd_args = twistd_args
        self.config = config
        #: Variables added to this process's environment for the daemon.
        self.env = env or {}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> Daemon:
        """Start it, and wait until it accepts connections."""
        self.launch()
        wait_for_port(self.port, timeout=30, process=self.process)
        return self

    def launch(self) -> Daemon:
        """Start it, without waiting for anything."""
        kind = f"ssl:{self.port}:{self.tls}" if self.tls else f"tcp:{self.port}"
        listen = f"{kind}:interface=127.0.0.1:backlog=1024"
        with self.log.open("ab") as log:
            self.process = self._spawn(listen, log)
        return self

    def _spawn(self, listen: str, log: IO[bytes]) -> subprocess.Popen[bytes]:
        command = twistd_command(
            *self.twistd_args, "-n", "presque", "--config", str(self.config), "--listen", listen
        )
        return subprocess.Popen(
            [*command, *self.args],
            cwd=self.workdir,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        """Send C{sig} (by pid), wait for the exit; its exit code."""
        assert self.process is not None
        code = stop_process(self.process, sig)
        self.process = None
        return code

    def stopped_cleanly(self) -> bool:
        """SIGTERM, then twistd's exit: 0, or the signal re-raised as newer Twisted does."""
        return self.stop() in (0, -signal.SIGTERM) and "Server Shut Down." in self.log.read_text()

    def request(self, method: str, path: str, job: object = None) -> tuple[int, bytes]:
        """One request over a fresh connection; its status and body."""
        data = None if job is None else json.dumps(job).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30, context=self._context) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def until_redis_answers(self) -> None:
        """Wait until it says it is ready: Redis answers, the scripts are loaded."""
        wait_until(lambda: self.request("GET", "/ready")[0] == 200, 30, self.log.read_text)

    @property
    def redis_pidfile(self) -> Path:
        """Where the embedded redis-server writes its pid."""
        return self.workdir / "var" / "redis" / "redis.pid"

    def redis_pid(self) -> int:
        return int(self.redis_pidfile.read_text())


def shipped_config_with(path: Path, lines: dict[str, str], extra: str = "") -> Path:
    """
    The shipped configuration with each of C{lines} (a whole line, once in
    the file) replaced by its value, and C{extra} at the end, written to C{path}.
    """
    text = SHIPPED_CONFIG.read_text()
    for line, replacement in lines.items():
        if text.count(f"\n{line}\n") != 1:
            raise AssertionError(f"the shipped configuration no longer says {line!r} once")
        text = text.replace(f"\n{line}\n", f"\n{replacement}\n")
    path.write_text(text + extra)
    return path


def replicated_config(path: Path, lines: dict[str, str], min_replicas: int = 0) -> Path:
    """
    L{shipped_config_with} C{lines}, each write waiting for C{min_replicas}
    replicas ([redis] min_replicas), written to C{path}.
    """
    return shipped_config_with(
        path, {**lines, "min_replicas = 0": f"min_replicas = {min_replicas}"}
    )


def tokens_on_config(path: Path, *sections: str) -> Path:
    """
    The shipped configuration with C{[auth] mode = on} and these C{[token:NAME]}
    sections, written to C{path}.
    """
    return shipped_config_with(path, {"mode = off": "mode = on"}, "\n" + "".join(sections))
