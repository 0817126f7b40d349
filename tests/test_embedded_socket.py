"""
The embedded Redis's socket: beside its data, or, when that path is too
long for a Unix socket, in a private folder of the temporary directory
that every start reuses.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from twisted.internet import reactor

from presque.embedded import EmbeddedRedis


@pytest.fixture
def temporary(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "tmp"
    folder.mkdir()
    kept, tempfile.tempdir = tempfile.tempdir, str(folder)
    yield folder
    tempfile.tempdir = kept


def socket_of(data_dir: Path) -> Path:
    return Path(EmbeddedRedis(data_dir, "everysec", reactor).address.unix_path)


def deep(tmp_path: Path) -> Path:
    return tmp_path.joinpath(*["a-rather-long-folder-name"] * 6)


def test_a_short_data_path_has_its_socket_beside_the_data(tmp_path: Path) -> None:
    assert socket_of(tmp_path / "data") == tmp_path / "data" / "redis.sock"


def test_every_start_on_a_long_data_path_reuses_one_private_folder(
    tmp_path: Path, temporary: Path
) -> None:
    first, second = socket_of(deep(tmp_path)), socket_of(deep(tmp_path))
    assert first == second
    assert first.parent.parent == temporary
    assert stat.S_IMODE(first.parent.stat().st_mode) == 0o700
    assert len(list(temporary.iterdir())) == 1


def test_a_folder_opened_to_others_beforehand_is_not_used(tmp_path: Path, temporary: Path) -> None:
    taken = socket_of(deep(tmp_path)).parent
    os.chmod(taken, 0o777)
    assert socket_of(deep(tmp_path)).parent != taken
