"""The HTTP API: routes that turn requests into broker calls."""

from __future__ import annotations

from presque.broker import Broker
from presque.config import ServerSettings
from presque.web.inputs import Limits
from presque.web.longpoll import LongPoll
from presque.web.root import build_root
from presque.web.sightings import Sightings
from presque.web.site import PresqueSite


def build_site(broker: Broker, settings: ServerSettings, longpoll: LongPoll) -> PresqueSite:
    """The site serving the API over C{broker} with C{settings}' limits."""
    limits = Limits(settings.max_batch_size, settings.max_queue_name_length, settings.max_wait)
    root = build_root(broker, limits, longpoll)
    return PresqueSite(root, settings.max_body_size, settings.access_log, Sightings(broker))
