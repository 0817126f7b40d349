"""
The jobs on a queue's page, in a real headless Chromium: browsing each state
a page at a time, one job's detail, and the actions on jobs, checked through
the API.
"""

from __future__ import annotations

import time
import urllib.request

from harness.daemon import Daemon
from tests.browser import screenshot
from tests.pages import api, bury, open_jobs, open_queue, post, post_for_id, request_with_worker


def rows(page, table: str = "#job-table") -> list[str]:
    return page.locator(f"{table} tbody tr").evaluate_all(
        "rows => rows.map(row => row.dataset.job || row.dataset.dead)"
    )


def open_detail(page, job_id: str) -> None:
    page.locator(f"tr[data-job='{job_id}'], tr[data-dead='{job_id}']").locator(
        "button.link"
    ).click()
    page.locator("#job-detail [data-field='state']").wait_for()


def test_ready_jobs_are_listed_a_page_at_a_time(daemon: Daemon, page) -> None:
    ids = [post_for_id(daemon, "mail", b'{"n": %d}' % n) for n in range(25)]
    open_queue(page, daemon, "mail")
    page.locator("#job-table tbody tr").first.wait_for()
    assert rows(page) == ids[:20]
    assert "1\u201320 of 25" in page.locator("#jobs .pager").inner_text()
    page.click("#next")
    page.locator("#jobs .pager", has_text="21\u201325 of 25").wait_for()
    assert rows(page) == ids[20:]
    assert page.locator("#next").is_disabled()
    screenshot(page, "queue-jobs")


def test_each_state_has_a_tab_with_its_count(daemon: Daemon, page) -> None:
    post(daemon, "mail", 2)
    post(daemon, "mail", 1, delayed="4102444800")
    open_queue(page, daemon, "mail")
    tab = page.locator("#jobs .tabs button[data-state='delayed']")
    tab.wait_for()
    assert tab.inner_text() == "delayed (1)"
    open_jobs(page, "delayed")
    page.locator("#job-table th", has_text="due").wait_for()
    assert len(rows(page)) == 1


def test_a_tab_is_chosen_with_the_keyboard(daemon: Daemon, page) -> None:
    bury(daemon, "mail")
    open_queue(page, daemon, "mail")
    page.locator("#jobs .tabs button[data-state='dead']").focus()
    page.keyboard.press("Enter")
    page.locator("#dead tbody tr").wait_for()


def test_a_leased_job_shows_the_worker_holding_it(daemon: Daemon, page) -> None:
    post(daemon, "mail")
    request_with_worker(daemon, "/q/mail?lease=60", "sender-1")
    open_queue(page, daemon, "mail")
    open_jobs(page, "leased")
    assert "sender-1" in page.locator("#job-table tbody tr").inner_text()


def test_a_job_detail_shows_its_timeline_errors_and_payload(daemon: Daemon, page) -> None:
    job_id = bury(daemon, "mail")
    open_queue(page, daemon, "mail")
    open_jobs(page, "dead")
    open_detail(page, job_id)
    detail = page.locator("#job-detail")
    assert detail.locator("[data-field='state']").inner_text() == "dead"
    assert detail.locator("[data-field='attempts']").inner_text() == "1"
    for moment in ("created", "last delivered", "dead since"):
        assert detail.locator(f"[data-field={moment!r}]").count() == 1
    assert detail.locator("#job-errors tbody tr").count() == 1
    assert '"n": 0' in detail.locator("#job-payload").inner_text()
    screenshot(page, "job-detail")


def test_a_delayed_job_is_run_now_from_its_detail(daemon: Daemon, page) -> None:
    delayed_id = post_for_id(daemon, "mail", b'{"n": 2}', f"delayed={time.time() + 3600:.3f}")
    open_queue(page, daemon, "mail")
    open_jobs(page, "delayed")
    open_detail(page, delayed_id)
    page.click("#job-detail button[data-action='ready']")
    page.locator("#job-detail [data-field='state']", has_text="ready").wait_for()
    assert api(daemon, "GET", f"/q/mail/{delayed_id}")["state"] == "ready"


def test_a_job_is_moved_to_the_dead_letters_from_its_detail(daemon: Daemon, page) -> None:
    job_id = post_for_id(daemon, "mail", b'{"n": 1}')
    open_queue(page, daemon, "mail")
    open_detail(page, job_id)
    page.click("#job-detail button[data-action='dead']")
    page.locator("#notice", has_text="moved to dead").wait_for()
    assert api(daemon, "GET", f"/q/mail/{job_id}")["state"] == "dead"


def test_a_dead_letter_is_retried_now_from_its_detail(daemon: Daemon, page) -> None:
    job_id = bury(daemon, "mail")
    open_queue(page, daemon, "mail")
    open_jobs(page, "dead")
    open_detail(page, job_id)
    page.click("#job-detail button[data-action='ready']")
    page.locator("#notice", has_text="made ready").wait_for()
    assert api(daemon, "GET", f"/q/mail/{job_id}")["attempts"] == 0


def test_a_job_is_deleted_from_its_detail_once_confirmed(daemon: Daemon, page) -> None:
    job_id = post_for_id(daemon, "mail", b'{"n": 1}')
    open_queue(page, daemon, "mail")
    open_detail(page, job_id)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#job-detail button[data-action='delete']")
    page.locator("#job-detail [data-field='gone']").wait_for()
    assert daemon.request("GET", f"/q/mail/{job_id}")[0] == 404


def test_a_job_named_in_the_address_is_shown(daemon: Daemon, page) -> None:
    job_id = post_for_id(daemon, "mail", b'{"to": "carol"}')
    page.goto(f"{daemon.url}/#/queues/mail/jobs/{job_id}")
    page.locator("#job-payload", has_text="carol").wait_for()


def test_selected_dead_letters_are_retried_together(daemon: Daemon, page) -> None:
    ids = [bury(daemon, "mail") for _ in range(3)]
    open_queue(page, daemon, "mail")
    open_jobs(page, "dead")
    for job_id in ids[:2]:
        page.check(f"tr[data-dead='{job_id}'] input[type=checkbox]")
    page.click("#retry-selected")
    page.locator("#notice", has_text="selected retried").wait_for()
    dead = api(daemon, "GET", "/dead/mail")["jobs"]
    assert [job["id"] for job in dead] == ids[2:]


def test_selected_dead_letters_are_deleted_together(daemon: Daemon, page) -> None:
    ids = [bury(daemon, "mail") for _ in range(3)]
    open_queue(page, daemon, "mail")
    open_jobs(page, "dead")
    page.check(f"tr[data-dead='{ids[1]}'] input[type=checkbox]")
    page.click("#drop-selected")
    page.locator("#notice", has_text="selected deleted").wait_for()
    assert [job["id"] for job in api(daemon, "GET", "/dead/mail")["jobs"]] == [ids[0], ids[2]]
    assert api(daemon, "GET", "/queues/mail")["counts"]["ready"] == 0


def test_a_selection_survives_the_refreshes(daemon: Daemon, page) -> None:
    job_id = bury(daemon, "mail")
    open_queue(page, daemon, "mail")
    open_jobs(page, "dead")
    box = page.locator(f"tr[data-dead='{job_id}'] input[type=checkbox]")
    box.check()
    for _ in range(2):
        drawn = page.locator("#status").inner_text()
        page.wait_for_function(
            "drawn => document.querySelector('#status').textContent !== drawn",
            arg=drawn,
            timeout=10_000,
        )
    assert box.is_checked()


def test_the_workers_page_shows_what_a_worker_holds(daemon: Daemon, page) -> None:
    job_id = post_for_id(daemon, "mail", b'{"n": 1}')
    request_with_worker(daemon, "/q/mail?lease=60", "sender-1")
    page.goto(daemon.url + "/#/workers")
    held = page.locator("tr[data-worker='sender-1'] td.holds a")
    held.wait_for()
    held.click()
    page.locator("#job-detail [data-field='state']", has_text="leased").wait_for()
    assert job_id in page.locator("#job-detail h3").inner_text()


def test_a_queue_page_with_a_job_shown_fits_a_phone(daemon: Daemon, browser) -> None:
    job_id = bury(daemon, "a-queue-with-a-rather-long-name-that-must-wrap-on-a-small-screen")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        phone = context.new_page()
        queue = "a-queue-with-a-rather-long-name-that-must-wrap-on-a-small-screen"
        phone.goto(f"{daemon.url}/#/queues/{queue}/jobs/{job_id}")
        phone.locator("#job-payload").wait_for()
        open_jobs(phone, "dead")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(phone, "queue-phone")
    finally:
        context.close()


def lease(daemon: Daemon, queue: str) -> tuple[str, str]:
    """Lease the next job of C{queue}: its id and receipt."""
    with urllib.request.urlopen(f"{daemon.url}/q/{queue}?lease=60", timeout=10) as reply:
        return reply.headers["X-Presque-Job-Id"], reply.headers["X-Presque-Receipt"]


def test_a_job_held_back_says_why_in_its_detail(daemon: Daemon, page) -> None:
    job_id = post_for_id(daemon, "mail", b'{"n": 1}')
    open_queue(page, daemon, "mail")
    open_detail(page, job_id)
    held = page.locator("#job-held-by li[data-reason='no_live_worker']")
    assert "no worker ever asked" in held.inner_text()


def test_a_done_job_shows_its_result(daemon: Daemon, page) -> None:
    post(daemon, "mail")
    job_id, receipt = lease(daemon, "mail")
    request = urllib.request.Request(
        f"{daemon.url}/q/mail/{job_id}",
        data=b'{"result": {"sent": 2}}',
        method="DELETE",
        headers={"X-Presque-Receipt": receipt, "Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).close()
    page.goto(f"{daemon.url}/#/queues/mail/jobs/{job_id}")
    page.locator("#job-result", has_text='"sent": 2').wait_for()
    assert page.locator("#job-detail [data-field='state']").inner_text() == "done"
    assert page.locator("#job-payload").count() == 0


def test_a_leased_job_is_cancelled_from_its_detail_once_confirmed(daemon: Daemon, page) -> None:
    post(daemon, "mail")
    job_id, _ = lease(daemon, "mail")
    page.goto(f"{daemon.url}/#/queues/mail/jobs/{job_id}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#job-detail button[data-action='force']")
    page.locator("#notice", has_text="job cancelled").wait_for()
    assert daemon.request("GET", f"/q/mail/{job_id}")[0] == 404


def test_a_waiting_job_says_what_it_waits_for_and_can_run_now(daemon: Daemon, page) -> None:
    parent = post_for_id(daemon, "mail", b'{"n": 1}')
    child = post_for_id(daemon, "mail", b'{"n": 2}', f"after={parent}")
    open_queue(page, daemon, "mail")
    open_jobs(page, "waiting")
    open_detail(page, child)
    held = page.locator("#job-held-by li[data-reason='waiting']")
    assert f"it waits for mail/{parent}" in held.inner_text()
    screenshot(page, "job-waiting")
    page.click("#job-detail button[data-action='ready']")
    page.locator("#job-detail [data-field='state']", has_text="ready").wait_for()
