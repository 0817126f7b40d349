"""
The HTTP API: the routes, each in the module named after its resource,
served through one dispatcher (L{presque.web.dispatch}) that answers every
error the same way (L{presque.web.errors}).
"""

from __future__ import annotations

from collections.abc import Callable

from presque.auth import Authority
from presque.broker import Broker
from presque.config import ServerSettings
from presque.longpoll import LongPoll
from presque.web.access import Access
from presque.web.batches import Batches
from presque.web.browse import Browse
from presque.web.context import Context, Resource
from presque.web.control import Control
from presque.web.dashboard import Dashboard
from presque.web.dead import DeadLetters
from presque.web.dispatch import Api
from presque.web.health import Health
from presque.web.jobs import Jobs
from presque.web.metrics import Metrics
from presque.web.openapi import OpenApi
from presque.web.queues import Queues
from presque.web.routing import Route, Router
from presque.web.schedules import Schedules
from presque.web.session import Session
from presque.web.sightings import Sightings
from presque.web.site import PresqueSite
from presque.web.status import Status
from presque.web.stream import Streams
from presque.web.workers import Workers

_RESOURCES = (
    Jobs,
    Batches,
    Streams,
    Status,
    Control,
    Workers,
    DeadLetters,
    Queues,
    Browse,
    Schedules,
    Health,
    Session,
    Metrics,
    Dashboard,
)


def all_routes(context: Context) -> list[Route]:
    """Every route of the API, and the route that describes them."""
    return _routes([resource(context) for resource in _RESOURCES], context)


def _routes(resources: list[Resource], context: Context) -> list[Route]:
    routes = [route for resource in resources for route in resource.routes()]
    return [*routes, *OpenApi(routes, context.settings).routes()]


def build_site(
    broker: Broker,
    settings: ServerSettings,
    longpoll: LongPoll,
    authority: Authority | None = None,
    access_lines: Callable[[str], None] | None = None,
) -> PresqueSite:
    """
    The site serving the API over C{broker} with C{settings}' limits; with
    an C{authority}, every route but the open ones needs one of its tokens;
    with C{access_lines}, the access log goes there as text lines.
    """
    access = Access(authority, settings.allowed_hosts, settings.cors_origins)
    context = Context(broker, settings, longpoll, access)
    resources = [resource(context) for resource in _RESOURCES]
    [streams] = [resource for resource in resources if isinstance(resource, Streams)]
    metrics = broker.metrics
    metrics.waiters.set_function(longpoll.waiting)
    metrics.streams.set_function(lambda: streams.open)
    router = Router(_routes(resources, context), settings.max_queue_name_length)
    return PresqueSite(
        Api(router, broker, Sightings(broker), access),
        settings.max_body_size,
        settings.access_log,
        idle_timeout=settings.idle_timeout,
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        metrics=metrics,
        access_lines=access_lines,
    )
