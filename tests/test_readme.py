"""
The README is the manual: its shell examples, pasted into bash against a
real daemon, run and meet no server error, and its table of configuration
keys names every key there is.

Blocks fenced as C{sh} are the examples to paste (the others are commands
to adapt, or output). One that says it "runs until Ctrl-C" (a worker loop,
a stream) runs for a few seconds and is then stopped: it works if it ran
until then without an error.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from harness.daemon import ROOT
from harness.redis import RedisServer
from presque.config import key_name, sections
from tests.support import Daemons

README = ROOT / "README.md"
_BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_ACCESS = re.compile(r"\[presque\.access#info\] \S+ \S+ (\d{3}) ")
#: How long an example that runs until Ctrl-C runs before it is stopped.
LOOP_SECONDS = 3
ENDLESS = "runs until Ctrl-C"


def blocks() -> list[str]:
    """The C{sh} blocks of the README, in order."""
    return _BLOCK.findall(README.read_text())


def paste(script: str, url: str, workdir: Path) -> subprocess.CompletedProcess[bytes]:
    """Run C{script} in bash with C{$P} set to C{url}, as a pasted example (an endless one for a
    while)."""
    command = ["bash", "-euo", "pipefail", "-c", f"P={url}\n{script}"]
    if ENDLESS in script:
        command = ["timeout", str(LOOP_SECONDS), *command]
    return subprocess.run(command, cwd=workdir, capture_output=True, timeout=60, check=False)


def test_the_readme_has_shell_examples() -> None:
    assert len(blocks()) >= 15


def test_every_shell_example_runs_and_meets_no_server_error(
    tmp_path: Path, daemons: Daemons, clean_redis: RedisServer
) -> None:
    daemon = daemons.start(tmp_path, "--redis", clean_redis.url)
    for block in blocks():
        result = paste(block.replace("http://127.0.0.1:8080", daemon.url), daemon.url, tmp_path)
        expected = 124 if ENDLESS in block else 0  # timeout's code for what it stopped
        assert result.returncode == expected, (block, result.stdout[-500:], result.stderr[-500:])
    log = daemon.log.read_text()
    statuses = _ACCESS.findall(log)
    assert statuses, "the daemon logged no request"
    assert [status for status in statuses if status.startswith("5")] == []
    assert "Traceback" not in log


def test_the_configuration_table_names_every_key() -> None:
    text = README.read_text()
    for section, keys in sections().items():
        for key in keys:
            assert f"| {section} | `{key_name(key)}` |" in text, (section, key_name(key))
