"""
Listeners: a socket shared by several serving processes hands out new
connections one at a time, so that a burst reaches every process.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer, reactor
from twisted.web.resource import Resource

from harness.processes import free_port
from presque.listeners import Listener
from presque.web.site import PresqueSite


@pytest.fixture
def clients() -> Iterator[list[socket.socket]]:
    opened: list[socket.socket] = []
    yield opened
    for client in opened:
        client.close()


def listening(shared: bool) -> Listener:
    port = free_port()
    site = PresqueSite(Resource(), max_body_size=1024, log_requests=False)
    listener = Listener(f"tcp:{port}:interface=127.0.0.1", site, reactor, defer.Deferred(), shared)
    listener.startService()
    return listener


async def stop(listener: Listener) -> None:
    for channel in list(listener.site.channels):
        channel.transport.abortConnection()
    await listener.stopService()


def connect(listener: Listener, clients: list[socket.socket], count: int) -> None:
    # The listener does not accept yet (its ready never fired): the kernel
    # keeps the connections in the backlog.
    address = listener.port.getHost()
    clients.extend(socket.create_connection((address.host, address.port)) for _ in range(count))


@async_test
async def test_a_shared_listener_accepts_one_waiting_connection_at_a_time(
    clients: list[socket.socket],
) -> None:
    listener = listening(shared=True)
    try:
        connect(listener, clients, 3)
        listener.port.doRead()
        assert len(listener.site.channels) == 1
        listener.port.doRead()
        assert len(listener.site.channels) == 2
    finally:
        await stop(listener)


@async_test
async def test_a_listener_of_its_own_accepts_every_waiting_connection_at_once(
    clients: list[socket.socket],
) -> None:
    listener = listening(shared=False)
    try:
        connect(listener, clients, 3)
        listener.port.doRead()
        assert len(listener.site.channels) == 3
    finally:
        await stop(listener)
