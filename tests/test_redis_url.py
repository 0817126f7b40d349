"""Redis URLs."""

from __future__ import annotations

import pytest

from presque.redis_url import RedisAddress, parse_redis_url


def test_host_port_and_database() -> None:
    assert parse_redis_url("redis://10.0.0.1:6380/2") == RedisAddress(
        host="10.0.0.1", port=6380, db=2
    )


def test_port_and_database_default_to_6379_and_0() -> None:
    assert parse_redis_url("redis://localhost") == RedisAddress(host="localhost")


def test_user_and_password_are_unquoted() -> None:
    address = parse_redis_url("redis://app:s%3Acret@h:1/0")
    assert (address.username, address.password) == ("app", "s:cret")


def test_password_without_user() -> None:
    address = parse_redis_url("redis://:secret@h")
    assert (address.username, address.password) == (None, "secret")


def test_ipv6_loopback() -> None:
    assert parse_redis_url("redis://[::1]:7000").host == "::1"


def test_rediss_is_redis_over_tls() -> None:
    assert parse_redis_url("rediss://cache.internal:6380/1") == RedisAddress(
        host="cache.internal", port=6380, db=1, tls=True
    )


def test_plain_redis_is_not_tls() -> None:
    assert not parse_redis_url("redis://localhost").tls


def test_describe_says_tls() -> None:
    assert parse_redis_url("rediss://h:1/2").describe() == "h:1 db 2 over TLS"


def test_unix_socket_with_database() -> None:
    assert parse_redis_url("unix:///var/run/redis.sock?db=4") == RedisAddress(
        unix_path="/var/run/redis.sock", db=4
    )


def test_describe_leaves_the_password_out() -> None:
    assert "secret" not in parse_redis_url("redis://:secret@h:1/0").describe()


@pytest.mark.parametrize(
    "url",
    ["http://h", "redis://", "redis://h:port", "redis://h/zero", "unix://", "unix:///s?db=x"],
)
def test_unusable_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        parse_redis_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://user:s3cret@h",
        "redis://:s3cret@h/zero",
        "redis://:s3cret@h:port",
        "unix://:s3cret@/s?db=x",
        "redis://us:s3cret@ho st",
    ],
)
def test_the_refusal_of_a_url_never_shows_its_password(url: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_redis_url(url)
    assert "s3cret" not in str(refused.value)
