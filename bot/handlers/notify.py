"""Messages a change sends besides its answer: card updates and announcements, via the outbox."""

from __future__ import annotations

from bot import presenters
from bot.assessment import Assessment
from bot.domain import Conversation, Release, State
from bot.handlers.context import Context
from bot.outbox import Delivery, Outgoing, conversation_from
from bot.reply import Reply, Tone

ANNOUNCED = {
    # Only an approved release goes back to planned: whoever heard it was approved hears so.
    State.PLANNED: "is no longer approved",
    State.APPROVED: "is approved",
    State.DEPLOYING: "is deploying",
    State.DEPLOYED: "is deployed",
    State.ROLLED_BACK: "was rolled back",
    State.CANCELLED: "was cancelled",
}


async def update_cards(ctx: Context, subject: str, card: Reply) -> None:
    """Queue an in-place update of every posted copy of `subject`'s card."""
    for posted in await ctx.uow.cards.of(subject):
        where = Conversation(posted.platform, posted.conversation_id)
        update = Outgoing(where, card, kind=Delivery.UPDATE, target=posted.message_id)
        await ctx.uow.outbox.add(update, at=ctx.now)


async def release_changed(ctx: Context, assessment: Assessment) -> None:
    """Keep the release's cards true after a change, and the personal pages offering its
    buttons (SPEC §4.2: no stale button stays live)."""
    card = presenters.release_card(assessment, ctx.policy, now=ctx.now)
    await update_cards(ctx, assessment.release.name, card)
    await refresh_pages(ctx, assessment.release.name)


async def refresh_pages(ctx: Context, release: str) -> None:
    """Queue a fresh copy of every personal page that offers buttons for `release`.

    Someone acting outside any conversation acts on their own page, and the surface publishes
    that page again itself, with the outcome on top (bot/home.py); a second copy without the
    outcome would only wipe it.
    """
    why = Reply(title=f"{release} changed", subject=release)
    for page in await ctx.uow.pages.showing(release):
        if ctx.conversation is None and page.principal == ctx.actor.principal:
            continue
        where = Conversation(page.platform, page.person)
        await ctx.uow.outbox.add(Outgoing(where, why, kind=Delivery.PAGE), at=ctx.now)


async def announce(ctx: Context, before: Release, after: Release, why: str | None = None) -> None:
    """A short notice of a state change that matters, in the release's channel and the
    policy's announcement channel."""
    if before.state is after.state or after.state not in ANNOUNCED:
        return
    text = f"{after.name} {ANNOUNCED[after.state]}"
    notice = Reply(
        title=text,
        tone=_tone(after.state),
        summary=why,
        subject=None,
        notes=(f"by {ctx.actor.display_name}",),
    )
    for where in _announcement_channels(ctx, after):
        await ctx.uow.outbox.add(Outgoing(where, notice), at=ctx.now)


def _announcement_channels(ctx: Context, release: Release) -> list[Conversation]:
    channels = (
        [release.channel] if release.channel and release.channel.platform != "console" else []
    )
    if ctx.policy.announcements:
        extra = conversation_from(ctx.policy.announcements)
        if extra not in channels:
            channels.append(extra)
    return channels


def _tone(state: State) -> Tone:
    if state is State.ROLLED_BACK:
        return Tone.ERROR
    warning = (State.PLANNED, State.CANCELLED, State.DEPLOYING)
    return Tone.WARNING if state in warning else Tone.SUCCESS
