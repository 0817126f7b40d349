"""
The page at /, in a real headless Chromium against a real daemon with real
jobs: what a person sees, and that it follows the queues as they change.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.daemon import Daemon
from harness.redis import RedisServer
from tests.browser import screenshot
from tests.support import Daemons

UPDATE_MS = 10_000


@pytest.fixture
def daemon(tmp_path: Path, daemons: Daemons, clean_redis: RedisServer) -> Iterator[Daemon]:
    yield daemons.start(tmp_path, "--redis", clean_redis.url)


def post(daemon: Daemon, queue: str, count: int = 1, **params: str) -> None:
    query = "&".join(f"{name}={value}" for name, value in params.items())
    for n in range(count):
        status, _ = daemon.request("POST", f"/q/{queue}?{query}", {"n": n})
        assert status == 201


def card(page, queue: str):
    return page.locator(f"article.card[data-queue={queue!r}]")


def figure(page, queue: str, state: str) -> str:
    return card(page, queue).locator(f"dd[data-figure={state!r}]").inner_text()


def test_the_page_is_html_with_a_strict_content_security_policy(daemon: Daemon) -> None:
    import urllib.request

    with urllib.request.urlopen(daemon.url + "/", timeout=10) as reply:
        assert reply.headers["Content-Type"].startswith("text/html")
        assert "default-src 'self'" in reply.headers["Content-Security-Policy"]


def test_each_queue_has_a_card_with_its_counts(daemon: Daemon, page) -> None:
    post(daemon, "mail", 3)
    post(daemon, "reports", 1, delayed="4102444800")
    page.goto(daemon.url + "/")
    card(page, "mail").wait_for()
    assert figure(page, "mail", "ready") == "3"
    assert figure(page, "reports", "delayed") == "1"
    assert page.locator("dd[data-total='queues']").inner_text() == "2"
    screenshot(page, "overview")


def test_a_queue_with_jobs_and_no_live_worker_is_flagged(daemon: Daemon, page) -> None:
    post(daemon, "orphans", 2)
    page.goto(daemon.url + "/")
    warning = card(page, "orphans").locator(".warning")
    warning.wait_for()
    assert "no live worker" in warning.inner_text()


def test_a_queue_whose_worker_is_alive_is_not_flagged(daemon: Daemon, page) -> None:
    post(daemon, "served", 2)
    request_with_worker(daemon, "/q/served", "w1")
    page.goto(daemon.url + "/")
    served = card(page, "served")
    served.wait_for()
    assert served.locator(".workers").inner_text() == "1 live worker"
    assert served.locator(".warning").count() == 0


def test_the_page_follows_the_queues_as_they_change(daemon: Daemon, page) -> None:
    post(daemon, "live", 1)
    page.goto(daemon.url + "/")
    card(page, "live").wait_for()
    post(daemon, "live", 2)
    page.wait_for_function(
        "() => document.querySelector(\"article[data-queue='live'] dd[data-figure='ready']\")"
        ".textContent === '3'",
        timeout=UPDATE_MS,
    )


def test_queue_names_are_shown_as_text_never_as_html(daemon: Daemon, page) -> None:
    post(daemon, "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E", 1)
    page.goto(daemon.url + "/")
    name = "<img src=x onerror=alert(1)>"
    card(page, name).wait_for()
    assert card(page, name).locator("h3").inner_text().startswith(name)
    assert page.locator("img").count() == 0


def test_many_queues_are_listed_a_hundred_and_counted(daemon: Daemon, page) -> None:
    for n in range(150):
        post(daemon, f"queue-{n:03d}")
    page.goto(daemon.url + "/")
    page.locator("#queues-note").wait_for()
    assert page.locator("article.card").count() == 100
    assert "100 of 150" in page.locator("#queues-note").inner_text()
    assert page.locator("dd[data-total='queues']").inner_text() == "150"


def test_redis_down_is_said_at_the_top(
    tmp_path: Path, daemons: Daemons, own_redis_server: RedisServer, page
) -> None:
    daemon = daemons.start(tmp_path, "--redis", own_redis_server.url)
    page.goto(daemon.url + "/")
    page.locator("#status", has_text="Redis ready").wait_for()
    own_redis_server.stop()
    page.locator("#status.bad").wait_for(timeout=UPDATE_MS)
    screenshot(page, "overview-redis-down")


def request_with_worker(daemon: Daemon, path: str, worker: str) -> None:
    import urllib.request

    request = urllib.request.Request(daemon.url + path, headers={"X-presque-workerid": worker})
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.status in (200, 404)


@pytest.fixture
def own_redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


def test_the_page_fits_a_phone_without_scrolling_sideways(daemon: Daemon, browser) -> None:
    post(daemon, "a-queue-with-a-rather-long-name-that-must-wrap-on-a-small-screen", 1)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        phone = context.new_page()
        phone.goto(daemon.url + "/")
        phone.locator("article.card").first.wait_for()
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(phone, "overview-phone")
    finally:
        context.close()
