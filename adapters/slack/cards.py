"""Release cards on Slack: remember where each was posted, and keep every copy true.

After a command changes a release, CardKeeper re-renders every posted card of it, on every
platform. Slack acknowledges first and works after, so two clicks can refresh at once; were their
refreshes to overlap, the one that read the release first could land last and leave a stale card
with live buttons. So refreshes of one release run one after another, each reading the release
when it starts, and requests that arrive while one runs share the next pass instead of queueing
a pass each (20 people approving at once cost two passes, not 20 rounds of chat.update).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Protocol

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import render
from adapters.slack.outgoing import post
from bot import commands
from bot.reply import Reply
from bot.service import ReleaseBot
from storage.base import CardRef, Store

log = logging.getLogger(__name__)

PLATFORM = "slack"


class SlackCardPublisher:
    """CardKeeper's way to replace a posted Slack card: `chat.update` of its message."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def update_card(self, card: CardRef, reply: Reply) -> None:
        # A card too big for one message is posted as several and only the first is remembered,
        # so only the first is updated. Release cards stay far below Slack's 50 blocks; keeping
        # a list of messages per card is not worth it until one does not.
        first = render(reply)[0]
        await self._client.chat_update(
            channel=card.conversation_id, ts=card.message_id, text=first.text, blocks=first.blocks
        )


def changed_release(bot: ReleaseBot, command: commands.Command, reply: Reply) -> str | None:
    """The release a successful write changed, if its reply says which; else None."""
    # `problem`, not the tone, marks a failure: a rolled-back release's card is red too.
    if bot.is_read_only(command) or reply.problem is not None:
        return None
    return reply.subject


class Keeper(Protocol):
    """What SlackCards needs of adapters.cards.CardKeeper."""

    async def remember(self, card: CardRef) -> None: ...

    async def refresh(self, release: str, *, skip: CardRef | None = None) -> None: ...


@dataclass
class _Passes:
    """The refresh requests of one release: how many were asked, how many a pass has covered."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    asked: int = 0
    covered: int = 0
    waiting: int = 0


class SlackCards:
    """Slack's part in keeping cards true: post and remember them, refresh them in order."""

    def __init__(self, keeper: Keeper, store: Store) -> None:
        self._keeper = keeper
        self._store = store
        self._passes: dict[str, _Passes] = {}

    async def post(
        self, client: AsyncWebClient, channel: str, reply: Reply, *, thread_ts: str | None = None
    ) -> CardRef | None:
        """Post `reply` to `channel`; when it is a release card, remember it and return it."""
        stamps = await post(client, channel, reply, thread_ts=thread_ts)
        if reply.subject is None or reply.problem is not None or not stamps or not stamps[0]:
            return None
        card = CardRef(reply.subject, PLATFORM, channel, stamps[0])
        await self._keeper.remember(card)
        return card

    async def shows(self, release: str, channel: str | None, message_ts: str | None) -> bool:
        """Whether that message is a remembered card of `release` (so a refresh updated it)."""
        if not channel or not message_ts:
            return False
        card = CardRef(release, PLATFORM, channel, message_ts)
        return card in await self._store.cards_of(release)

    async def refresh(self, release: str, *, skip: CardRef | None = None) -> None:
        """Update every posted card of `release` but `skip`, once every earlier pass is done."""
        passes = self._passes.setdefault(release, _Passes())
        passes.asked += 1
        passes.waiting += 1
        ticket = passes.asked
        try:
            async with passes.lock:
                await self._pass(release, passes, ticket, skip)
        finally:
            passes.waiting -= 1
            if not passes.waiting:
                del self._passes[release]

    async def _pass(self, release: str, passes: _Passes, ticket: int, skip: CardRef | None) -> None:
        if passes.covered >= ticket:
            return  # a pass that started after this request was made has done its work
        # Only a pass for this one request may leave its card out; others need every card.
        alone = passes.covered == ticket - 1 and passes.asked == ticket
        passes.covered = passes.asked
        try:
            await self._keeper.refresh(release, skip=skip if alone else None)
        except Exception:
            # CardKeeper survives a failing publisher already; this is the store failing.
            log.exception("could not refresh the cards of %s", release)
