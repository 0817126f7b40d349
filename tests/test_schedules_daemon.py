"""Schedules fired by the scheduler of a real daemon."""

from __future__ import annotations

import json

from harness.daemon import Daemon
from harness.polling import wait_until


def ready_count(daemon: Daemon, queue: str) -> int:
    status, body = daemon.request("GET", f"/queues/{queue}")
    return json.loads(body)["counts"]["ready"] if status == 200 else 0


def test_a_daemon_posts_the_job_of_a_schedule_every_interval(daemon: Daemon) -> None:
    status, _ = daemon.request("PUT", "/schedules/tick", {"queue": "ticks", "every": 1, "job": {}})
    assert status == 200
    wait_until(lambda: ready_count(daemon, "ticks") >= 2, 10, daemon.log.read_text)
    status, body = daemon.request("GET", "/schedules/tick")
    assert json.loads(body)["last_run"]["job"] is not None
