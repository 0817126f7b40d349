"""
How the text of each configuration key is read: one function per kind of
value, raising C{ValueError} with a message that says what was expected.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from pathlib import Path

from presque.redis_url import RedisAddress, parse_redis_url


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
    from twisted.internet.endpoints import serverFromString

    try:
        # Parsing only: no reactor is touched until the endpoint listens.
        serverFromString(None, description)
    except (ValueError, KeyError, TypeError) as error:
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


def _ascii_digits(text: str) -> bool:
    # str.isdigit() is also true of non-ASCII digits, which int() may refuse
    # (u'\u00b2') or read (u'\u0662' is 2): neither is a number of the file's.
    return text.isascii() and text.isdigit()


def non_negative_int(text: str) -> int:
    digits = text.strip()
    if not _ascii_digits(digits) or len(digits) > 19 or int(digits) > LARGEST_REDIS_COUNT:
        raise ValueError(
            f"must be zero or a positive integer up to {LARGEST_REDIS_COUNT}, got {text!r}"
        )
    return int(digits)


#: A label of a host name (RFC 1123): ASCII letters, digits and inner hyphens, 1 to 63 of them.
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
#: The longest host name (RFC 1123), without the trailing dot of a fully qualified one.
MAX_HOST_NAME = 253
_HOST_PORT_FORM = "host:port such as 127.0.0.1:26379, redis-1.example.com:26379 or [::1]:26379"


def _host_name(host: str) -> bool:
    name = host.removesuffix(".")
    labels = name.split(".")
    # A name whose last label is all digits is a mistyped IPv4 address
    # (256.1.1.1, 10.0.1): no top-level domain is all digits (RFC 3696).
    return (
        len(name) <= MAX_HOST_NAME
        and all(_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )


def _port(text: str) -> int | None:
    if not (_ascii_digits(text) and len(text) <= 5 and 0 < int(text) < 65536):
        return None
    return int(text)


def host_port(word: str) -> tuple[str, int]:
    """
    One C{host:port}: a host name (RFC 1123), an IPv4 address, or an IPv6
    address in brackets (C{[::1]:26379}, read as C{::1}), and a port from 1
    to 65535 in ASCII digits. The one reader of every key of addresses.

    @raise ValueError: anything else; the message says what is wrong.
    """
    if "," in word:
        # "h1:26379,h2:26379" read as one host "h1:26379,h2" would be told
        # that an IPv6 address goes in brackets.
        raise _not_host_port(word, "addresses are separated by spaces or newlines, not commas")
    if word.startswith("["):
        host, bracket, port = word[1:].partition("]")
        if not (bracket and port.startswith(":")):
            raise _not_host_port(word, "an IPv6 address is [address]:port")
        port = port[1:]
        try:
            ipv6 = ipaddress.IPv6Address(host)
        except ValueError:
            raise _not_host_port(word, "no IPv6 address in the brackets") from None
        if ipv6.scope_id is not None:
            raise _not_host_port(word, "an IPv6 zone (%...) is not supported")
    else:
        host, colon, port = word.rpartition(":")
        if not colon:
            raise _not_host_port(word, "no :port")
        if not host:
            raise _not_host_port(word, "no host")
        if ":" in host:
            raise _not_host_port(word, "an IPv6 address goes in brackets")
        if not (_ipv4(host) or _host_name(host)):
            raise _not_host_port(
                word,
                "the host is neither an IPv4 address nor a host name (ASCII letters,"
                f" digits and inner hyphens, dot-separated, at most {MAX_HOST_NAME})",
            )
    number = _port(port)
    if number is None:
        raise _not_host_port(word, "the port must be 1 to 65535, in ASCII digits")
    return host, number


def _not_host_port(word: str, why: str) -> ValueError:
    shown = repr(word) if len(word) <= 100 else repr(word[:100]) + "..."
    return ValueError(f"must be {_HOST_PORT_FORM}, got {shown}: {why}")


def _ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def host_ports(text: str) -> tuple[tuple[str, int], ...]:
    """C{host:port ...} (L{host_port}), space or newline separated."""
    return tuple(host_port(word) for word in text.split())


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
    if not _ascii_digits(digits) or len(digits) > 5 or not 1 <= int(digits) <= MAX_PROCESSES:
        raise ValueError(f"must be a positive integer up to {MAX_PROCESSES} or auto, got {text!r}")
    return int(digits)
