"""Keeping Teams' cards live: which replies to remember, what a click shows its clicker.

Every posted copy of a card changes through the outbox: the core queues an update of each
remembered copy in the same transaction as the change (bot/handlers/notify.py), and the Teams
sender PUTs it. So this module only has to remember the cards the bot posts in the turn (a reply
that is the card of a release, huddle or poll, no refusal) and to answer clicks.

A click (Action.Execute) is answered in the invoke's HTTP body, and Teams shows that card to the
clicker only, in place of the clicked one. It is the clicked card as everyone will now see it —
the huddle card after a click on a huddle button, though the core answers a decision with the
release card — the same card the outbox PUTs. Anything else (a refusal, a repeated click) leaves
everyone's copy alone and shows the clicker the current card with a notice on top: the poll card
too, for an answer refused (not asked, Blocked without a reason), so its buttons stay.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.cards import CardKeeper
from adapters.teams.proactive import channel_of
from bot import commands as c
from bot import risk_presenters, schedule_presenters
from bot.assessment import huddle_views
from bot.parser import id_number
from bot.ports import Clock
from bot.reply import Reply, Tone
from bot.schedules import latest_answers
from bot.service import ReleaseBot
from storage.base import CardRef, Store

PLATFORM = "teams"
HUDDLE = "huddle:"
POLL = "poll:"


@dataclass(frozen=True, slots=True)
class Shown:
    """What replaces a clicked card for the clicker: a card, maybe with a notice on top."""

    card: Reply
    notice: Reply | None = None


def card_subject(reply: Reply) -> str | None:
    """What `reply` is the card of (a release, `huddle:<id>`, `poll:<id>`); None for anything
    else."""
    return reply.subject if reply.tone is not Tone.ERROR else None


class LiveCards:
    def __init__(self, releasebot: ReleaseBot, keeper: CardKeeper, store: Store, clock: Clock):
        self._bot = releasebot
        self._keeper = keeper
        self._store = store
        self._clock = clock

    def changed(self, command: c.Command | None, reply: Reply) -> str | None:
        """The subject `command` changed (its reply is that subject's card), if it did."""
        subject = card_subject(reply)
        if subject is None or command is None or self._bot.is_read_only(command):
            return None
        return subject

    def answer_to_message(self, command: c.Command | None, reply: Reply) -> Reply:
        """What to post in the turn: the reply, unless the outbox is posting that very card.

        Opening a huddle queues the huddle card as a new post in the conversation, where
        everyone decides on it; when the core also answers with that card, a second copy in the
        turn would be a second card to keep in step, so the turn gets a pointer to it instead.
        """
        subject = card_subject(reply)
        if not isinstance(command, c.Huddle) or not (subject or "").startswith(HUDDLE):
            return reply
        return Reply(
            title=f"{reply.title} is open",
            tone=Tone.SUCCESS,
            summary="Its card is posted as a new message here: decide on each risk there.",
        )

    async def posted(self, reply: Reply, conversation_id: str, activity_id: str | None) -> None:
        """`reply` went out as a new message: remember it if it is a card."""
        subject = card_subject(reply)
        if subject is not None and activity_id:
            await self._keeper.remember(CardRef(subject, PLATFORM, conversation_id, activity_id))

    async def clicked(
        self,
        command: c.Command | None,
        reply: Reply,
        *,
        conversation_id: str,
        card_id: str | None,
        on: str | None,
    ) -> Shown:
        """What the clicker sees in place of card `card_id`, the card of `on` (if it says)."""
        changed = self.changed(command, reply)
        subject = on or changed or getattr(command, "release", None)
        if changed is not None and card_id and subject == changed:
            await self._remember_clicked(changed, conversation_id, card_id)
        if changed is None and card_subject(reply) is not None:
            return Shown(reply)  # a read-only button that asked for a card, e.g. Status
        current = await self.current(subject) if isinstance(subject, str) else None
        if current is None:  # e.g. no such release: the reply says it all
            return Shown(reply)
        return Shown(current) if changed is not None else Shown(current, notice=reply)

    async def _remember_clicked(self, subject: str, conversation_id: str, card_id: str) -> None:
        """Remember the clicked card, unless it is remembered already.

        Normally a card is remembered when posted; this covers one posted some other way. A card
        the outbox posted as a new channel post (a poll card) is remembered under the
        conversation it was queued for, the thread it was asked for in, while a click on it
        names the post's own reply chain: the same message, in the same channel, which would
        otherwise be remembered twice and so PUT twice on every change.
        """
        channel = channel_of(conversation_id)
        for known in await self._store.cards_of(subject):
            same_channel = channel_of(known.conversation_id) == channel
            if known.platform == PLATFORM and known.message_id == card_id and same_channel:
                return
        await self._keeper.remember(CardRef(subject, PLATFORM, conversation_id, card_id))

    async def current(self, subject: str) -> Reply | None:
        """The card of `subject` as everyone should see it now; None when there is none."""
        if subject.startswith(HUDDLE):
            return await self._huddle_card(subject.removeprefix(HUDDLE))
        if subject.startswith(POLL):
            return await self._poll_card(subject.removeprefix(POLL))
        card = await self._keeper.current(subject)
        return None if card.tone is Tone.ERROR else card

    async def _huddle_card(self, huddle_id: str) -> Reply | None:
        # The core has no read-only way to ask for a huddle card yet, so it is built here from
        # the same pieces the core uses when it queues the huddle card's updates.
        number = id_number(huddle_id, "")
        if number is None:  # the id came with a click: anything may be in it
            return None
        async with self._store(read_only=True) as uow:
            huddle = await uow.huddles.get(number)
            if huddle is None:
                return None
            risks = await huddle_views(uow, huddle.release, self._clock.now())
        return risk_presenters.huddle_card(huddle, risks, self._bot.policy.zone)

    async def _poll_card(self, poll_id: str) -> Reply | None:
        # Likewise for a readiness poll: the card the core queues as the poll's updates.
        number = id_number(poll_id, "")
        if number is None:  # the id came with a click: anything may be in it
            return None
        async with self._store(read_only=True) as uow:
            poll = await uow.polls.get(number)
            if poll is None:
                return None
            answers = latest_answers(list(await uow.polls.answers(poll.id)))
        return schedule_presenters.poll_card(poll, answers, self._bot.policy.zone)
