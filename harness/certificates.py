"""
Certificates for the TLS tests, made fresh by the suite: a certificate
authority, a server certificate it signs (for 127.0.0.1 and localhost
unless told otherwise) and a client certificate, written as PEM files.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Certificates:
    """
    The PEM files of one authority, of the server certificate it signed, and
    of a client certificate it signed (for servers that ask clients for one).
    """

    ca: Path
    certificate: Path
    key: Path
    client_certificate: Path
    client_key: Path


#: The names the server certificate is for, unless told otherwise.
LOOPBACK_NAMES = ("localhost", "127.0.0.1")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _builder(subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey) -> Any:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )


def _write(path: Path, certificate: x509.Certificate) -> None:
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def make_certificates(
    folder: Path, names: tuple[str, ...] = LOOPBACK_NAMES, authority: str = "presque test authority"
) -> Certificates:
    """
    In C{folder}: a fresh authority named C{authority}, a server certificate
    for C{names} (host names or IP addresses), and a client certificate, both
    signed by it.
    """
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(authority)
    ca = (
        _builder(ca_name, ca_name, ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    files = Certificates(
        folder / "ca.pem",
        folder / "server.pem",
        folder / "server-key.pem",
        folder / "client.pem",
        folder / "client-key.pem",
    )
    _write(files.ca, ca)
    leaf = x509.BasicConstraints(ca=False, path_length=None)
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        _builder(_name(names[0]), ca_name, key)
        .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), False)
        .add_extension(leaf, critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    _write(files.certificate, server)
    files.key.write_bytes(_pem_key(key))
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = (
        _builder(_name("presque test client"), ca_name, client_key)
        .add_extension(leaf, critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    _write(files.client_certificate, client)
    files.client_key.write_bytes(_pem_key(client_key))
    return files
