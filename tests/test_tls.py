"""
HTTPS listeners: an ssl: endpoint with a certificate the suite makes, and
real clients that verify it (urllib, http.client and treq).
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_twisted import ensureDeferred as async_test

from harness.certificates import Certificates, make_certificates
from harness.daemon import Daemon, tokens_on_config
from harness.redis import RedisServer
from presque.auth import new_secret, token_section
from tests.support import Daemons


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return make_certificates(tmp_path)


@pytest.fixture
def https(
    tmp_path: Path, daemons: Daemons, clean_redis: RedisServer, certificates: Certificates
) -> Iterator[Daemon]:
    tls = f"privateKey={certificates.key}:certKey={certificates.certificate}"
    yield daemons.start(tmp_path, "--redis", clean_redis.url, tls=tls, trust=certificates.ca)


def verifying(certificates: Certificates) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificates.ca))


def test_jobs_go_in_and_out_over_https(https: Daemon) -> None:
    assert https.url.startswith("https://")
    assert https.request("POST", "/q/mail", {"to": "alice"})[0] == 201
    assert https.request("GET", "/q/mail") == (200, b'{"to": "alice"}')


def test_requests_share_one_tls_connection(https: Daemon, certificates: Certificates) -> None:
    connection = http.client.HTTPSConnection(
        "127.0.0.1", https.port, context=verifying(certificates), timeout=10
    )
    try:
        answers = []
        for n in range(3):
            body = json.dumps({"n": n})
            connection.request("POST", "/q/mail", body, {"Content-Type": "application/json"})
            reply = connection.getresponse()
            reply.read()
            answers.append(reply.status)
            if n == 0:
                first = connection.sock
            assert connection.sock is first, "the connection was not kept alive"
    finally:
        connection.close()
    assert answers == [201, 201, 201]


def test_a_client_that_does_not_trust_the_certificate_is_refused(https: Daemon) -> None:
    with (
        pytest.raises(ssl.SSLCertVerificationError),
        socket.create_connection(("127.0.0.1", https.port), timeout=10) as raw,
    ):
        ssl.create_default_context().wrap_socket(raw, server_hostname="127.0.0.1")


def test_plain_http_to_the_tls_port_gets_no_answer_and_no_harm(https: Daemon) -> None:
    with socket.create_connection(("127.0.0.1", https.port), timeout=10) as raw:
        raw.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        raw.settimeout(10)
        assert not raw.recv(4096).startswith(b"HTTP/1.1 200")
    assert https.request("GET", "/health")[0] == 200


@async_test
async def test_treq_talks_to_it_trusting_the_authority(
    https: Daemon, certificates: Certificates
) -> None:
    from treq.client import HTTPClient
    from twisted.internet import reactor
    from twisted.internet.ssl import Certificate, optionsForClientTLS
    from twisted.web.client import Agent, BrowserLikePolicyForHTTPS

    authority = Certificate.loadPEM(certificates.ca.read_bytes())

    class Trusting(BrowserLikePolicyForHTTPS):
        def creatorForNetloc(self, hostname: bytes, port: int):
            return optionsForClientTLS(hostname.decode("ascii"), trustRoot=authority)

    client = HTTPClient(Agent(reactor, contextFactory=Trusting()))
    reply = await client.get(https.url + "/health")
    assert (reply.code, await reply.json()) == (200, {"status": "ok"})


def test_the_pages_session_cookie_is_secure_over_https(
    tmp_path: Path, daemons: Daemons, clean_redis: RedisServer, certificates: Certificates
) -> None:
    secret = new_secret()
    section = token_section("ops", secret, ["read"], ["*"])
    config = tokens_on_config(tmp_path / "guarded.ini", section)
    tls = f"privateKey={certificates.key}:certKey={certificates.certificate}"
    daemon = daemons.start(
        tmp_path, "--redis", clean_redis.url, tls=tls, trust=certificates.ca, config=config
    )
    connection = http.client.HTTPSConnection(
        "127.0.0.1", daemon.port, context=verifying(certificates), timeout=10
    )
    try:
        body = json.dumps({"token": secret})
        connection.request("POST", "/login", body, {"Content-Type": "application/json"})
        reply = connection.getresponse()
        reply.read()
    finally:
        connection.close()
    assert reply.status == 200
    assert "; Secure" in reply.getheader("Set-Cookie")
