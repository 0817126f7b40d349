"""What the routes work with: the broker, the server's settings, the waiting requests."""

from __future__ import annotations

from dataclasses import dataclass

from presque.broker import Broker
from presque.config import ServerSettings
from presque.longpoll import LongPoll


@dataclass(frozen=True)
class Context:
    """Shared by every route module."""

    broker: Broker
    settings: ServerSettings
    longpoll: LongPoll
