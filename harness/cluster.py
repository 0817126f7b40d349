"""
A Redis Cluster on loopback: masters and their replicas, each a
redis-server child process on a free port, joined by redis-cli.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from harness.daemon import replicated_config
from harness.polling import wait_until
from harness.processes import accepts, free_port
from harness.redis import RedisServer, redis_command

#: How long a silent master may be before the others fail it over (ms).
NODE_TIMEOUT_MS = 1000


class Cluster:
    """C{masters} masters with C{replicas} replicas each, every slot covered."""

    def __init__(self, masters: int = 3, replicas: int = 1) -> None:
        self.masters = masters
        self.replicas = replicas
        self.servers = [
            RedisServer(
                _port_with_a_bus(),
                "everysec",
                "--cluster-enabled",
                "yes",
                "--cluster-node-timeout",
                str(NODE_TIMEOUT_MS),
                # Replicas of a master that died take over even if they lag:
                # the test is about presque following them.
                "--cluster-replica-validity-factor",
                "0",
            )
            for _ in range(masters * (1 + replicas))
        ]

    @property
    def seeds(self) -> str:
        """Two nodes, as presque's [redis] cluster setting lists them."""
        return " ".join(f"127.0.0.1:{server.port}" for server in self.servers[:2])

    def start(self) -> Cluster:
        """
        Start every node, make the cluster, wait until it serves every slot;
        if that fails, stop the nodes started, then fail.
        """
        try:
            for server in self.servers:
                server.start()
            nodes = [f"127.0.0.1:{server.port}" for server in self.servers]
            _redis_cli_cluster("create", *nodes, "--cluster-replicas", str(self.replicas))
            self.until_ok()
        except BaseException:
            self.stop()
            raise
        return self

    def until_ok(self, timeout: float = 60) -> None:
        """
        Wait until every running node says the cluster is ok, and every
        master has its replicas in sync (else a WAIT for them fails).
        """

        def ok() -> bool:
            running = [server for server in self.servers if server.process is not None]
            try:
                if not all("cluster_state:ok" in node.call("CLUSTER", "INFO") for node in running):
                    return False
                return all(
                    redis_command(port, "INFO", "replication").count("state=online")
                    >= self.replicas
                    for port in self.master_ports()
                )
            except RuntimeError:
                return False  # a node that restarts is loading its data

        wait_until(ok, timeout, f"the cluster was not ok and in sync within {timeout} s")

    def master_ports(self) -> list[int]:
        """The ports of the masters serving slots, as a running node sees them."""
        node = next(server for server in self.servers if server.process is not None)
        return sorted({int(shard[2][1]) for shard in node.call("CLUSTER", "SLOTS")})

    def node_id(self, port: int) -> str:
        return redis_command(port, "CLUSTER", "MYID")

    def reshard(self, source: int, target: int, slots: int) -> None:
        """Move C{slots} slots and their keys from the master on C{source} to C{target}'s."""
        _redis_cli_cluster(
            "reshard", f"127.0.0.1:{source}",
            "--cluster-from", self.node_id(source), "--cluster-to", self.node_id(target),
            "--cluster-slots", str(slots), "--cluster-pipeline", "10",
        )  # fmt: skip

    def kill(self, port: int) -> None:
        """SIGKILL the node on C{port}, as a crash would."""
        server = next(server for server in self.servers if server.port == port)
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
        server.process = None

    def restart(self, port: int) -> None:
        """Start again the node on C{port}, with its data: a killed master rejoins as a replica."""
        server = next(server for server in self.servers if server.port == port)
        server.start()

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


#: A node's cluster bus listens on its port plus this.
BUS_OFFSET = 10000


def _port_with_a_bus() -> int:
    """A free port whose cluster bus port (10,000 above it) is free too."""
    while True:
        port = free_port()
        if port + BUS_OFFSET < 65536 and not accepts(port + BUS_OFFSET):
            return port


def _redis_cli_cluster(*args: str) -> None:
    """C{redis-cli --cluster ARGS --cluster-yes}; what it printed, if it failed."""
    found = shutil.which("redis-cli")
    if found is None:
        raise RuntimeError("redis-cli is needed (Debian: redis-tools, with redis-server)")
    done = subprocess.run(
        [found, "--cluster", *args, "--cluster-yes"], capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"redis-cli --cluster {args[0]} failed:\n{done.stdout}{done.stderr}")


def cluster_node() -> RedisServer:
    """One node in cluster mode, in no cluster: enough to ask it of key slots."""
    return RedisServer(_port_with_a_bus(), "everysec", "--cluster-enabled", "yes")


def cluster_config(folder: Path, cluster: Cluster, min_replicas: int = 0) -> Path:
    """The shipped configuration on C{cluster}, written in C{folder}."""
    return replicated_config(
        folder / "cluster.ini", {"cluster =": f"cluster = {cluster.seeds}"}, min_replicas
    )
