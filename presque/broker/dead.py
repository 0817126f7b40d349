"""A queue's dead letters: jobs that failed for good, kept for inspection."""

from __future__ import annotations

import json
from collections.abc import Sequence

from presque.broker.base import BATCH_LIMIT, BrokerBase, errors_of, seconds
from presque.broker.model import DeadLetter, Page, Retried
from presque.broker.scripts import load_script
from presque.lua import LuaScript

_DEAD_PAGE = load_script("dead_page")
_RETRY_DEAD = load_script("retry_dead")
_DROP_DEAD = load_script("drop_dead")


class DeadLetterOperations(BrokerBase):
    """Listing, retrying and dropping dead letters."""

    async def dead_letters(self, queue: str, offset: int = 0, limit: int = 100) -> Page[DeadLetter]:
        """Up to C{limit} dead letters of C{queue} from C{offset}, oldest first."""
        reply = await self.run(_DEAD_PAGE, queue, [offset, limit])
        letters = []
        for i in range(1, len(reply), 4):
            info = json.loads(reply[i + 3])
            letters.append(
                DeadLetter(
                    id=reply[i].decode("ascii"),
                    dead_since=seconds(reply[i + 1]),
                    payload=reply[i + 2],
                    attempts=info.get("attempts", 0),
                    errors=errors_of(info),
                )
            )
        return Page(int(reply[0]), letters)

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
