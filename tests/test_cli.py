"""
The C{presque} command line as a real process (C{python -m presque.cli})
against a real daemon.
"""

from __future__ import annotations

import json
import os
import pty
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.daemon import Daemon
from harness.processes import free_port
from harness.redis import RedisServer
from presque.client import Client
from tests.support import Daemons

COMMAND = [sys.executable, "-m", "presque.cli"]


@pytest.fixture
def daemon(tmp_path: Path, daemons: Daemons, clean_redis: RedisServer) -> Daemon:
    return daemons.start(tmp_path, "--redis", clean_redis.url)


@pytest.fixture
def url(daemon: Daemon) -> str:
    return f"http://127.0.0.1:{daemon.port}"


@pytest.fixture
def client(url: str) -> Client:
    return Client(url)


def presque(url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run C{presque --url url args...} to its end."""
    return subprocess.run(
        [*COMMAND, "--url", url, *args], input=stdin, capture_output=True, text=True, timeout=30
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """The output of a command that must have succeeded."""
    assert (result.returncode, result.stderr) == (0, ""), result
    return result.stdout


def failed(result: subprocess.CompletedProcess[str]) -> str:
    """The message of a command that must have failed."""
    assert result.returncode == 1, result
    assert result.stdout == "", result
    assert result.stderr.startswith(f"presque {result.args[len(COMMAND) + 2]}: "), result
    return result.stderr


def test_push_one_job(url: str, client: Client) -> None:
    job_id = ok(presque(url, "push", "mail", '{"to": "alice"}')).strip()
    view = client.job_info("mail", job_id)
    assert (view["state"], view["job"]) == ("ready", {"to": "alice"})
    later = ok(presque(url, "push", "mail", '{"to": "bob"}', "--delay", "60")).strip()
    assert client.job_info("mail", later)["state"] == "delayed"
    ok(presque(url, "push", "mail", "{}", "--uniq", "u1"))
    assert "job already exists (HTTP 400)" in failed(
        presque(url, "push", "mail", "{}", "--uniq", "u1")
    )


def test_push_a_file_of_json_lines(url: str, client: Client, tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text("".join(json.dumps({"n": n}) + "\n" for n in range(600)) + "\n")
    assert ok(presque(url, "push", "numbers", "--file", str(jobs), "--batch", "250")) == (
        "600 jobs pushed to numbers\n"
    )
    assert client.queue_info("numbers")["counts"]["ready"] == 600
    assert client.fetch("numbers").body == {"n": 0}
    ok(presque(url, "push", "piped", "--file", "-", stdin='{"a": 1}\n{"a": 2}\n'))
    assert client.queue_info("piped")["counts"]["ready"] == 2


def test_a_terminal_sees_a_progress_bar(url: str, tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text("".join(json.dumps({"n": n}) + "\n" for n in range(100)))
    terminal, stderr = pty.openpty()
    try:
        command = [*COMMAND, "--url", url, "push", "numbers", "--file", str(jobs), "--batch", "10"]
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=stderr, timeout=30)
        assert done.returncode == 0
        drawn = os.read(terminal, 65536).decode()
    finally:
        os.close(terminal)
        os.close(stderr)
    assert drawn.startswith("\r[")
    assert drawn.endswith(f"[{'#' * 30}] 100%  100 jobs\r\n")  # the terminal adds the \r


def test_a_file_with_a_bad_line_pushes_nothing(url: str, client: Client, tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"n": 1}\n{"n": 2\n')
    message = failed(presque(url, "push", "numbers", "--file", str(jobs)))
    assert f"{jobs}:2: invalid JSON" in message
    assert client.queue_info("numbers")["counts"]["ready"] == 0


def test_stats_of_all_queues_and_of_one(url: str, client: Client) -> None:
    client.post_many("mail", [{"n": 1}, {"n": 2}, {"n": 3}])
    client.post("sms", {"n": 1})
    client.pause("sms")
    lines = ok(presque(url, "stats")).splitlines()
    assert lines[0].split() == ["QUEUE", "STATUS", "READY", "DELAYED", "LEASED", "DEAD"]
    assert ["mail", "open", "3", "0", "0", "0"] in [line.split() for line in lines]
    assert ["sms", "closed", "1", "0", "0", "0"] in [line.split() for line in lines]
    client.ack(client.fetch("mail", lease=30))
    one = ok(presque(url, "stats", "mail"))
    assert "mail (open)" in one
    assert "ready 2  delayed 0  leased 0  dead 0" in one
    assert "processed 1" in one
    assert json.loads(ok(presque(url, "stats", "mail", "--json")))["counts"]["ready"] == 2


def test_pause_and_resume(url: str, daemon: Daemon) -> None:
    def status() -> int:
        return json.loads(daemon.request("GET", "/control/mail")[1])["status"]

    assert ok(presque(url, "pause", "mail")) == "mail paused\n"
    assert status() == 0
    assert ok(presque(url, "resume", "mail")) == "mail resumed\n"
    assert status() == 1


def make_dead_letter(client: Client, job: object) -> str:
    """Post C{job}, lease it and send it to the dead letters (PUT ?dead=1); its id."""
    client.post("mail", job)
    leased = client.fetch("mail", lease=30)
    assert leased is not None
    client.fail(leased, "smtp timeout", dead=True)
    return leased.id


def test_dead_retry_and_purge_dead(url: str, client: Client) -> None:
    job_id = make_dead_letter(client, {"to": "alice"})
    listing = ok(presque(url, "dead", "mail"))
    [row] = [line for line in listing.splitlines() if line.startswith(job_id)]
    assert "smtp timeout" in row and '{"to":"alice"}' in row
    assert listing.endswith("1-1 of 1 dead letters in mail\n")
    [letter] = map(json.loads, ok(presque(url, "dead", "mail", "--json")).splitlines())
    assert (letter["id"], letter["job"]) == (job_id, {"to": "alice"})

    assert ok(presque(url, "retry", "mail", job_id)) == "1 dead letters of mail back in the queue\n"
    assert client.queue_info("mail")["counts"] == {
        "ready": 1,
        "delayed": 0,
        "leased": 0,
        "dead": 0,
        "waiting": 0,
    }
    client.purge("mail")

    make_dead_letter(client, {"to": "bob"})
    assert ok(presque(url, "purge-dead", "mail")) == "1 dead letters of mail removed\n"
    assert client.dead_letters("mail")["total"] == 0


def read_line(stream: object, timeout: float) -> str:
    """The next line of a child's stdout, or an error after C{timeout} seconds."""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)  # type: ignore[arg-type]
        if not selector.select(timeout):
            raise TimeoutError("no line came")
    return stream.readline()  # type: ignore[attr-defined]


@pytest.fixture
def follower(url: str) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [*COMMAND, "--url", url, "follow", "mail", "--lease", "30", "--wait", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def test_follow_prints_jobs_as_json_lines_and_acks_them(
    follower: subprocess.Popen[str], client: Client
) -> None:
    time.sleep(0.5)  # let it start waiting: the jobs come while it long-polls
    client.post("mail", {"to": "alice"})
    client.post("mail", {"to": "bob", "cc": ["carol"]})
    lines = [read_line(follower.stdout, 10), read_line(follower.stdout, 10)]
    assert [json.loads(line) for line in lines] == [{"to": "alice"}, {"to": "bob", "cc": ["carol"]}]
    follower.terminate()
    assert follower.wait(timeout=10) == 0
    assert follower.stderr is not None and follower.stderr.read() == ""
    view = client.queue_info("mail")
    assert view["totals"]["processed"] == 2
    assert view["counts"]["leased"] == 0


def test_errors_exit_1_with_a_message(url: str, client: Client) -> None:
    assert "invalid JSON job" in failed(presque(url, "push", "mail", "{to: alice}"))
    # The server's own error message.
    assert "limit must be an integer from 0 to 1000 (HTTP 400)" in failed(
        presque(url, "dead", "mail", "--limit", "5000")
    )
    nobody = f"http://127.0.0.1:{free_port()}"
    assert "Connection refused" in failed(presque(nobody, "stats"))
    assert client.queue_info("mail")["counts"]["ready"] == 0


def test_the_url_comes_from_presque_url(url: str) -> None:
    env = {**os.environ, "PRESQUE_URL": url}
    result = subprocess.run(
        [*COMMAND, "pause", "mail"], env=env, capture_output=True, text=True, timeout=30
    )
    assert ok(result) == "mail paused\n"


def test_schedule_set_writes_a_schedule_listed_by_schedules(url: str, client: Client) -> None:
    said = ok(
        presque(
            url,
            "schedule",
            "set",
            "reports",
            "--queue",
            "reports",
            "--job",
            '{"kind": "daily"}',
            "--cron",
            "0 7 * * mon-fri",
            "--tz",
            "Europe/Paris",
            "--overlap",
            "skip",
        )
    )
    assert said.startswith("reports: cron 0 7 * * mon-fri (Europe/Paris), next run ")
    [shown] = client.schedules()
    assert (shown["job"], shown["overlap"]) == ({"kind": "daily"}, "skip")
    listing = ok(presque(url, "schedules")).splitlines()
    assert listing[0].split() == ["NAME", "QUEUE", "WHEN", "NEXT", "RUN", "LAST", "RUN"]
    assert listing[1].startswith("reports  reports  cron 0 7 * * mon-fri (Europe/Paris)")


def test_schedule_pause_resume_and_delete(url: str, client: Client) -> None:
    ok(presque(url, "schedule", "set", "ping", "--queue", "ping", "--job", "{}", "--every", "30"))
    assert ok(presque(url, "schedule", "pause", "ping")) == "ping: paused\n"
    assert "paused" in ok(presque(url, "schedules"))
    assert ok(presque(url, "schedule", "resume", "ping")).startswith("ping: next run ")
    assert ok(presque(url, "schedule", "delete", "ping")) == "ping: deleted\n"
    assert ok(presque(url, "schedules")) == "no schedules\n"
    assert "no such schedule (HTTP 404)" in failed(presque(url, "schedule", "delete", "ping"))


def test_schedule_set_with_a_bad_cron_says_why(url: str) -> None:
    message = failed(
        presque(url, "schedule", "set", "s", "--queue", "q", "--job", "{}", "--cron", "61 * * * *")
    )
    assert "is not a valid cron expression (HTTP 400)" in message
