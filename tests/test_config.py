"""Reading etc/presque.ini and the command-line overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from presque.config import Config, ConfigError, load_config
from presque.redis_url import RedisAddress
from tests.support import SHIPPED_CONFIG


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "presque.ini"
    path.write_text(text)
    return path


def test_the_shipped_config_is_the_defaults() -> None:
    assert load_config(SHIPPED_CONFIG) == Config()


def test_an_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "")) == Config()


def test_every_key_is_read(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """
[server]
listen = tcp:9000:interface=127.0.0.1
    tcp6:9001:interface=\\:\\:1
max_body_size = 2048
max_batch_size = 50
max_queue_name_length = 64
access_log = off
shutdown_grace = 2.5
[redis]
url = redis://u:p%40ss@127.0.0.1:7000/3
data_dir = /srv/presque
appendfsync = always
pool_size = 8
command_timeout = 0.5
connect_timeout = 1
[scheduler]
interval = 0.25
""",
        )
    )
    assert config.server.listen == (
        "tcp:9000:interface=127.0.0.1",
        "tcp6:9001:interface=\\:\\:1",
    )
    assert (config.server.max_body_size, config.server.max_batch_size) == (2048, 50)
    assert config.server.max_queue_name_length == 64
    assert config.server.access_log is False
    assert config.server.shutdown_grace == 2.5
    assert config.redis.address == RedisAddress(
        host="127.0.0.1", port=7000, db=3, username="u", password="p@ss"
    )
    assert config.redis.data_dir == Path("/srv/presque")
    assert config.redis.appendfsync == "always"
    assert (config.redis.pool_size, config.redis.command_timeout) == (8, 0.5)
    assert config.redis.connect_timeout == 1.0
    assert config.scheduler.interval == 0.25


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[server]\nmax_body_size = 0", "[server] max_body_size: must be a positive integer"),
        ("[server]\naccess_log = maybe", "[server] access_log: must be one of"),
        ("[server]\nlisten = nonsense:1", "[server] listen: must be a Twisted server endpoint"),
        ("[server]\nlisten =", "[server] listen: needs at least one endpoint"),
        ("[server]\nshutdown_grace = -1", "[server] shutdown_grace: must be zero or a positive"),
        ("[redis]\nurl = http://x", "[redis] url: must start with redis:// or unix://"),
        ("[redis]\nappendfsync = sometimes", "[redis] appendfsync: must be always, everysec"),
        ("[redis]\ncommand_timeout = nan", "[redis] command_timeout: must be a positive number"),
        ("[scheduler]\ninterval = 0", "[scheduler] interval: must be a positive number"),
        ("[scheduler]\nperiod = 1", "[scheduler] period: unknown key"),
        ("[jobs]\nx = 1", "[jobs]: unknown section"),
    ],
)
def test_a_bad_value_names_file_section_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value).startswith(f"{path}: {message}")


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the configuration"):
        load_config(tmp_path / "absent.ini")


def test_a_file_that_is_not_ini_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a valid INI file"):
        load_config(write(tmp_path, "listen = 1\n"))


def test_command_line_listen_replaces_the_file_list() -> None:
    config = Config().with_overrides(listen=("tcp:1234", "unix:/tmp/p.sock"))
    assert config.server.listen == ("tcp:1234", "unix:/tmp/p.sock")


def test_command_line_redis_url_replaces_the_file_url() -> None:
    config = Config().with_overrides(redis_url="unix:///run/redis.sock?db=2")
    assert config.redis.address == RedisAddress(unix_path="/run/redis.sock", db=2)


def test_a_bad_redis_option_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"^--redis: "):
        Config().with_overrides(redis_url="mysql://x")


def test_a_bad_listen_option_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"^--listen: "):
        Config().with_overrides(listen=("bogus:1",))
