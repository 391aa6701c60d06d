"""Readiness polls (SPEC §4.5): one card per release, updated in place as people answer, with
reminders and an escalation before the release — each step claimed once across replicas. A poll
follows its release: its deadline moves with the schedule, and it closes when the release is no
longer on its way."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot import commands as c
from bot import schedule_presenters as present
from bot.domain import ON_ITS_WAY_STATES, DomainError, NotFound, Release, in_chat
from bot.handlers.base import Context, audit_draft, existing, handles, refuse
from bot.handlers.notify import update_cards
from bot.handlers.risks import finish_with_huddle, raise_risk
from bot.outbox import Delivery, Outgoing
from bot.parser import MAX_ID
from bot.ports import ReleaseQuery
from bot.reply import Reply, Tone
from bot.risks import Severity
from bot.schedules import Answer, Poll, PollAnswer, latest_answers
from bot.when import format_moment


@handles(c.Poll)
async def open_poll(cmd: c.Poll, ctx: Context) -> Reply:
    release = await existing(ctx, cmd.release, for_update=True)
    if release.state not in ON_ITS_WAY_STATES:
        raise DomainError(f"{release.name} is {release.state.label}; there is nothing to poll")
    if not in_chat(release.channel):
        raise DomainError(
            f"a poll asks in the release's Slack or Teams channel, and {release.name} has none:"
            " declare it there"
        )
    opens = cmd.at or ctx.now
    if opens < ctx.now:
        raise DomainError("that time is in the past")
    if cmd.at is not None and release.scheduled_at is not None and opens >= release.scheduled_at:
        # Asked for later on purpose; a poll for now stays allowed on a late or deploying one.
        when = format_moment(release.scheduled_at, ctx.policy.zone)
        raise DomainError(f"a poll opens before the release, and {release.name} is {when}")
    live = await _live_poll(ctx, release)
    if live is not None:
        # One card per release (SPEC §4.5): a second would ask everyone twice.
        return Reply(title=f"Nothing changed: {release.name} has poll {live.label} already")
    people = _addressees(ctx, release)
    if not people:
        raise DomainError(f"nobody signs {release.name} off here, so a poll would ask no one")
    poll = await _create_poll(ctx, release, opens, people)
    if opens <= ctx.now:
        await _post_poll(ctx, poll)
    await ctx.uow.commit()
    when = "now" if opens <= ctx.now else format_moment(opens, ctx.policy.zone)
    return Reply(
        title=f"Readiness poll {poll.label} for {release.name} opens {when}", tone=Tone.SUCCESS
    )


def _deadline(ctx: Context, release: Release, opens: datetime) -> datetime:
    """Answers are due `deadline_hours` before the release (an hour after opening at the
    earliest, the release itself at the latest), or a day after opening for a release with no
    date."""
    if release.scheduled_at is None:
        return opens + timedelta(hours=24)
    if release.scheduled_at <= opens:  # a late release: an hour to answer, not a past deadline
        return opens + timedelta(hours=1)
    before = release.scheduled_at - timedelta(hours=ctx.policy.polls.deadline_hours)
    return min(max(opens + timedelta(hours=1), before), release.scheduled_at)


async def _live_poll(ctx: Context, release: Release) -> Poll | None:
    """The release's poll still asking (not escalated, not closed), if it has one."""
    return next((p for p in await ctx.uow.polls.for_release(release.name) if not p.escalated), None)


def _addressees(ctx: Context, release: Release) -> tuple[str, ...]:
    """The members of the release's sign-off roles who can answer in its channel's platform."""
    where = release.channel
    assert where is not None, "only releases in a chat channel are polled"
    roles = ctx.policy.for_class(release.change_class).signoffs
    members = dict.fromkeys(p for r in roles for p in ctx.policy.roles.get(r, ()))
    return tuple(p for p in members if p.startswith(where.platform + ":"))


async def _create_poll(
    ctx: Context, release: Release, opens: datetime, people: tuple[str, ...]
) -> Poll:
    poll = await ctx.uow.polls.add(
        release=release.name,
        conversation=release.channel,
        opens_at=opens,
        deadline=_deadline(ctx, release, opens),
        addressees=people,
    )
    await ctx.uow.audit.append(
        audit_draft(ctx, "poll_opened", release, detail={"poll": poll.label})
    )
    return poll


async def _post_poll(ctx: Context, poll: Poll) -> None:
    await ctx.uow.polls.mark(poll.id, posted=True)
    if in_chat(poll.conversation):
        card = present.poll_card(poll, {}, ctx.policy.zone)
        await ctx.uow.outbox.add(
            Outgoing(poll.conversation, card, remember_as=poll.subject), at=ctx.now
        )


@handles(c.AnswerPoll)
async def answer_poll(cmd: c.AnswerPoll, ctx: Context) -> Reply:
    answer = _answer(cmd.answer)
    poll = await ctx.uow.polls.get(cmd.poll_id) if 0 < cmd.poll_id <= MAX_ID else None
    if poll is None:
        raise NotFound(f"there is no poll P{cmd.poll_id}")
    release = await existing(ctx, poll.release, for_update=True)
    if release.state not in ON_ITS_WAY_STATES:
        raise DomainError(f"{poll.label} is closed: {release.name} is {release.state.label}")
    if ctx.actor.principal not in poll.addressees:
        return await refuse(
            ctx,
            release,
            "poll",
            f"this poll asks the sign-off roles of {release.name}, and you are not in them",
        )
    if answer is Answer.BLOCKED and not cmd.reason.strip():
        raise DomainError("say what blocks the release")
    reason = cmd.reason.strip() or None
    previous = latest_answers(list(await ctx.uow.polls.answers(poll.id))).get(ctx.actor.principal)
    if previous is not None and (previous.answer, previous.reason) == (answer, reason):
        # A second click, or the same words again: nothing new to record or to raise.
        return Reply(title=f"Nothing changed: you already answered {answer.label} on {poll.label}")
    await ctx.uow.polls.answer(
        PollAnswer(poll.id, ctx.actor.principal, ctx.actor.display_name, answer, reason, ctx.now)
    )
    await ctx.uow.audit.append(
        audit_draft(
            ctx,
            "poll_answered",
            release,
            detail={"poll": poll.label, "answer": answer.value, "reason": reason},
        )
    )
    if answer is Answer.BLOCKED:
        # A Blocked answer is a high risk on the release, audited as any risk raised is.
        await raise_risk(ctx, release, Severity.HIGH, f"Blocked (poll {poll.label}): {reason}")
    card = await _poll_card(ctx, poll)
    await update_cards(ctx, poll.subject, card)
    if answer is Answer.BLOCKED:
        # The release's cards, and its open huddle's, show the new risk; this commits.
        await finish_with_huddle(ctx, release)
    else:
        await ctx.uow.commit()
    return card


def _answer(text: str) -> Answer:
    try:
        return Answer(text)
    except ValueError:  # a button's data is the client's to send
        raise DomainError(f"{text!r} is not an answer to a poll") from None


async def _poll_card(ctx: Context, poll: Poll) -> Reply:
    answers = latest_answers(list(await ctx.uow.polls.answers(poll.id)))
    return present.poll_card(poll, answers, ctx.policy.zone)


@handles(c.PollTick)
async def poll_tick(cmd: c.PollTick, ctx: Context) -> Reply:
    """Open automatic polls, post scheduled ones, remind, escalate — each step claimed once."""
    opened = await _open_automatic_polls(ctx)
    for live in await ctx.uow.polls.live():
        release = await ctx.uow.releases.get(live.release)
        if release is None or release.state not in ON_ITS_WAY_STATES:
            await _close(ctx, live, release)
            continue
        poll = await _following(ctx, live, release)
        # A poll set to open after its release (moved earlier since) opens at once.
        moved_past = release.scheduled_at is not None and poll.opens_at >= release.scheduled_at
        if not poll.posted and (poll.opens_at <= ctx.now or moved_past):
            # Every replica ticks at once: only the one that claims the opening posts the card.
            if await ctx.uow.occurrences.claim(f"{poll.subject}:post", poll.opens_at, at=ctx.now):
                await _post_poll(ctx, await _opening_now(ctx, poll, release))
        elif poll.posted:
            await _remind_or_escalate(ctx, poll, release)
    await ctx.uow.commit()
    return Reply(title=f"Poll tick: {opened} poll(s) opened")


async def _opening_now(ctx: Context, poll: Poll, release: Release) -> Poll:
    """A poll brought forward by its release, or posted late (the scheduler was down), opens
    now: its reminders count from now and its deadline is reckoned again from now, not from
    the time it was set for (a deadline already past would escalate it at once)."""
    if poll.opens_at <= ctx.now < poll.deadline:
        return poll
    deadline = _deadline(ctx, release, ctx.now)
    await ctx.uow.polls.mark(poll.id, opens_at=ctx.now, deadline=deadline)
    return replace(poll, opens_at=ctx.now, deadline=deadline)


async def _open_automatic_polls(ctx: Context) -> int:
    hours = ctx.policy.polls.before_hours
    if hours is None:
        return 0
    query = ReleaseQuery(
        states=ON_ITS_WAY_STATES,
        scheduled_from=ctx.now,
        scheduled_until=ctx.now + timedelta(hours=hours),
        include_unscheduled=False,
    )
    opened = 0
    for release in await ctx.uow.releases.find(query):
        if not in_chat(release.channel):
            continue  # nowhere to ask (declared from the console or the API)
        people = _addressees(ctx, release)
        if not people:
            continue  # a standard change, say: nobody signs it off, nobody to ask
        claim = await ctx.uow.occurrences.claim(
            f"autopoll:{release.name}", release.scheduled_at or ctx.now, at=ctx.now
        )
        # Once per date (the claim): a release that slipped after its poll closed is asked again.
        if claim and await _live_poll(ctx, release) is None:
            await _post_poll(ctx, await _create_poll(ctx, release, ctx.now, people))
            opened += 1
    return opened


async def _following(ctx: Context, poll: Poll, release: Release) -> Poll:
    """The poll with its deadline moved after its release's schedule, if that moved; its card
    then says the new one."""
    deadline = _deadline(ctx, release, poll.opens_at)
    if deadline == poll.deadline:
        return poll
    await ctx.uow.polls.mark(poll.id, deadline=deadline)
    moved = replace(poll, deadline=deadline)
    if moved.posted:
        await update_cards(ctx, poll.subject, await _poll_card(ctx, moved))
    return moved


async def _close(ctx: Context, poll: Poll, release: Release | None) -> None:
    """A poll whose release is no longer on its way closes, its buttons gone, and asks no one."""
    if not await ctx.uow.occurrences.claim(f"{poll.subject}:close", poll.opens_at, at=ctx.now):
        return  # another replica closes it
    await ctx.uow.polls.mark(poll.id, escalated=True)
    why = f"{release.name} is {release.state.label}" if release else f"{poll.release} is gone"
    if release is not None:
        detail = {"poll": poll.label, "why": why}
        await ctx.uow.audit.append(audit_draft(ctx, "poll_closed", release, detail=detail))
    card = await _poll_card(ctx, replace(poll, escalated=True))
    await update_cards(ctx, poll.subject, replace(card, notes=(*card.notes, f"Closed: {why}")))


async def _remind_or_escalate(ctx: Context, poll: Poll, release: Release) -> None:
    answers = latest_answers(list(await ctx.uow.polls.answers(poll.id)))
    waiting = [who for who in poll.addressees if who not in answers]
    if ctx.now >= poll.deadline:
        await ctx.uow.polls.mark(poll.id, escalated=True)
        if waiting and await ctx.uow.occurrences.claim(
            f"{poll.subject}:escalate", poll.deadline, at=ctx.now
        ):
            await _escalate(ctx, poll, release, waiting)
        await update_cards(
            ctx,
            poll.subject,
            present.poll_card(replace(poll, escalated=True), answers, ctx.policy.zone),
        )
        return
    every = timedelta(hours=ctx.policy.polls.remind_every_hours)
    rounds = int((ctx.now - poll.opens_at) / every)
    if rounds >= 1 and waiting:
        due = poll.opens_at + rounds * every
        if await ctx.uow.occurrences.claim(f"{poll.subject}:remind", due, at=ctx.now):
            notice = present.poll_reminder(poll, waiting, escalation=False)
            await _tell(ctx, poll, notice)


async def _escalate(ctx: Context, poll: Poll, release: Release, waiting: list[str]) -> None:
    notice = present.poll_reminder(poll, waiting, escalation=True)
    await _tell(ctx, poll, notice)
    owner = release.owner
    if poll.conversation and owner.startswith(poll.conversation.platform + ":"):
        await ctx.uow.outbox.add(
            Outgoing(poll.conversation, notice, kind=Delivery.EPHEMERAL, target=owner), at=ctx.now
        )


async def _tell(ctx: Context, poll: Poll, notice: Reply) -> None:
    if in_chat(poll.conversation):
        await ctx.uow.outbox.add(Outgoing(poll.conversation, notice), at=ctx.now)
