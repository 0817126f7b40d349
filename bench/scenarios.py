"""
What the benchmark measures: the queue, the job, the scenarios and their targets.

Each scenario is one kind of request, run with wrk at each connection count of
L{CONNECTIONS}. GET scenarios take jobs, so the queue is pre-filled before
them with L{prefill_size} jobs. The scenarios marked C{perl} are also run on
the original presque (Perl, 2010; C{--perl DIR}), at L{PERL_CONNECTIONS}.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

QUEUE = "bench"
CONNECTIONS = (1, 50)
# The job of post_job.lua, also the element of post_batch.lua and of the pre-fill.
JOB = '{"task":"resize","image_id":123456,"sizes":[64,128,256],"retries":0}'
JOBS_PER_BATCH = 100
# Pre-fill this many times the jobs a run is expected to take.
PREFILL_MARGIN = 1.5
TARGET_RATIO = 0.3
TARGET_BATCH_JOBS = 50_000
# Lease + ack end to end with batches: a GET of 100 leased jobs, one settle.
TARGET_SETTLED_JOBS = 10_000
LEASE_PATH = f"/qb/{QUEUE}?batch_size={JOBS_PER_BATCH}&lease=60"
# The project's goal against the original presque: 5 times its req/s.
TARGET_VS_PERL = 5.0
PERL_CONNECTIONS = 50


@dataclass(frozen=True)
class Scenario:
    """One kind of request, run with wrk at each connection count."""

    name: str
    server: str  # "bare" or "presque"
    path: str
    script: str | None = None  # a wrk Lua script in bench/; None: plain GET
    jobs_per_request: int = 0  # 0: no jobs (the bare server); on average for a mix
    takes_jobs: bool = False  # a GET: needs a pre-filled queue
    # Requests/s the pre-fill is sized for; generous, the queue must not run dry.
    rate_estimate: float = 0.0
    baseline: str | None = None  # the bare scenario of the ratio target
    min_jobs_per_second: float | None = None  # the throughput target
    perl: bool = False  # also run on the original presque (--perl), at PERL_CONNECTIONS
    perl_rate_estimate: float = 0.0  # rate_estimate, for the original presque

    @property
    def slug(self) -> str:
        """The scenario's name as a file name."""
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


SCENARIOS = (
    Scenario("bare GET", "bare", f"/q/{QUEUE}"),
    Scenario("bare POST", "bare", f"/q/{QUEUE}", "post_job.lua"),
    Scenario(
        "POST /q", "presque", f"/q/{QUEUE}", "post_job.lua", 1, baseline="bare POST", perl=True
    ),
    Scenario(
        "GET /q",
        "presque",
        f"/q/{QUEUE}",
        None,
        1,
        takes_jobs=True,
        rate_estimate=8000,
        baseline="bare GET",
        perl=True,
        perl_rate_estimate=4000,  # about 2,000 measured on 2 cores
    ),
    Scenario(
        f"POST /qb x{JOBS_PER_BATCH}",
        "presque",
        f"/qb/{QUEUE}",
        "post_batch.lua",
        JOBS_PER_BATCH,
        min_jobs_per_second=TARGET_BATCH_JOBS,
    ),
    Scenario(
        f"GET /qb x{JOBS_PER_BATCH}",
        "presque",
        f"/qb/{QUEUE}?batch_size={JOBS_PER_BATCH}",
        None,
        JOBS_PER_BATCH,
        takes_jobs=True,
        rate_estimate=3000,
        min_jobs_per_second=TARGET_BATCH_JOBS,
    ),
    # Workers' end to end: each batch of 100 leased jobs is acked with one
    # DELETE /q/Q/<id> per job (101 requests per 100 jobs), or with one
    # POST /qb/Q/settle (2 requests per 100 jobs). Jobs/s counts the acks.
    Scenario(
        f"lease+ack x{JOBS_PER_BATCH}",
        "presque",
        LEASE_PATH,
        "lease_ack.lua",
        1,
        takes_jobs=True,
        rate_estimate=4000,
    ),
    Scenario(
        f"lease+settle x{JOBS_PER_BATCH}",
        "presque",
        LEASE_PATH,
        "lease_settle.lua",
        JOBS_PER_BATCH // 2,
        takes_jobs=True,
        rate_estimate=800,
        min_jobs_per_second=TARGET_SETTLED_JOBS,
    ),
)


def prefill_size(scenario: Scenario, duration: int, perl: bool = False) -> int:
    """
    Jobs to load before a GET scenario so that the queue never runs dry;
    with C{perl}, on the original presque.
    """
    rate = scenario.perl_rate_estimate if perl else scenario.rate_estimate
    return math.ceil(rate * scenario.jobs_per_request * duration * PREFILL_MARGIN)
