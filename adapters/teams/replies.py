"""Answers to a message, sent in the turn; what the connector refuses goes to the outbox.

The answer to a message is the interactive part of a conversation: the person who wrote it is
waiting, so it goes straight out as a reply to their message, like any bot's answer, rather than
queueing behind the outbox's other messages for that conversation. Only when the connector
refuses it (throttled, down, too slow: one attempt, see connector.py) is the rest of the answer
queued in the outbox — with the card remembered when it is finally posted — so that nothing is
lost. Everything the bot says on its own, card updates included, goes through the outbox.
"""

from __future__ import annotations

import logging

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from adapters.teams import pages
from adapters.teams.connector import ConnectorError
from adapters.teams.live import card_subject
from adapters.teams.proactive import thread_of
from bot.domain import Conversation
from bot.outbox import Outgoing
from bot.ports import Clock
from bot.reply import Reply
from storage.base import Store

log = logging.getLogger(__name__)


class TurnReplies:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def send(self, turn_context: TurnContext, reply: Reply) -> str | None:
        """Reply to the turn's message with `reply`, in as many messages as it takes; the id
        of the first, or None when it had to be queued."""
        parts = pages.split(reply)
        sent: list[str | None] = []
        for part in parts:
            try:
                [response] = await turn_context.send_activities([pages.message(part)])
            except ConnectorError as problem:
                log.warning("Teams: answer refused (%s); queued in the outbox", problem)
                await self._queue(turn_context.activity, parts[len(sent) :])
                break
            sent.append(response.id if response is not None else None)
        return sent[0] if sent else None

    async def _queue(self, activity: Activity, parts: list[Reply]) -> None:
        conversation = Conversation("teams", activity.conversation.id)
        # In a channel, stay in the thread of the message being answered.
        thread = thread_of(activity.conversation.id)
        async with self._store() as uow:
            for part in parts:  # only a first part is the card itself (pages.py)
                remember = card_subject(part)
                message = Outgoing(conversation, part, remember_as=remember, thread=thread)
                await uow.outbox.add(message, at=self._clock.now())
            await uow.commit()
