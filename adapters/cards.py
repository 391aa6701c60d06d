"""Keeping release cards true: after each decision every posted copy is re-rendered in place."""

from __future__ import annotations

import logging
from typing import Protocol

from bot import commands as c
from bot.domain import Actor
from bot.reply import Reply
from bot.service import ReleaseBot
from storage.base import CardRef, Store

log = logging.getLogger(__name__)

# Cards are re-read as the bot itself: what everyone sees, not what one person may do.
CARD_READER = Actor("releasebot", "releasebot", "system")


class CardPublisher(Protocol):
    """A platform's way to replace a posted card (Slack chat.update, Teams PUT activity)."""

    async def update_card(self, card: CardRef, reply: Reply) -> None: ...


class CardKeeper:
    def __init__(self, store: Store, bot: ReleaseBot) -> None:
        self._store = store
        self._bot = bot
        self._publishers: dict[str, CardPublisher] = {}

    def register(self, platform: str, publisher: CardPublisher) -> None:
        self._publishers[platform] = publisher

    async def remember(self, card: CardRef) -> None:
        await self._store.save_card(card)

    async def current(self, release: str) -> Reply:
        """The card of `release` as everyone should see it now."""
        return await self._bot.handle(c.Status(release), CARD_READER)

    async def refresh(self, release: str, *, skip: CardRef | None = None) -> None:
        """Re-render every posted card of `release` except `skip` (already answered in place)."""
        cards = [card for card in await self._store.cards_of(release) if card != skip]
        if not cards:
            return
        reply = await self.current(release)
        if reply.problem is not None:  # a rolled-back release's card is red, not a failure
            return
        for card in cards:
            publisher = self._publishers.get(card.platform)
            if publisher is None:
                continue
            try:
                await publisher.update_card(card, reply)
            except Exception:
                log.exception("could not update the %s card of %s", card.platform, release)
