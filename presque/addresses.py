"""
Where a server is, as the configuration says it: a host (a host name, an
IPv4 address or an IPv6 address) and a port, and the parts of a Twisted
endpoint description. One reader of each, shared by every key that names
a server or a place to listen: C{[redis] sentinels}, C{cluster} and C{url}
(and C{--redis}), and the interface and port of each C{[server] listen}
endpoint (and C{--listen}).

Each reader raises C{ValueError} whose message says only what is wrong
(C{no host}, C{the port must be 1 to 65535, in ASCII digits}...): its
caller says where, in the form of its key.
"""

from __future__ import annotations

import ipaddress
import re

#: A label of a host name: ASCII letters, digits, inner hyphens (RFC 1123)
#: and underscores, 1 to 63 of them. Resolvers take underscores, and
#: containers are named with them (Docker Compose's project_redis_1).
_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")
#: The longest host name (RFC 1123), without the trailing dot of a fully qualified one.
MAX_HOST_NAME = 253
#: The largest TCP port.
MAX_PORT = 65535


def ascii_digits(text: str) -> bool:
    """
    Whether C{text} is digits 0 to 9 alone. C{str.isdigit()} is also true of
    non-ASCII digits, which C{int()} may refuse (C{u'\\u00b2'}) or read
    (C{u'\\u0662'} is 2): neither is a number of the file's.
    """
    return text.isascii() and text.isdigit()


def port_number(text: str, smallest: int = 1) -> int:
    """
    A port from C{smallest} (0 for a listener: any free port) to 65535, in ASCII digits.

    @raise ValueError: anything else.
    """
    if not (ascii_digits(text) and len(text) <= 5 and smallest <= int(text) <= MAX_PORT):
        raise ValueError(f"the port must be {smallest} to {MAX_PORT}, in ASCII digits")
    return int(text)


def check_host(host: str) -> str:
    """
    C{host}, if it is a host name (RFC 1123), an IPv4 address, or an IPv6
    address as such (no brackets, no zone).

    @raise ValueError: anything else; the message says why.
    """
    if not host:
        raise ValueError("no host")
    if ":" in host:
        return _ipv6(host, "not an IPv6 address")
    if not (_ipv4(host) or _host_name(host)):
        raise ValueError(
            "the host is neither an IPv4 address nor a host name (ASCII letters,"
            f" digits, underscores and inner hyphens, dot-separated, at most {MAX_HOST_NAME})"
        )
    return host


def host_port(word: str, default_port: int | None = None) -> tuple[str, int]:
    """
    One C{host:port}: a host as L{check_host} takes it, an IPv6 address
    in brackets (C{[::1]:26379}, read as C{::1}), and a port from 1 to
    65535 in ASCII digits; without C{:port}, C{default_port} if given.

    @raise ValueError: anything else; the message says what is wrong.
    """
    port: str | None
    if word.startswith("["):
        inside, bracket, rest = word[1:].partition("]")
        if not bracket or not (rest.startswith(":") or (not rest and default_port is not None)):
            raise ValueError("an IPv6 address is [address]:port")
        host = _ipv6(inside, "no IPv6 address in the brackets")
        port = rest[1:] if rest else None
    else:
        host, colon, port = word.rpartition(":")
        if not colon:
            if default_port is None:
                raise ValueError("no :port")
            host, port = word, None
        if ":" in host:
            raise ValueError("an IPv6 address goes in brackets")
        check_host(host)
    if port is None:
        assert default_port is not None
        return host, default_port
    return host, port_number(port)


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


def _ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def _ipv6(host: str, otherwise: str) -> str:
    try:
        address = ipaddress.IPv6Address(host)
    except ValueError:
        raise ValueError(otherwise) from None
    if address.scope_id is not None:
        raise ValueError("an IPv6 zone (%...) is not supported")
    return host


#: The kinds of Twisted server endpoint that listen on a TCP port, and may name an interface.
TCP_ENDPOINTS = ("tcp", "tcp6", "ssl")


def endpoint_parts(description: str) -> tuple[str, list[str], dict[str, str]]:
    """
    The kind (C{tcp}, C{unix}...), the positional arguments and the
    C{name=value} options of a Twisted endpoint description, as Twisted
    reads them: words separated by colons, C{\\} making the next character
    plain (C{interface=\\:\\:1} is C{::1}).

    @raise ValueError: a description that ends with a lone C{\\}.
    """
    words: list[list[str]] = [[""]]
    characters = iter(description)
    for character in characters:
        if character == "\\":
            plain = next(characters, None)
            if plain is None:
                raise ValueError("ends with a lone backslash")
            words[-1][-1] += plain
        elif character == ":":
            words.append([""])
        elif character == "=" and len(words[-1]) == 1:
            words[-1].append("")
        else:
            words[-1][-1] += character
    positional = [word[0] for word in words if len(word) == 1]
    options = {word[0]: word[1] for word in words if len(word) == 2}
    return (positional or [""])[0], positional[1:], options
