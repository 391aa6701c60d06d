"""The outbox's way into Teams: a POST, a PUT or a personal message per queued message.

Everything the bot says on its own — card updates, huddle cards, announcements, notes,
reminders — leaves through here, addressed with the conversation reference stored when the bot
was added to the conversation or first heard from it. Each call is one attempt (connector.py);
the outbox worker retries what the connector refuses for now.

A reply too large for one message (pages.py) is posted in parts. Once the first is out, a part
the connector refuses is queued in the outbox with those after it, rather than failing the
message: a retry of the whole would post the first part twice. In a channel, when the first
part opened a new post, the others go into that post's thread.
"""

from __future__ import annotations

import logging

from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import ConversationReference
from botframework.connector.aio import ConnectorClient

from adapters.delivery import Undeliverable
from adapters.teams import pages
from adapters.teams.connector import ConnectorError, OneAttemptFactory, refusal
from adapters.teams.proactive import (
    addressed,
    channel_of,
    load_reference,
    post_to,
    starts_a_post,
    thread_of,
)
from bot.domain import Conversation
from bot.outbox import Delivery, Outgoing
from bot.ports import Clock
from bot.reply import Reply
from storage.base import Store

PLATFORM = "teams"

log = logging.getLogger(__name__)


class TeamsSender:
    def __init__(self, adapter: CloudAdapter, app_id: str, store: Store, clock: Clock) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._store = store
        self._clock = clock
        # One client per service URL: a new client would fetch a new token for every message.
        self._clients: dict[str, ConnectorClient] = {}

    async def send(self, message: Outgoing) -> str | None:
        """Deliver `message`; the id of the (first) posted message, None for an update."""
        if message.kind is Delivery.PAGE:
            raise Undeliverable("teams: a person has no own page here to publish")
        try:
            if message.kind is Delivery.UPDATE:
                await self._update(message)
                return None
            if message.kind is Delivery.EPHEMERAL:
                return await self._to_person(message)
            reference = await self._reference(message.conversation.id)
            where = post_to(message.conversation.id, message.thread)
            return await self._post(message.conversation, reference, where, message.reply)
        except ConnectorError as problem:
            raise refusal(problem) from problem

    async def _post(
        self, conversation: Conversation, reference: ConversationReference, where: str, reply: Reply
    ) -> str | None:
        first, *rest = pages.split(reply)
        sent_id = await self._send(reference, where, first)
        if rest:
            # In a channel the first part opened a post; its thread keeps the rest together.
            thread = sent_id if starts_a_post(reference, where) else thread_of(where)
            await self._send_rest(conversation, reference, rest, thread)
        return sent_id

    async def _send_rest(
        self,
        conversation: Conversation,
        reference: ConversationReference,
        parts: list[Reply],
        thread: str | None,
    ) -> None:
        """Send the other parts; from the first one refused on, queue them instead: the first
        part is out, and a retry of the whole message would post it twice."""
        there = post_to(conversation.id, thread)
        for index, part in enumerate(parts):
            try:
                await self._send(reference, there, part)
            except ConnectorError as problem:
                log.warning("Teams: part %d of a message refused (%s); queued", index + 2, problem)
                await self._queue(conversation, parts[index:], thread)
                return

    async def _send(self, reference: ConversationReference, where: str, part: Reply) -> str | None:
        activity = addressed(pages.message(part), reference, where)
        client = await self._client(reference.service_url)
        sent = await client.conversations.send_to_conversation(where, activity)
        return sent.id if sent is not None else None

    async def _update(self, message: Outgoing) -> None:
        if not message.target:
            raise Undeliverable("a Teams card update names no message to update")
        reference = await self._reference(message.conversation.id)
        activity = addressed(
            pages.message(pages.first_only(message.reply)), reference, message.conversation.id
        )
        activity.id = message.target
        client = await self._client(reference.service_url)
        await client.conversations.update_activity(activity.conversation.id, activity.id, activity)

    async def _to_person(self, message: Outgoing) -> str | None:
        """Teams has no ephemeral messages: the nearest is the person's personal chat."""
        stored = await self._store.conversation_ref(message.target) if message.target else None
        if stored is None:
            raise Undeliverable(
                f"Teams has no ephemeral messages, and {message.target or 'nobody'} has no "
                "personal chat with releasebot to get it in instead (installing the app "
                "personally opens one)"
            )
        reference = load_reference(stored)
        chat = reference.conversation.id
        return await self._post(Conversation(PLATFORM, chat), reference, chat, message.reply)

    async def _reference(self, conversation_id: str) -> ConversationReference:
        """The stored reference of the conversation, or else of its channel."""
        stored = await self._store.conversation_ref(conversation_id)
        if stored is None and channel_of(conversation_id) != conversation_id:
            stored = await self._store.conversation_ref(channel_of(conversation_id))
        if stored is None:
            raise Undeliverable(
                f"no conversation reference for {conversation_id}: releasebot must be added "
                "to that conversation (or hear from it) before it can post there"
            )
        return load_reference(stored)

    async def _client(self, service_url: str) -> ConnectorClient:
        client = self._clients.get(service_url)
        if client is None:
            identity = self._adapter.create_claims_identity(self._app_id)
            factory = self._adapter.bot_framework_authentication.create_connector_factory(identity)
            client = await OneAttemptFactory(factory).create(service_url)
            self._clients[service_url] = client
        return client

    async def _queue(
        self, conversation: Conversation, parts: list[Reply], thread: str | None
    ) -> None:
        # Behind the message being sent: the worker sends one message per conversation at a
        # time, oldest first, so the parts follow it in order once it is marked delivered.
        async with self._store() as uow:
            for part in parts:
                message = Outgoing(conversation, part, thread=thread)
                await uow.outbox.add(message, at=self._clock.now())
            await uow.commit()
