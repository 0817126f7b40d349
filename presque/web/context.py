"""What the routes work with: the broker, the server's settings, the waiting requests."""

from __future__ import annotations

from dataclasses import dataclass, field

from presque.broker import Broker
from presque.config import ServerSettings
from presque.longpoll import LongPoll
from presque.web.access import Access
from presque.web.routing import Route


@dataclass(frozen=True)
class Context:
    """Shared by every route module."""

    broker: Broker
    settings: ServerSettings
    longpoll: LongPoll
    #: Who may call what (tokens off unless given).
    access: Access = field(default_factory=lambda: Access(None))


class Resource:
    """A resource of the API: the routes it declares, over the shared context."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.broker = context.broker

    def routes(self) -> list[Route]:
        """The routes of this resource, for the table of the API."""
        raise NotImplementedError
