"""A queue's dead letters: jobs that failed for good, kept for inspection."""

from __future__ import annotations

from collections.abc import Sequence

from presque.broker.base import BATCH_LIMIT, BrokerBase
from presque.broker.model import Retried
from presque.broker.scripts import load_script
from presque.lua import LuaScript

_RETRY_DEAD = load_script("retry_dead")
_DROP_DEAD = load_script("drop_dead")


class DeadLetterOperations(BrokerBase):
    """Retrying and dropping dead letters (L{BrowseOperations} lists them)."""

    async def retry_dead(self, queue: str, ids: Sequence[str] | None = None) -> Retried:
        """
        Put dead letters back at the end of C{queue} with fresh attempts:
        those of C{ids}, or all of them. Says how many moved, and which of
        C{ids} were not dead letters.
        """
        replies = await self._in_batches(_RETRY_DEAD, queue, ids)
        return Retried(
            retried=sum(int(reply[0]) for reply in replies),
            missing=[name.decode("utf-8", "replace") for reply in replies for name in reply[1:]],
        )

    async def drop_dead(self, queue: str, ids: Sequence[str] | None = None) -> int:
        """Remove dead letters for good: those of C{ids}, or all of them."""
        return sum(int(reply[0]) for reply in await self._in_batches(_DROP_DEAD, queue, ids))

    async def _in_batches(
        self, script: LuaScript, queue: str, ids: Sequence[str] | None
    ) -> list[list[bytes]]:
        if ids is not None:
            # Slices: a script cannot unpack more than ~8,000 arguments.
            slices = [ids[i : i + BATCH_LIMIT] for i in range(0, len(ids), BATCH_LIMIT)]
            return [await self.run(script, queue, [BATCH_LIMIT, *part]) for part in slices]
        # All of them, a bounded batch per call so Redis never stalls.
        replies = []
        while True:
            reply = await self.run(script, queue, [BATCH_LIMIT])
            replies.append(reply)
            if int(reply[0]) < BATCH_LIMIT:
                return replies
