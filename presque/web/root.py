"""
The root of the HTTP tree: C{/q/}, C{/qb/} and C{/sse/} go to their plain
resources, every other path to the Klein application, path untouched.
"""

from __future__ import annotations

from twisted.web.iweb import IRequest
from twisted.web.resource import IResource, Resource

from presque.broker import Broker
from presque.web.app import build_app
from presque.web.batches import BatchesResource
from presque.web.inputs import Limits
from presque.web.jobs import JobsResource
from presque.web.longpoll import LongPoll
from presque.web.stream import StreamResource


class Root(Resource):
    """Hot resources as children; anything else falls through to C{fallback}."""

    def __init__(self, fallback: IResource) -> None:
        super().__init__()
        self.fallback = fallback

    def getChild(self, path: bytes, request: IRequest) -> IResource:
        # Give the segment back: Klein routes on the whole path.
        request.postpath.insert(0, request.prepath.pop())
        return self.fallback


def build_root(broker: Broker, limits: Limits, longpoll: LongPoll) -> Root:
    """The whole HTTP API over C{broker}."""
    root = Root(build_app(broker, limits).resource())
    root.putChild(b"q", JobsResource(broker, limits, longpoll))
    root.putChild(b"qb", BatchesResource(broker, limits, longpoll))
    root.putChild(b"sse", StreamResource(broker, limits, longpoll))
    return root
