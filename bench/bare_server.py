"""
The ceiling of the stack: twisted.web with nothing on top.

A leaf L{Resource} answers C{{"ok":true}} as JSON to GET and POST on any
path, on the default reactor, through C{Site(parsePOSTFormSubmission=False)}
like presque's own site, and writes no access log. bench/servers.py runs it
as C{python -m bench.bare_server PORT} from the checkout's root.
"""

from __future__ import annotations

import sys

from twisted.internet import endpoints, reactor
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

BODY = b'{"ok":true}'


class Ok(Resource):
    """Every path, GET or POST: 200 C{{"ok":true}}."""

    isLeaf = True

    def render_GET(self, request: Request) -> bytes:
        request.setHeader(b"Content-Type", b"application/json")
        return BODY

    render_POST = render_GET


class QuietSite(Site):
    """A L{Site} without an access log."""

    noisy = False

    def log(self, request: Request) -> None:
        """Log nothing."""


def main(argv: list[str]) -> None:
    """Serve on 127.0.0.1:C{argv[1]} until SIGTERM or SIGINT."""
    port = int(argv[1])
    site = QuietSite(Ok(), parsePOSTFormSubmission=False)
    endpoints.TCP4ServerEndpoint(reactor, port, interface="127.0.0.1").listen(site)
    reactor.run()


if __name__ == "__main__":
    main(sys.argv)
