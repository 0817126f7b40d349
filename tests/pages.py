"""
What the tests of the page share (a pytest plugin, for its fixture): a
daemon with real jobs, and the steps a person takes on the page, each a few
Playwright calls.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.daemon import Daemon
from harness.redis import RedisServer
from tests.support import Daemons


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


def request_with_worker(daemon: Daemon, path: str, worker: str) -> None:
    request = urllib.request.Request(daemon.url + path, headers={"X-presque-workerid": worker})
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.status in (200, 404)


def api(daemon: Daemon, method: str, path: str, job: object = None) -> object:
    status, body = daemon.request(method, path, job)
    assert status < 300, (status, body)
    return json.loads(body) if body else None


def open_queue(page, daemon: Daemon, queue: str):
    page.goto(f"{daemon.url}/#/queues/{queue}")
    page.locator("#toggle", has_text="Pause").or_(
        page.locator("#toggle", has_text="Resume")
    ).wait_for()


def bury(daemon: Daemon, queue: str) -> str:
    """Post a job to C{queue} and send it to the dead letters; its id."""
    post(daemon, queue)
    request = urllib.request.Request(f"{daemon.url}/q/{queue}?lease=30")
    with urllib.request.urlopen(request, timeout=10) as reply:
        job_id, receipt = reply.headers["X-Presque-Job-Id"], reply.headers["X-Presque-Receipt"]
    failing = urllib.request.Request(
        f"{daemon.url}/q/{queue}/{job_id}?dead=1",
        method="PUT",
        headers={"X-Presque-Receipt": receipt},
    )
    with urllib.request.urlopen(failing, timeout=10) as reply:
        assert reply.status == 200
    return job_id


def open_jobs(page, state: str) -> None:
    """Show the jobs of C{state} on the queue's page."""
    page.locator(f"#jobs .tabs button[data-state={state!r}]").click()
    page.locator(f"#jobs .tabs button[data-state={state!r}][aria-pressed='true']").wait_for()


def post_for_id(daemon: Daemon, queue: str, job: bytes, query: str = "") -> str:
    """Post C{job} to C{queue} (with the arguments C{query}); the id it got."""
    request = urllib.request.Request(
        f"{daemon.url}/q/{queue}{'?' + query if query else ''}",
        data=job,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return reply.headers["X-Presque-Job-Id"]
