"""
A Redis Sentinel deployment on loopback: a master, its replicas and three
sentinels watching it, each a child process on a free port.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from harness.daemon import replicated_config
from harness.polling import wait_until
from harness.processes import free_port, stop_process, wait_for_port
from harness.redis import RedisServer, redis_command, scratch_folder
from presque.embedded import require_redis_server

#: What the sentinels call the master.
MASTER_NAME = "presque-test"

#: How long the sentinels wait before they call a silent master down (ms):
#: short, so that a failover takes a couple of seconds.
DOWN_AFTER_MS = 1000


class Sentinels:
    """
    A master, C{replicas} replicas and C{count} sentinels (quorum: a
    majority) on 127.0.0.1. L{kill_master} kills the master as a crash
    would; the sentinels then promote a replica.
    """

    def __init__(self, replicas: int = 2, count: int = 3) -> None:
        self.master = RedisServer()
        self.replicas = [
            RedisServer(None, "everysec", "--replicaof", "127.0.0.1", str(self.master.port))
            for _ in range(replicas)
        ]
        self.ports = [free_port() for _ in range(count)]
        self.dir = scratch_folder("presque-test-sentinels-")
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def servers(self) -> list[RedisServer]:
        """The master and its replicas, in the order they were started."""
        return [self.master, *self.replicas]

    @property
    def addresses(self) -> str:
        """The sentinels as presque's [redis] sentinels setting lists them."""
        return " ".join(f"127.0.0.1:{port}" for port in self.ports)

    def start(self) -> Sentinels:
        """
        Start every process, and wait until they all know each other; if
        that fails, stop the processes started, then fail.
        """
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        for server in self.servers:
            server.start()
        quorum = len(self.ports) // 2 + 1
        for port in self.ports:
            config = self.dir / f"sentinel-{port}.conf"
            # A sentinel rewrites its file: each has its own.
            config.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.dir}\n"
                f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.master.port} {quorum}\n"
                f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}\n"
                f"sentinel failover-timeout {MASTER_NAME} 10000\n"
            )
            process = subprocess.Popen(
                [require_redis_server(), str(config), "--sentinel"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            self.processes.append(process)
            wait_for_port(port, process=process)
        wait_until(self._acquainted, 30, "the sentinels did not learn of each other in 30 s")

    def _acquainted(self) -> bool:
        for port in self.ports:
            replicas = redis_command(port, "SENTINEL", "replicas", MASTER_NAME)
            others = redis_command(port, "SENTINEL", "sentinels", MASTER_NAME)
            if len(replicas) < len(self.replicas) or len(others) < len(self.ports) - 1:
                return False
        return self.master.call("INFO", "replication").count("state=online") == len(self.replicas)

    def master_port(self) -> int:
        """The port of the master as the first sentinel names it now."""
        _, port = redis_command(self.ports[0], "SENTINEL", "get-master-addr-by-name", MASTER_NAME)
        return int(port)

    def server_on(self, port: int) -> RedisServer:
        """The server (master or replica) that listens on C{port}."""
        return next(server for server in self.servers if server.port == port)

    def kill_master(self) -> RedisServer:
        """SIGKILL the master of now: what it had not replicated is lost."""
        master = self.server_on(self.master_port())
        assert master.process is not None
        os.kill(master.process.pid, signal.SIGKILL)
        master.process.wait()
        master.process = None
        return master

    def until_failed_over(self, old_port: int, timeout: float = 30) -> int:
        """Wait until every sentinel names a master other than C{old_port}; its port."""

        def moved() -> bool:
            named = {
                int(redis_command(port, "SENTINEL", "get-master-addr-by-name", MASTER_NAME)[1])
                for port in self.ports
            }
            return len(named) == 1 and old_port not in named

        wait_until(moved, timeout, f"the sentinels did not fail over in {timeout} s")
        return self.master_port()

    def fail_over(self) -> int:
        """Kill the master, wait until the sentinels promote a replica; the new master's port."""
        old = self.master_port()
        self.kill_master()
        return self.until_failed_over(old)

    def stop(self) -> None:
        """Stop every process still running, sentinels first."""
        for process in self.processes:
            stop_process(process, signal.SIGTERM)
        for server in self.servers:
            server.stop()


def sentinel_config(folder: Path, sentinels: Sentinels, min_replicas: int = 0) -> Path:
    """The shipped configuration on C{sentinels}' master, written in C{folder}."""
    lines = {
        "sentinels =": f"sentinels = {sentinels.addresses}",
        "master_name =": f"master_name = {MASTER_NAME}",
    }
    return replicated_config(folder / "sentinel.ini", lines, min_replicas)
