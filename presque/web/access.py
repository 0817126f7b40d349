"""
Who may call what: with tokens on, the token a request carries (in its
Authorization header, or in the page's session cookie) must have its
route's scope on its queue (L{presque.auth}); and an audit line for every
admin action and every token refused.

The cookie is HttpOnly and SameSite=Strict, and a state change that
carries it must also carry the page's own header (L{headers.PAGE}), which
no other site can make a browser send without presque's consent: so a
page elsewhere cannot act with a person's session.
"""

from __future__ import annotations

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
#: Methods that change nothing, which the session cookie may make alone.
_SAFE_METHODS = (b"GET", b"HEAD", b"OPTIONS")


class Access:
    """The check of every request's token, when C{authority} is given (C{[auth] mode = on})."""

    def __init__(self, authority: Authority | None) -> None:
        self.authority = authority

    def check(self, request: IRequest, call: Call) -> None:
        """
        Make sure that the token of C{request} may make C{call} (any request
        may with tokens off, or on an open route); the token found is kept
        as C{call.token}.

        @raise ApiError: 401 (no token, or an unknown one) or 403 (the token
            lacks the scope or the queue).
        """
        scope = call.route.scope
        if self.authority is None or scope is None:
            return
        secret = bearer(request)
        if secret is None:
            secret = _session(request)
            if secret is not None and not _from_the_page(request):
                raise ApiError(403, f"a change made with the page's session needs {headers.PAGE}")
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

    def identify(self, request: IRequest) -> Token | None:
        """The token of C{request}'s Authorization header or session cookie, if any is known."""
        if self.authority is None:
            return None
        secret = bearer(request) or _session(request)
        return None if secret is None else self.authority.identify(secret)


def _from_the_page(request: IRequest) -> bool:
    """Whether a request with the session cookie may be the page's own."""
    return request.method in _SAFE_METHODS or bool(request.getHeader(headers.PAGE.encode("ascii")))


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
