"""Outgoing messages: written in the same transaction as the change that causes them.

A worker outside the core delivers them (SPEC §7: nothing lost, nothing twice); the core only
says what to send where. Interactive answers inside a platform's own time window do not come
through here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from bot.domain import Conversation
from bot.reply import Action, Fact, Line, Reply, Section, Struck, Style, Tone


class Delivery(StrEnum):
    POST = "post"  # a new message in the conversation
    UPDATE = "update"  # replace the message `target` in place
    EPHEMERAL = "ephemeral"  # only `target` (a principal) sees it
    # Publish the own page of the person `conversation.id` again, built when it is delivered
    # (the reply only says why); see bot.ports.PageRef.
    PAGE = "page"


@dataclass(frozen=True, slots=True)
class Outgoing:
    conversation: Conversation
    reply: Reply
    kind: Delivery = Delivery.POST
    target: str | None = None
    # A posted message that is the card of this release (or huddle): remember it, so later
    # changes update it in place.
    remember_as: str | None = None
    # Post inside the thread of this message, where the platform has threads.
    thread: str | None = None


def conversation_from(text: str) -> Conversation:
    """`slack:C0123` or `teams:19:abc@thread.tacv2` → Conversation; ValueError otherwise."""
    platform, colon, ident = text.partition(":")
    if not colon or not ident or platform not in ("slack", "teams", "console"):
        raise ValueError(f"{text!r} is not a conversation (slack:<channel> or teams:<id>)")
    return Conversation(platform, ident)


def reply_to_dict(reply: Reply) -> dict[str, Any]:
    """A Reply as plain JSON-able data, for the outbox row."""
    return asdict(reply)


def _line_from(data: str | dict[str, str]) -> Line:
    # asdict() keeps a plain line a string and turns a Struck into its fields.
    return data if isinstance(data, str) else Struck(**data)


def reply_from_dict(data: dict[str, Any]) -> Reply:
    return Reply(
        **{
            **data,
            "tone": Tone(data["tone"]),
            "facts": tuple(Fact(**f) for f in data["facts"]),
            "sections": tuple(
                Section(s["title"], tuple(map(_line_from, s["lines"]))) for s in data["sections"]
            ),
            "actions": tuple(Action(**{**a, "style": Style(a["style"])}) for a in data["actions"]),
            "notes": tuple(data["notes"]),
        }
    )
