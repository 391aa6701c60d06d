"""Release cards on Slack: remember where the adapter posted one, and tell a card by its ts.

Keeping cards true is the outbox's job now: every change queues, in its own transaction, an
update of every remembered copy (bot/handlers/notify.py), and the worker delivers it through
adapters/slack/sender.py. Cards that the core queues as posts (huddles, polls) are remembered by
the worker once Slack has answered. What is left here is for the replies the adapter posts
itself, as answers: the card of a `declare`, and answers to mentions (see listeners._deliver).
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.outgoing import post
from bot import commands
from bot.reply import Reply
from bot.service import ReleaseBot
from storage.base import CardRef, Store

PLATFORM = "slack"


def changed_release(bot: ReleaseBot, command: commands.Command, reply: Reply) -> str | None:
    """What a successful write changed (a release, or a huddle or poll card), if it says so."""
    # `problem`, not the tone, marks a failure: a rolled-back release's card is red too.
    if bot.is_read_only(command) or reply.problem is not None:
        return None
    return reply.subject


class SlackCards:
    """Post a card and remember it; look up whether a message is a remembered card."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def post(
        self, client: AsyncWebClient, channel: str, reply: Reply, *, thread_ts: str | None = None
    ) -> CardRef | None:
        """Post `reply` to `channel`; when it is a card, remember it and return it."""
        stamps = await post(client, channel, reply, thread_ts=thread_ts)
        if reply.subject is None or reply.problem is not None or not stamps or not stamps[0]:
            return None
        card = CardRef(reply.subject, PLATFORM, channel, stamps[0])
        await self._store.save_card(card)
        return card

    async def shows(self, subject: str, channel: str | None, message_ts: str | None) -> bool:
        """Whether that message is a remembered card of `subject` (so the outbox updates it)."""
        if not channel or not message_ts:
            return False
        card = CardRef(subject, PLATFORM, channel, message_ts)
        return card in await self._store.cards_of(subject)
