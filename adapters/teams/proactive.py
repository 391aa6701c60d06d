"""Where a message the bot starts itself goes: stored references and Teams conversation ids.

A channel conversation id names a reply chain: `19:…@thread.tacv2;messageid=<root post id>`.
Without the `;messageid=` part it names the channel, and a message sent to it starts a new post;
with it, the message is a reply in that post's thread. Chats (group and personal) have no
threads: their ids carry no `;messageid=` and every message simply joins the chat.
"""

from __future__ import annotations

from copy import copy, deepcopy
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationReference

from bot.domain import REPLY_CHAIN_MARK, Conversation


def load_reference(reference_dict: dict[str, Any]) -> ConversationReference:
    """A stored reference, reading the tenant as `tenantId` (Teams) or `tenantID` (botbuilder)."""
    reference = ConversationReference().deserialize(reference_dict)
    conversation = reference_dict.get("conversation") or {}
    tenant = conversation.get("tenantId") or conversation.get("tenantID")
    if reference.conversation is not None and tenant:
        reference.conversation.tenant_id = tenant
    return reference


def channel_of(conversation_id: str) -> str:
    """The channel of a reply chain (or the id itself, for a channel or a chat)."""
    return Conversation("teams", conversation_id).channel.id


def thread_of(conversation_id: str) -> str | None:
    """The id of the root post of a channel reply chain; None for a channel or a chat."""
    _, mark, root = conversation_id.partition(REPLY_CHAIN_MARK)
    return (root or None) if mark else None


def post_to(conversation_id: str, thread: str | None) -> str:
    """Where to send a new message for `conversation_id`: in `thread` if given, else — for a
    channel — as a new post in the channel."""
    if thread_of(conversation_id) is None and thread is None:
        return conversation_id  # a chat, or already the channel itself
    channel = channel_of(conversation_id)
    return f"{channel}{REPLY_CHAIN_MARK}{thread}" if thread else channel


def starts_a_post(reference: ConversationReference, conversation_id: str) -> bool:
    """Whether a message sent to `conversation_id` (as `post_to` made it) opens a new post."""
    conversation = reference.conversation
    in_channel = conversation is not None and conversation.conversation_type == "channel"
    return in_channel and thread_of(conversation_id) is None


def addressed(
    activity: Activity, reference: ConversationReference, conversation_id: str
) -> Activity:
    """`activity` sent by the bot into `conversation_id`, with what `reference` knows
    (service URL, bot account, tenant); a new message or an update, never a reply."""
    outgoing = TurnContext.apply_conversation_reference(deepcopy(activity), reference)
    outgoing.conversation = copy(outgoing.conversation)
    outgoing.conversation.id = conversation_id
    # apply_conversation_reference makes it a reply to the activity the reference was taken
    # from; Teams would thread it under a message that may be long gone.
    outgoing.reply_to_id = None
    return outgoing
