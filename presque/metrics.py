"""
The figures of C{GET /metrics}, in Prometheus' formats, each declared once.

Two kinds, told apart in their help texts:

 - I{this server's own}, counted as it serves: HTTP requests, Redis calls,
   how long jobs waited before a delivery and ran before their ack, empty
   fetches, long-poll waiters and streams. Sum them over servers.
 - I{the queues' own}, read from Redis at a scrape: jobs by state, the age
   of the oldest ready job, the totals each queue keeps (the same on every
   server: take their max, not their sum), workers alive, Redis memory.
   One script per queue, for the first C{max_queues} queues in name order,
   and the figures serve every scrape for C{cache} seconds, so that several
   scrapers (and the dashboard) cost Redis no more than one.

Cardinality is bounded: this server labels the first C{max_queues} queues
that had a job delivered by it (see L{QueueLabels}), and counts the others
together under an empty C{queue} label;
methods outside HTTP's usual ones are C{"other"}; a route is its template
(C{/q/{queue}}), never the path asked for.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Info
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.utils import floatToGoString
from twisted.internet import defer

from presque import __version__
from presque.counts import QUEUE_TOTALS
from presque.metrics_share import SharedFigures

if TYPE_CHECKING:
    from presque.broker.model import Figures
    from presque.config import MetricsSettings

T = TypeVar("T")

#: Buckets of the times a job waits or runs, in seconds: 5 ms to a day.
_JOB_BUCKETS = (0.005, 0.025, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400, 86400)
#: Buckets of an HTTP request or a Redis call, in seconds: 0.1 ms to 1 min
#: (a long poll answers within max_wait).
_CALL_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2, 10, 60)
#: The most jobs of one delivery whose wait is timed (see L{Metrics.delivered}).
WAIT_SAMPLES = 10
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_OPENMETRICS = "application/openmetrics-text; version=1.0.0"
_STATUS_CLASSES = {n: f"{n}xx" for n in range(1, 6)}

#: The totals each queue keeps in Redis (QUEUE_TOTALS, which says what each
#: counts), as counters: metric name and total.
_TOTAL_METRICS = (
    ("presque_jobs_enqueued", "enqueued"),
    ("presque_jobs_delivered", "delivered"),
    ("presque_jobs_acked", "acked"),
    ("presque_jobs_failed", "failed"),
    ("presque_jobs_retried", "retried"),
    ("presque_jobs_dead_lettered", "dead"),
    ("presque_lease_expirations", "expired"),
)
_TOTAL_MEANINGS = dict(QUEUE_TOTALS)


class QueueLabels:
    """
    The C{queue} label of this server's figures: the first C{limit} queues
    that had a job delivered here, else "". Fetching nothing takes no label,
    so that requests for queues that do not exist cannot use them up.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._labelled: set[str] = set()

    def __call__(self, queue: str, claim: bool = True) -> str:
        if queue in self._labelled:
            return queue
        if claim and len(self._labelled) < self.limit:
            self._labelled.add(queue)
            return queue
        return ""


class Metrics:
    """Every figure of one server, in a registry of its own."""

    def __init__(
        self,
        settings: MetricsSettings | None = None,
        clock: Any = time,
        shared_in: Path | None = None,
    ) -> None:
        if settings is None:
            # Here: presque.config needs the broker, which needs this module.
            from presque.config import MetricsSettings

            settings = MetricsSettings()
        self.settings = settings
        self.clock = clock
        self.registry = CollectorRegistry(auto_describe=True)
        self.label = QueueLabels(self.settings.max_queues)
        #: The figures of this process alone (its requests, calls, waiters),
        #: added to those of the daemon's other serving processes when it
        #: has some (C{shared_in}: the folder where each writes its own).
        self.own = CollectorRegistry(auto_describe=True)
        self.shared = None if shared_in is None else SharedFigures(shared_in, self.own.collect)
        r = self.own
        self._http = _Histogram(
            "presque_http_request_duration_seconds",
            "This server: time to answer a request, by route template and status class.",
            ("route", "method", "code"),
            _CALL_BUCKETS,
        )
        self._redis = _Histogram(
            "presque_redis_command_duration_seconds",
            "This server: time of a Redis call, by command or script.",
            ("command",),
            _CALL_BUCKETS,
        )
        self._wait = _Histogram(
            "presque_job_wait_seconds",
            "This server: from a job's post to its first delivery (a delayed job's delay"
            " included; a job taken for good and given back counts again).",
            ("queue",),
            _JOB_BUCKETS,
        )
        self._run = _Histogram(
            "presque_job_run_seconds",
            "This server: from a leased job's delivery to its ack.",
            ("queue",),
            _JOB_BUCKETS,
        )
        for histogram in (self._http, self._redis, self._wait, self._run):
            r.register(histogram)
        self._empty = Counter(
            "presque_fetches_empty",
            "This server: fetches that found no job (each try of a long poll or a stream).",
            ["queue"],
            registry=r,
        )
        self._held = Counter(
            "presque_fetches_held",
            "This server: fetches that found no job because a limit of the queue held"
            " them back (limit: rate, concurrency or group).",
            ["queue", "limit"],
            registry=r,
        )
        self.waiters = Gauge(
            "presque_longpoll_waiters", "This server: requests waiting for a job.", registry=r
        )
        self.streams = Gauge("presque_sse_streams", "This server: open /sse streams.", registry=r)
        self.registry.register(_Combined(self))
        Info("presque_build", "The presque version this server runs.", registry=self.registry).info(
            {"version": __version__}
        )
        self._queues = _QueueFigures()
        self.registry.register(self._queues)
        self._read_at = float("-inf")
        self._written: dict[str, tuple[float, bytes]] = {}
        self._reading: defer.Deferred[None] | None = None

    def request_answered(self, route: str, method: str, code: int, seconds: float) -> None:
        """An HTTP request was answered with C{code} after C{seconds}."""
        method = method if method in _METHODS else "other"
        self._http.series(route, method, _STATUS_CLASSES.get(code // 100, "other")).add(seconds)

    def redis_called(self, command: str, seconds: float) -> None:
        """A Redis call (C{command}, or the name of a script) took C{seconds}."""
        self._redis.series(command).add(seconds)

    def delivered(self, queue: str, jobs: Sequence[T], posted: Callable[[T], float | None]) -> None:
        """
        C{jobs} of C{queue} had their first delivery; C{posted(job)} tells
        when a job was posted (unix time). Of a batch, at most
        L{WAIT_SAMPLES} jobs spread over it are timed, each standing for its
        share of the batch: a batch's jobs were posted one after the other,
        and timing each of 100 cost 4% of the request.
        """
        if not jobs:
            return
        now = self.clock.time()
        wait = self._wait.series(self.label(queue))
        samples = min(len(jobs), WAIT_SAMPLES)
        for i in range(samples):
            first, end = len(jobs) * i // samples, len(jobs) * (i + 1) // samples
            at = posted(jobs[first])
            if at is not None:
                wait.add(max(now - at, 0.0), end - first)

    def found_nothing(self, queue: str, held: str = "") -> None:
        """A fetch of C{queue} found no job; C{held} names the limit that held it back, if any."""
        label = self.label(queue, claim=False)
        self._empty.labels(label).inc()
        if held:
            self._held.labels(label, held).inc()

    def acked(self, queue: str, seconds: float) -> None:
        """A leased job of C{queue} was acknowledged C{seconds} after its delivery."""
        self._run.series(self.label(queue)).add(seconds)

    def refresh(self, read: Callable[[int], Awaitable[Figures]]) -> defer.Deferred[None]:
        """
        Read the queues' figures with C{read(max_queues)} unless the last
        reading is younger than C{cache} seconds; scrapes that come while
        a reading is under way share it.
        """
        if self.clock.monotonic() - self._read_at < self.settings.cache:
            return defer.succeed(None)
        reading = self._reading
        if reading is None:
            reading = self._reading = defer.Deferred.fromCoroutine(self._read(read))
            reading.addBoth(self._read_done)
        shared: defer.Deferred[None] = defer.Deferred()
        reading.addCallback(shared.callback)
        return shared

    @property
    def figures(self) -> Figures | None:
        """The last reading of the queues' figures (see L{refresh}); None when Redis failed it."""
        return self._queues.figures

    @property
    def figures_read_at(self) -> float:
        """When the last reading of the queues' figures was made, in unix seconds."""
        return self._queues.read_at

    def _read_done(self, _: object) -> None:
        self._reading = None

    async def _read(self, read: Callable[[int], Awaitable[Figures]]) -> None:
        try:
            figures: Figures | None = await read(self.settings.max_queues)
        except Exception:
            # Told as presque_redis_up 0; an outage is logged by the connection.
            figures = None
        self._queues.figures = figures
        self._queues.read_at = self.clock.time()
        self._read_at = self.clock.monotonic()

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """
        The text of every figure and its content type, as C{accept} prefers;
        written once per reading of the queues' figures and format, since
        writing it costs milliseconds (the server's own figures are then
        as old as the queues', at most C{cache} seconds).
        """
        # One of two formats, whatever else Accept says (a version of its own,
        # say): two texts to keep, and an answer in the format it names.
        asked = _OPENMETRICS if accept and "application/openmetrics-text" in accept else ""
        encoder, content_type = choose_encoder(asked)
        written = self._written.get(content_type)
        if written is None or written[0] != self._read_at:
            written = self._written[content_type] = (self._read_at, encoder(self.registry))
        return written[1], content_type


class _Series:
    """The observations of one set of labels: a count per bucket, and their sum."""

    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0

    def add(self, value: float, times: int = 1) -> None:
        self.counts[bisect_left(self.bounds, value)] += times
        self.total += value * times


class _Histogram:
    """
    A Prometheus histogram for the reactor's thread alone: an observation is
    a bisect and two additions, where prometheus_client's own takes a lock
    for each (measured: 100 observations take 19 us here, 103 us there).
    It is exposed through prometheus_client's metric family all the same.
    """

    def __init__(
        self, name: str, documentation: str, labels: tuple[str, ...], bounds: tuple[float, ...]
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labels = labels
        self.bounds = bounds
        self._series: dict[tuple[str, ...], _Series] = {}

    def series(self, *labels: str) -> _Series:
        """The observations of C{labels}."""
        found = self._series.get(labels)
        if found is None:
            found = self._series[labels] = _Series(self.bounds)
        return found

    def describe(self) -> list[Metric]:
        return [HistogramMetricFamily(self.name, self.documentation, labels=self.labels)]

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labels)
        for labels, series in list(self._series.items()):
            buckets, seen = [], 0
            for bound, count in zip((*self.bounds, float("inf")), series.counts, strict=True):
                seen += count
                buckets.append((floatToGoString(bound), seen))
            family.add_metric(list(labels), buckets, series.total)
        yield family


class _Combined:
    """This process's own figures, with the other serving processes' when it has some."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        shared = self.metrics.shared
        return self.metrics.own.collect() if shared is None else shared.collect()


class _QueueFigures:
    """The figures read from Redis, as Prometheus metric families."""

    def __init__(self) -> None:
        self.figures: Figures | None = None
        self.read_at = 0.0

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        figures = self.figures
        up = GaugeMetricFamily("presque_redis_up", "Whether Redis answered the last reading.")
        up.add_metric([], 0 if figures is None else 1)
        yield up
        if figures is None:
            return
        yield _gauge("presque_queues", "Queues there are.", figures.queue_count)
        yield _gauge(
            "presque_workers_alive", "Workers seen within alive_window.", figures.workers_alive
        )
        used, most = figures.redis_memory
        yield _gauge("presque_redis_used_memory_bytes", "Redis's used_memory.", used)
        yield _gauge("presque_redis_maxmemory_bytes", "Redis's maxmemory (0: none).", most)
        jobs = GaugeMetricFamily(
            "presque_jobs", "Jobs of a queue in each state.", labels=["queue", "state"]
        )
        oldest = GaugeMetricFamily(
            "presque_oldest_ready_job_age_seconds",
            "Age of the oldest ready job of a queue (0: none ready).",
            labels=["queue"],
        )
        open_ = GaugeMetricFamily(
            "presque_queue_open", "Whether a queue hands out jobs (0: closed).", labels=["queue"]
        )
        totals = {
            key: CounterMetricFamily(
                name,
                f"A queue's own total, kept in Redis: {_TOTAL_MEANINGS[key]}.",
                labels=["queue"],
            )
            for name, key in _TOTAL_METRICS
        }
        for summary in figures.summaries:
            name = [summary.name]
            for state, count in summary.counts.items():
                jobs.add_metric([summary.name, state], count)
            age = 0.0 if summary.oldest_ready is None else self.read_at - summary.oldest_ready
            oldest.add_metric(name, max(age, 0.0))
            open_.add_metric(name, 1 if summary.open else 0)
            for key, family in totals.items():
                family.add_metric(name, summary.totals[key])
        yield from (jobs, oldest, open_, *totals.values())


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation)
    family.add_metric([], value)
    return family
