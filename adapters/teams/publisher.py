"""Teams' CardPublisher: a posted release card is replaced for everyone with a PUT."""

from __future__ import annotations

import logging

from botbuilder.integration.aiohttp import CloudAdapter

from adapters.teams.bot import card_message
from adapters.teams.proactive import update_in_conversation
from bot.reply import Reply
from storage.base import CardRef, Store

log = logging.getLogger(__name__)


class CardNotReachable(LookupError):
    """No conversation reference is stored for the conversation a card was posted in."""


class TeamsCardPublisher:
    """PUT {serviceUrl}/v3/conversations/{id}/activities/{activityId} with the new card."""

    def __init__(self, adapter: CloudAdapter, app_id: str, store: Store) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._store = store

    async def update_card(self, card: CardRef, reply: Reply) -> None:
        """Replace `card` with `reply`; raises DeliveryFailed when the connector refuses."""
        reference = await self._store.conversation_ref(card.conversation_id)
        if reference is None:
            # The reference is stored before any card is posted or remembered, so this means a
            # card from elsewhere (or a wiped store): saying so beats a silent stale card.
            raise CardNotReachable(f"no conversation reference for {card.conversation_id}")
        activity = card_message(reply)
        activity.id = card.message_id
        await update_in_conversation(self._adapter, self._app_id, reference, activity)
