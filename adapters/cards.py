"""Posted cards: remembered where they were posted, and re-read as everyone should see them.

Updating them after a change is the core's job (it queues an update of every posted copy in
the outbox, with the change); this is what the platforms' answers to clicks need.
"""

from __future__ import annotations

from bot import commands as c
from bot.domain import Actor
from bot.reply import Reply
from bot.service import ReleaseBot
from storage.base import CardRef, Store

# Cards are re-read as the bot itself: what everyone sees, not what one person may do.
CARD_READER = Actor("releasebot", "releasebot", "system")


class CardKeeper:
    def __init__(self, store: Store, bot: ReleaseBot) -> None:
        self._store = store
        self._bot = bot

    async def remember(self, card: CardRef) -> None:
        await self._store.save_card(card)

    async def current(self, release: str) -> Reply:
        """The card of `release` as everyone should see it now."""
        return await self._bot.handle(c.Status(release), CARD_READER)
