"""
The keys of host:port addresses ([redis] sentinels and cluster): one reader
for both, which takes host names, IPv4 addresses and bracketed IPv6
addresses with a port, and refuses any other text naming the file and the key.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from presque.config import ConfigError, load_config

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
    "redis_1:26379",
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
    words = ["127.0.0.1:1", "localhost:65535", "redis-1.example.com.:26379", f"{longest}:7000"]
    _, redis = read(tmp_path, key, " ".join(words))
    assert getattr(redis, key) == (
        ("127.0.0.1", 1),
        ("localhost", 65535),
        ("redis-1.example.com.", 26379),
        (longest, 7000),
    )


def test_an_overlong_word_is_cut_short_in_the_message(tmp_path: Path) -> None:
    _, message = refusal(tmp_path, "cluster", "h:" + "9" * 5000)
    assert len(message) < 500
