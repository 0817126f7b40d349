"""
Periodic work every presque server does: the due work of the queues whose
time came (delayed jobs, leases, unconfirmed deliveries), found through the
schedule (L{presque.broker.schedule}), the runs of schedules of recurring
jobs that fell due (L{presque.broker.recurring}), a slow sweep over every queue that
repairs what the schedule may have missed, once a minute the queues'
history (L{presque.broker.history}), and a look at Redis' memory, to tell
producers to wait when it is nearly full.

Each move is one atomic script call, so any number of servers may run the
scheduler against the same Redis and every job still moves exactly once.
"""

from __future__ import annotations

from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from presque.broker import Broker
from presque.config import HistorySettings
from presque.redis import RedisRefused, RedisUnavailable
from presque.replicas import NotReplicated

log = Logger()

#: Queues the sweep looks at per round: 100,000 idle queues cost ~20
#: script calls a second, and each is looked at every ~80 minutes.
SWEEP_PER_ROUND = 20


class Scheduler(Service):
    """Runs a round of periodic work every C{interval} seconds."""

    def __init__(
        self,
        broker: Broker,
        interval: float,
        reactor: IReactorTime,
        history: HistorySettings | None = None,
        memory_share: float = 1.0,
        due_work: bool = True,
    ) -> None:
        self.broker = broker
        #: Whether this server does the due work, or (a daemon's other
        #: serving processes) only keeps what it must know up to date:
        #: Redis' memory and the virtual queues.
        self.due_work = due_work
        self.interval = interval
        self.history = history or HistorySettings()
        #: Past this share of Redis' maxmemory, posts are refused (1: never).
        self.memory_share = memory_share
        self._loop = LoopingCall(self.tick)
        self._loop.clock = reactor
        self._redis_refused = False
        self._stopped: Deferred[LoopingCall] | None = None

    async def tick(self) -> None:
        """One round of periodic work; errors are logged, never fatal."""
        try:
            if self.memory_share < 1:
                await self.broker.watch_memory(self.memory_share)
            await self.broker.reload_virtual()
            if not self.due_work:
                return
            done = await self.broker.run_due()
            await self.broker.fire_schedules()
            await self.broker.sweep(SWEEP_PER_ROUND)
            await self.broker.record_history(self.history.max_queues, self.history.retention)
        except RedisUnavailable:
            return  # said once per outage, by the Redis connection
        except (RedisRefused, NotReplicated) as error:
            if not self._redis_refused:
                log.warn("scheduler: redis refused its work: {error}", error=error)
            self._redis_refused = True
            return
        except Exception:
            log.failure("scheduler: periodic work failed")
            return
        self._redis_refused = False
        if done.queues:
            log.debug(
                "scheduler: {queues} queues: {promoted} delayed jobs due, {expired} leases"
                " expired, {returned} deliveries returned",
                queues=done.queues,
                promoted=done.promoted,
                expired=done.expired,
                returned=done.returned,
            )

    def startService(self) -> None:
        super().startService()
        self._stopped = self._loop.start(self.interval, now=False)

    def stopService(self) -> Deferred[LoopingCall] | None:
        super().stopService()
        stopped, self._stopped = self._stopped, None
        if self._loop.running:
            self._loop.stop()
        # Fires once a tick still in progress has finished.
        return stopped
