"""
How the text of each configuration key is read: one function per kind of
value, raising C{ValueError} with a message that says what was expected.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from pathlib import Path

from presque.addresses import (
    TCP_ENDPOINTS,
    ascii_digits,
    check_host,
    endpoint_parts,
    host_port,
    port_number,
)
from presque.redis_url import RedisAddress, parse_redis_url


class KeysError(ValueError):
    """
    What is wrong with C{keys} of a section (none: the section itself),
    said in C{why}; alone, it reads C{KEY, KEY: why}. The configuration
    names the file and the section with it (L{presque.config.config_error}).
    """

    def __init__(self, keys: Sequence[str], why: object) -> None:
        self.keys = tuple(keys)
        self.why = str(why)
        super().__init__(f"{', '.join(self.keys)}: {self.why}" if self.keys else self.why)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise ValueError(f"must be a positive integer, got {text!r}")
    return value


def _number(text: str, smallest: float, description: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= smallest):
        raise ValueError(f"must be {description}, got {text!r}")
    return value


def positive_float(text: str) -> float:
    return _number(text, math.ulp(0), "a positive number")


def share(text: str) -> float:
    value = _number(text, math.ulp(0), "a share from 0 to 1 (0.9: 90%)")
    if value > 1:
        raise ValueError(f"must be a share from 0 to 1 (0.9: 90%), got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    return _number(text, 0.0, "zero or a positive number")


def boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "yes", "true", "on"):
        return True
    if lowered in ("0", "no", "false", "off"):
        return False
    raise ValueError(f"must be one of yes/no/true/false/on/off/1/0, got {text!r}")


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def origins(text: str) -> tuple[str, ...]:
    origins = words(text)
    for origin in origins:
        if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
            raise ValueError(f"{origin!r} is not an origin such as https://app.example.com")
    return origins


def endpoints(text: str) -> tuple[str, ...]:
    endpoints = tuple(text.split())
    if not endpoints:
        raise ValueError("needs at least one endpoint, e.g. tcp:8080:interface=127.0.0.1")
    for endpoint in endpoints:
        check_endpoint(endpoint)
    return endpoints


def check_endpoint(description: str) -> None:
    """
    A Twisted server endpoint, read as Twisted reads it; one on a TCP port
    must give a port from 0 (any free one) to 65535 in ASCII digits and, if
    any, an interface that is an IPv4 or IPv6 address or a host name
    (L{presque.addresses}), which Twisted would take as they come and fail
    on, or bind to something else, only once it listens.
    """
    from twisted.internet.endpoints import serverFromString

    try:
        kind, args, options = endpoint_parts(description)
        if kind in TCP_ENDPOINTS:
            port_number(options.get("port", args[0] if args else ""), smallest=0)
            if options.get("interface"):
                try:
                    check_host(options["interface"])
                except ValueError as why:
                    raise ValueError(f"the interface: {why}") from None
        # Parsing only: no reactor is touched until the endpoint listens.
        # It reads the files of an ssl: endpoint, and OpenSSL's errors
        # share no narrower base than Exception.
        serverFromString(None, description)
    except Exception as error:
        raise ValueError(
            f"must be a Twisted server endpoint such as tcp:8080:interface=127.0.0.1,"
            f" got {description!r} ({error})"
        ) from None


def appendfsync(text: str) -> str:
    if text not in ("always", "everysec", "no"):
        raise ValueError(f"must be always, everysec or no, got {text!r}")
    return text


#: The largest count Redis takes (a signed 64-bit integer), as WAIT's replicas.
LARGEST_REDIS_COUNT = 2**63 - 1


def non_negative_int(text: str) -> int:
    digits = text.strip()
    if not ascii_digits(digits) or len(digits) > 19 or int(digits) > LARGEST_REDIS_COUNT:
        raise ValueError(
            f"must be zero or a positive integer up to {LARGEST_REDIS_COUNT}, got {text!r}"
        )
    return int(digits)


_HOST_PORT_FORM = "host:port such as 127.0.0.1:26379, redis-1.example.com:26379 or [::1]:26379"


def host_ports(text: str) -> tuple[tuple[str, int], ...]:
    """C{host:port ...} (L{presque.addresses.host_port}), space or newline separated."""
    return tuple(_host_port(word) for word in text.split())


def _host_port(word: str) -> tuple[str, int]:
    try:
        if "," in word:
            # "h1:26379,h2:26379", read as the host "h1:26379,h2", would be
            # told that an IPv6 address goes in brackets.
            raise ValueError("addresses are separated by spaces or newlines, not commas")
        return host_port(word)
    except ValueError as why:
        shown = repr(word) if len(word) <= 100 else repr(word[:100]) + "..."
        raise ValueError(f"must be {_HOST_PORT_FORM}, got {shown}: {why}") from None


def optional_text(text: str) -> str | None:
    return text.strip() or None


def optional_redis_url(text: str) -> RedisAddress | None:
    return parse_redis_url(text) if text.strip() else None


def optional_path(text: str) -> Path | None:
    return Path(text.strip()) if text.strip() else None


#: The most serving processes of one daemon. A fixed bound, not a multiple
#: of the cores, so that a file that starts on one machine starts on every
#: other: each process costs its memory (tens of MB) and [redis] pool_size
#: connections, and serves from one core, so past the cores more only
#: compete for them; 64 is more cores than presque's Python side can use
#: against one Redis, and few enough that a typo (1000) cannot fork a host
#: out of memory or Redis out of connections.
MAX_PROCESSES = 64


def process_count(text: str) -> int:
    """
    From 1 to L{MAX_PROCESSES}, or C{auto}: as many as the CPUs this process
    may run on, up to L{MAX_PROCESSES}.
    """
    if text.strip().lower() == "auto":
        cpus = (
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1
        )
        return min(cpus, MAX_PROCESSES)
    digits = text.strip()
    if not ascii_digits(digits) or len(digits) > 5 or not 1 <= int(digits) <= MAX_PROCESSES:
        raise ValueError(f"must be a positive integer up to {MAX_PROCESSES} or auto, got {text!r}")
    return int(digits)
