"""
Who may call what: with tokens on, the token a request carries (in its
Authorization header, or in the page's session cookie) must have its
route's scope on its queue (L{presque.auth}); and an audit line for every
admin action and every token refused.

Whatever the tokens, a request must name one of C{[server] allowed_hosts}
(so that a page whose name was rebound to a loopback address cannot reach
a presque there), and a browser's request from another site is refused
unless its origin is one of C{[server] cors_origins}, which get CORS
headers.

The cookie is HttpOnly and SameSite=Strict, and a state change that
carries it must also carry the page's own header (L{headers.PAGE}), which
no other site can make a browser send without presque's consent: so a
page elsewhere cannot act with a person's session.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from twisted.logger import Logger
from twisted.web.iweb import IRequest

from presque import headers
from presque.auth import Authority, Token
from presque.web.errors import ApiError
from presque.web.routing import Call

audit = Logger(namespace="presque.audit")

_CHALLENGE = 'Bearer realm="presque"'
_BEARER = b"bearer "
#: The cookie of the page's session: the token a person logged in with.
SESSION_COOKIE = "presque_token"
_BRACKETED = re.compile(r"\[([0-9A-Fa-f:.]+)\](?::[0-9]*)?")
_NAMED = re.compile(r"([^:\[\]]+)(?::[0-9]*)?")
#: Headers a request may carry once at most: a proxy may read another one than we do.
_SINGLE_HEADERS = (b"host", b"authorization", b"origin", b"sec-fetch-site", b"cookie")


#: What a page of another site may send, and read, of presque's headers.
_CORS_REQUEST_HEADERS = ", ".join(
    ("Authorization", "Content-Type", headers.IDEMPOTENCY_KEY, headers.WORKER, headers.RECEIPT)
)
_CORS_EXPOSED_HEADERS = ", ".join(
    (
        headers.JOB_ID,
        headers.JOB_IDS,
        headers.ATTEMPT,
        headers.ATTEMPTS,
        headers.RECEIPT,
        headers.RECEIPTS,
        headers.LEASE_EXPIRES,
        headers.IDEMPOTENT_REPLAYED,
        headers.RETRY_AFTER,
        "Location",
    )
)
#: Seconds a browser may keep the answer to a preflight.
_PREFLIGHT_MAX_AGE = "600"


class Access:
    """
    The check of every request's host and site, and of its token when
    C{authority} is given (C{[auth] mode = on}).
    """

    def __init__(
        self,
        authority: Authority | None,
        allowed_hosts: tuple[str, ...] = ("*",),
        cors_origins: tuple[str, ...] = (),
    ) -> None:
        self.authority = authority
        self.allowed_hosts = frozenset(host.lower() for host in allowed_hosts)
        self.cors_origins = frozenset(cors_origins)

    def cors_headers(self, request: IRequest) -> dict[str, str]:
        """The CORS headers of the answer to C{request}, if its origin may call."""
        origin = _header(request, b"origin")
        if origin is None or not self._cors_allows(origin):
            return {}
        answer = {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": _CORS_EXPOSED_HEADERS,
            "Vary": "Origin",
        }
        if request.method == b"OPTIONS" and request.getHeader(b"access-control-request-method"):
            answer["Access-Control-Allow-Methods"] = "GET, HEAD, POST, PUT, PATCH, DELETE"
            answer["Access-Control-Allow-Headers"] = _CORS_REQUEST_HEADERS
            answer["Access-Control-Max-Age"] = _PREFLIGHT_MAX_AGE
        return answer

    def _cors_allows(self, origin: str) -> bool:
        return "*" in self.cors_origins or origin in self.cors_origins

    def _host_allowed(self, host: str) -> bool:
        return "*" in self.allowed_hosts or host.lower() in self.allowed_hosts

    def _check_where(self, request: IRequest) -> None:
        """Refuse a request naming a host not allowed, or a browser's from another site."""
        for name in _SINGLE_HEADERS:
            if len(request.requestHeaders.getRawHeaders(name, [])) > 1:
                raise ApiError(400, f"more than one {name.decode('ascii')} header")
        host = _target_host(request)
        if host is None:
            if request.clientproto != b"HTTP/1.0":
                raise ApiError(400, "the Host header is missing")
        elif not self._host_allowed(_host_name(host)):
            raise ApiError(
                421, f"host {_host_name(host)[:100]!r} is not among [server] allowed_hosts"
            )
        if _from_another_site(request, host) and not self._cors_allows(
            _header(request, b"origin") or ""
        ):
            raise ApiError(
                403, "a request from another site: its origin is not among [server] cors_origins"
            )

    def check(self, request: IRequest, call: Call) -> None:
        """
        Make sure that the token of C{request} may make C{call} (any request
        may with tokens off, or on an open route); the token found is kept
        as C{call.token}.

        @raise ApiError: 401 (no token, or an unknown one) or 403 (the token
            lacks the scope or the queue).
        """
        if not call.route.any_host:
            self._check_where(request)
        scope = call.route.scope
        if scope is None or self.authority is None:
            return
        secret = bearer(request)
        if secret is None and not _from_another_site(request, _target_host(request)):
            # A page elsewhere (even one in cors_origins) never acts with the session.
            secret = _session(request)
            if secret is not None and not (
                call.route.safe or request.getHeader(headers.PAGE.encode("ascii"))
            ):
                raise ApiError(403, f"a request made with the page's session needs {headers.PAGE}")
        if secret is None:
            raise ApiError(
                401,
                "a token is needed: Authorization: Bearer <token>",
                headers={headers.WWW_AUTHENTICATE: _CHALLENGE},
            )
        token = call.token = self.authority.identify(secret)
        if token is None:
            raise ApiError(
                401,
                "unknown token",
                headers={headers.WWW_AUTHENTICATE: f'{_CHALLENGE}, error="invalid_token"'},
            )
        if not token.allows(scope, call.queue or None):
            where = f"queue {call.queue!r}" if call.queue else "every queue"
            raise ApiError(403, f"token {token.name!r} has no {scope} scope on {where}")

    def require_on(self, call: Call, scope: str, queues: Sequence[str]) -> None:
        """
        Make sure that the call's token (already checked by L{check}) has
        C{scope} on each of C{queues} too: the members of a virtual queue.

        @raise ApiError: 403, naming the first queue it lacks.
        """
        token = call.token
        if token is None:
            return
        for queue in queues:
            if not token.allows(scope, queue):
                raise ApiError(403, f"token {token.name!r} has no {scope} scope on queue {queue!r}")

    def identify(self, request: IRequest) -> Token | None:
        """The token of C{request}'s Authorization header or session cookie, if any is known."""
        if self.authority is None:
            return None
        secret = bearer(request) or _session(request)
        return None if secret is None else self.authority.identify(secret)


def _header(request: IRequest, name: bytes) -> str | None:
    value = request.getHeader(name)
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _host_name(host: str) -> str:
    """
    The name in a Host header (or an authority), without its port; a
    malformed one comes back whole, to match no allowed name.
    """
    bracketed = _BRACKETED.fullmatch(host)
    if bracketed:
        return bracketed.group(1)
    named = _NAMED.fullmatch(host)
    return named.group(1) if named else host


def _target_host(request: IRequest) -> str | None:
    """The host a request is for: an absolute target's authority, else its Host header."""
    target = request.uri
    if target[:7].lower() == b"http://" or target[:8].lower() == b"https://":
        return urlsplit(target.decode("latin-1")).netloc or None
    return _header(request, b"host")


def _from_another_site(request: IRequest, host: str | None) -> bool:
    """
    Whether a browser made C{request} from a page of another site: it says so
    (Sec-Fetch-Site), or its Origin is not this presque's own address.
    """
    site = (_header(request, b"sec-fetch-site") or "").lower()
    if site in ("cross-site", "same-site"):
        return True
    origin = _header(request, b"origin")
    if origin is None:
        return False
    parts = urlsplit(origin)
    well_formed = parts.scheme in ("http", "https") and not (parts.path or parts.query)
    return not well_formed or host is None or parts.netloc.lower() != host.lower()


def _session(request: IRequest) -> str | None:
    value = request.getCookie(SESSION_COOKIE.encode("ascii"))
    return value.decode("latin-1") if value else None


def bearer(request: IRequest) -> str | None:
    """The secret of C{request}'s C{Authorization: Bearer} header, if it has one."""
    value = request.getHeader(b"authorization")
    if value is None:
        return None
    raw = value.encode("latin-1") if isinstance(value, str) else value
    if raw[: len(_BEARER)].lower() != _BEARER:
        return None
    secret = raw[len(_BEARER) :].strip()
    return secret.decode("latin-1") if secret else None


def record(request: IRequest, call: Call | None, status: int) -> None:
    """The audit line of an admin action, or of a token refused (never the token)."""
    token: Token | None = call.token if call is not None else None
    refused = status in (401, 403)
    if not refused and (call is None or call.route.scope != "admin"):
        return
    method = request.method.decode("latin-1")
    path = request.uri.split(b"?", 1)[0].decode("utf-8", "replace")[:300]
    audit.info(
        "{who} {method} {path} {status}{refused}",
        who=token.name if token is not None else "-",
        method=method,
        path=path,
        status=status,
        refused=" refused" if refused else "",
    )
