"""`/release`: answers in the acknowledgement here; buttons and forms in actions, events in events.

A read (status, list, help…) and a command that does not parse are answered inside the
acknowledgement, by `AnswerInAck`: a middleware, so the answer leaves as soon as it is ready.
A listener proper runs in a task of bolt's own, and bolt looks for its ack() every 10 ms;
answering before that costs every reply up to 10 ms and a task's worth of work. It is a global
middleware, after bolt's own (signature, authorization), rather than one attached to the
listener: a read then skips bolt's search for a matching listener, which builds the matcher's
arguments afresh for every request (≈ 30 µs of a status card's ≈ 400 in-process). A command
that changes something goes on to the listener, which acknowledges first and does the work
after (Slack wants an answer within 3 s).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientError
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.bootstrap import Components
from adapters.slack import actions, events
from adapters.slack.cards import SlackCards
from adapters.slack.home import SlackHome
from adapters.slack.outgoing import (
    EPHEMERAL,
    IN_CHANNEL,
    acknowledgement,
    respond_all,
    respond_with,
)
from adapters.slack.text import from_slack
from adapters.tasks import InFlight, Listener
from bot.commands import Command
from bot.domain import Actor, Conversation
from bot.parser import ParseError
from bot.reply import Reply, error
from bot.service import ReleaseBot
from storage.base import CardRef

log = logging.getLogger(__name__)

COMMAND = "/release"
# Slack gives up on an acknowledgement after 3 s; keep room for the network and bolt itself.
ACK_BUDGET_SECONDS = 2.5
DELIVERY_ERRORS = (SlackApiError, ClientError, TimeoutError)
# How long shutdown lets work under way (a read answering late, its further pages, a change
# acknowledged already) finish before cancelling it.
SHUTDOWN_GRACE_SECONDS = 5.0
# Where AnswerInAck leaves a parsed command for the listener (bolt's context is for that).
PARSED = "releasebot_command"


def register(app: AsyncApp, components: Components, cards: SlackCards, home: SlackHome) -> InFlight:
    """Attach every listener: the slash command, the buttons, mentions, direct messages and
    the App Home tab. The server lets the returned work under way finish before the store
    closes (`InFlight.finish`)."""
    in_flight = InFlight()
    app.use(AnswerInAck(components.bot, in_flight))
    app.command(COMMAND)(in_flight.track(_on_change(components.bot, cards)))
    actions.register(app, components.bot, cards, home, in_flight)
    events.register(app, components, cards, home, in_flight)
    return in_flight


class AnswerInAck(AsyncMiddleware):
    """Answers a `/release` read, or a parse error, as the acknowledgement; passes changes, and
    every other request, on (`next`).

    A read the store does not answer within ACK_BUDGET_SECONDS is acknowledged empty, and its
    answer goes to the response_url when it comes.
    """

    def __init__(self, bot: ReleaseBot, in_flight: InFlight) -> None:
        self._bot = bot
        # Reads and answers still running (a late read, pages after the first).
        self._in_flight = in_flight

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],  # bolt calls it `next`
    ) -> BoltResponse | None:
        slash, respond = req.body, req.context.respond
        if slash.get("command") != COMMAND:  # a button, a form, an event: not ours to answer
            await next()
            return resp
        try:
            command = self._bot.parse(from_slack(slash.get("text") or ""))
        except ParseError as problem:
            return self._acknowledge(error(problem.problem, problem.usage), respond)
        if not self._bot.is_read_only(command):
            req.context[PARSED] = command
            await next()
            return resp
        return await self._read(command, slash, respond)

    async def _read(
        self, command: Command, slash: dict[str, Any], respond: AsyncRespond | None
    ) -> BoltResponse:
        """The read's answer as the acknowledgement, or an empty one once the budget is spent.

        The read runs in a task of its own, so it can outlast the acknowledgement; it settles
        `ack` itself, and a timer settles it empty if the read is late. (A timer rather than
        asyncio.wait or wait_for: on this hot path they would build several more objects.)
        """
        loop = asyncio.get_running_loop()
        ack: asyncio.Future[BoltResponse] = loop.create_future()
        self._in_flight.start(self._answer(command, slash, respond, ack))
        timer = loop.call_later(ACK_BUDGET_SECONDS, _acknowledge_empty, ack)
        try:
            return await ack
        finally:
            timer.cancel()

    async def _answer(
        self,
        command: Command,
        slash: dict[str, Any],
        respond: AsyncRespond | None,
        ack: asyncio.Future[BoltResponse],
    ) -> None:
        """Run a read; answer in `ack` while it is open, else at the response_url."""
        try:
            reply = await self._bot.handle(command, *slash_origin(slash))
            if ack.done():  # the budget ran out: Slack has had an empty acknowledgement
                await _answer_late(reply, respond)
            else:
                ack.set_result(self._acknowledge(reply, respond))
        except Exception as problem:
            if not ack.done():
                ack.set_exception(problem)  # bolt answers 500 and logs it, as for a listener
                return
            log.exception("could not answer %s late", type(command).__name__)

    def _acknowledge(self, reply: Reply, respond: AsyncRespond | None) -> BoltResponse:
        """The acknowledgement showing `reply` to the asker; any further pages follow it."""
        response, rest = acknowledgement(reply)
        if rest and respond is not None:
            self._in_flight.start(respond_all(respond, rest, EPHEMERAL))
        return response


def _acknowledge_empty(ack: asyncio.Future[BoltResponse]) -> None:
    if not ack.done():
        ack.set_result(BoltResponse(status=200, body=""))


async def _answer_late(reply: Reply, respond: AsyncRespond | None) -> None:
    """The answer of a read that outlasted the acknowledgement, at the response_url."""
    if respond is None:
        log.warning("no response_url to answer %r at", reply.title)
        return
    await respond_with(respond, reply)


def _on_change(bot: ReleaseBot, cards: SlackCards) -> Listener:
    async def on_change(
        ack: AsyncAck,
        command: dict[str, Any],
        context: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        actor, conversation = slash_origin(command)
        parsed: Command = context[PARSED]
        # The core has queued, with the change, updates of every posted card it touched.
        reply = await bot.handle(parsed, actor, conversation)
        await _deliver(reply, cards, client, conversation.id, respond)

    return on_change


async def _deliver(
    reply: Reply, cards: SlackCards, client: AsyncWebClient, channel: str, respond: AsyncRespond
) -> CardRef | None:
    """A card for everyone goes to the channel; anything else only to the person who asked.

    Only `declare` answers with a card for everyone (`broadcast`), and the core does not queue
    that card in the outbox: it is this command's answer. So it is posted here, once, and
    remembered here (the outbox then keeps it true like any other card). Posting the answer
    straight away is also what lets a refusal such as not_in_channel fall back to the
    response_url, which the outbox, working later and elsewhere, cannot do. Everything the
    core queues (huddle and poll cards, notes, reminders, updates) is posted by the outbox
    worker, which remembers the cards among them.
    """
    if not reply.broadcast:
        await respond_with(respond, reply)
        return None
    try:
        return await cards.post(client, channel, reply)
    except DELIVERY_ERRORS as problem:
        # E.g. not_in_channel or a DM: Slack still lets the response_url show it to everyone.
        # That message has no timestamp we could learn, so it cannot be updated later.
        log.warning(
            "could not post %r to %s (%s); answering in place", reply.title, channel, problem
        )
        await respond_with(respond, reply, response_type=IN_CHANNEL)
        return None


def slash_origin(command: dict[str, Any]) -> tuple[Actor, Conversation]:
    """Who ran a slash command, and where."""
    user = command["user_id"]
    actor = Actor(
        principal=f"slack:{user}", display_name=command.get("user_name") or user, surface="slack"
    )
    return actor, Conversation("slack", command["channel_id"])
