"""
Virtual queues (Net::Presque's C{{"type": "virtual"}}): a name that fetches
from its member queues, in their order, with the usual lease, wait and batch
options. A job handed out belongs to its member queue, which the answer
names; nothing is posted to a virtual queue.

Definitions live in Redis (L{presque.broker.keys.KeySpace.virtual}); each server
keeps them in memory, so that a fetch of an ordinary queue costs nothing
more, and reloads them when their version moved (a scheduler round, about
a second), or at once after a change it made itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from presque.broker.base import BrokerBase
from presque.broker.errors import NameTaken, NotVirtual, TooManyMembers, UnknownJob, VirtualFull
from presque.broker.scripts import load_script

_CHANGE = load_script("virtual_change")

#: The most virtual queues there may be, and the most members of one.
MAX_VIRTUAL = 10_000
MAX_MEMBERS = 100
#: What may be done to a virtual queue.
ACTIONS = ("set", "remove", "destroy")


class VirtualOperations(BrokerBase):
    """Defining virtual queues, and knowing them."""

    _virtual: dict[str, tuple[str, ...]] | None = None
    _virtual_version: bytes | None = None

    def members(self, name: str) -> tuple[str, ...] | None:
        """The member queues of the virtual queue C{name}, in order; None if it is not one."""
        return (self._virtual or {}).get(name)

    def virtual_holding(self, queue: str) -> bool:
        """Whether C{queue} is a member of some virtual queue."""
        return any(queue in members for members in (self._virtual or {}).values())

    async def queue_holding(self, queues: Sequence[str], job_id: str) -> str:
        """
        The first of C{queues} that holds the job C{job_id} (or its outcome).

        @raise UnknownJob: none does.
        """
        for queue in queues:
            keys = self.keys.queue(queue)
            held = await self.redis.execute("HEXISTS", keys.jobs, job_id)
            if held or await self.redis.execute("ZSCORE", keys.acked, job_id) is not None:
                return queue
        raise UnknownJob(job_id)

    async def change_virtual(
        self, name: str, action: str, queues: Sequence[str]
    ) -> tuple[str, ...]:
        """
        C{set} the members of the virtual queue C{name} to C{queues},
        C{remove} those from it, or C{destroy} it; answers its members now
        (none once it is gone).

        @raise VirtualFull: a new one, and there are L{MAX_VIRTUAL} already.
        @raise TooManyMembers: more than L{MAX_MEMBERS} members.
        @raise NotVirtual: C{name} is not a virtual queue (remove, destroy).
        @raise NameTaken: C{name} is an ordinary queue's (set).
        """
        if (
            action == "set"
            and await self.redis.execute("ZSCORE", self.keys.queues, name) is not None
        ):
            raise NameTaken(name)
        args = [name, action, json.dumps(list(queues)), MAX_VIRTUAL, MAX_MEMBERS]
        outcome, *members = await self.redis.eval(_CHANGE, self.keys.virtual_keys, args)
        if outcome == b"full":
            raise VirtualFull(MAX_VIRTUAL)
        if outcome == b"too_many":
            raise TooManyMembers(MAX_MEMBERS)
        if outcome == b"unknown":
            raise NotVirtual(name)
        await self.reload_virtual(force=True)
        return tuple(json.loads(members[0])) if members[0] else ()

    async def reload_virtual(self, force: bool = False) -> None:
        """Read the virtual queues again if they changed since they were read."""
        version = await self.redis.execute("GET", self.keys.virtual_version)
        if not force and self._virtual is not None and version == self._virtual_version:
            return
        found = await self.redis.execute("HGETALL", self.keys.virtual)
        pairs = zip(found[::2], found[1::2], strict=True)
        self._virtual = {
            name.decode("utf-8"): tuple(json.loads(members)) for name, members in pairs
        }
        self._virtual_version = version
