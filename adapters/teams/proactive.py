"""Messages the bot starts itself (reminders, polls, card updates), through a stored reference."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ConversationReference, ResourceResponse
from msrest.exceptions import HttpOperationError


async def send_to_conversation(
    adapter: CloudAdapter, app_id: str, reference_dict: dict[str, Any], activity: Activity
) -> str | None:
    """Post `activity` as a new message in the referenced conversation; return its id.

    A refusal by the connector (429, 5xx) raises DeliveryFailed: botbuilder does not retry, so
    the caller (the outbox worker) must, honouring `retry_after`.
    """
    reference = load_reference(reference_dict)
    sent: list[ResourceResponse] = []

    async def deliver(context: TurnContext) -> None:
        outgoing = TurnContext.apply_conversation_reference(deepcopy(activity), reference)
        # A new message, not a reply: TurnContext.send_activity would set replyToId to the
        # id of the continuation event, which Teams has never seen.
        outgoing.reply_to_id = None
        sent.extend(await context.adapter.send_activities(context, [outgoing]))

    try:
        await adapter.continue_conversation(reference, deliver, bot_app_id=app_id)
    except HttpOperationError as refused:
        raise DeliveryFailed.of(refused) from refused
    return sent[0].id if sent else None


async def update_in_conversation(
    adapter: CloudAdapter, app_id: str, reference_dict: dict[str, Any], activity: Activity
) -> None:
    """Replace the posted activity `activity.id` for everyone: a PUT of that activity.

    A refusal by the connector raises DeliveryFailed, as for a new message.
    """
    reference = load_reference(reference_dict)

    async def replace(context: TurnContext) -> None:
        outgoing = TurnContext.apply_conversation_reference(deepcopy(activity), reference)
        # Not TurnContext.update_activity: it would stamp the continuation event's made-up id
        # into replyToId. An update replies to nothing.
        outgoing.reply_to_id = None
        await context.adapter.update_activity(context, outgoing)

    try:
        await adapter.continue_conversation(reference, replace, bot_app_id=app_id)
    except HttpOperationError as refused:
        raise DeliveryFailed.of(refused) from refused


class DeliveryFailed(Exception):
    """The Bot Connector refused a message; `retry_after` is in seconds when it said so."""

    def __init__(self, status: int | None, retry_after: float | None) -> None:
        super().__init__(f"the Bot Connector answered {status}")
        self.status = status
        self.retry_after = retry_after

    @classmethod
    def of(cls, refused: HttpOperationError) -> DeliveryFailed:
        response = getattr(refused, "response", None)
        headers = getattr(response, "headers", None) or {}
        return cls(getattr(response, "status_code", None), _seconds(headers.get("Retry-After")))


def _seconds(header: str | None) -> float | None:
    # Retry-After may also be an HTTP date; the connector sends seconds, so a date reads as None.
    try:
        return float(header) if header else None
    except ValueError:
        return None


def load_reference(reference_dict: dict[str, Any]) -> ConversationReference:
    """A stored reference, reading the tenant as `tenantId` (Teams) or `tenantID` (botbuilder)."""
    reference = ConversationReference().deserialize(reference_dict)
    conversation = reference_dict.get("conversation") or {}
    tenant = conversation.get("tenantId") or conversation.get("tenantID")
    if reference.conversation is not None and tenant:
        reference.conversation.tenant_id = tenant
    return reference
