"""
Keys that are usable alone but not together: the error names the file, the
section and every key involved, as the error about one key does; so do the
errors of [token:NAME] sections, through the same form.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from presque.config import ConfigError, load_config

CLASHES = [
    (
        "cluster = h:7000\nsentinels = h:26379\nmaster_name = main",
        "[redis] cluster, sentinels: cluster and sentinels exclude each other",
    ),
    ("cluster = h:7000\nurl = redis://h/2", "[redis] cluster, url: a cluster is reached by"),
    ("sentinels = h:26379", "[redis] sentinels, master_name: sentinels need the master_name"),
    (
        "sentinels = h:26379\nmaster_name = main\nurl = unix:///tmp/r.sock",
        "[redis] sentinels, url: sentinels name a master by host and port",
    ),
    ("min_replicas = 1", "[redis] min_replicas, url: min_replicas needs a Redis with replicas"),
    (
        "url = redis://h\ntls_cert_file = c.pem\ntls_key_file = k.pem",
        "[redis] tls_cert_file, tls_key_file, url: tls_* files need a rediss:// url",
    ),
    (
        "url = rediss://h\ntls_key_file = k.pem",
        "[redis] tls_cert_file, tls_key_file: tls_cert_file and tls_key_file go together",
    ),
]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "presque.ini"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("text", "message"), CLASHES)
def test_keys_that_do_not_work_together_are_named_with_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, f"[redis]\n{text}\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path).with_overrides()
    assert str(raised.value).startswith(f"{path}: {message}")


def test_a_key_the_command_line_gave_is_named_as_its_option(tmp_path: Path) -> None:
    path = write(tmp_path, "[redis]\nsentinels = h:26379\nmaster_name = main\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path).with_overrides(redis_url="unix:///tmp/r.sock")
    assert str(raised.value).startswith(
        f"{path}: [redis] sentinels, url (--redis): sentinels name a master by host and port"
    )


def test_queue_keys_that_do_not_work_together_are_named_with_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[queues]\nbackoff_base = 10\nbackoff_cap = 5\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == (
        f"{path}: [queues] backoff_base, backoff_cap: backoff_cap must be at least backoff_base"
    )


def test_the_file_a_config_was_read_from_does_not_make_it_differ(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "")) == load_config(write(tmp_path / "..", ""))


TOKEN = "[token:billing]\nsha256 = " + "ab" * 32 + "\nscopes = produce\nqueues = *\n"


def test_a_missing_token_key_is_named_as_every_key_is(tmp_path: Path) -> None:
    path = write(tmp_path, TOKEN.replace("queues = *\n", ""))
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value).startswith(f"{path}: [token:billing] queues: missing (the queues")


def test_an_unknown_token_key_is_named_as_every_key_is(tmp_path: Path) -> None:
    path = write(tmp_path, TOKEN + "secret = hunter2\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value).startswith(f"{path}: [token:billing] secret: unknown key; known:")


def test_a_bad_token_name_is_named_as_every_section_is(tmp_path: Path) -> None:
    path = write(tmp_path, TOKEN.replace("billing", "bill ing"))
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == (
        f"{path}: [token:bill ing]: a token's name is 1 to 64 letters, digits, '.', '_' or '-'"
    )
