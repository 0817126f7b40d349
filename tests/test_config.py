"""Reading etc/presque.ini and the command-line overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.daemon import SHIPPED_CONFIG
from presque.broker.settings import QueueSettings
from presque.config import Config, ConfigError, WorkerSettings, key_name, load_config, sections
from presque.config_values import MAX_PROCESSES
from presque.redis_url import RedisAddress


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
master_name = main
sentinel_username = watcher
sentinel_password = s3cret
min_replicas = 2
replica_timeout = 0.25
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
    assert (config.redis.master_name, config.redis.min_replicas) == ("main", 2)
    assert (config.redis.sentinel_username, config.redis.sentinel_password) == ("watcher", "s3cret")
    assert config.redis.replica_timeout == 0.25
    assert config.scheduler.interval == 0.25


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[server]\nmax_body_size = 0", "[server] max_body_size: must be a positive integer"),
        ("[server]\naccess_log = maybe", "[server] access_log: must be one of"),
        ("[server]\nlisten = nonsense:1", "[server] listen: must be a Twisted server endpoint"),
        ("[server]\nlisten =", "[server] listen: needs at least one endpoint"),
        ("[server]\nprocesses = 0", "[server] processes: must be a positive integer up to 64"),
        ("[server]\nprocesses = all", "[server] processes: must be a positive integer up to 64"),
        ("[server]\nshutdown_grace = -1", "[server] shutdown_grace: must be zero or a positive"),
        ("[redis]\nurl = http://x", "[redis] url: must start with redis://, rediss:// or"),
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


def test_tls_files_are_read_with_a_rediss_url(tmp_path: Path) -> None:
    text = (
        "[redis]\nurl = rediss://h\n"
        "tls_ca_file = ca.pem\ntls_cert_file = c.pem\ntls_key_file = k.pem"
    )
    redis = load_config(write(tmp_path, text)).with_overrides().redis
    assert redis.address == RedisAddress(host="h", tls=True)
    assert (redis.tls_ca_file, redis.tls_cert_file, redis.tls_key_file) == (
        Path("ca.pem"),
        Path("c.pem"),
        Path("k.pem"),
    )


def test_tls_files_without_a_rediss_url_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "[redis]\nurl = redis://h\ntls_ca_file = ca.pem")
    with pytest.raises(ConfigError) as raised:
        load_config(path).with_overrides()
    assert str(raised.value).startswith(
        f"{path}: [redis] tls_ca_file, url: tls_* files need a rediss:// url"
    )


def test_tls_files_for_the_embedded_redis_are_refused(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[redis]\ntls_ca_file = ca.pem"))
    with pytest.raises(ConfigError, match="need a rediss:// url"):
        config.with_overrides()


def test_a_command_line_rediss_url_takes_the_files_tls_files(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[redis]\ntls_ca_file = ca.pem"))
    assert config.with_overrides(redis_url="rediss://h:7000").redis.address.tls


def test_a_client_certificate_needs_its_key(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[redis]\nurl = rediss://h\ntls_cert_file = c.pem"))
    with pytest.raises(ConfigError, match="tls_cert_file and tls_key_file go together"):
        config.with_overrides()


def test_sentinels_are_read_as_hosts_and_ports(tmp_path: Path) -> None:
    text = "[redis]\nsentinels = 127.0.0.1:26379 [::1]:26380\nmaster_name = main"
    redis = load_config(write(tmp_path, text)).with_overrides().redis
    assert redis.sentinels == (("127.0.0.1", 26379), ("::1", 26380))


@pytest.mark.parametrize("word", ["127.0.0.1", "h:0", "h:65536", ":26379", "h:port"])
def test_a_sentinel_without_a_usable_port_is_refused(tmp_path: Path, word: str) -> None:
    path = write(tmp_path, f"[redis]\nsentinels = {word}\nmaster_name = main")
    with pytest.raises(ConfigError, match=r"\[redis\] sentinels: must be host:port"):
        load_config(path)


def test_sentinels_need_a_master_name(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[redis]\nsentinels = h:26379"))
    with pytest.raises(ConfigError, match="sentinels need the master_name"):
        config.with_overrides()


def test_sentinels_refuse_a_unix_url(tmp_path: Path) -> None:
    text = "[redis]\nsentinels = h:26379\nmaster_name = main\nurl = unix:///tmp/r.sock"
    with pytest.raises(ConfigError, match="url cannot be unix://"):
        load_config(write(tmp_path, text)).with_overrides()


def test_cluster_nodes_are_read_as_hosts_and_ports(tmp_path: Path) -> None:
    text = "[redis]\ncluster = 10.0.0.1:7000 10.0.0.2:7000"
    redis = load_config(write(tmp_path, text)).with_overrides().redis
    assert redis.cluster == (("10.0.0.1", 7000), ("10.0.0.2", 7000))


def test_a_cluster_with_sentinels_is_refused(tmp_path: Path) -> None:
    text = "[redis]\ncluster = h:7000\nsentinels = h:26379\nmaster_name = main"
    with pytest.raises(ConfigError, match="cluster and sentinels exclude each other"):
        load_config(write(tmp_path, text)).with_overrides()


@pytest.mark.parametrize("url", ["redis://h/2", "unix:///tmp/r.sock"])
def test_a_cluster_refuses_a_database_or_a_socket(tmp_path: Path, url: str) -> None:
    text = f"[redis]\ncluster = h:7000\nurl = {url}"
    with pytest.raises(ConfigError, match="a cluster is reached by host and port, database 0"):
        load_config(write(tmp_path, text)).with_overrides()


@pytest.mark.parametrize("value", ["-1", "1.5", "many"])
def test_min_replicas_is_a_count(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, f"[redis]\nmin_replicas = {value}")
    with pytest.raises(ConfigError, match="min_replicas: must be zero or a positive integer"):
        load_config(path)


@pytest.mark.parametrize("value", ["\u0662", "\u00b2", "9" * 5000, "9223372036854775808"])
def test_min_replicas_is_a_count_that_wait_takes(tmp_path: Path, value: str) -> None:
    # Non-ASCII digits, and numbers Redis' WAIT refuses (every change then
    # answered 503 "redis refused the command").
    path = write(tmp_path, f"[redis]\nmin_replicas = {value}\nurl = redis://h")
    with pytest.raises(ConfigError, match=r"\[redis\] min_replicas: must be zero or a positive"):
        load_config(path)


def test_min_replicas_with_the_embedded_redis_is_refused(tmp_path: Path) -> None:
    # It has no replica: every change would wait replica_timeout, then be a 503.
    path = write(tmp_path, "[redis]\nmin_replicas = 1")
    with pytest.raises(ConfigError) as raised:
        load_config(path).with_overrides()
    assert str(raised.value).startswith(
        f"{path}: [redis] min_replicas, url: min_replicas needs a Redis with replicas"
    )


def test_min_replicas_with_a_command_line_redis_is_read(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[redis]\nmin_replicas = 1"))
    assert config.with_overrides(redis_url="redis://h:7000").redis.min_replicas == 1


@pytest.mark.parametrize("port", ["2\u00b2", "\u0662\u0666\u0663\u0667\u0669", "9" * 5000])
def test_a_sentinel_port_is_ascii_digits(tmp_path: Path, port: str) -> None:
    path = write(tmp_path, f"[redis]\nsentinels = h:{port}\nmaster_name = main")
    with pytest.raises(ConfigError, match=r"\[redis\] sentinels: must be host:port"):
        load_config(path)


@pytest.mark.parametrize("value", ["65", "100000", "9" * 5000])
def test_processes_beyond_the_maximum_are_refused(tmp_path: Path, value: str) -> None:
    # processes = 100000 would fork until the machine runs out of memory.
    path = write(tmp_path, f"[server]\nprocesses = {value}")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value).startswith(
        f"{path}: [server] processes: must be a positive integer up to {MAX_PROCESSES} or auto"
    )


def test_the_maximum_of_processes_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, f"[server]\nprocesses = {MAX_PROCESSES}")
    assert load_config(path).server.processes == MAX_PROCESSES


@pytest.mark.parametrize("value", ["\u00b2", "\u0662"])
def test_processes_is_ascii_digits(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, f"[server]\nprocesses = {value}")
    with pytest.raises(ConfigError, match=r"\[server\] processes: must be a positive integer"):
        load_config(path)


def test_a_bad_listen_option_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"^--listen: "):
        Config().with_overrides(listen=("bogus:1",))


# [queues] and [workers]


def test_the_queues_section_is_read_into_the_queue_defaults(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """
[queues]
lease = 30
max_attempts = 8
backoff_base = 0.5
backoff_cap = 120
""",
        )
    )
    assert config.queues == QueueSettings(
        lease=30.0, max_attempts=8, backoff_base=0.5, backoff_cap=120.0
    )
    assert type(config.queues.max_attempts) is int


def test_queue_keys_left_out_keep_their_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[queues]\nlease = 15\n"))
    assert config.queues == QueueSettings(lease=15.0)


def test_the_workers_section_is_read(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[workers]\nalive_window = 2.5\nretention = 600\n"))
    assert config.workers == WorkerSettings(alive_window=2.5, retention=600.0)


def test_the_default_queue_settings_and_alive_window() -> None:
    assert Config().queues == QueueSettings(
        lease=0.0, max_attempts=5, backoff_base=1.0, backoff_cap=3600.0
    )
    assert Config().workers.alive_window == 60.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[queues]\nmax_attempts = 0", "[queues] max_attempts: must be an integer from 1 to 1000"),
        ("[queues]\nmax_attempts = 2.5", "[queues] max_attempts: must be an integer"),
        ("[queues]\nmax_attempts = many", "[queues] max_attempts: must be an integer"),
        ("[queues]\nmax_length = -1", "[queues] max_length: must be an integer from 0 to"),
        ("[redis]\nproducer_memory_share = 1.5", "[redis] producer_memory_share: must be a share"),
        ("[redis]\nproducer_memory_share = 0", "[redis] producer_memory_share: must be a share"),
        (
            "[queues]\nmax_attempts = 1001",
            "[queues] max_attempts: must be an integer from 1 to 1000",
        ),
        ("[queues]\nlease = -1", "[queues] lease: must be zero or a positive number"),
        ("[queues]\nlease = soon", "[queues] lease: must be zero or a positive number"),
        ("[queues]\nlease = 604801", "[queues] lease: must be from 0 to 604800 seconds"),
        ("[queues]\nbackoff_base = 0", "[queues] backoff_base: must be from 0.001 to 604800"),
        ("[queues]\nbackoff_cap = inf", "[queues] backoff_cap: must be zero or a positive"),
        (
            "[queues]\nbackoff_cap = 0.5",
            "[queues] backoff_base, backoff_cap: backoff_cap must be at least backoff_base",
        ),
        (
            "[queues]\nbackoff_base = 10\nbackoff_cap = 5",
            "[queues] backoff_base, backoff_cap: backoff_cap must be at least backoff_base",
        ),
        ("[queues]\nretries = 3", "[queues] retries: unknown key"),
        ("[workers]\nalive_window = 0", "[workers] alive_window: must be a positive number"),
        ("[workers]\nalive_window = -5", "[workers] alive_window: must be a positive number"),
        ("[workers]\nalive_window = nan", "[workers] alive_window: must be a positive number"),
        ("[workers]\ntimeout = 5", "[workers] timeout: unknown key"),
    ],
)
def test_a_bad_queues_or_workers_value_names_file_and_section(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value).startswith(f"{path}: {message}")


def test_the_shipped_config_lists_every_key_of_every_section() -> None:
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    parser.read(SHIPPED_CONFIG)
    for section, keys in sections().items():
        assert sorted(parser.options(section)) == sorted(key_name(key) for key in keys), section


# [auth] and [token:NAME]

TOKEN = (
    "[token:billing]\nsha256 = "
    + "ab" * 32
    + "\nscopes = produce consume\nqueues = inv *-reports\n"
)


def test_tokens_are_read_from_their_sections(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[auth]\nmode = on\n" + TOKEN))
    assert config.auth.mode == "on"
    [token] = config.tokens
    assert (token.name, token.scopes, token.queues) == (
        "billing",
        frozenset({"produce", "consume"}),
        ("inv", "*-reports"),
    )


def test_a_bad_token_section_names_the_file_and_the_section(tmp_path: Path) -> None:
    path = write(tmp_path, TOKEN.replace("produce consume", "produce everything"))
    with pytest.raises(ConfigError, match=r"\[token:billing\] scopes: unknown scope 'everything'"):
        load_config(path)


def test_two_tokens_of_one_secret_are_refused_naming_both_sections(tmp_path: Path) -> None:
    path = write(tmp_path, TOKEN + TOKEN.replace("billing", "other"))
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == (
        f"{path}: [token:other] sha256: the same as [token:billing]'s:"
        " each token needs a secret of its own"
    )


def test_the_auth_mode_is_on_or_off(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[auth\] mode: must be on or off"):
        load_config(write(tmp_path, "[auth]\nmode = maybe\n"))
