"""
Redis addresses as URLs: C{redis://[user:pass@]host:port/db}, the same over
TLS as C{rediss://}, or C{unix:///path/to/socket?db=N}.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from presque.addresses import ascii_digits, host_port

#: The port of a redis:// URL that gives none.
DEFAULT_PORT = 6379


@dataclass(frozen=True)
class RedisAddress:
    """Where a Redis server listens and how to log in to it."""

    host: str | None = None
    port: int = DEFAULT_PORT
    unix_path: str | None = None
    db: int = 0
    username: str | None = None
    password: str | None = None
    #: Whether to speak TLS to it (rediss://).
    tls: bool = False

    def describe(self) -> str:
        """A printable form with the password left out."""
        where = self.unix_path if self.unix_path else f"{self.host}:{self.port}"
        return f"{where} db {self.db}" + (" over TLS" if self.tls else "")


def parse_redis_url(url: str) -> RedisAddress:
    """
    Parse C{url}. Its host and port are read as every other address of the
    configuration (L{presque.addresses.host_port}): a host name, an IPv4
    address or an IPv6 address in brackets, and a port from 1 to 65535.

    @raise ValueError: the URL is not one presque understands; the message
        says why.
    """
    url = url.strip()
    if not url.isprintable():
        # urlsplit would drop some of them (tabs, line breaks) unseen.
        raise ValueError("must not hold control characters (tabs, line breaks...)")
    parts = urlsplit(url)
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    if parts.scheme == "unix":
        if not parts.path:
            raise ValueError(f"unix URL needs a socket path, got {_shown(url)!r}")
        db = _db(parse_qs(parts.query).get("db", ["0"])[0], url)
        return RedisAddress(unix_path=parts.path, db=db, username=username, password=password)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"must start with redis://, rediss:// or unix://, got {_shown(url)!r}")
    # What follows the credentials, which the message leaves out.
    where = parts.netloc.rpartition("@")[2]
    try:
        host, port = host_port(where, default_port=DEFAULT_PORT)
    except ValueError as why:
        raise ValueError(
            f"needs a host[:port] such as redis.example.com:6379, 10.0.0.1 or [::1]:6379,"
            f" got {where[:100]!r}: {why}"
        ) from None
    path = parts.path.strip("/")
    return RedisAddress(
        host=host,
        port=port,
        db=_db(path or "0", url),
        username=username,
        password=password,
        tls=parts.scheme == "rediss",
    )


def _db(text: str, url: str) -> int:
    if not ascii_digits(text):
        raise ValueError(f"database must be a number, got {text!r} in {_shown(url)!r}")
    return int(text)


def _shown(url: str) -> str:
    """C{url} for a message: its credentials, if any, as C{***}; 100 characters at most."""
    scheme, separator, rest = url.partition("://")
    if separator:
        authority, slash, path = rest.partition("/")
        if "@" in authority:
            authority = "***@" + authority.rpartition("@")[2]
        url = scheme + separator + authority + slash + path
    return url[:100]
