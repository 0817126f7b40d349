"""C{twistd -n presque} as a real child process, for the daemon tests."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support import SHIPPED_CONFIG, free_port, twistd_command, wait_for_port


class Daemon:
    """C{twistd -n presque} as a child process, run from C{workdir}."""

    def __init__(
        self,
        workdir: Path,
        *args: str,
        twistd_args: tuple[str, ...] = (),
        port: int | None = None,
        config: Path = SHIPPED_CONFIG,
    ) -> None:
        self.workdir = workdir
        self.config = config
        self.port = port or free_port()
        self.log = workdir / "daemon.log"
        self.args = args
        self.twistd_args = twistd_args
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Daemon:
        listen = f"tcp:{self.port}:interface=127.0.0.1"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                twistd_command(
                    *self.twistd_args,
                    "-n",
                    "presque",
                    "--config",
                    str(self.config),
                    "--listen",
                    listen,
                    *self.args,
                ),
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for_port(self.port, timeout=30)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        code = self.process.wait(timeout=30)
        self.process = None
        return code

    def stopped_cleanly(self) -> bool:
        """SIGTERM, then twistd's exit: 0, or the signal re-raised as newer Twisted does."""
        return self.stop() in (0, -signal.SIGTERM) and "Server Shut Down." in self.log.read_text()

    def request(self, method: str, path: str, job: object = None) -> tuple[int, bytes]:
        data = None if job is None else json.dumps(job).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def until_redis_answers(self) -> None:
        """The listener is up before the embedded Redis is: wait for it."""
        for _ in range(300):
            status, _ = self.request("GET", "/j/probe")
            if status == 200:
                return
            time.sleep(0.05)
        raise TimeoutError(self.log.read_text())

    @property
    def redis_pidfile(self) -> Path:
        """Where the embedded redis-server writes its pid."""
        return self.workdir / "var" / "redis" / "redis.pid"

    def redis_pid(self) -> int:
        return int(self.redis_pidfile.read_text())


def start(
    daemons: list[Daemon],
    workdir: Path,
    *args: str,
    twistd_args: tuple[str, ...] = (),
    port: int | None = None,
    config: Path = SHIPPED_CONFIG,
) -> Daemon:
    """Start a daemon, have C{daemons} clean it up, and wait until its Redis answers."""
    daemon = Daemon(workdir, *args, twistd_args=twistd_args, port=port, config=config).start()
    daemons.append(daemon)
    daemon.until_redis_answers()
    return daemon
