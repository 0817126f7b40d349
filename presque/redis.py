"""
The connection to Redis: a txredisapi pool with a deadline on every call.

txredisapi queues a command issued while Redis is down until a connection
comes back, which would hang a request forever. Every call here either
answers within the command timeout or fails with L{RedisUnavailable}, which
the web layer turns into a 503.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from presque.redis_url import RedisAddress

log = Logger()

RedisArg = str | bytes | int | float

# Errors of a Redis that is up but cannot serve yet (loading its data, busy
# with a script, a replica during a failover): a 503, not a bug.
_TRANSIENT_ERRORS = ("LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN")


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
        reactor: IReactorTime,
        pool_size: int = 4,
        command_timeout: float = 5.0,
        connect_timeout: float = 2.0,
    ) -> None:
        self.address = address
        self.reactor = reactor
        self.pool_size = pool_size
        self.command_timeout = command_timeout
        self.connect_timeout = connect_timeout
        self._pool: Any = None

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
        return self._pool is not None and self._pool._factory.size > 0

    def eval(
        self, script: bytes, keys: Sequence[RedisArg], args: Sequence[RedisArg]
    ) -> defer.Deferred[Any]:
        """Run a Lua script (by EVALSHA once the connection knows it)."""
        return self._call("eval", script, list(keys), list(args))

    def execute(self, *command: RedisArg) -> defer.Deferred[Any]:
        """Run one Redis command, e.g. C{execute("SMEMBERS", key)}."""
        return self._call("execute_command", *command)

    def _call(self, method: str, *args: Any) -> defer.Deferred[Any]:
        if not self.connected:
            return defer.fail(RedisUnavailable("redis is not connected"))
        return _with_deadline(
            getattr(self._pool, method)(*args), self.command_timeout, self.reactor
        )

    def close(self) -> defer.Deferred[None]:
        """Close every connection and stop reconnecting."""
        if self._pool is None:
            return defer.succeed(None)
        pool, self._pool = self._pool, None
        return pool.disconnect()


def _with_deadline(
    call: defer.Deferred[Any], timeout: float, reactor: IReactorTime
) -> defer.Deferred[Any]:
    """
    Fire with C{call}'s result, or with L{RedisUnavailable} after C{timeout}.

    C{call} is raced, not cancelled: txredisapi's connection queue breaks
    when a Deferred it handed out is cancelled.
    """
    import txredisapi

    result: defer.Deferred[Any] = defer.Deferred()

    def expire() -> None:
        result.errback(RedisUnavailable(f"redis did not answer within {timeout}s"))

    timer = reactor.callLater(timeout, expire)

    def settle(outcome: Any) -> None:
        if result.called:
            return
        timer.cancel()
        if not isinstance(outcome, Failure):
            result.callback(outcome)
        elif outcome.check(txredisapi.ConnectionError, ConnectionError) or _is_transient(outcome):
            result.errback(RedisUnavailable(outcome.getErrorMessage()))
        else:
            result.errback(outcome)

    call.addBoth(settle)
    return result


def _is_transient(failure: Failure) -> bool:
    import txredisapi

    return bool(failure.check(txredisapi.ResponseError)) and str(failure.value).startswith(
        _TRANSIENT_ERRORS
    )
