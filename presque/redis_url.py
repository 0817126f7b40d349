"""
Redis addresses as URLs: C{redis://[user:pass@]host:port/db}, the same over
TLS as C{rediss://}, or C{unix:///path/to/socket?db=N}.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass(frozen=True)
class RedisAddress:
    """Where a Redis server listens and how to log in to it."""

    host: str | None = None
    port: int = 6379
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
    Parse C{url}.

    @raise ValueError: the URL is not one presque understands; the message
        says why.
    """
    parts = urlsplit(url.strip())
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    if parts.scheme == "unix":
        if not parts.path:
            raise ValueError(f"unix URL needs a socket path, got {url!r}")
        db = _db(parse_qs(parts.query).get("db", ["0"])[0], url)
        return RedisAddress(unix_path=parts.path, db=db, username=username, password=password)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"must start with redis://, rediss:// or unix://, got {url!r}")
    if not parts.hostname:
        raise ValueError(f"needs a host, got {url!r}")
    try:
        port = parts.port or 6379
    except ValueError:
        raise ValueError(f"has an invalid port, got {url!r}") from None
    path = parts.path.strip("/")
    return RedisAddress(
        host=parts.hostname,
        port=port,
        db=_db(path or "0", url),
        username=username,
        password=password,
        tls=parts.scheme == "rediss",
    )


def _db(text: str, url: str) -> int:
    if not text.isdigit():
        raise ValueError(f"database must be a number, got {text!r} in {url!r}")
    return int(text)
