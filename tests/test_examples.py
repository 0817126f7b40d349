"""
The example workers of eg/ (shell, Perl, Node.js) against a real daemon: each
runs as a child process on jobs posted beforehand, and what it did is read
back through the API. A test skips when its interpreter or tools are missing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.daemon import ROOT, Daemon, tokens_on_config
from harness.polling import wait_until
from harness.redis import RedisServer
from presque.auth import SCOPES, new_secret, token_section
from presque.client import Client
from tests.support import Daemons

EG = ROOT / "eg"


def _runs(*command: str) -> bool:
    """C{command} exists and exits 0."""
    if shutil.which(command[0]) is None:
        return False
    try:
        return subprocess.run(command, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


HAVE_SHELL_TOOLS = all(shutil.which(tool) for tool in ("bash", "curl", "jq"))
HAVE_PERL = _runs("perl", "-MHTTP::Tiny", "-MJSON::PP", "-e", "1")
# Node 18 is the first with a built-in fetch.
HAVE_NODE = _runs("node", "-e", "process.exit(typeof fetch === 'function' ? 0 : 1)")

needs_shell = pytest.mark.skipif(not HAVE_SHELL_TOOLS, reason="needs bash, curl and jq")
needs_perl = pytest.mark.skipif(not HAVE_PERL, reason="needs perl with HTTP::Tiny and JSON::PP")
needs_node = pytest.mark.skipif(not HAVE_NODE, reason="needs node 18 or newer (fetch)")

# The command worker.sh runs: sleep the job's "sleep" seconds, then exit with
# its "exit" status.
SHELL_COMMAND = (
    "bash",
    "-c",
    'job=$(cat); sleep "$(jq -r ".sleep // 0" <<<"$job")"; exit "$(jq -r ".exit // 0" <<<"$job")"',
)


@pytest.fixture
def daemon(tmp_path: Path, daemons: Daemons, clean_redis: RedisServer) -> Daemon:
    return daemons.start(tmp_path, "--redis", clean_redis.url)


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start a worker process, logging to tmp_path; killed after the test if still running."""
    started: list[subprocess.Popen[str]] = []

    def run(*command: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=(tmp_path / f"worker-{len(started)}.log").open("w"),
            text=True,
        )
        started.append(process)
        return process

    yield run
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def base_url(daemon: Daemon) -> str:
    return f"http://127.0.0.1:{daemon.port}"


def post_job(daemon: Daemon, queue: str, job: object) -> str:
    """POST C{job} to C{queue}; its id."""
    request = urllib.request.Request(
        f"{base_url(daemon)}/q/{queue}",
        data=json.dumps(job).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        return response.headers["X-Presque-Job-Id"]


def get_json(daemon: Daemon, path: str) -> dict:
    status, body = daemon.request("GET", path)
    assert status == 200, (path, status, body)
    return json.loads(body)


def slow_retries(daemon: Daemon, queue: str) -> None:
    """A failed job of C{queue} stays delayed for a minute, where the test can see it."""
    status, body = daemon.request("PATCH", f"/queues/{queue}", {"backoff_base": 60})
    assert status == 200, body


def totals(daemon: Daemon, queue: str) -> dict[str, int]:
    return get_json(daemon, f"/queues/{queue}")["totals"]


def processed_and_failed(daemon: Daemon, queue: str) -> tuple[int, int]:
    """The queue's totals: jobs acked, and failures (a lease that ran out counts too)."""
    counted = totals(daemon, queue)
    return counted["processed"], counted["failed"]


def assert_failed_once(daemon: Daemon, queue: str, job_id: str, error: str) -> None:
    """The leased job C{job_id} was failed once with C{error} and waits for its retry."""
    view = get_json(daemon, f"/q/{queue}/{job_id}")
    assert (view["state"], view["attempts"]) == ("delayed", 1)
    assert [entry["error"] for entry in view["errors"]] == [error]


def assert_done(daemon: Daemon, queue: str, job_id: str) -> None:
    """The job C{job_id} was acked: only its outcome is left."""
    view = get_json(daemon, f"/q/{queue}/{job_id}")
    assert (view["state"], "job" in view) == ("done", False), view


def worker_counts(daemon: Daemon, process: subprocess.Popen[str]) -> tuple[int, int]:
    """(processed, failed) of the worker whose id is this host and C{process}'s pid."""
    stats = get_json(daemon, f"/w/?worker_id={socket.gethostname()}-{process.pid}")
    return stats["processed"], stats["failed"]


def stop(process: subprocess.Popen[str], timeout: float = 10.0) -> tuple[int, str]:
    """SIGTERM C{process}; its exit code and standard output."""
    process.send_signal(signal.SIGTERM)
    stdout, _ = process.communicate(timeout=timeout)
    return process.returncode, stdout


@needs_shell
def test_shell_worker_acks_what_succeeds_and_fails_the_rest(daemon: Daemon, spawn) -> None:
    slow_retries(daemon, "sh")
    ok = [post_job(daemon, "sh", {"n": n}) for n in (1, 2)]
    exit3 = post_job(daemon, "sh", {"n": 3, "exit": 3})
    exit7 = post_job(daemon, "sh", {"n": 4, "exit": 7})
    worker = spawn(
        "bash",
        str(EG / "worker.sh"),
        *("-l", "10", "-w", "1", "sh"),
        *SHELL_COMMAND,
        env={"PRESQUE_URL": base_url(daemon)},
    )
    wait_until(
        lambda: sum(processed_and_failed(daemon, "sh")) == 4,
        10,
        "the shell worker did not settle every job",
    )
    assert stop(worker, timeout=5)[0] == 0
    assert processed_and_failed(daemon, "sh") == (2, 2)
    for job_id in ok:
        assert_done(daemon, "sh", job_id)
    assert_failed_once(daemon, "sh", exit3, "exit status 3")
    assert_failed_once(daemon, "sh", exit7, "exit status 7")
    assert worker_counts(daemon, worker) == (2, 2)


def worker_with_job_in_hand(kind: str, daemon: Daemon, spawn) -> subprocess.Popen[str]:
    url = base_url(daemon)
    if kind == "sh":
        command = ["bash", str(EG / "worker.sh"), "-l", "10", "-w", "1", "busy", *SHELL_COMMAND]
        return spawn(*command, env={"PRESQUE_URL": url})
    return spawn("node", str(EG / "worker.mjs"), url, "busy", env={"PRESQUE_WAIT": "1"})


@pytest.mark.parametrize(
    "kind", [pytest.param("sh", marks=needs_shell), pytest.param("node", marks=needs_node)]
)
def test_sigterm_lets_the_job_in_hand_finish(kind: str, daemon: Daemon, spawn) -> None:
    job_id = post_job(daemon, "busy", {"sleep": 1.5})
    worker = worker_with_job_in_hand(kind, daemon, spawn)
    wait_until(
        lambda: get_json(daemon, "/queues/busy")["counts"]["leased"] == 1,
        10,
        "the worker never leased the job",
    )
    code, _ = stop(worker)
    assert code == 0
    view = get_json(daemon, "/queues/busy")
    assert view["counts"] == {"ready": 0, "delayed": 0, "leased": 0, "dead": 0, "waiting": 0}
    assert (view["totals"]["processed"], view["totals"]["failed"]) == (1, 0)
    assert_done(daemon, "busy", job_id)


@needs_perl
def test_perl_worker_takes_jobs_and_gives_failed_ones_back(daemon: Daemon, spawn) -> None:
    jobs = [{"n": 1}, {"n": 2, "fail": True}, {"n": 3}, {"n": 4, "fail": True}, {"n": 5}]
    for job in jobs:
        post_job(daemon, "pl", job)
    worker = spawn("perl", str(EG / "worker.pl"), base_url(daemon), "pl", str(len(jobs)))
    stdout, _ = worker.communicate(timeout=10)
    assert worker.returncode == 0
    assert [json.loads(line.removeprefix("done ")) for line in stdout.splitlines()] == [
        {"n": 1},
        {"n": 3},
        {"n": 5},
    ]
    # Each GET took a job for good (processed); each PUT gave one back (failed).
    assert get_json(daemon, "/j/pl") == {
        "queue_name": "pl",
        "job_count": 2,
        "job_processed": 5,
        "job_failed": 2,
    }
    waiting = get_json(daemon, "/status/pl?with_desc=1")["jobs"]
    assert [json.loads(text) for text in waiting] == [
        {"n": 2, "fail": True, "failures": 1},
        {"n": 4, "fail": True, "failures": 1},
    ]
    assert worker_counts(daemon, worker) == (5, 2)


@needs_node
def test_node_worker_acks_fails_and_keeps_long_jobs_leased(daemon: Daemon, spawn) -> None:
    slow_retries(daemon, "js")
    done = post_job(daemon, "js", {"n": 1})
    smtp = post_job(daemon, "js", {"n": 2, "fail": "smtp timeout"})
    # Twice as long as the lease: only extensions keep it from running out.
    long = post_job(daemon, "js", {"n": 3, "sleep": 2})
    asked = post_job(daemon, "js", {"n": 4, "fail": True})
    worker = spawn(
        "node",
        str(EG / "worker.mjs"),
        *(base_url(daemon), "js", "4"),
        env={"PRESQUE_LEASE": "1", "PRESQUE_WAIT": "1"},
    )
    stdout, _ = worker.communicate(timeout=12)
    assert worker.returncode == 0
    assert stdout.splitlines() == ['done {"n":1}', 'done {"n":3,"sleep":2}']
    # A lease that ran out would count as a failure too.
    assert processed_and_failed(daemon, "js") == (2, 2)
    assert_done(daemon, "js", done)
    assert_done(daemon, "js", long)
    assert_failed_once(daemon, "js", smtp, "smtp timeout")
    assert_failed_once(daemon, "js", asked, "job asked to fail")
    assert worker_counts(daemon, worker) == (2, 2)


@pytest.fixture
def guarded(tmp_path: Path, daemons: Daemons, clean_redis: RedisServer) -> tuple[Daemon, str]:
    """A daemon with tokens on, and the secret of a token that may do everything."""
    secret = new_secret()
    section = token_section("eg", secret, list(SCOPES), ["*"])
    config = tokens_on_config(tmp_path / "guarded.ini", section)
    return daemons.start(tmp_path, "--redis", clean_redis.url, config=config), secret


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("sh", marks=needs_shell),
        pytest.param("pl", marks=needs_perl),
        pytest.param("node", marks=needs_node),
    ],
)
def test_each_worker_sends_presque_token(kind: str, guarded, spawn) -> None:
    daemon, secret = guarded
    client = Client(base_url(daemon), token=secret)
    client.post("tokened", {"n": 1})
    env = {"PRESQUE_TOKEN": secret, "PRESQUE_URL": base_url(daemon), "PRESQUE_WAIT": "1"}
    commands = {
        "sh": ["bash", str(EG / "worker.sh"), "-w", "1", "tokened", *SHELL_COMMAND],
        "pl": ["perl", str(EG / "worker.pl"), base_url(daemon), "tokened", "1"],
        "node": ["node", str(EG / "worker.mjs"), base_url(daemon), "tokened", "1"],
    }
    worker = spawn(*commands[kind], env=env)
    wait_until(
        lambda: client.queue_info("tokened")["totals"]["processed"] == 1,
        10,
        f"the {kind} worker did not take the job with its token",
    )
    if kind == "sh":
        stop(worker, timeout=5)
