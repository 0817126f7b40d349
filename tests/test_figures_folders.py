"""
The folders of figures of the daemons with [server] processes above 1: one
that a killed daemon left behind is removed when a daemon starts, and
nothing else is. Real daemons, real folders in a temporary directory of the
test's own (TMPDIR), so that other daemons' folders are left alone.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from harness.daemon import Daemon
from harness.polling import wait_until
from presque.metrics_share import FOLDER_PREFIX, QUIET, FiguresFolder, remove_stale_folders
from tests.support import Daemons, process_alive
from tests.test_processes import children_of, start


def figures_folders(tmp: Path) -> list[Path]:
    return sorted(tmp.glob(FOLDER_PREFIX + "*"))


def start_with_tmp(daemons: Daemons, workdir: Path, tmp: Path) -> Daemon:
    workdir.mkdir(exist_ok=True)
    return start(daemons, workdir, processes=2, env={"TMPDIR": str(tmp)})


def until_quiet(folder: Path) -> None:
    """Wait until nothing was written to C{folder} for QUIET seconds."""
    wait_until(lambda: time.time() - folder.stat().st_mtime > QUIET, QUIET + 30, "still written")


def aged(folder: Path) -> Path:
    """C{folder}, as last written long ago (more than QUIET seconds)."""
    past = time.time() - QUIET - 60
    os.utime(folder, (past, past))
    return folder


def a_dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    return folder


def killed_daemons_folder(daemons: Daemons, work: Path, tmp: Path) -> Path:
    """The figures folder of a daemon of 2 processes killed with SIGKILL, once it is quiet."""
    daemon = start_with_tmp(daemons, work, tmp)
    [left] = figures_folders(tmp)
    children = children_of(daemon)
    daemon.stop(signal.SIGKILL)
    wait_until(lambda: not any(map(process_alive, children)), 30, "a child outlived the daemon")
    until_quiet(left)
    return left


def test_a_killed_daemons_folder_is_removed_when_the_next_daemon_starts(
    tmp_path: Path, tmp: Path, daemons: Daemons
) -> None:
    left = killed_daemons_folder(daemons, tmp_path / "work", tmp)
    start_with_tmp(daemons, tmp_path / "work", tmp)
    [made] = figures_folders(tmp)
    assert made != left
    assert not left.exists()


def test_a_killed_daemons_folder_is_removed_when_a_single_process_daemon_starts(
    tmp_path: Path, tmp: Path, daemons: Daemons
) -> None:
    left = killed_daemons_folder(daemons, tmp_path / "work", tmp)
    start(daemons, tmp_path / "work", processes=1, env={"TMPDIR": str(tmp)})
    assert figures_folders(tmp) == []
    assert not left.exists()


def test_a_live_daemons_folder_is_kept_when_another_daemon_starts(
    tmp_path: Path, tmp: Path, daemons: Daemons
) -> None:
    # Stopped (SIGSTOP), it writes no figures meanwhile: its lock alone
    # says that it lives.
    first = start_with_tmp(daemons, tmp_path / "first", tmp)
    [kept] = figures_folders(tmp)
    everyone = [first.process.pid, *children_of(first)]
    for pid in everyone:
        os.kill(pid, signal.SIGSTOP)
    try:
        until_quiet(kept)
        start_with_tmp(daemons, tmp_path / "second", tmp)
    finally:
        for pid in everyone:
            os.kill(pid, signal.SIGCONT)
    assert kept in figures_folders(tmp)
    assert len(figures_folders(tmp)) == 2


def test_a_locked_folder_is_kept_though_nothing_in_it_was_written(tmp: Path) -> None:
    # The lock of a daemon in another pid namespace, say, whose pids mean nothing here.
    held = FiguresFolder.make(tmp)
    aged(held.path)
    assert remove_stale_folders(tmp) == []
    held.stopService()
    assert figures_folders(tmp) == []


def test_a_folder_of_a_daemon_that_took_no_lock_is_removed_once_its_processes_are_gone(
    tmp: Path,
) -> None:
    # As earlier versions made them: no lock, a file per serving process.
    folder = tmp / f"{FOLDER_PREFIX}earlier"
    folder.mkdir()
    (folder / f"{a_dead_pid()}.json").write_text("[]")
    aged(folder)
    assert remove_stale_folders(tmp) == [folder]
    assert not folder.exists()


def test_a_folder_a_live_process_writes_to_is_kept(tmp: Path) -> None:
    folder = tmp / f"{FOLDER_PREFIX}earlier"
    folder.mkdir()
    (folder / f"{os.getpid()}.json").write_text("[]")
    aged(folder)
    assert remove_stale_folders(tmp) == []
    assert (folder / f"{os.getpid()}.json").exists()


def test_a_file_whose_pid_a_later_process_took_keeps_no_folder(tmp: Path) -> None:
    # Written in 1970: this process, of the same pid, started later, so
    # the writer is dead and its pid was given again.
    folder = tmp / f"{FOLDER_PREFIX}earlier"
    folder.mkdir()
    written = folder / f"{os.getpid()}.json"
    written.write_text("[]")
    os.utime(written, (0, 0))
    aged(folder)
    assert remove_stale_folders(tmp) == [folder]


def test_a_folder_written_to_recently_is_kept(tmp: Path) -> None:
    # A daemon between making its folder and locking it, or writing to it.
    folder = tmp / f"{FOLDER_PREFIX}new"
    folder.mkdir()
    assert remove_stale_folders(tmp) == []
    assert folder.exists()


def test_a_symlink_named_as_a_folder_is_not_followed(tmp: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / f"{a_dead_pid()}.json").write_text("[]")
    aged(target)
    link = tmp / f"{FOLDER_PREFIX}link"
    link.symlink_to(target, target_is_directory=True)
    assert remove_stale_folders(tmp) == []
    assert link.is_symlink()
    assert len(list(target.iterdir())) == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_another_users_folder_is_kept(tmp: Path) -> None:
    folder = tmp / f"{FOLDER_PREFIX}theirs"
    folder.mkdir()
    shutil.chown(folder, user=65534, group=65534)
    aged(folder)
    assert remove_stale_folders(tmp) == []
    assert folder.exists()
