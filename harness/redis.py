"""A redis-server child process on a loopback port (TLS or not), and a bare client for it."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from harness.certificates import Certificates
from harness.processes import free_port, stop_process, wait_for_port
from presque.embedded import durable_options, require_redis_server


def redis_command(port: int, *args: str | bytes, tls: ssl.SSLContext | None = None) -> Any:
    """
    One command to the Redis on 127.0.0.1:C{port}, over a fresh connection
    (with C{tls}, if given); its reply decoded (text, an integer, a list, or None).

    @raise RuntimeError: Redis answered an error.
    """
    parts = [arg if isinstance(arg, bytes) else str(arg).encode() for arg in args]
    request = b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
    connection = socket.create_connection(("127.0.0.1", port), timeout=30)
    if tls is not None:
        connection = tls.wrap_socket(connection)
    with connection, connection.makefile("rb") as replies:
        connection.sendall(request)
        return _reply(replies)


def _reply(replies: Any) -> Any:
    line = replies.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:].decode()
    if kind == b"-":
        raise RuntimeError(f"redis: {rest}")
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        return None if size < 0 else replies.read(size + 2)[:-2].decode("utf-8", "replace")
    if kind == b"*":
        size = int(rest)
        return None if size < 0 else [_reply(replies) for _ in range(size)]
    return rest


def _client_context(certificates: Certificates) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(certificates.ca))
    # The tests' own calls set things up; whether the name matches is what
    # presque's connections are tested for.
    context.check_hostname = False
    context.load_cert_chain(certificates.client_certificate, certificates.client_key)
    return context


def scratch_folder(prefix: str) -> Path:
    """
    A new folder in the temporary directory, removed when the tests end:
    a server may be stopped and started again on it until then, and one
    left per server added up to thousands in /tmp.
    """
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


class RedisServer:
    """
    A redis-server on a loopback port, with its own data directory. With
    C{tls}, it speaks TLS only, with those certificates (its own, and the
    authority it checks clients' certificates with, if it asks for them).
    """

    def __init__(
        self,
        port: int | None = None,
        appendfsync: str = "everysec",
        *options: str,
        tls: Certificates | None = None,
    ) -> None:
        self.port = port or free_port()
        self.appendfsync = appendfsync
        self.options = options
        self.tls = tls
        self._client_tls = None if tls is None else _client_context(tls)
        self.dir = scratch_folder("presque-test-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{'rediss' if self.tls else 'redis'}://127.0.0.1:{self.port}/0"

    def _listen_options(self) -> list[str]:
        if self.tls is None:
            return ["--port", str(self.port)]
        return [
            *("--port", "0", "--tls-port", str(self.port)),
            *("--tls-cert-file", str(self.tls.certificate), "--tls-key-file", str(self.tls.key)),
            *("--tls-ca-cert-file", str(self.tls.ca), "--tls-auth-clients", "no"),
        ]

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [
                require_redis_server(),
                *self._listen_options(),
                "--bind",
                "127.0.0.1",
                *durable_options(self.dir, self.appendfsync),
                *self.options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, process=self.process)
        return self

    def stop(self) -> None:
        """Stop the server the way an operator would (SIGTERM, final fsync)."""
        if self.process is not None:
            stop_process(self.process)
        self.process = None

    def pause(self) -> None:
        """SIGSTOP the server: it hangs with its connections open."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT the server, if it runs (harmless when it was not paused)."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGCONT)

    def call(self, *args: str | bytes) -> Any:
        """One command, its reply decoded (see L{redis_command})."""
        return redis_command(self.port, *args, tls=self._client_tls)

    def used_memory(self) -> int:
        """Redis' used_memory, in bytes."""
        info = self.call("INFO", "memory")
        line = next(line for line in info.splitlines() if line.startswith("used_memory:"))
        return int(line.split(":", 1)[1])

    def command(self, *args: str) -> str:
        """One command, its reply as redis-cli prints it (one item a line)."""
        reply = self.call(*args)
        if isinstance(reply, list):
            return "".join(f"{item}\n" for item in reply)
        return "" if reply is None else f"{reply}\n"
