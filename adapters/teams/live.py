"""Keeping Teams' release cards live: which replies to remember, what a click shows its clicker.

A reply that is a release card (it has a subject and is no refusal) is remembered when it is
posted, so CardKeeper can PUT it after every later decision, wherever that decision is made. After
a command that changed a release, every posted copy is refreshed.

A click (Action.Execute) is answered in the invoke's HTTP body, and Teams shows that card to the
clicker only. After a change it is the card as everyone now sees it, the same card the PUTs carry,
so the clicker's copy does not flip from one to the other. Anything else — a refusal, a repeated
click — leaves everyone's copy alone and shows the clicker the current card with a notice on top.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.cards import CardKeeper
from adapters.teams.refresher import CardRefresher
from bot import commands as c
from bot.reply import Reply, Tone
from bot.service import ReleaseBot
from storage.base import CardRef

PLATFORM = "teams"


@dataclass(frozen=True, slots=True)
class Shown:
    """What replaces a clicked card for the clicker: a card, maybe with a notice on top."""

    card: Reply
    notice: Reply | None = None


def card_release(reply: Reply) -> str | None:
    """The release `reply` is the card of; None for anything else, refusals included."""
    return reply.subject if reply.tone is not Tone.ERROR else None


class LiveCards:
    def __init__(self, releasebot: ReleaseBot, keeper: CardKeeper, refresher: CardRefresher):
        self._bot = releasebot
        self._keeper = keeper
        self._refresher = refresher

    def changed_release(self, command: c.Command | None, reply: Reply) -> str | None:
        """The release `command` changed (its reply is that release's card), if it did."""
        release = card_release(reply)
        if release is None or command is None or self._bot.is_read_only(command):
            return None
        return release

    async def posted(
        self,
        command: c.Command | None,
        reply: Reply,
        conversation_id: str,
        activity_id: str | None,
    ) -> None:
        """`reply` went out as a new message: keep it if it is a card, refresh the others."""
        release = card_release(reply)
        card = None
        if release is not None and activity_id:
            card = CardRef(release, PLATFORM, conversation_id, activity_id)
            await self._keeper.remember(card)
        changed = self.changed_release(command, reply)
        if changed is not None:
            # The new message already shows the release as it is now.
            await self._refresher.refresh(changed, skip=card)

    async def clicked(
        self, command: c.Command | None, reply: Reply, conversation_id: str, card_id: str | None
    ) -> Shown:
        """What the clicker sees in place of card `card_id`; after a change, refresh every copy."""
        changed = self.changed_release(command, reply)
        if changed is not None:
            if card_id:
                # Normally remembered when posted; this covers a card posted some other way.
                await self._keeper.remember(CardRef(changed, PLATFORM, conversation_id, card_id))
            return await self._after_change(changed, reply)
        if card_release(reply) is not None:  # a read-only button, e.g. Status: that is the card
            return Shown(reply)
        return await self._with_notice(command, reply)

    async def _after_change(self, release: str, reply: Reply) -> Shown:
        current = await self._keeper.current(release)
        # The clicked card too: the invoke answer reaches the clicker only, the PUT everyone.
        await self._refresher.refresh(release)
        return Shown(reply if current.tone is Tone.ERROR else current)

    async def _with_notice(self, command: c.Command | None, reply: Reply) -> Shown:
        release = getattr(command, "release", None)
        if not isinstance(release, str):  # not a click about one release (or not ours at all)
            return Shown(reply)
        current = await self._keeper.current(release)
        if current.tone is Tone.ERROR:  # e.g. no such release: the reply says it all
            return Shown(reply)
        return Shown(current, notice=reply)
