"""
The keys of host:port addresses ([redis] sentinels, cluster and url, and
the interface and port of each [server] listen endpoint): one reader for
all, which takes host names, IPv4 addresses and bracketed IPv6 addresses
with a port, and refuses any other text naming the file and the key.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from presque.config import Config, ConfigError, load_config

#: Each address key, with what else it needs to be read.
KEYS = {"sentinels": "\nmaster_name = main", "cluster": ""}

BAD_HOSTS = [
    ":26379",  # no host
    "[]:26379",
    "redis one:26379",  # two words: "redis" has no port
    "redis\x7fone:26379",
    "user@redis:26379",
    "redis/0:26379",
    "r\u00e9dis:26379",
    "\u0661\u0662\u0667.0.0.1:26379",
    "-redis:26379",
    "redis-:26379",
    "redis..example.com:26379",
    "a" * 64 + ".example.com:26379",
    ".".join(["a" * 63] * 4) + ":26379",  # 255 characters
    "256.0.0.1:26379",
    "10.0.1:26379",
    "[not-ipv6]:26379",
    "[fe80::1%eth0]:26379",
]

BAD_PORTS = ["h:0", "h:65536", "h:99999", "h:", "h:-1", "h:+1", "h:2\u00b2", "h:\u0662\u0666"]


def read(tmp_path: Path, key: str, value: str):
    path = tmp_path / "presque.ini"
    path.write_text(f"[redis]\n{key} = {value}{KEYS[key]}\n")
    return path, load_config(path).with_overrides().redis


def refusal(tmp_path: Path, key: str, value: str) -> tuple[Path, str]:
    with pytest.raises(ConfigError) as raised:
        read(tmp_path, key, value)
    return tmp_path / "presque.ini", str(raised.value)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("word", BAD_HOSTS)
def test_a_host_that_is_no_host_name_nor_address_is_refused_naming_file_and_key(
    tmp_path: Path, key: str, word: str
) -> None:
    path, message = refusal(tmp_path, key, word)
    assert message.startswith(f"{path}: [redis] {key}: must be host:port such as")


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("word", BAD_PORTS)
def test_a_port_that_is_not_1_to_65535_in_ascii_digits_is_refused(
    tmp_path: Path, key: str, word: str
) -> None:
    path, message = refusal(tmp_path, key, word)
    assert message.startswith(f"{path}: [redis] {key}: must be host:port such as")
    assert message.endswith("the port must be 1 to 65535, in ASCII digits")


@pytest.mark.parametrize("key", KEYS)
def test_an_ipv6_address_without_brackets_is_refused(tmp_path: Path, key: str) -> None:
    _, message = refusal(tmp_path, key, "::1:26379")
    assert message.endswith("an IPv6 address goes in brackets")


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("value", ["h1:26379,h2:26379", "h1:26379, h2:26379", "[::1]:1,[::2]:2"])
def test_addresses_separated_by_commas_are_told_to_be_separated_by_spaces(
    tmp_path: Path, key: str, value: str
) -> None:
    path, message = refusal(tmp_path, key, value)
    assert message.startswith(f"{path}: [redis] {key}: must be host:port such as")
    assert message.endswith("addresses are separated by spaces or newlines, not commas")


@pytest.mark.parametrize("key", KEYS)
def test_an_ipv6_address_is_read_from_its_brackets(tmp_path: Path, key: str) -> None:
    _, redis = read(tmp_path, key, "[::1]:26379 [2001:db8::7]:7000")
    assert getattr(redis, key) == (("::1", 26379), ("2001:db8::7", 7000))


@pytest.mark.parametrize("key", KEYS)
def test_host_names_and_ipv4_addresses_are_read(tmp_path: Path, key: str) -> None:
    longest = ".".join(["a" * 63] * 3 + ["b" * 61])  # 253 characters
    words = [
        "127.0.0.1:1",
        "localhost:65535",
        "redis-1.example.com.:26379",
        "app_redis_1:6379",
        f"{longest}:7000",
    ]
    _, redis = read(tmp_path, key, " ".join(words))
    assert getattr(redis, key) == (
        ("127.0.0.1", 1),
        ("localhost", 65535),
        ("redis-1.example.com.", 26379),
        ("app_redis_1", 6379),
        (longest, 7000),
    )


def test_an_overlong_word_is_cut_short_in_the_message(tmp_path: Path) -> None:
    _, message = refusal(tmp_path, "cluster", "h:" + "9" * 5000)
    assert len(message) < 500


# [redis] url (and --redis): its host and port are read as the other addresses.

BAD_URL_HOSTS = [
    "redis://:6379",  # no host
    "redis://ho st:6379",
    "redis://r\u00e9dis",
    "redis://-redis",
    "redis://h%20x",
    "redis://256.0.0.1",
    "redis://" + "a" * 64 + ".example.com",
    "redis://[fe80::1%25eth0]:6379",
]


def read_url(tmp_path: Path, url: str):
    path = tmp_path / "presque.ini"
    path.write_text(f"[redis]\nurl = {url}\n")
    return path, load_config(path).redis.address


def url_refusal(tmp_path: Path, url: str) -> tuple[Path, str]:
    with pytest.raises(ConfigError) as raised:
        read_url(tmp_path, url)
    return tmp_path / "presque.ini", str(raised.value)


@pytest.mark.parametrize("url", BAD_URL_HOSTS)
def test_a_url_host_that_is_no_host_name_nor_address_is_refused_naming_file_and_key(
    tmp_path: Path, url: str
) -> None:
    path, message = url_refusal(tmp_path, url)
    assert message.startswith(f"{path}: [redis] url: needs a host[:port] such as")


@pytest.mark.parametrize("word", BAD_PORTS)
def test_a_url_port_that_is_not_1_to_65535_in_ascii_digits_is_refused(
    tmp_path: Path, word: str
) -> None:
    path, message = url_refusal(tmp_path, f"redis://{word}/0")
    assert message.startswith(f"{path}: [redis] url: needs a host[:port] such as")
    assert message.endswith("the port must be 1 to 65535, in ASCII digits")


def test_an_ipv6_url_host_without_brackets_is_refused(tmp_path: Path) -> None:
    _, message = url_refusal(tmp_path, "redis://::1:6379")
    assert message.endswith("an IPv6 address goes in brackets")


def test_a_url_with_a_control_character_is_refused(tmp_path: Path) -> None:
    # urlsplit would drop the tab, and read redis://h:6379.
    path, message = url_refusal(tmp_path, "redis://h\t:6379")
    assert message.startswith(f"{path}: [redis] url: must not hold control characters")


@pytest.mark.parametrize("url", ["redis://h/\u0662", "unix:///tmp/r.sock?db=\u00b2"])
def test_a_url_database_in_other_than_ascii_digits_is_refused(tmp_path: Path, url: str) -> None:
    path, message = url_refusal(tmp_path, url)
    assert message.startswith(f"{path}: [redis] url: database must be a number")


def test_url_hosts_are_read_as_the_other_addresses_are(tmp_path: Path) -> None:
    urls = [
        "redis://10.0.0.1:1/2",
        "redis://:pw@redis-1.example.com.",
        "rediss://[::1]:65535",
        "redis://app_redis_1",
    ]
    addresses = [read_url(tmp_path, url)[1] for url in urls]
    assert [(address.host, address.port) for address in addresses] == [
        ("10.0.0.1", 1),
        ("redis-1.example.com.", 6379),
        ("::1", 65535),
        ("app_redis_1", 6379),
    ]


def test_the_redis_option_is_read_as_the_url_key_is() -> None:
    with pytest.raises(ConfigError) as raised:
        Config().with_overrides(redis_url="redis://h:0")
    assert str(raised.value) == (
        "--redis: needs a host[:port] such as redis.example.com:6379, 10.0.0.1 or [::1]:6379,"
        " got 'h:0': the port must be 1 to 65535, in ASCII digits"
    )


# [server] listen (and --listen): the port and interface of a TCP endpoint.

ENDPOINT = "must be a Twisted server endpoint such as tcp:8080:interface=127.0.0.1"


def read_listen(tmp_path: Path, listen: str) -> tuple[str, ...]:
    path = tmp_path / "presque.ini"
    path.write_text(f"[server]\nlisten = {listen}\n")
    return load_config(path).server.listen


def listen_refusal(tmp_path: Path, listen: str) -> tuple[Path, str]:
    with pytest.raises(ConfigError) as raised:
        read_listen(tmp_path, listen)
    return tmp_path / "presque.ini", str(raised.value)


@pytest.mark.parametrize(
    "endpoint",
    [
        "tcp:65536",
        "tcp:99999:interface=127.0.0.1",
        "tcp:-1",
        "tcp:+80",
        "tcp:8_0",
        "tcp:\u0668\u0660",
        "tcp:port=\u00b2",
        "tcp6:70000:interface=\\:\\:1",
        "ssl:65536:privateKey=key.pem",
        "tcp",
    ],
)
def test_a_listen_port_that_is_not_0_to_65535_in_ascii_digits_is_refused(
    tmp_path: Path, endpoint: str
) -> None:
    path, message = listen_refusal(tmp_path, endpoint)
    assert message == (
        f"{path}: [server] listen: {ENDPOINT}, got {endpoint!r}"
        " (the port must be 0 to 65535, in ASCII digits)"
    )


@pytest.mark.parametrize(
    "interface",
    [
        "a@b",
        "r\u00e9dis",
        "redis/0",
        "256.0.0.1",
        "-h",
        "a" * 64,
        "fe80\\:\\:1%eth0",
        "\\:\\:1\\:",
    ],
)
def test_a_listen_interface_that_is_no_host_name_nor_address_is_refused(
    tmp_path: Path, interface: str
) -> None:
    endpoint = f"tcp:8080:interface={interface}"
    path, message = listen_refusal(tmp_path, endpoint)
    assert message.startswith(f"{path}: [server] listen: {ENDPOINT}, got {endpoint!r}")
    assert "(the interface: " in message


def test_listen_ports_from_0_and_interfaces_of_every_kind_are_read(tmp_path: Path) -> None:
    listen = (
        "tcp:0",
        "tcp:65535:interface=10.0.0.1",
        "tcp:port=8080:interface=localhost",
        "tcp6:8080:interface=\\:\\:1",
        "tcp:8081:interface=",
        "unix:/tmp/presque.sock",
    )
    assert read_listen(tmp_path, " ".join(listen)) == listen


def test_a_listen_endpoint_ending_with_a_lone_backslash_is_refused(tmp_path: Path) -> None:
    _, message = listen_refusal(tmp_path, "tcp:8080\\")
    assert message.endswith("(ends with a lone backslash)")


def test_an_ssl_endpoint_whose_key_file_is_missing_is_refused(tmp_path: Path) -> None:
    # Twisted reads it as it parses the endpoint: this was a traceback.
    endpoint = f"ssl:8443:privateKey={tmp_path / 'absent.pem'}"
    path, message = listen_refusal(tmp_path, endpoint)
    assert message.startswith(f"{path}: [server] listen: {ENDPOINT}, got {endpoint!r}")
    assert "No such file or directory" in message


def test_the_listen_option_is_read_as_the_listen_key_is() -> None:
    with pytest.raises(ConfigError) as raised:
        Config().with_overrides(listen=("tcp:8080:interface=a@b",))
    assert str(raised.value).startswith(f"--listen: {ENDPOINT}, got 'tcp:8080:interface=a@b'")
