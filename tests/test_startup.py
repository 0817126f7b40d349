"""
Starting the daemon: requests made before its Redis answers wait for it
instead of failing, a second daemon on the same embedded data directory
refuses to start and leaves the first alone, and a daemon killed outright
leaves its data directory free for the next one.

(A config error said in one line without twistd's usage text is in
test_daemon.py.)
"""

from __future__ import annotations

import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness.daemon import SHIPPED_CONFIG, Daemon, twistd_command
from harness.processes import free_port
from harness.redis import RedisServer
from tests.support import Daemons, process_alive

#: What the shipped config's relative data_dir is, below a daemon's workdir.
DATA_DIR = Path("var") / "redis"


def run_second_daemon(workdir: Path, config: Path = SHIPPED_CONFIG) -> tuple[int, str, float]:
    """Run another daemon from C{workdir} on C{config}, which must exit; its exit
    code, what it printed, and how long it ran (seconds)."""
    started = time.monotonic()
    result = subprocess.run(
        twistd_command(
            "-n",
            "presque",
            "--config",
            str(config),
            "--listen",
            f"tcp:{free_port()}:interface=127.0.0.1",
        ),
        cwd=workdir,
        capture_output=True,
        timeout=30,
    )
    output = (result.stdout + result.stderr).decode("utf-8", "replace")
    return result.returncode, output, time.monotonic() - started


def elsewhere_on(workdir: Path) -> tuple[Path, Path]:
    """Another workdir, and a config there naming the data directory of a daemon
    run from C{workdir} on the shipped config."""
    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    config = elsewhere / "presque.ini"
    config.write_text(f"[redis]\ndata_dir = {workdir / DATA_DIR}\n")
    return elsewhere, config


def assert_still_serves(daemon: Daemon, redis_pid: int) -> None:
    """C{daemon} takes and hands out a job, over the same redis-server as before."""
    assert daemon.request("POST", "/q/after", {"n": 1})[0] == 201
    assert daemon.request("GET", "/q/after") == (200, b'{"n": 1}')
    assert daemon.redis_pid() == redis_pid
    assert process_alive(redis_pid)


def test_requests_made_before_redis_is_up_wait_for_it(tmp_path: Path, daemons: Daemons) -> None:
    port = free_port()
    daemon = Daemon(tmp_path, "--redis", f"redis://127.0.0.1:{port}/0")
    daemons.append(daemon)
    daemon.start()
    with ThreadPoolExecutor(max_workers=2) as pool:
        posted = pool.submit(daemon.request, "POST", "/q/early", {"n": 1})
        listed = pool.submit(daemon.request, "GET", "/status/")
        # Redis comes a second after the requests; they wait meanwhile.
        time.sleep(1.0)
        assert not posted.done(), posted.result()
        assert not listed.done(), listed.result()
        redis = RedisServer(port=port).start()
        try:
            assert posted.result(timeout=30)[0] == 201
            status, body = listed.result(timeout=30)
            assert status == 200, body
            assert daemon.request("GET", "/q/early") == (200, b'{"n": 1}')
        finally:
            daemon.stop()
            redis.stop()


def test_a_second_daemon_on_the_same_data_directory_refuses_to_start(
    tmp_path: Path, daemons: Daemons
) -> None:
    first = daemons.start(tmp_path)
    assert first.process is not None
    redis_pid = first.redis_pid()
    code, output, took = run_second_daemon(tmp_path)
    assert code != 0, output
    assert took < 15, output
    assert str(tmp_path / DATA_DIR) in output
    assert str(first.process.pid) in output
    assert_still_serves(first, redis_pid)


def test_a_second_daemon_from_elsewhere_on_the_same_data_directory_refuses_to_start(
    tmp_path: Path, daemons: Daemons
) -> None:
    first = daemons.start(tmp_path)
    assert first.process is not None
    redis_pid = first.redis_pid()
    code, output, took = run_second_daemon(*elsewhere_on(tmp_path))
    assert code != 0, output
    assert took < 15, output
    assert output.strip().startswith("presque: "), output
    assert str(tmp_path / DATA_DIR) in output
    assert f"pid {first.process.pid}" in output
    assert_still_serves(first, redis_pid)


def test_a_daemon_killed_outright_leaves_its_data_directory_to_the_next(
    tmp_path: Path, daemons: Daemons
) -> None:
    first = daemons.start(tmp_path)
    for n in (1, 2):
        assert first.request("POST", "/q/kept", {"n": n})[0] == 201
    first.stop(signal.SIGKILL)
    second = daemons.start(tmp_path)
    assert second.process is not None
    assert second.request("GET", "/q/kept") == (200, b'{"n": 1}')
    assert second.request("GET", "/q/kept") == (200, b'{"n": 2}')
    # The directory is the new daemon's now: a third one is refused, naming it.
    code, output, _ = run_second_daemon(*elsewhere_on(tmp_path))
    assert code != 0, output
    assert f"pid {second.process.pid}" in output
