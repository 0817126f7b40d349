"""The schedules' page, in a real headless Chromium, checked through the API."""

from __future__ import annotations

from harness.daemon import Daemon
from tests.browser import screenshot
from tests.pages import api

PING = {"queue": "ping", "every": 30, "job": {"ping": True}}


def open_schedules(page, daemon: Daemon) -> None:
    page.goto(f"{daemon.url}/#/schedules")
    page.locator("h2", has_text="Schedules").wait_for()


def test_the_schedules_are_listed_with_when_they_run(daemon: Daemon, page) -> None:
    api(daemon, "PUT", "/schedules/ping", PING)
    api(
        daemon,
        "PUT",
        "/schedules/reports",
        {"queue": "reports", "cron": "0 7 * * *", "tz": "Europe/Paris", "job": {}},
    )
    open_schedules(page, daemon)
    rows = page.locator("#schedules tbody tr")
    rows.nth(1).wait_for()
    assert rows.evaluate_all("rows => rows.map(row => row.dataset.schedule)") == ["ping", "reports"]
    assert "every 30 s" in rows.nth(0).inner_text()
    assert "cron 0 7 * * * (Europe/Paris)" in rows.nth(1).inner_text()
    screenshot(page, "schedules")


def test_a_schedule_is_paused_and_resumed(daemon: Daemon, page) -> None:
    api(daemon, "PUT", "/schedules/ping", PING)
    open_schedules(page, daemon)
    page.click("tr[data-schedule='ping'] button[data-action='pause']")
    page.locator("tr[data-schedule='ping'] [data-field='next']", has_text="paused").wait_for()
    assert api(daemon, "GET", "/schedules/ping")["paused"] is True
    page.click("tr[data-schedule='ping'] button[data-action='resume']")
    page.locator("#notice", has_text="schedule resumed").wait_for()
    assert api(daemon, "GET", "/schedules/ping")["paused"] is False


def test_a_schedule_is_deleted_once_confirmed(daemon: Daemon, page) -> None:
    api(daemon, "PUT", "/schedules/ping", PING)
    open_schedules(page, daemon)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("tr[data-schedule='ping'] button[data-action='delete']")
    page.locator("main p", has_text="No schedule.").wait_for()
    assert daemon.request("GET", "/schedules/ping")[0] == 404


def test_a_schedule_is_written_with_the_form(daemon: Daemon, page) -> None:
    open_schedules(page, daemon)
    form = page.locator("#schedule-form")
    form.locator("input[name=name]").fill("nightly")
    form.locator("input[name=queue]").fill("backups")
    form.locator("input[name=cron]").fill("30 2 * * *")
    form.locator("input[name=tz]").fill("America/New_York")
    form.locator("textarea[name=job]").fill('{"full": true}')
    form.locator("button[type=submit]").click()
    page.locator("tr[data-schedule='nightly']").wait_for()
    shown = api(daemon, "GET", "/schedules/nightly")
    assert (shown["cron"], shown["tz"], shown["job"]) == (
        "30 2 * * *",
        "America/New_York",
        {"full": True},
    )


def test_a_bad_schedule_from_the_form_says_why(daemon: Daemon, page) -> None:
    open_schedules(page, daemon)
    form = page.locator("#schedule-form")
    form.locator("input[name=name]").fill("bad")
    form.locator("input[name=queue]").fill("q")
    form.locator("input[name=cron]").fill("61 * * * *")
    form.locator("button[type=submit]").click()
    page.locator("#notice", has_text="is not a valid cron expression").wait_for()
    assert daemon.request("GET", "/schedules/bad")[0] == 404
