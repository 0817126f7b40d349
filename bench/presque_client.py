"""
The benchmark's requests to the presque daemon outside the measured runs.

Reading the queue's counters, purging the queue and pre-filling it, over
plain http.client connections to 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import math
from concurrent.futures import ThreadPoolExecutor

from bench.errors import BenchError
from bench.scenarios import JOB, QUEUE

# The default [server] max_batch_size: the most jobs one pre-fill POST may carry.
PREFILL_BATCH = 1000
PREFILL_CONNECTIONS = 4
COUNTERS = ("job_count", "job_processed", "job_failed")


def exchange(
    connection: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None
) -> tuple[int, bytes]:
    """One request on C{connection}; the answer's status and body."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def call(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    """One request on a fresh connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        return exchange(connection, method, path, body)
    except OSError:
        return 0, b""
    finally:
        connection.close()


def queue_counts(port: int) -> dict[str, int]:
    """C{GET /j/bench}: job_count, job_processed, job_failed."""
    status, body = call(port, "GET", f"/j/{QUEUE}")
    if status != 200:
        raise BenchError(f"GET /j/{QUEUE} answered {status}: {body[:200]!r}")
    counts = json.loads(body)
    # The original presque (--perl) sends job_count as a string once it has jobs.
    return {name: int(counts.get(name) or 0) for name in COUNTERS}


def purge(port: int) -> None:
    """C{DELETE /q/bench}: no job, no counter left."""
    status, body = call(port, "DELETE", f"/q/{QUEUE}")
    if status != 204:
        raise BenchError(f"DELETE /q/{QUEUE} answered {status}: {body[:200]!r}")


def prefill(port: int, jobs: int) -> int:
    """Add at least C{jobs} jobs in batches of L{PREFILL_BATCH}; return how many."""
    batches = math.ceil(jobs / PREFILL_BATCH)
    body = ('{"jobs":[' + ",".join([JOB] * PREFILL_BATCH) + "]}").encode()

    def post_batches(count: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            for _ in range(count):
                status, reply = exchange(connection, "POST", f"/qb/{QUEUE}", body)
                if status != 201:
                    raise BenchError(f"pre-fill: POST /qb answered {status}: {reply[:200]!r}")
        finally:
            connection.close()

    shares = [len(range(i, batches, PREFILL_CONNECTIONS)) for i in range(PREFILL_CONNECTIONS)]
    with ThreadPoolExecutor(PREFILL_CONNECTIONS) as pool:
        list(pool.map(post_batches, shares))
    return batches * PREFILL_BATCH
