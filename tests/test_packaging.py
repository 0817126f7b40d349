"""The wheel: a non-editable install must give a working `twistd presque`."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from harness.daemon import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    [built] = out.glob("presque-*.whl")
    return built


def test_the_wheel_ships_the_plugin_the_scripts_and_no_namespace_init(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "twisted/plugins/presque_plugin.py" in names
    assert {"presque/lua/fetch.lua", "presque/lua/includes/promote_due.lua"} <= names
    assert "twisted/__init__.py" not in names
    assert "twisted/plugins/__init__.py" not in names


def test_the_wheel_ships_every_module_and_script_of_the_package(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {
        path.relative_to(ROOT).as_posix()
        for pattern in ("presque/**/*.py", "presque/**/*.lua")
        for path in ROOT.glob(pattern)
    }
    assert sources - names == set()


def test_twistd_finds_the_plugin_of_an_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    zipfile.ZipFile(wheel).extractall(tmp_path)
    # -S: no .pth files, so the checkout's own editable install stays out of sight.
    dependencies = sysconfig.get_paths()["purelib"]
    script = (
        "import sys; sys.path[:0] = [sys.argv.pop(1), sys.argv.pop(1)]; "
        "import presque; assert presque.__file__.startswith(sys.path[0]), presque.__file__; "
        "from twisted.scripts.twistd import run; run()"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", script, str(tmp_path), dependencies, "presque", "--help"],
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert "--config=" in result.stdout.decode()


def test_git_ignores_the_plugin_cache() -> None:
    result = subprocess.run(["git", "check-ignore", "-q", "twisted/plugins/dropin.cache"], cwd=ROOT)
    assert result.returncode == 0
