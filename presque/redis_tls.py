"""
TLS to Redis (C{rediss://}): whom to trust, and which certificate to show.

txredisapi's own C{ssl_context_factory=True} checks no certificate at all;
the options built here verify the server's chain against the configured
authorities (or the system's) and its name against the URL's host.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twisted.internet import ssl

from presque.config_values import KeysError


class BadTLSFiles(KeysError):
    """A certificate or key file for Redis' TLS cannot be used: the key of [redis] that gave it."""


def client_options(
    host: str, ca_file: Path | None, cert_file: Path | None, key_file: Path | None
) -> Any:
    """
    The client's TLS options for a Redis that must prove it is C{host} (a
    name or an IP address) with a certificate from C{ca_file}'s PEM
    authorities (None: the system's). C{cert_file} and C{key_file}, if
    given, are the certificate shown to a Redis with C{tls-auth-clients}.

    @raise BadTLSFiles: a file is unreadable or not what it should be.
    """
    trust = ssl.platformTrust()
    if ca_file:
        trust = _loaded("tls_ca_file", _authorities, _read(ca_file, "tls_ca_file"))
    client = None
    if cert_file and key_file:
        pem = _read(cert_file, "tls_cert_file") + b"\n" + _read(key_file, "tls_key_file")
        client = _loaded("tls_cert_file", ssl.PrivateCertificate.loadPEM, pem)
    return ssl.optionsForClientTLS(host, trustRoot=trust, clientCertificate=client)


_END = b"-----END CERTIFICATE-----"


def _authorities(pem: bytes) -> Any:
    # Certificate.loadPEM reads the first certificate only; a CA file is
    # often a bundle.
    blocks = [block + _END for block in pem.split(_END) if b"-----BEGIN CERTIFICATE" in block]
    if not blocks:
        raise ValueError("no certificate in it")
    return ssl.trustRootFromCertificates([ssl.Certificate.loadPEM(block) for block in blocks])


def _read(path: Path, key: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise BadTLSFiles([key], f"cannot read {path}: {error.strerror}") from None


def _loaded(key: str, load: Any, pem: bytes) -> Any:
    try:
        return load(pem)
    except Exception as error:  # OpenSSL's errors share no narrower base
        raise BadTLSFiles([key], f"not a usable PEM file: {error}") from None
