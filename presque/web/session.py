"""
The page's session: C{POST /login} with a token puts it in an HttpOnly,
SameSite=Strict cookie, C{POST /logout} forgets it, and C{GET /whoami} says
which token a request carries and what it allows, so that the page shows
only what it may do.
"""

from __future__ import annotations

from presque.auth import Token
from presque.web.access import SESSION_COOKIE
from presque.web.answers import Answer, empty_answer, json_answer
from presque.web.context import Resource
from presque.web.errors import ApiError
from presque.web.inputs import body, require_json_content_type
from presque.web.jsontext import read_json
from presque.web.routing import Call, Route

_OFF = {"auth": "off"}


def _cookie(value: str, secure: bool, gone: bool = False) -> str:
    attributes = "; Path=/; HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")
    return f"{SESSION_COOKIE}={value}{attributes}" + ("; Max-Age=0" if gone else "")


def _described(token: Token) -> dict[str, object]:
    return {
        "auth": "on",
        "name": token.name,
        "scopes": sorted(token.scopes),
        "queues": list(token.queues),
    }


class Session(Resource):
    """The C{/login}, C{/logout} and C{/whoami} routes."""

    def routes(self) -> list[Route]:
        who = {200: ("The token, or that tokens are off.", "Identity")}
        return [
            Route(
                "POST",
                "/login",
                self.login,
                'Log the page in with {"token": <secret>}: the token goes in an HttpOnly,'
                " SameSite=Strict cookie.",
                body="Login",
                answers={**who, 401: ("No such token.", "Error")},
                sighting="none",
                scope=None,
            ),
            Route(
                "POST",
                "/logout",
                self.logout,
                "Forget the page's session.",
                answers={204: ("Forgotten.", None)},
                sighting="none",
                scope=None,
            ),
            Route(
                "GET",
                "/whoami",
                self.whoami,
                "The token this request carries and what it allows.",
                answers={**who, 401: ("No token, or an unknown one.", "Error")},
                safe=True,
                sighting="none",
                scope=None,
            ),
        ]

    async def login(self, call: Call) -> Answer:
        request = call.request
        require_json_content_type(request)
        document = read_json(body(request), "body")
        if not isinstance(document, dict) or set(document) != {"token"}:
            raise ApiError(400, 'the body must be {"token": "<secret>"}')
        secret = document["token"]
        if not isinstance(secret, str) or not 0 < len(secret) <= 256:
            raise ApiError(400, 'the body must be {"token": "<secret>"}')
        authority = self.context.access.authority
        if authority is None:
            return json_answer(_OFF)
        token = authority.identify(secret)
        if token is None:
            raise ApiError(401, "unknown token")
        cookie = _cookie(secret, request.isSecure())
        return json_answer(_described(token), headers={"Set-Cookie": cookie})

    async def logout(self, call: Call) -> Answer:
        return empty_answer(204, {"Set-Cookie": _cookie("", call.request.isSecure(), gone=True)})

    async def whoami(self, call: Call) -> Answer:
        access = self.context.access
        if access.authority is None:
            return json_answer(_OFF)
        token = access.identify(call.request)
        if token is None:
            raise ApiError(401, "no token, or an unknown one")
        return json_answer(_described(token))
