"""
Redis over TLS (rediss://): presque checks Redis' certificate against the
configured authority and the URL's host, shows a client certificate when
told to, and serves every route (wake-ups included) through it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness.certificates import Certificates, make_certificates
from harness.daemon import Daemon, shipped_config_with
from harness.polling import wait_until
from harness.redis import RedisServer
from tests.support import Daemons, assert_a_post_wakes_a_waiting_consumer
from tests.test_redis_acl import ACL


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return make_certificates(tmp_path)


@contextmanager
def tls_redis(certificates: Certificates, *options: str) -> Iterator[RedisServer]:
    """A Redis that speaks TLS with C{certificates}, stopped even when the test fails."""
    server = RedisServer(None, "everysec", *options, tls=certificates).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_over_tls(certificates: Certificates) -> Iterator[RedisServer]:
    with tls_redis(certificates) as server:
        yield server


def tls_config(folder: Path, **files: Path) -> Path:
    """The shipped configuration with these [redis] tls_* keys set."""
    lines = {f"tls_{name} =": f"tls_{name} = {path}" for name, path in files.items()}
    return shipped_config_with(folder / "tls.ini", lines)


def trusting(certificates: Certificates, folder: Path) -> Path:
    return tls_config(folder, ca_file=certificates.ca)


def never_ready(daemon: Daemon, told: str) -> None:
    """The daemon waits for Redis, and its log says why with C{told}."""
    try:
        waiting = re.compile(r"waiting for redis at .* over TLS: .*last connection lost: .*" + told)
        wait_until(lambda: waiting.search(daemon.log.read_text()), 30, daemon.log.read_text)
    finally:
        daemon.stop()


def test_jobs_go_through_a_redis_over_tls(
    tmp_path: Path, daemons: Daemons, redis_over_tls: RedisServer, certificates: Certificates
) -> None:
    config = trusting(certificates, tmp_path)
    daemon = daemons.start(tmp_path, "--redis", redis_over_tls.url, config=config)
    assert daemon.request("POST", "/q/mail", {"to": "alice"})[0] == 201
    assert redis_over_tls.call("LLEN", "presque:{mail}:ready") == 1
    assert daemon.request("GET", "/q/mail") == (200, b'{"to": "alice"}')


def test_a_waiting_consumer_is_woken_over_tls(
    tmp_path: Path, daemons: Daemons, redis_over_tls: RedisServer, certificates: Certificates
) -> None:
    config = trusting(certificates, tmp_path)
    daemon = daemons.start(tmp_path, "--redis", redis_over_tls.url, config=config)
    assert_a_post_wakes_a_waiting_consumer(daemon)


def test_an_acl_user_logs_in_over_tls(
    tmp_path: Path, daemons: Daemons, certificates: Certificates
) -> None:
    with tls_redis(certificates, "--user", *ACL, "--user", "default", "off") as server:
        url = f"rediss://presque:s3cret@127.0.0.1:{server.port}/0"
        daemon = daemons.start(tmp_path, "--redis", url, config=trusting(certificates, tmp_path))
        assert daemon.request("POST", "/q/mail", {"to": "carol"})[0] == 201
        assert daemon.request("GET", "/q/mail") == (200, b'{"to": "carol"}')


def test_the_authority_may_be_any_certificate_of_a_bundle(
    tmp_path: Path, daemons: Daemons, redis_over_tls: RedisServer, certificates: Certificates
) -> None:
    folder = tmp_path / "stranger"
    folder.mkdir()
    bundle = tmp_path / "bundle.pem"
    other = make_certificates(folder, authority="another authority")
    bundle.write_bytes(other.ca.read_bytes() + certificates.ca.read_bytes())
    config = tls_config(tmp_path, ca_file=bundle)
    daemon = daemons.start(tmp_path, "--redis", redis_over_tls.url, config=config)
    assert daemon.request("POST", "/q/mail", {"to": "erin"})[0] == 201


def test_a_redis_certificate_from_another_authority_is_refused(
    tmp_path: Path, redis_over_tls: RedisServer
) -> None:
    folder = tmp_path / "stranger"
    folder.mkdir()
    config = trusting(make_certificates(folder), tmp_path)
    daemon = Daemon(tmp_path, "--redis", redis_over_tls.url, config=config).start()
    never_ready(daemon, "certificate verify failed")


def test_a_redis_certificate_for_another_name_is_refused(tmp_path: Path) -> None:
    elsewhere = make_certificates(tmp_path, names=("redis.example.com",))
    with tls_redis(elsewhere) as server:
        config = trusting(elsewhere, tmp_path)
        daemon = Daemon(tmp_path, "--redis", server.url, config=config).start()
        never_ready(daemon, "IPAddressMismatch")


def test_a_redis_that_asks_for_a_client_certificate_gets_the_configured_one(
    tmp_path: Path, daemons: Daemons, certificates: Certificates
) -> None:
    with tls_redis(certificates, "--tls-auth-clients", "yes") as server:
        config = tls_config(
            tmp_path,
            ca_file=certificates.ca,
            cert_file=certificates.client_certificate,
            key_file=certificates.client_key,
        )
        daemon = daemons.start(tmp_path, "--redis", server.url, config=config)
        assert daemon.request("POST", "/q/mail", {"to": "dave"})[0] == 201


def test_without_a_client_certificate_a_redis_that_asks_for_one_is_not_reached(
    tmp_path: Path, certificates: Certificates
) -> None:
    with tls_redis(certificates, "--tls-auth-clients", "yes") as server:
        config = trusting(certificates, tmp_path)
        daemon = Daemon(tmp_path, "--redis", server.url, config=config).start()
        never_ready(daemon, "certificate required")


@pytest.mark.parametrize(
    ("files", "told"),
    [
        ({"ca_file": "absent.pem"}, "[redis] tls_ca_file: cannot read absent.pem"),
        ({"ca_file": "garbage.pem"}, "[redis] tls_ca_file: not a usable PEM file"),
        (
            {"ca_file": "ca.pem", "cert_file": "garbage.pem", "key_file": "garbage.pem"},
            "[redis] tls_cert_file: not a usable PEM file",
        ),
    ],
)
def test_unusable_tls_files_stop_the_daemon_naming_the_config_file_and_key(
    tmp_path: Path, daemons: Daemons, certificates: Certificates, files: dict[str, str], told: str
) -> None:
    (tmp_path / "garbage.pem").write_text("-----BEGIN CERTIFICATE-----\nnot base64\n")
    config = tls_config(tmp_path, **{name: Path(path) for name, path in files.items()})
    daemon = Daemon(tmp_path, "--redis", "rediss://127.0.0.1:6390/0", config=config).launch()
    daemons.append(daemon)
    assert daemon.process is not None
    assert daemon.process.wait(30) != 0
    assert f"presque: {config}: {told}" in daemon.log.read_text()
