"""
The connection to Redis: a txredisapi pool with a deadline on every call.

txredisapi queues a command issued while Redis is down until a connection
comes back, which would hang a request forever. Every call here either
answers within the command timeout or fails with L{RedisUnavailable}, which
the web layer turns into a 503.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import count
from typing import Any, Protocol, runtime_checkable

from twisted.internet import defer
from twisted.internet.error import ConnectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

from presque.redis_url import RedisAddress
from presque.replicas import waits_of

log = Logger()

RedisArg = str | bytes | int | float

# How often a daemon that starts asks Redis whether it is ready (seconds),
# and every how many attempts it says that it still waits (every 10 s).
_READY_POLL = 0.05
_READY_WARNINGS = 200

# Errors of a Redis that is up but cannot serve now (loading its data, busy
# with a script, a replica during a failover): unavailable, not a bug.
_UNAVAILABLE_ERRORS = {
    "LOADING": "it is loading its data",
    "BUSY": "it is busy running a script",
    "MASTERDOWN": "it lost its master",
    "READONLY": "it is a read-only replica",
    "TRYAGAIN": "it asks to try again",
    "CLUSTERDOWN": "the cluster is down",
}


@dataclass(frozen=True)
class Script:
    """A Lua script and its SHA1, which is what is sent once Redis knows it."""

    name: str
    source: bytes
    sha: str = field(init=False)
    #: Whether it may change data: only such scripts wait for replicas.
    writes: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.source).hexdigest())


class RedisUnavailable(Exception):
    """
    Redis could not be reached, did not answer in time, or cannot serve now;
    C{cause}, when known, says which of the last (it is a replica, say).
    """

    def __init__(self, message: str, cause: str | None = None) -> None:
        super().__init__(message)
        self.cause = cause


class RedisRefused(Exception):
    """Redis answered a command with an error; the message is its reply."""

    @property
    def code(self) -> str:
        """
        The error's code (WRONGTYPE, say): for a script, the code of the
        command that failed in it, which Redis 6 quotes after its own ERR.
        """
        reply = str(self)
        quoted = _QUOTED_ERROR.search(reply)
        return quoted.group(1) if quoted else reply.split(" ", 1)[0]


#: The error of a command in a script, as Redis 6 quotes it in the script's error.
_QUOTED_ERROR = re.compile(r"@user_script:\d+: -?([A-Z][A-Z_]*)")


class RedisOutOfMemory(RedisRefused):
    """Redis is at its C{maxmemory} and refuses to store more."""


class _Outage:
    """
    Tells the log once when Redis stops serving and once when it serves
    again: one warning per outage, however many calls fail meanwhile.
    """

    def __init__(self, where: str) -> None:
        self.where = where
        #: When the outage began (monotonic seconds), None while Redis serves.
        #: Until the first answer, waiting is the start's (said by until_ready).
        self.since: float | None = time.monotonic()
        self._starting = True

    def began(self, error: RedisUnavailable) -> None:
        if self.since is None:
            self.since = time.monotonic()
            log.warn(
                "redis at {where} is unavailable ({error}); requests get 503 until it is back",
                where=self.where,
                error=error,
            )

    def ended(self, result: Any) -> Any:
        if self.since is not None and not self._starting:
            log.info(
                "redis at {where} is back after {seconds:.1f} s",
                where=self.where,
                seconds=time.monotonic() - self.since,
            )
        self.since, self._starting = None, False
        return result


@runtime_checkable
class RedisClient(Protocol):
    """
    What presque calls Redis through, whether one server (L{Redis}) or the
    masters of a cluster (L{presque.cluster.RedisCluster}).
    """

    #: Where it connects (a cluster: its first seed); wake-ups listen there.
    address: RedisAddress
    #: The client TLS options for C{address}, if it speaks TLS.
    tls: Any

    def connect(self) -> None:
        """Start connecting; calls fail with L{RedisUnavailable} until it is done."""

    @property
    def connected(self) -> bool:
        """Whether it is connected (a cluster: to one of its masters at least)."""

    def eval(
        self, script: Script, keys: Sequence[RedisArg], args: Sequence[RedisArg]
    ) -> defer.Deferred[Any]:
        """Run a Lua script, its keys all in one hash slot (as a cluster needs)."""

    def execute(self, *command: RedisArg) -> defer.Deferred[Any]:
        """Run one command."""

    async def until_ready(self, scripts: Sequence[Script], reactor: Any) -> None:
        """Wait until Redis answers and knows C{scripts}."""

    async def check_ready(self, scripts: Sequence[Script]) -> None:
        """Make sure that Redis answers and knows C{scripts}, sending those it forgot."""

    def close(self) -> defer.Deferred[None]:
        """Close every connection."""


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
        timed: Callable[[str, float], None] | None = None,
        tls: Any = None,
        min_replicas: int = 0,
        replica_timeout: float = 1.0,
        reactor: Any = None,
    ) -> None:
        if reactor is None:
            from twisted.internet import reactor
        self._reactor = reactor
        self.address = address
        #: The client TLS options (see L{presque.redis_tls}) for a rediss:// address.
        self.tls = tls
        self.pool_size = pool_size
        self.command_timeout = command_timeout
        self.connect_timeout = connect_timeout
        #: How many replicas must confirm each script that writes before it
        #: counts as done (Redis' WAIT), and how long they may take (seconds).
        self.min_replicas = min_replicas
        self.replica_timeout = replica_timeout
        self._pool: Any = None
        self._turn = 0
        self._turn_ends: Any = None
        self._outage = _Outage(address.describe())
        #: Told the name and the duration (seconds) of every call, if given.
        self.timed = timed
        #: Why the last connection that broke did (a TLS error, a reset...),
        #: for the log: "not connected" alone does not say what to fix.
        self.last_loss: str | None = None

    def connect(self) -> None:
        """Start connecting; calls fail with L{RedisUnavailable} until it is done."""
        import txredisapi

        log.info("connecting to redis at {where}", where=self.address.describe())
        options = dict(
            # No SELECT for the default database: one command less to time
            # out while connecting to a Redis that hangs.
            dbid=self.address.db or None,
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
                self.address.host, self.address.port, ssl_context_factory=self.tls, **options
            )
        # txredisapi backs off up to 10s between reconnections; a queue should
        # be back within a couple of seconds of Redis.
        self._pool._factory.initialDelay = 0.1
        self._pool._factory.maxDelay = 2.0
        # The connections are built once the reactor runs: in time for them.
        protocol = sturdy(quick_commands(self._pool._factory.protocol))
        self._pool._factory.protocol = _telling_losses(protocol, self._lost)
        self._pool._factory.deferred.addErrback(self._refused)

    def move_to(self, address: RedisAddress, tls: Any = None) -> None:
        """
        Serve from the Redis at C{address} from now on (a new master after a
        failover): a new pool replaces the old one, whose calls in flight
        fail as unavailable, so that none lands on a demoted master.
        """
        if self._pool is not None and address == self.address:
            return
        old, self._pool = self._pool, None
        self.address, self.tls = address, tls
        self._outage.where = address.describe()
        self.connect()
        if old is not None:
            old.disconnect()

    def _lost(self, why: Failure) -> None:
        if not why.check(ConnectionDone):
            self.last_loss = why.getErrorMessage()

    def _refused(self, failure: Failure) -> None:
        log.error(
            "redis at {where} refused presque's connection for good: {reason}",
            where=self.address.describe(),
            reason=failure.getErrorMessage(),
        )

    @property
    def connected(self) -> bool:
        """Whether at least one connection of the pool is up."""
        return bool(self._live_connections())

    def _live_connections(self) -> list[Any]:
        return self._pool._factory.pool if self._pool is not None else []

    def eval(
        self, script: Script, keys: Sequence[RedisArg], args: Sequence[RedisArg]
    ) -> defer.Deferred[Any]:
        """
        Run a Lua script: EVALSHA, and EVAL when Redis does not know it yet.
        With C{min_replicas}, a script that writes then waits for them.

        @raise NotReplicated: too few replicas confirmed the change in time.
        """
        if self.min_replicas and script.writes:
            return self._call(script.name, self._evalsha_replicated, script, keys, args)
        return self._call(script.name, _evalsha, script, keys, args)

    def _evalsha_replicated(
        self, connection: Any, script: Script, keys: Sequence[RedisArg], args: Sequence[RedisArg]
    ) -> defer.Deferred[Any]:
        return defer.Deferred.fromCoroutine(self._replicated(connection, script, keys, args))

    async def _replicated(
        self, connection: Any, script: Script, keys: Sequence[RedisArg], args: Sequence[RedisArg]
    ) -> Any:
        # WAIT counts the replicas that have every write this connection
        # sent so far: it goes on the same connection, after the script's
        # answer (a NOSCRIPT retry is another write).
        result = await _evalsha(connection, script, keys, args)
        await waits_of(connection, self.min_replicas, self.replica_timeout).confirm()
        return result

    def eval_asking(
        self, script: Script, keys: Sequence[RedisArg], args: Sequence[RedisArg]
    ) -> defer.Deferred[Any]:
        """
        Run a Lua script after C{ASKING}, on one connection: Redis Cluster's
        answer for a slot being migrated to this node (L{presque.cluster}).
        """
        return self._call(script.name, self._asking, script, keys, args)

    def _asking(
        self, connection: Any, script: Script, keys: Sequence[RedisArg], args: Sequence[RedisArg]
    ) -> defer.Deferred[Any]:
        async def asking() -> Any:
            # The whole source: a NOSCRIPT retry would come after the one
            # command that ASKING lets through.
            connection.execute_command("ASKING")
            result = await connection.eval(script.source, keys, args)
            if self.min_replicas and script.writes:
                await waits_of(connection, self.min_replicas, self.replica_timeout).confirm()
            return result

        return defer.Deferred.fromCoroutine(asking())

    def execute(self, *command: RedisArg) -> defer.Deferred[Any]:
        """Run one Redis command, e.g. C{execute("SMEMBERS", key)}."""
        return self._call(str(command[0]), _execute, *command)

    def _call(
        self, name: str, method: Callable[..., defer.Deferred[Any]], *args: Any
    ) -> defer.Deferred[Any]:
        # The pool's own dispatch would queue the call while Redis is down
        # and wait forever. Picking a live connection here fails fast
        # instead; a connection that dies or hangs fails its calls (the
        # protocol's reply timeout is the command timeout).
        connections = self._live_connections()
        if not connections:
            return defer.fail(RedisUnavailable("redis is not connected")).addErrback(self._failed)
        try:
            call = method(self._turn_connection(connections), *args)
        except Exception:
            call = defer.fail()
        if self._outage.since is not None:
            call.addCallback(self._outage.ended)
        if self.timed is not None:
            call.addBoth(self._time, name, time.perf_counter())
        return call.addErrback(self._failed)

    def _turn_connection(self, connections: list[Any]) -> Any:
        # The calls of one reactor turn share a connection: their commands
        # leave in one write() and Redis reads them in one read(), where one
        # connection each cost a system call more on both sides. The next
        # turn takes the next connection.
        if self._turn_ends is None:
            self._turn = (self._turn + 1) % self.pool_size
            self._turn_ends = self._reactor.callLater(0, self._end_turn)
        return connections[self._turn % len(connections)]

    def _end_turn(self) -> None:
        self._turn_ends = None

    def _time(self, result: Any, name: str, started: float) -> Any:
        assert self.timed is not None
        self.timed(name, time.perf_counter() - started)
        return result

    def _failed(self, failure: Failure) -> Failure:
        classified = _classify(failure)
        if classified.check(RedisUnavailable):
            self._outage.began(classified.value)
        return classified

    async def until_ready(self, scripts: Sequence[Script], reactor: Any) -> None:
        """
        Wait until Redis answers and knows C{scripts}, so that the first
        requests served find it ready. Says so in the log while it waits.
        """
        from twisted.internet.task import deferLater

        for attempt in count(1):
            if self._pool is None:
                return  # closed: the daemon stops before it ever served
            try:
                await self.check_ready(scripts)
                return
            except (RedisUnavailable, RedisRefused) as error:
                if attempt % _READY_WARNINGS == 0:
                    log.warn(
                        "waiting for redis at {where}: {error}{loss}",
                        where=self.address.describe(),
                        error=error,
                        loss=f" (last connection lost: {self.last_loss})" if self.last_loss else "",
                    )
            await deferLater(reactor, _READY_POLL)

    async def check_ready(self, scripts: Sequence[Script]) -> None:
        """
        Make sure that Redis answers and knows C{scripts}: those it forgot
        (a SCRIPT FLUSH, a failover to a replica that never ran them) are
        sent again.

        @raise RedisUnavailable: Redis cannot serve.
        @raise RedisRefused: Redis refused a command.
        """
        await self.execute("PING")
        if not scripts:
            return
        known = await self.execute("SCRIPT", "EXISTS", *(script.sha for script in scripts))
        for script, exists in zip(scripts, known, strict=True):
            if not int(exists):
                await self.execute("SCRIPT", "LOAD", script.source)

    def close(self) -> defer.Deferred[None]:
        """Close every connection and stop reconnecting."""
        if self._pool is None:
            return defer.succeed(None)
        pool, self._pool = self._pool, None
        return pool.disconnect()


@cache
def quick_commands(protocol: type) -> type:
    """
    txredisapi's C{protocol}, writing each command with a few C operations
    per argument instead of its own Python-level ones: measured, 16 us
    instead of 38 us for a fetch, 48 us instead of 210 us for a batch of 100
    jobs (at its size, the second cost of a POST /qb after the JSON check).
    Its bytes are the same.
    """

    class QuickCommands(protocol):  # type: ignore[misc, valid-type]
        def _build_command(self, *args: Any, **kwargs: Any) -> bytes:
            parts = [b"*%d\r\n" % len(args)]
            for arg in args:
                if type(arg) is not bytes:
                    arg = self._encode_value(arg)
                parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
            return b"".join(parts)

    return QuickCommands


@cache
def sturdy(protocol: type) -> type:
    """
    txredisapi's C{protocol}, whose pool keeps reconnecting when the AUTH or
    SELECT sent on connecting fails for want of an answer (a Redis that
    hangs): txredisapi then stops reconnecting the whole pool for good, as
    it must only when Redis refuses (a wrong password), and a pool that
    lived through two such stalls was left with no connection at all.
    """

    class Sturdy(protocol):  # type: ignore[misc, valid-type]
        _refused = False

        def auth(self, *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
            return super().auth(*args, **kwargs).addBoth(self._note_refusal)

        def select(self, *args: Any, **kwargs: Any) -> defer.Deferred[Any]:
            return super().select(*args, **kwargs).addBoth(self._note_refusal)

        def _note_refusal(self, result: Any) -> Any:
            import txredisapi

            refusal = result.value if isinstance(result, Failure) else result
            self._refused = isinstance(refusal, txredisapi.ResponseError)
            return result

        def connectionMade(self) -> Any:
            factory = self.factory
            self.factory = _GivingUpOnRefusal(factory, self)
            handshake = super().connectionMade()

            def restore(result: Any) -> Any:
                self.factory = factory
                return result

            return handshake.addBoth(restore)

    return Sturdy


def _telling_losses(protocol: type, lost: Callable[[Failure], None]) -> type:
    """C{protocol}, which tells C{lost} why each of its connections ended."""

    class TellingLosses(protocol):  # type: ignore[misc, valid-type]
        def connectionLost(self, why: Failure) -> Any:
            lost(why)
            return super().connectionLost(why)

    return TellingLosses


class _GivingUpOnRefusal:
    """A protocol's factory, which stops reconnecting only if Redis refused the handshake."""

    def __init__(self, factory: Any, protocol: Any) -> None:
        self._factory = factory
        self._protocol = protocol

    def stopTrying(self) -> Any:
        if self._protocol._refused:
            return self._factory.stopTrying()
        # The connection is closed: the pool connects again, as after a crash.
        return defer.succeed(None)

    def connectionError(self, why: str) -> None:
        if self._protocol._refused:
            self._factory.connectionError(why)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._factory, name)


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


def _classify(failure: Failure) -> Failure:
    """Turn txredisapi's errors into presque's: unavailable, refused, or as they are."""
    import txredisapi

    if failure.check(txredisapi.ConnectionError, ConnectionError):
        return Failure(RedisUnavailable(failure.getErrorMessage()))
    if not failure.check(txredisapi.ResponseError):
        return failure
    reply = str(failure.value)
    # A script's reply quotes the error of the command that failed in it,
    # after its own ("ERR Error running script ... -OOM ...") on Redis 6.
    codes = {word.lstrip("-") for word in reply.split()[:1] + re.findall(r"-[A-Z]+", reply)}
    for code, reason in _UNAVAILABLE_ERRORS.items():
        if code in codes:
            return Failure(RedisUnavailable(reply, cause=reason))
    if "OOM" in codes:
        return Failure(RedisOutOfMemory(reply))
    return Failure(RedisRefused(reply))
