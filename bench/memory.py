"""
Redis memory per queued job, measured against a real daemon.

Starts a private redis-server and one presque daemon (as bench.run does),
then, for each variant, posts N small jobs (19 bytes each) to a fresh queue
and reads Redis's used_memory before and after: the difference over N is
what a queued job costs. It also prints what each of the queue's keys holds
(MEMORY USAGE ... SAMPLES 0, every element counted). It prints figures; it
asserts nothing.

    .venv/bin/python -m bench.memory [--jobs 20000] [--checkout PATH]

Variants: every job by its own POST /q; the same jobs by POST /qb batches;
single POSTs of which a few (1 in 100 each) carry uniq= or priority=.
With --checkout PATH the daemon is PATH's (PATH/.venv/bin/twistd), to
measure another version of presque with the same requests.
"""

from __future__ import annotations

import argparse
import http.client
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.children import Children, run_benchmark
from bench.errors import BenchError
from bench.presque_client import call, exchange
from bench.servers import start_daemon, start_redis, twistd_of
from harness.polling import wait_until
from harness.redis import redis_command

DEFAULT_JOBS = 20_000
#: What the jobs are: 19 bytes of JSON each, numbered so that none is alike.
JOB_FORMAT = '{"n":"%011d"}'
JOB_BYTES = len(JOB_FORMAT % 0)
#: Jobs per POST /qb (the default max_batch_size).
BATCH = 1000
#: Connections posting at once (the machine may have two cores only).
CONNECTIONS = 4
#: In the mixed variant, 1 job in EVERY has a uniq key, and another a priority.
EVERY = 100
#: The settings under which Redis keeps a key in a compact encoding.
ENCODING_LIMITS = ("hash-max-listpack-entries", "hash-max-listpack-value", "list-max-listpack-size")
#: What the original presque (Perl, 2010) cost per queued 19-byte job.
ORIGINAL_BYTES_PER_JOB = 116


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.memory", description=__doc__.split("\n\n")[0].strip()
    )
    parser.add_argument(
        "--jobs", type=int, default=DEFAULT_JOBS, help="jobs per variant (default %(default)s)"
    )
    parser.add_argument(
        "--checkout",
        type=Path,
        metavar="PATH",
        help="measure the daemon of another presque checkout (PATH/.venv/bin/twistd)",
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.checkout is not None:
        args.checkout = args.checkout.resolve()
    return args


def job(number: int) -> bytes:
    """The C{number}th job of a variant."""
    return (JOB_FORMAT % number).encode()


def mixed_path(queue: str, number: int) -> str:
    """Where the C{number}th job of the mixed variant is posted: a few carry options."""
    if number % EVERY == 0:
        return f"/q/{queue}?uniq=u{number}"
    if number % EVERY == EVERY // 2:
        return f"/q/{queue}?priority=5"
    return f"/q/{queue}"


def post_all(port: int, requests: list[tuple[str, bytes]]) -> None:
    """Send every (path, body) POST, over a few persistent connections."""

    def post_share(share: list[tuple[str, bytes]]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            for path, body in share:
                status, reply = exchange(connection, "POST", path, body)
                if status != 201:
                    raise BenchError(f"POST {path} answered {status}: {reply[:200]!r}")
        finally:
            connection.close()

    shares = [requests[i::CONNECTIONS] for i in range(CONNECTIONS)]
    with ThreadPoolExecutor(CONNECTIONS) as pool:
        list(pool.map(post_share, shares))


def single_posts(queue: str, jobs: int) -> list[tuple[str, bytes]]:
    """Every job by its own POST /q."""
    return [(f"/q/{queue}", job(i)) for i in range(jobs)]


def batch_posts(queue: str, jobs: int) -> list[tuple[str, bytes]]:
    """The jobs by POST /qb, L{BATCH} a request."""
    requests = []
    for first in range(0, jobs, BATCH):
        body = b'{"jobs":[' + b",".join(job(i) for i in range(first, min(first + BATCH, jobs)))
        requests.append((f"/qb/{queue}", body + b"]}"))
    return requests


def mixed_posts(queue: str, jobs: int) -> list[tuple[str, bytes]]:
    """Single POSTs, 1 in L{EVERY} with a uniq key and another with a priority."""
    return [(mixed_path(queue, i), job(i)) for i in range(jobs)]


@dataclass(frozen=True)
class Variant:
    """One way of posting the jobs, to a queue of its own."""

    name: str
    queue: str
    requests: Callable[[str, int], list[tuple[str, bytes]]]


VARIANTS = (
    Variant("POST /q", "memory-q", single_posts),
    Variant(f"POST /qb x{BATCH}", "memory-qb", batch_posts),
    Variant(f"POST /q, 1/{EVERY} uniq, 1/{EVERY} priority", "memory-mixed", mixed_posts),
)


def info_field(redis: int, section: str, name: str) -> int:
    """One integer field of Redis's INFO C{section}."""
    for line in redis_command(redis, "INFO", section).splitlines():
        key, _, value = line.partition(":")
        if key == name:
            return int(value)
    raise BenchError(f"no {name} in INFO {section}")


def settled_memory(redis: int) -> int:
    """used_memory once Redis has freed what it frees in the background."""
    wait_until(
        lambda: info_field(redis, "memory", "lazyfree_pending_objects") == 0,
        30,
        "Redis still frees objects in the background",
    )
    return info_field(redis, "memory", "used_memory")


def queue_keys(redis: int, queue: str) -> list[str]:
    """Every key of C{queue}: those that carry its hash tag (a bench may SCAN)."""
    found, cursor = [], "0"
    while True:
        cursor, keys = redis_command(
            redis, "SCAN", cursor, "MATCH", f"*{{{queue}}}*", "COUNT", 1000
        )
        found += keys
        if cursor == "0":
            return sorted(set(found))


def key_rows(redis: int, queue: str, jobs: int) -> list[str]:
    """What each key of C{queue} holds: type, elements, encoding, bytes and bytes per job."""
    rows = []
    for key in queue_keys(redis, queue):
        kind = redis_command(redis, "TYPE", key)
        size = {"hash": "HLEN", "list": "LLEN", "zset": "ZCARD", "set": "SCARD"}.get(kind)
        elements = redis_command(redis, size, key) if size else ""
        encoding = redis_command(redis, "OBJECT", "ENCODING", key)
        used = redis_command(redis, "MEMORY", "USAGE", key, "SAMPLES", "0")
        rows.append(
            f"  {key:<32} {kind:<6} {elements!s:>7} {encoding:<10} {used:>10,} B"
            f" {used / jobs:>8.1f} B/job"
        )
    return rows


def measure(port: int, redis: int, variant: Variant, jobs: int) -> list[str]:
    """Post the variant's jobs to its empty queue; what Redis grew by, and where."""
    call(port, "DELETE", f"/q/{variant.queue}")
    requests = variant.requests(variant.queue, jobs)
    before = settled_memory(redis)
    started = time.monotonic()
    post_all(port, requests)
    elapsed = time.monotonic() - started
    after = settled_memory(redis)
    per_job = (after - before) / jobs
    lines = [
        f"{variant.name}: {jobs:,} jobs of {JOB_BYTES} bytes in {elapsed:.1f} s",
        f"  used_memory {before:,} -> {after:,} B: {per_job:.1f} B/job,"
        f" {per_job - JOB_BYTES:.1f} beyond the payload"
        f" (the original presque: ~{ORIGINAL_BYTES_PER_JOB})",
        *key_rows(redis, variant.queue, jobs),
    ]
    # Purged, the queue leaves the next variant the memory it found.
    call(port, "DELETE", f"/q/{variant.queue}")
    return lines


def describe_redis(redis: int) -> str:
    """The Redis measured, and the thresholds that choose compact encodings."""
    version = redis_command(redis, "INFO", "server").split("redis_version:")[1].split()[0]
    limits = []
    for name in ENCODING_LIMITS:
        reply = redis_command(redis, "CONFIG", "GET", name)
        if reply:
            limits.append(f"{name} {reply[1]}")
    return f"redis {version} ({', '.join(limits)})"


def benchmark(jobs: int, checkout: Path | None, children: Children, workdir: Path) -> None:
    """Start Redis and a daemon, measure each variant, print the figures."""
    twistd = twistd_of(checkout)
    redis = start_redis(children, workdir)
    port, _ = start_daemon(children, workdir, redis, twistd)
    print(f"daemon: {twistd}")
    print(describe_redis(redis))
    for variant in VARIANTS:
        print()
        print("\n".join(measure(port, redis, variant, jobs)), flush=True)


def main(argv: list[str]) -> int:
    """Run the benchmark; always stop what it started."""
    args = parse_args(argv)
    return run_benchmark(
        "presque-memory-",
        lambda children, workdir: benchmark(args.jobs, args.checkout, children, workdir),
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
