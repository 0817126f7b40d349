"""
Tokens end to end, with real processes: `presque token new` makes one, the
daemon reads it from its INI file, and the `presque` command, the Python
client and presque-worker send it; the daemon's log tells admin actions and
refusals by token name, never the secret.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.daemon import Daemon, tokens_on_config
from harness.polling import wait_until
from harness.processes import stop_process
from harness.redis import RedisServer
from presque.client import Client, PresqueError
from tests.support import Daemons

COMMAND = [sys.executable, "-m", "presque.cli"]


def presque(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **(env or {})},
    )


def new_token(name: str, *options: str) -> tuple[str, str]:
    """`presque token new NAME OPTIONS`: the secret it shows and the section it prints."""
    made = presque("token", "new", name, *options)
    assert made.returncode == 0, made.stderr
    lines = made.stdout.splitlines()
    secret = lines[1].strip()
    section = made.stdout[made.stdout.index(f"[token:{name}]") :]
    return secret, section


@pytest.fixture
def tokens() -> dict[str, tuple[str, str]]:
    return {
        "billing": new_token("billing", "--scopes", "produce", "consume", "--queues", "invoices"),
        "ops": new_token("ops", "--scopes", "read", "admin"),
    }


@pytest.fixture
def guarded(tmp_path: Path, daemons: Daemons, clean_redis: RedisServer, tokens) -> Iterator[Daemon]:
    sections = [section for _, section in tokens.values()]
    config = tokens_on_config(tmp_path / "presque.ini", *sections)
    yield daemons.start(tmp_path, "--redis", clean_redis.url, config=config)


def url(daemon: Daemon) -> str:
    return f"http://127.0.0.1:{daemon.port}"


def test_a_new_token_shows_its_secret_once_and_a_section_without_it(tokens) -> None:
    secret, section = tokens["billing"]
    assert len(secret) >= 43 and secret not in section
    assert section.splitlines()[1:] == [
        section.splitlines()[1],
        "scopes = produce consume",
        "queues = invoices",
    ]


def test_the_command_sends_its_token_flag_or_variable(guarded: Daemon, tokens) -> None:
    secret = tokens["billing"][0]
    pushed = presque("--url", url(guarded), "--token", secret, "push", "invoices", '{"n": 1}')
    assert pushed.returncode == 0, pushed.stderr
    env = {"PRESQUE_TOKEN": secret}
    assert presque("--url", url(guarded), "push", "invoices", '{"n": 2}', env=env).returncode == 0
    refused = presque("--url", url(guarded), "push", "invoices", '{"n": 3}')
    assert (refused.returncode, "HTTP 401" in refused.stderr) == (1, True), refused.stderr


def test_the_client_sends_its_token(guarded: Daemon, tokens) -> None:
    client = Client(url(guarded), token=tokens["billing"][0])
    job_id = client.post("invoices", {"n": 1})
    assert client.fetch("invoices", lease=30).id == job_id
    with pytest.raises(PresqueError) as refused:
        client.post("payroll", {"n": 1})
    assert refused.value.status == 403


def test_metrics_need_a_read_token(guarded: Daemon, tokens) -> None:
    assert guarded.request("GET", "/metrics")[0] == 401
    reader = Client(url(guarded), token=tokens["ops"][0])
    assert reader.summary()["redis"] == "up"


def test_the_log_tells_admin_actions_and_refusals_by_name_never_the_secret(
    guarded: Daemon, tokens
) -> None:
    ops = Client(url(guarded), token=tokens["ops"][0])
    ops.pause("invoices")
    billing = Client(url(guarded), token=tokens["billing"][0])
    with pytest.raises(PresqueError):
        billing.purge("invoices")
    log = guarded.log.read_text()
    assert "[presque.audit#info] ops POST /control/invoices 200" in log
    assert "[presque.audit#info] billing DELETE /q/invoices 403 refused" in log
    for secret, _ in tokens.values():
        assert secret not in log


def test_presque_worker_sends_its_token(guarded: Daemon, tokens, tmp_path: Path) -> None:
    (tmp_path / "handlers.py").write_text("def handle(body):\n    pass\n")
    ops = Client(url(guarded), token=tokens["ops"][0])
    Client(url(guarded), token=tokens["billing"][0]).post("invoices", {"n": 1})
    command = [
        str(Path(sys.executable).with_name("presque-worker")),
        *("--url", url(guarded), "--queue", "invoices", "--wait", "1"),
        "handlers:handle",
    ]
    env = {
        **{name: value for name, value in os.environ.items() if name != "PYTHONPATH"},
        "PRESQUE_TOKEN": tokens["billing"][0],
    }
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(
            lambda: ops.queue_info("invoices")["totals"]["acked"] == 1,
            15,
            lambda: (tmp_path / "worker.log").read_text(),
        )
    finally:
        stop_process(worker)
        log.close()


def test_tokens_on_without_any_token_is_warned_of(
    tmp_path: Path, daemons: Daemons, clean_redis: RedisServer
) -> None:
    config = tokens_on_config(tmp_path / "on.ini")
    daemon = daemons.start(tmp_path, "--redis", clean_redis.url, config=config)
    assert "mode is on with no [token:NAME] section" in daemon.log.read_text()
    assert daemon.request("GET", "/j/mail")[0] == 401
