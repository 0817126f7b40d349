"""
Tokens and what they allow. With C{[auth] mode = on}, every route but the
open ones (health, readiness, the API description and the page's files)
needs C{Authorization: Bearer <secret>} of a token that has the route's
scope on the route's queue. Tokens are configured by name with the SHA-256
of their secret, never the secret, in C{[token:NAME]} sections:

    [token:billing]
    sha256 = <hex digest of the secret>
    scopes = produce consume
    queues = invoices reports-*
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from presque.config_values import KeysError

#: What a token may do, each covering a set of routes (see the route table).
SCOPES = {
    "produce": "post jobs",
    "consume": "fetch, ack, fail, extend, stream; register as a worker",
    "read": "status, views, history, metrics",
    "admin": "control, settings, purge, dead letters, jobs' actions, deleting queues",
}
#: The keys of a [token:NAME] section.
TOKEN_KEYS = {
    "sha256": "the SHA-256 of the token's secret, in hex",
    "scopes": "its scopes, separated by spaces: " + ", ".join(SCOPES),
    "queues": "the queues it covers: names or glob patterns (* for all), separated by spaces",
}
#: Where a [token:NAME] section begins its name.
TOKEN_SECTION = "token:"
_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


def digest_of(secret: str) -> bytes:
    """The SHA-256 of a token's secret, as it is configured."""
    return hashlib.sha256(secret.encode("utf-8")).digest()


def new_secret() -> str:
    """A fresh token secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Token:
    """A configured token: its name, its secret's digest, its scopes and queues."""

    name: str
    digest: bytes
    scopes: frozenset[str]
    queues: tuple[str, ...]

    def allows(self, scope: str, queue: str | None) -> bool:
        """Whether it has C{scope} on C{queue} (None: on every queue, as a route
        about all of them needs)."""
        if scope not in self.scopes:
            return False
        if queue is None:
            return "*" in self.queues
        return any(fnmatchcase(queue, pattern) for pattern in self.queues)


def token_from_section(name: str, keys: Mapping[str, str]) -> Token:
    """
    The token of the section C{[token:NAME]} and its C{keys}.

    @raise KeysError: a key is missing, unknown or wrong, or the name is
        not one (no key); the error names the key, its message says why.
    """
    if not _NAME.fullmatch(name):
        raise KeysError((), "a token's name is 1 to 64 letters, digits, '.', '_' or '-'")
    for key in keys:
        if key not in TOKEN_KEYS:
            raise KeysError([key], f"unknown key; known: {', '.join(TOKEN_KEYS)}")
    missing = [key for key in TOKEN_KEYS if not keys.get(key, "").strip()]
    if missing:
        raise KeysError(missing[:1], f"missing ({TOKEN_KEYS[missing[0]]})")
    hex_digest = keys["sha256"].strip().lower()
    if not _HEX_DIGEST.fullmatch(hex_digest):
        raise KeysError(["sha256"], "must be 64 hex digits (the digest, never the secret)")
    scopes = frozenset(keys["scopes"].split())
    unknown = sorted(scopes - SCOPES.keys())
    if unknown:
        raise KeysError(["scopes"], f"unknown scope {unknown[0]!r}; known: {', '.join(SCOPES)}")
    return Token(name, bytes.fromhex(hex_digest), scopes, tuple(keys["queues"].split()))


def token_section(name: str, secret: str, scopes: Iterable[str], queues: Iterable[str]) -> str:
    """
    The INI section that configures a token of C{secret}.

    @raise ValueError: the section would not be a valid one; the message says why.
    """
    keys = {
        "sha256": digest_of(secret).hex(),
        "scopes": " ".join(scopes),
        "queues": " ".join(queues),
    }
    token_from_section(name, keys)
    lines = "".join(f"{key} = {value}\n" for key, value in keys.items())
    return f"[{TOKEN_SECTION}{name}]\n{lines}"


class Authority:
    """Knows the configured tokens, and which one a secret is."""

    def __init__(self, tokens: Iterable[Token]) -> None:
        self.tokens = tuple(tokens)

    def identify(self, secret: str) -> Token | None:
        """The token of C{secret}, or None; every digest is compared, in constant time."""
        presented = digest_of(secret)
        found = None
        for token in self.tokens:
            if hmac.compare_digest(presented, token.digest):
                found = token
        return found
