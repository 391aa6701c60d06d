"""Buttons and the modals they open: one listener for every releasebot button, one for forms.

A button's value is the command it runs (`bot.commands.dump`), so no button needs code here.
A click that changes something has, in the same transaction, queued an update of every posted
card it touched (the outbox delivers them with chat.update); so a click on such a card needs no
answer of its own. Anything else — a refusal, a repeat, a read, a change made from a card the
outbox cannot update — is shown to the clicker only, straight away (Slack's 3-second window).
A button on the App Home tab has no message and no response_url: its answer is the person's
home page, published again with the outcome on top.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientError
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import ACTION_PREFIX, ASK_PREFIX, BlockKitError, read_ask
from adapters.slack.cards import SlackCards, changed_release
from adapters.slack.home import SlackHome
from adapters.slack.modal import (
    ANSWER,
    CALLBACK_ID,
    Submission,
    ask_modal,
    command_of,
    filled,
    read_submission,
)
from adapters.slack.outgoing import EPHEMERAL, IN_CHANNEL, post_ephemeral, respond_with
from adapters.tasks import InFlight, Listener
from bot import commands
from bot.domain import Actor, Conversation
from bot.reply import Reply, error
from bot.service import ReleaseBot

log = logging.getLogger(__name__)

DELIVERY_ERRORS = (SlackApiError, ClientError, TimeoutError)
# One listener for every button: its value is the command to run (bot.commands.dump).
BUTTON: dict[str, str | re.Pattern[str]] = {
    "type": "block_actions",
    "action_id": re.compile(rf"^{re.escape(ACTION_PREFIX)}"),
}
UNKNOWN_BUTTON = "this button is not one I know; type the command"
STALE_FORM = "This form is out of date; close it and press the button again."
# Shows a reply to the person who pressed a button (or submitted its form), and only them.
Tell = Callable[[Reply], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Click:
    """Who pressed a button, and on which message (no channel for a modal or App Home)."""

    actor: Actor
    channel: str | None
    message_ts: str | None
    ephemeral: bool
    trigger_id: str | None
    home: bool = False  # pressed on the App Home tab

    @property
    def user(self) -> str:
        return self.actor.principal.removeprefix("slack:")

    @property
    def conversation(self) -> Conversation | None:
        return Conversation("slack", self.channel) if self.channel else None


def register(
    app: AsyncApp, bot: ReleaseBot, cards: SlackCards, home: SlackHome, in_flight: InFlight
) -> None:
    """Attach the button listener and the listener for submitted forms."""
    app.action(BUTTON)(in_flight.track(_on_button(bot, cards, home)))
    app.view_submission(CALLBACK_ID)(in_flight.track(_on_submission(bot, cards, home)))


def _on_button(bot: ReleaseBot, cards: SlackCards, home: SlackHome) -> Listener:
    async def on_button(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond | None,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        click = read_click(body)
        tell = _teller(click, respond, client, home)
        value = action.get("value") or ""
        if str(action.get("action_id", "")).startswith(ASK_PREFIX):
            await _ask(client, tell, click, value, _label(action))
            return
        try:
            command = commands.load(value)
        except commands.CommandDecodeError:
            await tell(error(UNKNOWN_BUTTON))
            return
        reply = await bot.handle(command, click.actor, click.conversation)
        if click.home or respond is None:
            # On App Home: the page again, the outcome on top, only the live buttons left.
            await tell(reply)
            return
        await _settle_click(bot, cards, click, command, reply, respond)

    return on_button


def _teller(
    click: Click, respond: AsyncRespond | None, client: AsyncWebClient, home: SlackHome
) -> Tell:
    """Where the clicker alone sees an answer: the response_url, or their App Home page."""

    async def tell(reply: Reply) -> None:
        # Slack gives a click on App Home no response_url (bolt's respond is then None).
        if click.home or respond is None:
            await home.publish(client, click.user, answer=reply)
        else:
            await respond_with(respond, reply)

    return tell


async def _settle_click(
    bot: ReleaseBot,
    cards: SlackCards,
    click: Click,
    command: commands.Command,
    reply: Reply,
    respond: AsyncRespond,
) -> None:
    subject = changed_release(bot, command, reply)
    if subject is None:
        await respond_with(respond, reply)  # a refusal, a repeat or a read: the clicker's alone
        return
    if not click.ephemeral and await cards.shows(subject, click.channel, click.message_ts):
        return  # the outbox updates the clicked card for everyone
    # A message the outbox cannot update (a private `status`, a card posted through the
    # response_url when the bot could not post it, one from before we kept cards). A private one
    # is replaced where it stands; so is a release card whose sign-off button was pressed (only a
    # release card carries one), seen by whoever saw it (SPEC §4.2: no stale button stays live).
    # Any other message stays as it is (a notice is not the card of what it changed), and the
    # clicker alone sees the new card. (Buttons that ask for text first come back as a form's
    # submission, settled below.)
    if click.ephemeral or _signs_off(command, subject):
        seen_by = EPHEMERAL if click.ephemeral else IN_CHANNEL
        await respond_with(respond, reply, response_type=seen_by, replace_original=True)
    else:
        await respond_with(respond, reply)


def _signs_off(command: commands.Command, release: str) -> bool:
    return isinstance(command, commands.Approve) and command.release == release


async def _ask(client: AsyncWebClient, tell: Tell, click: Click, value: str, title: str) -> None:
    """Open the modal that asks for the text the button's command still needs."""
    try:
        ask = read_ask(value)
        command_of(ask.command, ask.field)
        view = ask_modal(
            ask, title=title, channel=click.channel, message_ts=click.message_ts, home=click.home
        )
    except (ValueError, BlockKitError):
        await tell(error(UNKNOWN_BUTTON))
        return
    try:
        await client.views_open(trigger_id=click.trigger_id or "", view=view)
    except DELIVERY_ERRORS as problem:
        # E.g. expired_trigger_id: the click took Slack's 3 s; pressing again usually works.
        log.warning("could not open the %r form: %s", title, problem)
        await tell(error("I could not open the form; please press it again"))


def _on_submission(bot: ReleaseBot, cards: SlackCards, home: SlackHome) -> Listener:
    async def on_submission(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        try:
            submission = read_submission(view)
            command = filled(submission)
        except ValueError:
            await ack(response_action="errors", errors={ANSWER: STALE_FORM})
            return
        if not submission.answer.strip():
            # Shown under the input, and the modal stays open for a second try.
            await ack(response_action="errors", errors={ANSWER: "Please write an answer."})
            return
        await ack()  # closes the modal; the command runs after Slack has its answer
        actor = actor_of(body.get("user") or {})
        conversation = Conversation("slack", submission.channel) if submission.channel else None
        reply = await bot.handle(command, actor, conversation)
        if submission.home:
            # Asked from the App Home tab: the page is where the person is, and it has changed.
            await home.publish(client, actor.principal.removeprefix("slack:"), answer=reply)
            return
        await _settle_submission(bot, cards, client, submission, command, actor, reply)

    return on_submission


async def _settle_submission(
    bot: ReleaseBot,
    cards: SlackCards,
    client: AsyncWebClient,
    submission: Submission,
    command: commands.Command,
    actor: Actor,
    reply: Reply,
) -> None:
    subject = changed_release(bot, command, reply)
    where = (submission.channel, submission.message_ts)
    if subject is not None and await cards.shows(subject, *where):
        return  # the outbox updates the card the button was on
    await _tell(client, submission.channel, actor, reply)


async def _tell(client: AsyncWebClient, channel: str | None, actor: Actor, reply: Reply) -> None:
    """Show `reply` to the submitter alone, in the conversation the button was pressed in."""
    user = actor.principal.removeprefix("slack:")
    if channel is None:
        log.warning("no channel to tell %s %r in", actor.principal, reply.title)
        return
    try:
        await post_ephemeral(client, channel, user, reply)
    except DELIVERY_ERRORS:
        log.exception("could not tell %s %r in %s", actor.principal, reply.title, channel)


def read_click(body: dict[str, Any]) -> Click:
    """The clicker and the clicked message of a `block_actions` payload."""
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    return Click(
        actor=actor_of(body.get("user") or {}),
        channel=channel,
        message_ts=container.get("message_ts"),
        ephemeral=bool(container.get("is_ephemeral")),
        trigger_id=body.get("trigger_id"),
        home=container.get("type") == "view" and (body.get("view") or {}).get("type") == "home",
    )


def actor_of(user: dict[str, Any]) -> Actor:
    """The person behind an interactivity payload's `user`."""
    user_id = user.get("id", "")
    name = user.get("name") or user.get("username") or user_id
    return Actor(principal=f"slack:{user_id}", display_name=name, surface="slack")


def _label(action: dict[str, Any]) -> str:
    return str((action.get("text") or {}).get("text") or "")
