"""
GET /metrics: Prometheus' text format (or OpenMetrics), the queues' figures
read from Redis (cached, bounded) and the server's own, read back with
prometheus_client's own parser.
"""

from __future__ import annotations

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families
from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer, reactor
from twisted.internet.task import deferLater

from harness.polling import eventually
from harness.redis import RedisServer
from presque import __version__
from presque.config import MetricsSettings
from presque.metrics import Metrics
from tests.conftest import Presque, start_presque
from tests.leasing import ack, fail, lease_one
from tests.streams import open_stream
from tests.support import Http, epoch

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples_of(body: bytes) -> Samples:
    """Every sample of a GET /metrics body, by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode("utf-8"))
        for sample in family.samples
    }


async def scrape(http: Http) -> Samples:
    """Every sample of GET /metrics, by name and labels."""
    reply = await http.get("/metrics")
    assert reply.status == 200
    return samples_of(reply.body)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def requests_timed(samples: Samples, **labels: str) -> float:
    """How many requests of C{labels} the HTTP histogram counted."""
    return value(samples, "presque_http_request_duration_seconds_count", **labels)


def queues_of(samples: Samples, name: str) -> set[str]:
    return {dict(labels)["queue"] for metric, labels in samples if metric == name}


def few_queues(clean_redis: RedisServer, most: int):
    return start_presque(
        clean_redis, broker={"metrics": Metrics(MetricsSettings(max_queues=most, cache=0))}
    )


@async_test
async def test_metrics_are_prometheus_text_by_default(http: Http) -> None:
    reply = await http.get("/metrics")
    assert reply.status == 200
    assert reply.header("Content-Type").startswith("text/plain; version=0.0.4")


@async_test
async def test_metrics_are_openmetrics_when_accept_asks(http: Http) -> None:
    reply = await http.get(
        "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert reply.header("Content-Type").startswith("application/openmetrics-text")
    names = {family.name for family in openmetrics_families(reply.body.decode("utf-8"))}
    assert {"presque_jobs", "presque_http_request_duration_seconds"} <= names


@async_test
async def test_jobs_are_counted_by_queue_and_state(uncached: Presque) -> None:
    http = uncached.http
    await http.post_jobs("q1", 3)
    await http.post_job("q1", {"later": 1}, delayed=epoch(60))
    await lease_one(http, "q1")
    samples = await scrape(http)
    states = {"ready": 2, "delayed": 1, "leased": 1, "dead": 0, "waiting": 0}
    for state, count in states.items():
        assert value(samples, "presque_jobs", queue="q1", state=state) == count


@async_test
async def test_the_oldest_ready_job_has_an_age(uncached: Presque) -> None:
    await uncached.http.post_job("q1", {"n": 1})
    await deferLater(reactor, 0.3)
    await uncached.http.post_job("q1", {"n": 2})
    age = value(await scrape(uncached.http), "presque_oldest_ready_job_age_seconds", queue="q1")
    assert 0.3 <= age < 5


@async_test
async def test_a_queue_with_nothing_ready_has_age_zero(uncached: Presque) -> None:
    await uncached.http.post_job("q1", {"n": 1}, delayed=epoch(60))
    age = value(await scrape(uncached.http), "presque_oldest_ready_job_age_seconds", queue="q1")
    assert age == 0


@async_test
async def test_the_queue_totals_count_posts_deliveries_and_acks(uncached: Presque) -> None:
    http = uncached.http
    await http.post_jobs("q1", 3)
    leased = await lease_one(http, "q1")
    await ack(http, "q1", leased.id, leased.receipt)
    await http.get("/q/q1")
    samples = await scrape(http)
    assert value(samples, "presque_jobs_enqueued_total", queue="q1") == 3
    assert value(samples, "presque_jobs_delivered_total", queue="q1") == 2
    assert value(samples, "presque_jobs_acked_total", queue="q1") == 1


@async_test
async def test_a_replayed_post_is_enqueued_once(uncached: Presque) -> None:
    http = uncached.http
    for _ in range(2):
        reply = await http.post("/q/q1", json_body={"n": 1}, headers={"Idempotency-Key": "k1"})
        assert reply.status == 201
    samples = await scrape(http)
    assert value(samples, "presque_jobs_enqueued_total", queue="q1") == 1


@async_test
async def test_requests_are_timed_by_route_template_and_status_class(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    await http.get("/q/q1")
    await http.get("/q/q1")
    samples = await scrape(http)
    assert requests_timed(samples, route="/q/{queue}", method="GET", code="2xx") == 1
    assert requests_timed(samples, route="/q/{queue}", method="GET", code="4xx") == 1


@async_test
async def test_unusual_methods_are_timed_as_other(http: Http) -> None:
    await http.request("BREW", "/q/q1")
    # Refused (405) before any route answered: no route's label either.
    assert requests_timed(await scrape(http), route="", method="other", code="4xx") == 1


@async_test
async def test_paths_no_route_knows_share_one_label(http: Http) -> None:
    for n in range(3):
        await http.get(f"/nowhere/{n}")
    assert requests_timed(await scrape(http), route="", method="GET", code="4xx") == 3


@async_test
async def test_options_are_timed_under_no_route(http: Http) -> None:
    await http.request("OPTIONS", "/q/q1")
    assert requests_timed(await scrape(http), route="", method="OPTIONS", code="2xx") == 1


@async_test
async def test_redis_calls_are_timed_by_script(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    samples = await scrape(http)
    assert value(samples, "presque_redis_command_duration_seconds_count", command="enqueue") == 1


@async_test
async def test_the_wait_before_a_first_delivery_is_timed(http: Http) -> None:
    await http.post_jobs("q1", 2)
    await deferLater(reactor, 0.2)
    await http.get("/qb/q1", params={"batch_size": "2"})
    samples = await scrape(http)
    assert value(samples, "presque_job_wait_seconds_count", queue="q1") == 2
    assert value(samples, "presque_job_wait_seconds_sum", queue="q1") >= 0.4


@async_test
async def test_every_job_of_a_large_batch_counts_in_the_wait(http: Http) -> None:
    await http.post_jobs("q1", 25)
    await http.get("/qb/q1", params={"batch_size": "25"})
    samples = await scrape(http)
    assert value(samples, "presque_job_wait_seconds_count", queue="q1") == 25


@async_test
async def test_a_retried_delivery_is_not_timed_as_a_wait_again(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    await fail(http, "q1", leased.id, leased.receipt, delay="0")
    await lease_one(http, "q1")
    samples = await scrape(http)
    assert value(samples, "presque_job_wait_seconds_count", queue="q1") == 1


@async_test
async def test_the_time_from_delivery_to_ack_is_timed(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    await deferLater(reactor, 0.2)
    await ack(http, "q1", leased.id, leased.receipt)
    samples = await scrape(http)
    assert value(samples, "presque_job_run_seconds_count", queue="q1") == 1
    assert 0.2 <= value(samples, "presque_job_run_seconds_sum", queue="q1") < 5


@async_test
async def test_empty_fetches_are_counted(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    await http.get("/q/q1")
    await http.get("/q/q1")
    await http.get("/qb/q1")
    assert value(await scrape(http), "presque_fetches_empty_total", queue="q1") == 2


@async_test
async def test_fetches_held_back_by_a_limit_are_counted_by_limit(http: Http) -> None:
    await http.request("PATCH", "/queues/q1", json_body={"rate": 0.5, "burst": 1})
    await http.post_jobs("q1", 2)
    for _ in range(3):
        await http.get("/q/q1")
    samples = await scrape(http)
    assert value(samples, "presque_fetches_held_total", queue="q1", limit="rate") == 2
    assert value(samples, "presque_fetches_empty_total", queue="q1") == 2


@async_test
async def test_fetches_of_queues_never_delivered_take_no_label(http: Http) -> None:
    for n in range(3):
        await http.get(f"/q/nothing-{n}")
    samples = await scrape(http)
    assert queues_of(samples, "presque_fetches_empty_total") == {""}
    assert value(samples, "presque_fetches_empty_total", queue="") == 3


@async_test
async def test_an_accept_header_that_is_not_utf8_gets_the_text_format(http: Http) -> None:
    reply = await http.get("/metrics", headers={"Accept": b"text/plain\xe9"})
    assert reply.status == 200
    assert reply.header("Content-Type").startswith("text/plain")


@async_test
async def test_openmetrics_is_answered_in_its_own_version_whatever_is_asked(http: Http) -> None:
    reply = await http.get(
        "/metrics", headers={"Accept": "application/openmetrics-text; version=99"}
    )
    assert "version=1.0.0" in reply.header("Content-Type")


@async_test
async def test_long_poll_waiters_are_counted(presque: Presque) -> None:
    waiting = defer.ensureDeferred(presque.http.get("/q/q1", params={"wait": "5"}))
    await deferLater(reactor, 0.2)
    assert value(await scrape(presque.http), "presque_longpoll_waiters") == 1
    await presque.http.post_job("q1", {"n": 1})
    assert (await waiting).status == 200


@async_test
async def test_open_streams_are_counted(uncached: Presque) -> None:
    presque = uncached
    stream = await open_stream(presque.http, "q1", lease="30")
    await eventually(lambda: stream.headers is not None, 5, "the stream never began")
    assert value(await scrape(presque.http), "presque_sse_streams") == 1
    stream.close()
    await stream.done
    await eventually(lambda: presque.site.in_flight == 1, 5, "the stream's request never ended")
    assert value(await scrape(presque.http), "presque_sse_streams") == 0


@async_test
async def test_the_build_is_told(http: Http) -> None:
    assert value(await scrape(http), "presque_build_info", version=__version__) == 1


@async_test
async def test_scrapes_within_the_cache_share_one_reading(presque: Presque) -> None:
    await presque.http.post_job("q1", {"n": 1})
    first = await scrape(presque.http)
    await presque.http.post_job("q1", {"n": 2})
    second = await scrape(presque.http)
    ready = {"queue": "q1", "state": "ready"}
    assert value(first, "presque_jobs", **ready) == value(second, "presque_jobs", **ready) == 1


@async_test
async def test_a_scrape_after_the_cache_reads_again(clean_redis: RedisServer) -> None:
    metrics = Metrics(MetricsSettings(cache=0.2))
    server, stop = await start_presque(clean_redis, broker={"metrics": metrics})
    try:
        await server.http.post_job("q1", {"n": 1})
        await scrape(server.http)
        await server.http.post_job("q1", {"n": 2})
        await deferLater(reactor, 0.3)
        samples = await scrape(server.http)
    finally:
        await stop()
    assert value(samples, "presque_jobs", queue="q1", state="ready") == 2


@async_test
async def test_only_the_first_queues_by_name_get_figures_from_redis(
    clean_redis: RedisServer,
) -> None:
    server, stop = await few_queues(clean_redis, 2)
    try:
        for queue in ("c", "a", "b"):
            await server.http.post_job(queue, {"n": 1})
        samples = await scrape(server.http)
    finally:
        await stop()
    assert queues_of(samples, "presque_jobs") == {"a", "b"}
    assert value(samples, "presque_queues") == 3


@async_test
async def test_queues_past_the_limit_share_an_empty_label_in_the_servers_figures(
    clean_redis: RedisServer,
) -> None:
    server, stop = await few_queues(clean_redis, 2)
    try:
        for queue in ("c", "a", "b"):
            await server.http.post_job(queue, {"n": 1})
            await server.http.get(f"/q/{queue}")
        samples = await scrape(server.http)
    finally:
        await stop()
    assert queues_of(samples, "presque_job_wait_seconds_count") == {"c", "a", ""}


@async_test
async def test_redis_down_is_told_as_redis_up_zero(own_redis: RedisServer) -> None:
    metrics = Metrics(MetricsSettings(cache=0))
    server, stop = await start_presque(own_redis, broker={"metrics": metrics})
    try:
        assert value(await scrape(server.http), "presque_redis_up") == 1
        own_redis.stop()
        samples = await scrape(server.http)
    finally:
        await stop()
    assert value(samples, "presque_redis_up") == 0
    assert not queues_of(samples, "presque_jobs")


@async_test
async def test_a_scrape_records_no_worker(http: Http) -> None:
    await http.get("/metrics", headers={"X-presque-workerid": "prometheus"})
    assert (await http.get("/workers")).json()["workers"] == []


@async_test
async def test_workers_alive_are_counted(uncached: Presque) -> None:
    await uncached.http.get("/q/q1", headers={"X-presque-workerid": "w1"})
    await deferLater(reactor, 0.1)
    assert value(await scrape(uncached.http), "presque_workers_alive") == 1
