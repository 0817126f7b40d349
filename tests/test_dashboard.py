"""
The page at /, in a real headless Chromium against a real daemon with real
jobs: what a person sees, and that it follows the queues as they change.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.daemon import Daemon
from harness.redis import RedisServer
from tests.browser import screenshot
from tests.pages import (
    api,
    bury,
    card,
    figure,
    open_jobs,
    open_queue,
    post,
    post_for_id,
    request_with_worker,
)
from tests.support import Daemons

UPDATE_MS = 10_000


def test_the_page_is_html_with_a_strict_content_security_policy(daemon: Daemon) -> None:
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


# A queue's page


def test_a_card_leads_to_its_queue_page(daemon: Daemon, page) -> None:
    post(daemon, "mail", 2)
    page.goto(daemon.url + "/")
    card(page, "mail").locator("h3 a").click()
    page.locator("#queue-title", has_text="mail").wait_for()
    assert page.locator("#live dd[data-figure='ready']").inner_text() == "2"
    screenshot(page, "queue")


def test_pausing_a_queue_from_its_page_closes_it(daemon: Daemon, page) -> None:
    post(daemon, "mail")
    open_queue(page, daemon, "mail")
    page.locator("#toggle", has_text="Pause").click()
    page.locator("#toggle", has_text="Resume").wait_for()
    assert api(daemon, "GET", "/control/mail")["status"] == 0
    page.locator("#toggle").click()
    page.locator("#toggle", has_text="Pause").wait_for()
    assert api(daemon, "GET", "/control/mail")["status"] == 1


def test_a_job_posted_from_the_page_is_stored_as_typed(daemon: Daemon, page) -> None:
    open_queue(page, daemon, "mail")
    page.fill("#post textarea", '{"to": "alice",  "n": 1.50}')
    page.fill("#post input[name=priority]", "3")
    page.click("#post button")
    page.locator("#notice", has_text="job posted").wait_for()
    assert api(daemon, "GET", "/queues/mail")["ready_by_priority"] == {"3": 1}
    assert daemon.request("GET", "/q/mail") == (200, b'{"to": "alice",  "n": 1.50}')


def test_a_job_that_is_not_json_is_refused_on_the_page(daemon: Daemon, page) -> None:
    open_queue(page, daemon, "mail")
    page.fill("#post textarea", "{to: alice}")
    page.click("#post button")
    page.locator("#post-error", has_text="Not JSON").wait_for()
    assert api(daemon, "GET", "/queues/mail")["counts"]["ready"] == 0


def test_settings_saved_from_the_page_are_the_queues(daemon: Daemon, page) -> None:
    open_queue(page, daemon, "mail")
    page.fill("#settings input[name=lease]", "30")
    page.fill("#settings input[name=max_attempts]", "2")
    page.fill("#settings input[name=max_length]", "1000")
    page.click("#settings button")
    page.locator("#notice", has_text="settings saved").wait_for()
    settings = api(daemon, "GET", "/queues/mail")["settings"]
    assert (settings["lease"], settings["max_attempts"], settings["max_length"]) == (30, 2, 1000)


def test_a_purge_asks_first_and_happens_only_when_confirmed(daemon: Daemon, page) -> None:
    post(daemon, "mail", 3)
    open_queue(page, daemon, "mail")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#purge")
    assert api(daemon, "GET", "/queues/mail")["counts"]["ready"] == 3
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#purge")
    page.locator("#notice", has_text="purged").wait_for()
    assert api(daemon, "GET", "/queues/mail")["counts"]["ready"] == 0


def test_a_dead_letter_is_retried_from_the_page(daemon: Daemon, page) -> None:
    job_id = bury(daemon, "mail")
    open_queue(page, daemon, "mail")
    open_jobs(page, "dead")
    row = page.locator(f"tr[data-dead='{job_id}']")
    row.locator("button", has_text="Retry").click()
    page.locator("#notice", has_text="retried").wait_for()
    counts = api(daemon, "GET", "/queues/mail")["counts"]
    assert (counts["ready"], counts["dead"]) == (1, 0)


def test_a_dead_letter_is_deleted_from_the_page(daemon: Daemon, page) -> None:
    job_id = bury(daemon, "mail")
    open_queue(page, daemon, "mail")
    open_jobs(page, "dead")
    page.locator(f"tr[data-dead='{job_id}'] button", has_text="Delete").click()
    page.locator("#notice", has_text="deleted").wait_for()
    assert api(daemon, "GET", "/queues/mail")["counts"]["dead"] == 0


def test_a_job_is_found_by_its_id(daemon: Daemon, page) -> None:
    job_id = post_for_id(daemon, "mail", b'{"to": "bob"}')
    open_queue(page, daemon, "mail")
    page.fill("#find input[name=id]", job_id)
    page.click("#find button")
    page.locator("#job-detail [data-field='state']", has_text="ready").wait_for()
    assert '"to": "bob"' in page.locator("#job-payload").inner_text()


# The workers' page


def test_the_workers_page_shows_each_worker_alive_with_its_queues(daemon: Daemon, page) -> None:
    post(daemon, "mail")
    request_with_worker(daemon, "/q/mail", "sender-1")
    page.goto(daemon.url + "/")
    page.click("nav >> text=Workers")
    row = page.locator("tr[data-worker='sender-1']")
    row.wait_for()
    assert row.locator("td.alive").inner_text() == "alive"
    assert row.locator("a", has_text="mail").count() == 1
    screenshot(page, "workers")


def test_a_worker_leads_to_the_page_of_its_queue(daemon: Daemon, page) -> None:
    post(daemon, "mail")
    request_with_worker(daemon, "/q/mail", "sender-1")
    page.goto(daemon.url + "/#/workers")
    page.locator("tr[data-worker='sender-1'] a", has_text="mail").click()
    page.locator("#queue-title", has_text="mail").wait_for()
