"""
The connection to Redis: a txredisapi pool with a deadline on every call.

txredisapi queues a command issued while Redis is down until a connection
comes back, which would hang a request forever. Every call here either
answers within the command timeout or fails with L{RedisUnavailable}, which
the web layer turns into a 503.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from presque.redis_url import RedisAddress

log = Logger()

RedisArg = str | bytes | int | float

# Errors of a Redis that is up but cannot serve yet (loading its data, busy
# with a script, a replica during a failover): a 503, not a bug.
_TRANSIENT_ERRORS = ("LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN")


@dataclass(frozen=True)
class Script:
    """A Lua script and its SHA1, which is what is sent once Redis knows it."""

    name: str
    source: bytes
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.source).hexdigest())


class RedisUnavailable(Exception):
    """Redis could not be reached, or did not answer in time."""


class Redis:
    """
    A pool of connections to one Redis server.

    Replies come back as C{bytes} (never decoded, never turned into numbers)
    so that job payloads travel byte for byte.
    """

    def __init__(
        self,
        address: RedisAddress,
        pool_size: int = 4,
        command_timeout: float = 5.0,
        connect_timeout: float = 2.0,
    ) -> None:
        self.address = address
        self.pool_size = pool_size
        self.command_timeout = command_timeout
        self.connect_timeout = connect_timeout
        self._pool: Any = None
        self._turn = 0

    def connect(self) -> None:
        """Start connecting; calls fail with L{RedisUnavailable} until it is done."""
        import txredisapi

        log.info("connecting to redis at {where}", where=self.address.describe())
        options = dict(
            dbid=self.address.db,
            poolsize=self.pool_size,
            # Without these, '00123' comes back as the integer 123 and
            # payloads are decoded, i.e. corrupted.
            charset=None,
            convertNumbers=False,
            password=self.address.password,
            username=self.address.username,
            connectTimeout=self.connect_timeout,
            replyTimeout=self.command_timeout,
        )
        if self.address.unix_path:
            self._pool = txredisapi.lazyUnixConnectionPool(self.address.unix_path, **options)
        else:
            self._pool = txredisapi.lazyConnectionPool(
                self.address.host, self.address.port, **options
            )
        # txredisapi backs off up to 10s between reconnections; a queue should
        # be back within a couple of seconds of Redis.
        self._pool._factory.initialDelay = 0.1
        self._pool._factory.maxDelay = 2.0

    @property
    def connected(self) -> bool:
        """Whether at least one connection of the pool is up."""
        return bool(self._live_connections())

    def _live_connections(self) -> list[Any]:
        return self._pool._factory.pool if self._pool is not None else []

    def eval(
        self, script: Script, keys: Sequence[RedisArg], args: Sequence[RedisArg]
    ) -> defer.Deferred[Any]:
        """Run a Lua script: EVALSHA, and EVAL when Redis does not know it yet."""
        return self._call(_evalsha, script, keys, args)

    def execute(self, *command: RedisArg) -> defer.Deferred[Any]:
        """Run one Redis command, e.g. C{execute("SMEMBERS", key)}."""
        return self._call(_execute, *command)

    def _call(self, method: Callable[..., defer.Deferred[Any]], *args: Any) -> defer.Deferred[Any]:
        # The pool's own dispatch would queue the call while Redis is down
        # and wait forever. Picking a live connection here fails fast
        # instead; a connection that dies or hangs fails its calls (the
        # protocol's reply timeout is the command timeout).
        connections = self._live_connections()
        if not connections:
            return defer.fail(RedisUnavailable("redis is not connected"))
        self._turn = (self._turn + 1) % len(connections)
        try:
            call = method(connections[self._turn], *args)
        except Exception:
            return defer.fail().addErrback(_unavailable_if_transient)
        return call.addErrback(_unavailable_if_transient)

    def close(self) -> defer.Deferred[None]:
        """Close every connection and stop reconnecting."""
        if self._pool is None:
            return defer.succeed(None)
        pool, self._pool = self._pool, None
        return pool.disconnect()


def _execute(connection: Any, *command: RedisArg) -> defer.Deferred[Any]:
    return connection.execute_command(*command)


def _evalsha(
    connection: Any, script: Script, keys: Sequence[RedisArg], args: Sequence[RedisArg]
) -> defer.Deferred[Any]:
    # txredisapi's own eval() hashes the whole source on every call.
    import txredisapi

    def load(failure: Failure) -> defer.Deferred[Any]:
        failure.trap(txredisapi.ScriptDoesNotExist)
        return connection.eval(script.source, keys, args)

    return connection.evalsha(script.sha, keys, args).addErrback(load)


def _unavailable_if_transient(failure: Failure) -> Failure:
    import txredisapi

    if failure.check(txredisapi.ConnectionError, ConnectionError) or _is_transient(failure):
        return Failure(RedisUnavailable(failure.getErrorMessage()))
    return failure


def _is_transient(failure: Failure) -> bool:
    import txredisapi

    return bool(failure.check(txredisapi.ResponseError)) and str(failure.value).startswith(
        _TRANSIENT_ERRORS
    )
