"""
The page with tokens on, in a real headless Chromium: it asks for a token,
keeps it where scripts cannot read it, offers only what the token allows,
and another site cannot act with its session.
"""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.daemon import Daemon, tokens_on_config
from harness.processes import free_port
from harness.redis import RedisServer
from presque.auth import new_secret, token_section
from presque.client import Client
from tests.browser import screenshot
from tests.pages import open_queue
from tests.support import Daemons

UPDATE_MS = 10_000


@pytest.fixture
def secrets() -> dict[str, str]:
    return {"ops": new_secret(), "viewer": new_secret()}


@pytest.fixture
def guarded(
    tmp_path: Path, daemons: Daemons, clean_redis: RedisServer, secrets: dict[str, str]
) -> Iterator[Daemon]:
    config = tokens_on_config(
        tmp_path / "guarded.ini",
        token_section("ops", secrets["ops"], ["read", "admin", "produce"], ["*"]),
        token_section("viewer", secrets["viewer"], ["read"], ["*"]),
    )
    yield daemons.start(tmp_path, "--redis", clean_redis.url, config=config)


def url(daemon: Daemon) -> str:
    return f"http://127.0.0.1:{daemon.port}"


def log_in(page, daemon: Daemon, secret: str) -> None:
    page.goto(url(daemon) + "/")
    page.fill("#login input[name=token]", secret)
    page.click("#login button")
    page.locator("#who", has_text="as ").wait_for()


def test_the_page_asks_for_a_token_then_shows_the_queues(guarded, secrets, page) -> None:
    Client(url(guarded), token=secrets["ops"]).post("mail", {"n": 1})
    page.goto(url(guarded) + "/")
    page.locator("#login").wait_for()
    screenshot(page, "login")
    log_in(page, guarded, secrets["ops"])
    page.locator("article.card[data-queue='mail']").wait_for()
    assert "as ops" in page.locator("#who").inner_text()


def test_a_wrong_token_is_told_on_the_form(guarded, page) -> None:
    page.goto(url(guarded) + "/")
    page.fill("#login input[name=token]", "a guess")
    page.click("#login button")
    page.locator("#login-error", has_text="unknown token").wait_for()


def test_the_token_is_kept_where_scripts_cannot_read_it(guarded, secrets, page) -> None:
    log_in(page, guarded, secrets["viewer"])
    assert page.evaluate("document.cookie") == ""
    [cookie] = page.context.cookies()
    assert (cookie["httpOnly"], cookie["sameSite"]) == (True, "Strict")


def test_a_read_only_token_is_offered_no_action(guarded, secrets, page) -> None:
    Client(url(guarded), token=secrets["ops"]).post("mail", {"n": 1})
    log_in(page, guarded, secrets["viewer"])
    page.goto(f"{url(guarded)}/#/queues/mail")
    page.locator("#live dd[data-figure='ready']").wait_for()
    assert not page.locator("#toggle").is_visible()
    assert not page.locator("#settings").is_visible()
    assert not page.locator("#post").is_visible()
    assert page.locator("#find").is_visible()


def test_an_admin_token_pauses_a_queue_from_the_page(guarded, secrets, page) -> None:
    ops = Client(url(guarded), token=secrets["ops"])
    ops.post("mail", {"n": 1})
    log_in(page, guarded, secrets["ops"])
    open_queue(page, guarded, "mail")
    page.locator("#toggle", has_text="Pause").click()
    page.locator("#toggle", has_text="Resume").wait_for()
    assert ops.queue_info("mail")["status"] == "closed"


def test_logging_out_asks_for_a_token_again(guarded, secrets, page) -> None:
    log_in(page, guarded, secrets["viewer"])
    page.click("#logout")
    page.locator("#login").wait_for()
    page.reload()
    page.locator("#login").wait_for()


class _EvilSite(http.server.BaseHTTPRequestHandler):
    """A page elsewhere that posts a form to presque as soon as it loads."""

    target = ""

    def do_GET(self) -> None:
        page = (
            f'<form id="f" method="POST" action="{self.target}/control/mail" enctype="text/plain">'
            '<input name=\'{"status": "stop", "x": "\' value=\'"}\'></form>'
            '<script>document.getElementById("f").submit()</script>'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args: object) -> None:
        pass


def test_another_site_cannot_act_with_the_session(guarded, secrets, page) -> None:
    ops = Client(url(guarded), token=secrets["ops"])
    ops.post("mail", {"n": 1})
    log_in(page, guarded, secrets["ops"])
    handler = type("Evil", (_EvilSite,), {"target": url(guarded)})
    # Another site: another host name for the same loopback address.
    evil = http.server.HTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=evil.serve_forever, daemon=True)
    thread.start()
    try:
        page.goto(f"http://localhost:{evil.server_port}/")
        page.wait_for_url(f"{url(guarded)}/control/mail", timeout=UPDATE_MS)
        page.wait_for_load_state()
    finally:
        evil.shutdown()
        evil.server_close()
    assert ops.queue_info("mail")["status"] == "open"
    assert re.search(r"POST /control/mail 40[13] refused", guarded.log.read_text())
