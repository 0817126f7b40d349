"""Taking jobs for a request: at once, or waiting for them (C{wait=S})."""

from __future__ import annotations

from twisted.internet.defer import Deferred

from presque.broker import Delivery
from presque.longpoll import Departure
from presque.web.context import Context
from presque.web.errors import NoJob
from presque.web.inputs import LEASE, WAIT
from presque.web.routing import Call


async def fetch_jobs(context: Context, call: Call, count: int) -> Delivery:
    """
    Up to C{count} jobs of the call's queue (or of the first member of a
    virtual queue that has some): leased with C{lease=S}, waited for up to
    C{wait=S} seconds; the 404 "no job" when none came.
    """
    request, broker = call.request, context.broker
    lease = LEASE.read(request)
    wait = min(WAIT.read(request) or 0.0, context.settings.max_wait)
    members = broker.members(call.queue)
    if members is not None:
        context.access.require_on(call, "consume", members)

    def fetch() -> Deferred[Delivery]:
        if members is None:
            return Deferred.fromCoroutine(broker.fetch(call.queue, count, call.worker, lease))
        return Deferred.fromCoroutine(
            broker.fetch_first(call.queue, members, count, call.worker, lease)
        )

    if wait > 0:
        departure = Departure.of_request(request)
        delivery = await context.longpoll.take(call.queue, wait, fetch, departure, members or ())
    elif members is None:
        # The hot path of presque 1's clients: no detour through the waiters.
        delivery = await broker.fetch(call.queue, count, call.worker, lease)
    else:
        delivery = await fetch()
    if not delivery.jobs:
        # A new one each time: one exception raised again and again keeps
        # every traceback it went through, and every request of them.
        raise NoJob(delivery)
    return delivery
