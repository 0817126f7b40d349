"""
Real parts for the tests: redis-server processes on free loopback ports, an
in-process presque site, and a small treq wrapper.

Nothing here imports txredisapi or klein at module level: they would install
the reactor before pytest-twisted does.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from presque.embedded import require_redis_server


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    """Block until something accepts connections on 127.0.0.1:C{port}."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listens on port {port} after {timeout}s")


class RedisServer:
    """A redis-server child process on a loopback port, with its own data dir."""

    def __init__(self, port: int | None = None, appendfsync: str = "everysec") -> None:
        self.port = port or free_port()
        self.appendfsync = appendfsync
        self.dir = Path(tempfile.mkdtemp(prefix="presque-test-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [
                require_redis_server(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.dir),
                "--appendonly",
                "yes",
                "--appendfsync",
                self.appendfsync,
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        """Stop the server the way an operator would (SIGTERM, final fsync)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=15)
        self.process = None

    def command(self, *args: str) -> str:
        """Run one command with redis-cli and return its raw output."""
        cli = Path(require_redis_server()).with_name("redis-cli")
        output = subprocess.run(
            [str(cli), "-h", "127.0.0.1", "-p", str(self.port), *args],
            check=True,
            capture_output=True,
        )
        return output.stdout.decode()


@dataclass
class Reply:
    """An HTTP answer, read whole."""

    status: int
    headers: Any
    body: bytes

    def json(self) -> Any:
        assert self.header("Content-Type") == "application/json", self.headers
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        values = self.headers.getRawHeaders(name)
        return values[0] if values else None


class Http:
    """treq against one base URL, every request on a fresh connection."""

    def __init__(self, base: str) -> None:
        from treq.client import HTTPClient
        from twisted.internet import reactor
        from twisted.web.client import Agent, HTTPConnectionPool

        self.base = base.rstrip("/")
        pool = HTTPConnectionPool(reactor, persistent=False)
        self.client = HTTPClient(Agent(reactor, pool=pool))

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | str | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> Reply:
        headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body)
            headers.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode("utf-8")
        response = await self.client.request(
            method,
            self.base + path,
            data=body,
            headers={name: [value] for name, value in headers.items()},
            params=params,
        )
        content = await response.content()
        return Reply(response.code, response.headers, content)

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("PUT", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("DELETE", path, **kwargs)

    async def post_job(self, queue: str, job: Any, **params: str) -> Reply:
        """POST C{job} as JSON to C{/q/queue}."""
        return await self.post(f"/q/{queue}", json_body=job, params=params or None)


def twistd_command(*args: str) -> list[str]:
    """The command line of the installed twistd, from this interpreter's environment."""
    import sys

    return [str(Path(sys.executable).with_name("twistd")), *args]


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
