"""The Teams edge: activities in, core commands out, Adaptive Cards back."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from botbuilder.core import ActivityHandler, InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import (
    Activity,
    AdaptiveCardInvokeResponse,
    ChannelAccount,
    ConversationAccount,
)

from adapters.teams import cards, pages
from adapters.teams.live import LiveCards
from adapters.teams.replies import TurnReplies
from bot import commands as c
from bot.domain import Actor, Conversation
from bot.parser import ParseError
from bot.people import EmailOf
from bot.reply import Reply, error
from bot.service import ReleaseBot
from storage.base import Store

log = logging.getLogger(__name__)

CARD_ACTION = "adaptiveCard/action"
NOT_OUR_BUTTON = "that button is not one of releasebot's, so nothing was done"

# The command that ran (None when none could be read) and the core's reply to it.
Ran = tuple[c.Command | None, Reply]


class TeamsBot(ActivityHandler):
    """Routes Teams activities to the core; knows nothing of releases itself."""

    def __init__(
        self, releasebot: ReleaseBot, store: Store, live: LiveCards, replies: TurnReplies
    ) -> None:
        self._bot = releasebot
        self._store = store
        self._live = live
        self._replies = replies

    async def on_turn(self, turn_context: TurnContext) -> None:
        adopt_tenant(turn_context.activity.conversation)
        await super().on_turn(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        await self._remember_first_contact(activity)
        command, reply = await self._answer(turn_context)
        answer = self._live.answer_to_message(command, reply)
        sent_id = await self._replies.send(turn_context, answer)
        await self._live.posted(answer, activity.conversation.id, sent_id)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        activity = turn_context.activity
        if activity.name != CARD_ACTION:
            return await super().on_invoke_activity(turn_context)
        # Updating the clicked card needs the conversation's reference, like any proactive send.
        await self._remember_first_contact(activity)
        data = clicked_data(activity)
        command, reply = await self._run_button(data, turn_context)
        shown = await self._live.clicked(
            command,
            reply,
            conversation_id=activity.conversation.id,
            # Teams puts the id of the message that holds the clicked card in replyToId.
            card_id=activity.reply_to_id,
            on=cards.clicked_subject(data),
        )
        return card_invoke_response(shown.card, shown.notice)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._remember(turn_context.activity)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id
        if any(member.id == bot_id for member in members_added):
            await self._remember(turn_context.activity)

    async def _answer(self, turn: TurnContext) -> Ran:
        activity = turn.activity
        if activity.value is not None:  # an Action.Submit click: the card's data, no text
            return await self._run_button(activity.value, turn)
        return await self._run_text(command_text(activity), turn)

    async def _run_text(self, text: str, turn: TurnContext) -> Ran:
        # Parsed here rather than by handle_text: what is posted in the turn may depend on the
        # command (LiveCards.answer_to_message).
        try:
            command = self._bot.parse(text)
        except ParseError as problem:
            return None, error(problem.problem, problem.usage)
        return await self._run(command, turn)

    async def _run_button(self, data: Any, turn: TurnContext) -> Ran:
        """Run the command a button carries as the person who clicked it."""
        try:
            command = cards.clicked_command(data)
        except cards.NotOurButton as problem:
            log.warning("Teams: a click that is not ours: %s", problem)
            return None, error(NOT_OUR_BUTTON)
        return await self._run(command, turn)

    async def _run(self, command: c.Command, turn: TurnContext) -> Ran:
        activity = turn.activity
        actor, conversation = actor_of(activity), conversation_of(activity)
        reply = await self._bot.handle(command, actor, conversation, email_of=_email_lookup(turn))
        return command, reply

    async def _remember_first_contact(self, activity: Activity) -> None:
        for key in reference_keys(activity):
            if await self._store.conversation_ref(key) is None:
                await self._store.save_conversation_ref(key, reference_of(activity))

    async def _remember(self, activity: Activity) -> None:
        """Keep the conversation reference that proactive messages (reminders) need."""
        for key in reference_keys(activity):
            await self._store.save_conversation_ref(key, reference_of(activity))


def reference_keys(activity: Activity) -> list[str]:
    """The conversation's id; for a personal chat also its person (`teams:<aad id>`), which is
    where what only they should see (Teams has no ephemeral messages) goes."""
    keys = [activity.conversation.id]
    if activity.conversation.conversation_type == "personal" and activity.from_property:
        keys.append(actor_of(activity).principal)
    return keys


def adopt_tenant(conversation: ConversationAccount | None) -> None:
    """Read Teams' `tenantId`, which botbuilder only knows as `tenantID` and would drop."""
    extra = getattr(conversation, "additional_properties", None) or {}
    if conversation is not None and not conversation.tenant_id and extra.get("tenantId"):
        conversation.tenant_id = extra["tenantId"]


def reference_of(activity: Activity) -> dict[str, Any]:
    """The conversation reference to store, spelt as Teams and the Agents SDK spell it."""
    reference: dict[str, Any] = TurnContext.get_conversation_reference(activity).serialize()
    conversation = reference.get("conversation", {})
    if "tenantID" in conversation:
        conversation["tenantId"] = conversation.pop("tenantID")
    return reference


def _email_lookup(turn: TurnContext) -> EmailOf:
    """The sender's address, as Teams tells it to a bot in this conversation (the core asks
    only for commands whose rules need it, while the policy names anyone by email)."""

    async def email_of(_principal: str) -> str | None:
        member = await TeamsInfo.get_member(turn, turn.activity.from_property.id)
        return member.email or member.user_principal_name or None

    return email_of


def actor_of(activity: Activity) -> Actor:
    sender = activity.from_property
    principal = f"teams:{sender.aad_object_id or sender.id}"
    return Actor(principal=principal, display_name=sender.name or sender.id, surface="teams")


def conversation_of(activity: Activity) -> Conversation:
    return Conversation("teams", activity.conversation.id)


def command_text(activity: Activity) -> str:
    """The message text with the bot's @mention removed and other mentions as principals."""
    text = activity.text or ""
    bot_id = activity.recipient.id if activity.recipient else None
    for mention in _mentions(activity):
        tagged = mention.get("text")
        if isinstance(tagged, str) and tagged:
            text = text.replace(tagged, _mention_as_text(mention, bot_id), 1)
    return text.strip()


def _mentions(activity: Activity) -> list[dict[str, Any]]:
    # botbuilder keeps the fields of a mention entity it has no model for in additional_properties.
    found = []
    for entity in activity.entities or []:
        extra = getattr(entity, "additional_properties", None) or {}
        if (entity.type or "").lower() == "mention" and isinstance(extra.get("mentioned"), dict):
            found.append(extra)
    return found


def _mention_as_text(mention: dict[str, Any], bot_id: str | None) -> str:
    who = mention["mentioned"]
    if who.get("id") == bot_id:
        return ""
    if who.get("aadObjectId"):
        return f"teams:{who['aadObjectId']}"
    return str(who.get("name") or "")


def clicked_data(activity: Activity) -> Any:
    """The `data` of the Action.Execute an invoke reports, or None when there is none."""
    value = activity.value if isinstance(activity.value, dict) else {}
    action = value.get("action")
    if not isinstance(action, dict) or action.get("type") != "Action.Execute":
        return None
    return action.get("data")


def card_invoke_response(reply: Reply, notice: Reply | None = None) -> InvokeResponse:
    """HTTP 200 with the card: Teams shows it, to the clicker only, in place of the clicked one."""
    # The body must stay a msrest Model: CloudAdapter.process serializes it with msrest, which
    # fails on a plain dict (and so on what ActivityHandler's own adaptive-card path returns).
    # One card only: what does not fit in one Teams message is left out, and says so.
    card = cards.render(pages.first_only(reply), notice)
    body = AdaptiveCardInvokeResponse(
        status_code=int(HTTPStatus.OK), type=cards.CONTENT_TYPE, value=card
    )
    return InvokeResponse(status=int(HTTPStatus.OK), body=body)
