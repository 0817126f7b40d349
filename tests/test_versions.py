"""Each command of presque says the version installed, from the one place it is declared."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from harness.daemon import twistd_command
from presque import __version__


def said(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_package_metadata_has_the_version_of_the_code() -> None:
    assert version("presque") == __version__


def test_twistd_presque_version_prints_presques_version() -> None:
    assert said(twistd_command("presque", "--version")) == f"presque {__version__}\n"


@pytest.mark.parametrize("name", ["presque", "presque-worker"])
def test_the_commands_print_their_version(name: str) -> None:
    command = str(Path(sys.executable).with_name(name))
    assert said([command, "--version"]) == f"{name} {__version__}\n"
