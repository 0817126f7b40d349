"""
The set-ups of bench.cluster: a Redis Cluster (of one master, or of
several) with a presque daemon on it, its queues spread over the masters,
and the counters read off them around each run.
"""

from __future__ import annotations

import http.client
import itertools
import json
import math
import os
import re
import subprocess
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bench.children import Children
from bench.errors import BenchError, waiting_for
from bench.measure import progress
from bench.presque_client import PREFILL_BATCH, PREFILL_CONNECTIONS, call, exchange
from bench.readings import cpu_seconds, machine_busy_seconds
from bench.scenarios import JOB
from bench.servers import twistd_of, wait_ready
from harness.cluster import Cluster
from harness.daemon import shipped_config_with
from harness.polling import wait_until
from harness.processes import free_port
from harness.redis import redis_command

SLOTS = 16384
#: The shipped [redis] prefix: every key of queue Q is presque:{Q}:..., on Q's slot.
PREFIX = "presque"


class OneMaster(Cluster):
    """
    A cluster of a single master: C{redis-cli --cluster create} wants three
    at least, so this one's node is given every slot itself. Alone, it never
    learns its address from another node, and would tell presque an empty
    host in its map: it is told to announce 127.0.0.1.
    """

    def __init__(self) -> None:
        super().__init__(masters=1, replicas=0)

    def start(self) -> OneMaster:
        try:
            (node,) = self.servers
            node.start()
            node.call("CONFIG", "SET", "cluster-announce-ip", "127.0.0.1")
            node.call("CLUSTER", "ADDSLOTSRANGE", "0", str(SLOTS - 1))
            wait_until(
                lambda: node.call("CLUSTER", "SLOTS")[0][2][0] == "127.0.0.1",
                10,
                "the master does not announce 127.0.0.1",
            )
            self.until_ok()
        except BaseException:
            self.stop()
            raise
        return self


@dataclass
class Setup:
    """A cluster and the presque daemon on it."""

    masters: int
    cluster: Cluster
    port: int = 0
    log: Path = Path()
    #: The masters' ports, in the order of the columns.
    master_ports: list[int] = field(default_factory=list)
    #: The daemon's pid, then its serving children's.
    pids: list[int] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.masters} master{'s' if self.masters > 1 else ''}"


@dataclass(frozen=True)
class Reading:
    """The counters of one set-up at one time."""

    at: float
    commands: list[int]  # per master: INFO stats total_commands_processed
    redis_cpu: list[float]  # per master: used_cpu_sys + used_cpu_user
    rewrites: int  # AOF rewrites, every master
    presque_cpu: float  # the daemon and its serving children
    machine: float  # busy CPU seconds of the whole machine


def start_setup(children: Children, workdir: Path, masters: int, started: list[Cluster]) -> Setup:
    """A cluster of C{masters} masters, then a daemon on it (C{processes = auto})."""
    progress(f"{masters} master(s): starting the cluster")
    cluster = OneMaster() if masters == 1 else Cluster(masters=masters, replicas=0)
    with waiting_for(f"the cluster of {masters} master(s) does not start"):
        cluster.start()
    started.append(cluster)
    setup = Setup(masters, cluster, master_ports=cluster.master_ports())
    if len(setup.master_ports) != masters:
        raise BenchError(f"{masters} masters asked for, the map has {setup.master_ports}")
    folder = workdir / f"masters-{masters}"
    folder.mkdir()
    config = shipped_config_with(
        folder / "presque.ini",
        {"cluster =": f"cluster = {cluster.seeds}", "processes = 1": "processes = auto"},
    )
    setup.port = free_port()
    args = [
        twistd_of(None), "-n", "presque", "--config", str(config),
        "--listen", f"tcp:{setup.port}:interface=127.0.0.1:backlog=1024",
    ]  # fmt: skip
    setup.log = folder / "presque.log"
    name = f"presque ({setup.label})"
    with setup.log.open("wb") as log:
        process = children.start(name, args, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    wait_ready(name, setup.port, process, setup.log)
    setup.pids = [process.pid]
    return setup


def serving_processes() -> int:
    """How many serving processes C{processes = auto} runs here: one per CPU."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def spread_queues(setup: Setup, count: int) -> tuple[list[str], Counter[int]]:
    """
    C{count} queue names that C{setup}'s masters hold as evenly as can be,
    each name's slot asked of the cluster (CLUSTER KEYSLOT of one of its
    keys); the names, and how many each master holds.
    """
    slots = redis_command(setup.master_ports[0], "CLUSTER", "SLOTS")
    ranges = [(int(first), int(last), int(master[1])) for first, last, master, *_ in slots]
    quota = math.ceil(count / setup.masters)
    held: Counter[int] = Counter()
    names = []
    for n in itertools.count():
        name = f"cluster-{n}"
        slot = redis_command(
            setup.master_ports[0], "CLUSTER", "KEYSLOT", f"{PREFIX}:{{{name}}}:meta"
        )
        master = next(port for first, last, port in ranges if first <= slot <= last)
        if held[master] < quota:
            held[master] += 1
            names.append(name)
            if len(names) == count:
                return names, held
    raise AssertionError("unreachable")


def counters(setup: Setup, queues: Sequence[str]) -> dict[str, int]:
    """job_count and job_processed, added up over C{queues} (GET /j/Q)."""
    total = Counter[str]()
    for queue in queues:
        status, body = call(setup.port, "GET", f"/j/{queue}")
        if status != 200:
            raise BenchError(f"{setup.label}: GET /j/{queue} answered {status}: {body[:200]!r}")
        figures = json.loads(body)
        total["job_count"] += int(figures.get("job_count") or 0)
        total["job_processed"] += int(figures.get("job_processed") or 0)
        total["dry"] += int(not figures.get("job_count"))
    return dict(total)


def purge(setup: Setup, queues: Sequence[str]) -> None:
    """DELETE /q/Q for each of C{queues}: no job, no counter left."""
    for queue in queues:
        status, body = call(setup.port, "DELETE", f"/q/{queue}")
        if status != 204:
            raise BenchError(f"{setup.label}: DELETE /q/{queue} answered {status}: {body[:200]!r}")


def prefill(setup: Setup, queues: Sequence[str], jobs: int) -> int:
    """At least C{jobs} jobs over C{queues}, evenly, by POST /qb of 1,000; how many."""
    per_queue = math.ceil(jobs / len(queues) / PREFILL_BATCH)
    body = ('{"jobs":[' + ",".join([JOB] * PREFILL_BATCH) + "]}").encode()
    posts = [queue for _ in range(per_queue) for queue in queues]

    def post(share: list[str]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", setup.port, timeout=60)
        try:
            for queue in share:
                status, reply = exchange(connection, "POST", f"/qb/{queue}", body)
                if status != 201:
                    raise BenchError(f"pre-fill: POST /qb answered {status}: {reply[:200]!r}")
        finally:
            connection.close()

    with ThreadPoolExecutor(PREFILL_CONNECTIONS) as pool:
        list(pool.map(post, [posts[i::PREFILL_CONNECTIONS] for i in range(PREFILL_CONNECTIONS)]))
    return len(posts) * PREFILL_BATCH


def read(setup: Setup) -> Reading:
    """The counters of each master (one INFO each), presque's CPU, the machine's."""
    commands, redis_cpu, rewrites = [], [], 0
    for port in setup.master_ports:
        info = dict(
            re.findall(
                r"^(\w+):(\S*)", redis_command(port, "INFO", "stats", "cpu", "persistence"), re.M
            )
        )
        commands.append(int(info["total_commands_processed"]))
        redis_cpu.append(float(info["used_cpu_sys"]) + float(info["used_cpu_user"]))
        rewrites += int(info["aof_rewrites"])
    try:
        presque = sum(cpu_seconds(pid) for pid in setup.pids)
    except OSError:
        raise BenchError(f"{setup.label}: a serving process ended (see its log)") from None
    return Reading(time.monotonic(), commands, redis_cpu, rewrites, presque, machine_busy_seconds())
