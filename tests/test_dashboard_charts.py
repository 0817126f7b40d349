"""
The throughput charts and the overview's figures, in a real headless
Chromium: live rates from the totals, and the last 24 hours from the history
Redis keeps.
"""

from __future__ import annotations

import time

from harness.daemon import Daemon
from harness.redis import RedisServer
from presque.broker.keys import KeySpace
from presque.counts import QUEUE_TOTALS
from tests.browser import screenshot
from tests.pages import bury, card, open_queue, post

UPDATE_MS = 10_000
#: The daemon under test uses the default prefix.
KEYS = KeySpace()


def points(page, chart: str) -> int:
    return int(page.locator(f"#{chart}").get_attribute("data-points"))


def wait_for_points(page, chart: str, least: int = 2) -> None:
    page.wait_for_function(
        "([chart, least]) => Number(document.getElementById(chart).dataset.points) >= least",
        arg=[chart, least],
        timeout=UPDATE_MS,
    )


def write_history(redis: RedisServer, key: str, enqueued: list[int]) -> None:
    """Minutes of history ending now, with these enqueued totals (as the sampler writes them)."""
    minute = int(time.time()) // 60 * 60
    for i, total in enumerate(enqueued):
        at = (minute - 60 * (len(enqueued) - i)) * 1000
        fields = ["ready", 0, "delayed", 0, "leased", 0, "dead", 0]
        for name, _ in QUEUE_TOTALS:
            fields += [name, total if name == "enqueued" else 0]
        redis.call("XADD", key, f"{at}-0", *fields)


def test_the_overview_draws_live_throughput(daemon: Daemon, page) -> None:
    page.goto(daemon.url + "/")
    page.locator("#live-chart").wait_for()
    for _ in range(3):
        post(daemon, "mail", 5)
        page.wait_for_timeout(2100)
    wait_for_points(page, "live-chart")
    assert page.locator("#live-chart canvas").count() == 1
    screenshot(page, "overview-charts")


def test_the_overview_draws_the_last_day_from_the_history(
    daemon: Daemon, clean_redis: RedisServer, page
) -> None:
    write_history(clean_redis, KEYS.total_history, [0, 60, 180])
    page.goto(daemon.url + "/")
    wait_for_points(page, "day-chart")
    assert points(page, "day-chart") == 2
    assert page.locator("#day-chart canvas").count() == 1


def test_a_queue_page_draws_its_own_history(daemon: Daemon, clean_redis: RedisServer, page) -> None:
    post(daemon, "mail")
    write_history(clean_redis, KEYS.queue("mail").history, [0, 120, 240, 300])
    open_queue(page, daemon, "mail")
    wait_for_points(page, "day-chart")
    assert points(page, "day-chart") == 3


def test_a_chart_without_figures_says_so(daemon: Daemon, page) -> None:
    page.goto(daemon.url + "/")
    page.locator("#day-chart .empty").wait_for()
    assert page.locator("#day-chart canvas").count() == 0


def test_a_chart_of_a_single_rate_waits_for_a_second(
    daemon: Daemon, clean_redis: RedisServer, page
) -> None:
    write_history(clean_redis, KEYS.total_history, [0, 60])
    page.goto(daemon.url + "/")
    wait_for_points(page, "day-chart", least=1)
    assert page.locator("#day-chart .empty").is_visible()
    assert page.locator("#day-chart canvas").count() == 0


def test_the_overview_tells_the_backlog_the_oldest_job_and_redis_memory(
    daemon: Daemon, page
) -> None:
    post(daemon, "mail", 3)
    post(daemon, "later", 2, delayed="4102444800")
    page.goto(daemon.url + "/")
    backlog = page.locator("dd[data-total='backlog']")
    backlog.wait_for()
    assert backlog.inner_text() == "5"
    assert page.locator("dd[data-total='oldest ready job']").inner_text().endswith("s")
    assert "no limit" in page.locator("dd[data-total='Redis memory']").inner_text()


def test_dead_letters_that_grow_are_flagged(daemon: Daemon, page) -> None:
    bury(daemon, "mail")
    page.goto(daemon.url + "/")
    card(page, "mail").locator(".warning", has_text="1 dead letters").wait_for()
    bury(daemon, "mail")
    card(page, "mail").locator(".warning", has_text="growing: +1").wait_for(timeout=UPDATE_MS)
