"""
Redis Cluster: every call goes to the master of its key's slot.

The map of slots to masters comes from C{CLUSTER SLOTS}, asked of any node
that answers (the seeds first, then every node seen since). A C{MOVED}
answer (the slot moved for good: a reshard, a failover) points the slot at
its new master at once, asks for the whole map again, and sends the call
there; an C{ASK} answer (the slot is being migrated, this key already
went) sends it, once, to the node named, after C{ASKING}. A master that
cannot be reached has the map asked for again, every second at most, so
that a replica promoted in its place is found.

Each master has a pool of its own (L{presque.redis.Redis}); a per-queue
script names one key of its queue and every key it touches shares that
key's hash tag, so each call lives on one slot. Calls with no key (PING,
INFO) go to any master; scripts are loaded on every master.
"""

from __future__ import annotations

import binascii
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from presque.redis import Redis, RedisArg, RedisRefused, RedisUnavailable, Script
from presque.redis_url import RedisAddress

log = Logger()

SLOTS = 16384
#: Redirections one call follows before it gives up (a map in flux).
MAX_REDIRECTIONS = 5
#: The map is asked for at most this often (seconds) when a master fails.
REFRESH_EVERY = 1.0
#: Commands about a node rather than a key.
_NODE_COMMANDS = frozenset({b"PING", b"INFO", b"SCRIPT", b"TIME"})


def key_slot(key: RedisArg) -> int:
    """The cluster slot of C{key}: CRC16 of its hash tag (in its first braces), else of it all."""
    data = key if isinstance(key, bytes) else str(key).encode("utf-8")
    start = data.find(b"{")
    if start != -1:
        end = data.find(b"}", start + 1)
        if end > start + 1:
            data = data[start + 1 : end]
    return binascii.crc_hqx(data, 0) % SLOTS


class RedisCluster:
    """
    The masters of a Redis Cluster found from C{seeds}, with the
    interface of L{Redis}: each master is logged in to as C{template} says
    (credentials, TLS: C{tls_for(address)}), its pool built by C{pool_for}.
    """

    def __init__(
        self,
        seeds: Sequence[RedisAddress],
        pool_for: Callable[[RedisAddress], Redis],
        reactor: Any,
        on_nodes: Callable[[RedisAddress], None] | None = None,
    ) -> None:
        self.seeds = list(seeds)
        self.pool_for = pool_for
        self.reactor = reactor
        #: Told the node to hear wake-ups from when it changes (a seed at first,
        #: then a master of the map: classic pub/sub reaches every node).
        self.on_nodes = on_nodes
        self.address = self.seeds[0]
        self.tls: Any = None
        self._pools: dict[tuple[str, int], Redis] = {}
        self._slots: list[tuple[str, int] | None] = [None] * SLOTS
        self._known: list[RedisAddress] = list(self.seeds)
        self._refreshing: defer.Deferred[None] | None = None
        self._refreshed_at = float("-inf")
        self._closed = False

    # presque.redis.RedisClient, the interface presque.redis.Redis has too.

    def connect(self) -> None:
        """Start asking for the map; calls fail as unavailable until it is known."""
        log.info(
            "asking redis cluster nodes {where} for the map of slots",
            where=" ".join(f"{seed.host}:{seed.port}" for seed in self.seeds),
        )
        self.refresh()

    @property
    def connected(self) -> bool:
        """Whether a master of the map is connected."""
        return any(pool.connected for pool in self._pools.values())

    def eval(
        self, script: Script, keys: Sequence[RedisArg], args: Sequence[RedisArg]
    ) -> defer.Deferred[Any]:
        """Run C{script} on the master of C{keys[0]}'s slot."""
        slot = key_slot(keys[0])
        return self._on_slot(slot, lambda pool: pool.eval(script, keys, args), script, keys, args)

    def execute(self, *command: RedisArg) -> defer.Deferred[Any]:
        """Run a command on the master of its key's slot (of any master if it names none)."""
        name = command[0] if isinstance(command[0], bytes) else str(command[0]).encode()
        if name.upper() in _NODE_COMMANDS or len(command) < 2:
            return self._on_any(lambda pool: pool.execute(*command))
        return self._on_slot(key_slot(command[1]), lambda pool: pool.execute(*command))

    async def until_ready(self, scripts: Sequence[Script], reactor: Any) -> None:
        """Wait until the map is known and every master answers and knows C{scripts}."""
        from twisted.internet.task import deferLater

        while not self._closed:
            try:
                await self.check_ready(scripts)
                return
            except (RedisUnavailable, RedisRefused):
                await deferLater(reactor, 0.1)

    async def check_ready(self, scripts: Sequence[Script]) -> None:
        """
        Make sure that every slot has a master, and that each answers and
        knows C{scripts}.

        @raise RedisUnavailable: a slot has no master, or its master cannot serve.
        @raise RedisRefused: a master refused a command.
        """
        await self.refresh(at_once=True)
        if None in self._slots:
            raise RedisUnavailable("the cluster's map leaves slots without a master")
        for pool in list(self._pools.values()):
            if not pool.connected:
                raise RedisUnavailable(f"redis at {pool.address.describe()} is not connected")
            await pool.check_ready(scripts)

    def close(self) -> defer.Deferred[None]:
        """Close every master's pool."""
        self._closed = True
        pools, self._pools = list(self._pools.values()), {}
        return defer.gatherResults([pool.close() for pool in pools]).addCallback(lambda _: None)

    # The map.

    def refresh(self, at_once: bool = False) -> defer.Deferred[None]:
        """Ask for the map again (at most every REFRESH_EVERY seconds, unless C{at_once})."""
        if self._refreshing is not None:
            return self._shared(self._refreshing)
        if not at_once and time.monotonic() - self._refreshed_at < REFRESH_EVERY:
            return defer.succeed(None)
        self._refreshed_at = time.monotonic()
        refreshing = self._refreshing = defer.Deferred.fromCoroutine(self._refresh())
        refreshing.addBoth(self._refreshed)
        return self._shared(refreshing)

    @staticmethod
    def _shared(refreshing: defer.Deferred[None]) -> defer.Deferred[None]:
        shared: defer.Deferred[None] = defer.Deferred()
        refreshing.addBoth(lambda result: shared.callback(None) or result)
        return shared

    def _refreshed(self, result: Any) -> None:
        self._refreshing = None
        if isinstance(result, Failure):
            log.failure("reading the cluster's map failed", result)

    async def _refresh(self) -> None:
        for address in [*self._masters(), *self._known]:
            reply = await self._ask_slots(address)
            if reply is not None:
                self._use(reply)
                return

    def _masters(self) -> list[RedisAddress]:
        return [pool.address for pool in self._pools.values() if pool.connected]

    async def _ask_slots(self, address: RedisAddress) -> list[Any] | None:
        key = (address.host or "", address.port)
        pool = self._pools.get(key)
        temporary = pool is None
        if pool is None:
            pool = self.pool_for(address)
            pool.connect()
        try:
            for _ in range(20):
                if pool.connected:
                    break
                await _sleep(self.reactor, 0.05)
            return await pool.execute("CLUSTER", "SLOTS")
        except (RedisUnavailable, RedisRefused):
            return None
        finally:
            if temporary:
                pool.close()

    def _use(self, reply: list[Any]) -> None:
        slots: list[tuple[str, int] | None] = [None] * SLOTS
        masters: dict[tuple[str, int], RedisAddress] = {}
        known: dict[tuple[str, int], RedisAddress] = {}
        for first, last, master, *replicas in reply:
            for node in (master, *replicas):
                host, port = node[0].decode("utf-8"), int(node[1])
                known[(host, port)] = replace(self.seeds[0], host=host, port=port)
            host, port = master[0].decode("utf-8"), int(master[1])
            masters[(host, port)] = known[(host, port)]
            for slot in range(int(first), int(last) + 1):
                slots[slot] = (host, port)
        self._slots = slots
        self._known = [*known.values(), *self.seeds]
        for key, address in masters.items():
            if key not in self._pools:
                log.info("redis cluster master at {host}:{port}", host=key[0], port=key[1])
                pool = self._pools[key] = self.pool_for(address)
                pool.connect()
        for key in list(self._pools.keys() - masters.keys()):
            log.info("{host}:{port} is no longer a master of the cluster", host=key[0], port=key[1])
            self._pools.pop(key).close()
        if masters and (self.address.host, self.address.port) not in masters:
            self.address = next(iter(masters.values()))
            if self.on_nodes is not None:
                self.on_nodes(self.address)

    # Calls.

    def _on_any(self, call: Callable[[Redis], defer.Deferred[Any]]) -> defer.Deferred[Any]:
        pools = [pool for pool in self._pools.values() if pool.connected]
        if not pools:
            self.refresh()
            return defer.fail(RedisUnavailable("no master of the cluster is connected"))
        return call(pools[0])

    def _on_slot(
        self,
        slot: int,
        call: Callable[[Redis], defer.Deferred[Any]],
        script: Script | None = None,
        keys: Sequence[RedisArg] = (),
        args: Sequence[RedisArg] = (),
    ) -> defer.Deferred[Any]:
        async def follow() -> Any:
            pool = self._pool_of(slot)
            for _ in range(MAX_REDIRECTIONS):
                try:
                    return await call(pool)
                except RedisRefused as error:
                    redirection = _redirection(error)
                    if redirection is None:
                        raise
                    kind, node = redirection
                    if kind == "MOVED":
                        self._slots[slot] = node
                        self.refresh(at_once=True)
                        pool = self._pool_at(node)
                    elif script is not None:
                        return await self._pool_at(node).eval_asking(script, keys, args)
                    else:
                        raise
                except RedisUnavailable:
                    # A master that fails may be replaced: look at the map again.
                    self.refresh()
                    raise
            raise RedisUnavailable(f"slot {slot} kept moving", cause="the cluster is resharding")

        return defer.Deferred.fromCoroutine(follow())

    def _pool_of(self, slot: int) -> Redis:
        node = self._slots[slot]
        if node is None:
            self.refresh()
            raise RedisUnavailable(
                f"no master is known for slot {slot}", cause="the cluster is down"
            )
        return self._pool_at(node)

    def _pool_at(self, node: tuple[str, int]) -> Redis:
        pool = self._pools.get(node)
        if pool is None:
            pool = self._pools[node] = self.pool_for(
                replace(self.seeds[0], host=node[0], port=node[1])
            )
            pool.connect()
        return pool


def _redirection(error: RedisRefused) -> tuple[str, tuple[str, int]] | None:
    """C{("MOVED" or "ASK", (host, port))} of a redirection; None for another error."""
    words = str(error).split()
    if len(words) != 3 or words[0] not in ("MOVED", "ASK"):
        return None
    host, _, port = words[2].rpartition(":")
    return words[0], (host, int(port))


def _sleep(reactor: Any, seconds: float) -> defer.Deferred[None]:
    from twisted.internet.task import deferLater

    return deferLater(reactor, seconds)
