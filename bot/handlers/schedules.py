"""Release syncs and readiness polls: what each firing says, claimed once across replicas."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot import commands as c
from bot import schedule_presenters as present
from bot.assessment import Assessment, assess
from bot.domain import DomainError, NotFound, Release, State
from bot.handlers.base import Context, audit_draft, existing, finish, handles, refuse
from bot.handlers.notify import update_cards
from bot.outbox import Delivery, Outgoing
from bot.parser import id_number
from bot.ports import ReleaseQuery
from bot.reply import Reply, Tone
from bot.risks import Severity
from bot.schedules import Answer, Poll, PollAnswer, ScheduleError, Sync, latest_answers, to_cron

AGENDA_DAYS = 7
AGENDA_SIZE = 25
ACTIVE = frozenset({State.PLANNED, State.APPROVED, State.DEPLOYING})
CHAT_PLATFORMS = ("slack", "teams")


@handles(c.AddSync)
async def add_sync(cmd: c.AddSync, ctx: Context) -> Reply:
    where = ctx.conversation
    if where is None or where.platform not in CHAT_PLATFORMS:
        raise DomainError("a sync posts to a Slack or Teams channel: set it up there")
    try:
        cron = to_cron(cmd.schedule)
    except ScheduleError as problem:
        raise DomainError(f"{cmd.schedule!r}: {problem}") from None
    zone = cmd.timezone or ctx.policy.timezone
    sync = await ctx.uow.syncs.add(
        conversation=where,
        schedule=cmd.schedule,
        cron=cron,
        timezone=zone,
        created_by=ctx.actor.principal,
        created_at=ctx.now,
    )
    detail = {"sync": sync.label, "schedule": cmd.schedule, "timezone": zone, "channel": str(where)}
    await ctx.uow.audit.append(audit_draft(ctx, "sync_added", None, detail=detail))
    await ctx.uow.commit()
    return Reply(
        title=f"Release sync {sync.label}: {cmd.schedule} ({zone})",
        tone=Tone.SUCCESS,
        summary="Each reminder lists the next 7 days of releases.",
    )


@handles(c.ListSyncs, read_only=True)
async def list_syncs(cmd: c.ListSyncs, ctx: Context) -> Reply:
    syncs = [s for s in await ctx.uow.syncs.active() if s.conversation == ctx.conversation]
    return present.sync_list(syncs)


@handles(c.CancelSync)
async def cancel_sync(cmd: c.CancelSync, ctx: Context) -> Reply:
    number = id_number(cmd.sync_id, "S")
    sync = await ctx.uow.syncs.get(number) if number is not None else None
    if sync is None or sync.cancelled_at is not None:
        raise NotFound(f"there is no sync {cmd.sync_id}")
    await ctx.uow.syncs.cancel(sync.id, at=ctx.now)
    await ctx.uow.audit.append(
        audit_draft(ctx, "sync_cancelled", None, detail={"sync": sync.label})
    )
    await ctx.uow.commit()
    return Reply(title=f"Release sync {sync.label} cancelled", tone=Tone.SUCCESS)


@handles(c.FireSync)
async def fire_sync(cmd: c.FireSync, ctx: Context) -> Reply:
    sync = await _live_sync(ctx, cmd.sync_id)
    if not await ctx.uow.occurrences.claim(sync.key, cmd.occurrence, at=ctx.now):
        return Reply(title=f"{sync.label} at {cmd.occurrence.isoformat()} was posted already")
    reply = present.agenda(sync, cmd.occurrence, await _agenda(ctx), ctx.public_url)
    await ctx.uow.outbox.add(Outgoing(sync.conversation, reply), at=ctx.now)
    await ctx.uow.commit()
    return reply


@handles(c.ReportMissed)
async def report_missed(cmd: c.ReportMissed, ctx: Context) -> Reply:
    """Missed occurrences are claimed (never replayed) and reported in one message."""
    sync = await _live_sync(ctx, cmd.sync_id)
    claimed = [
        o for o in cmd.occurrences if await ctx.uow.occurrences.claim(sync.key, o, at=ctx.now)
    ]
    if not claimed:
        return Reply(title="Nothing to report")
    reply = present.missed(sync, claimed)
    await ctx.uow.outbox.add(Outgoing(sync.conversation, reply), at=ctx.now)
    await ctx.uow.commit()
    return reply


async def _live_sync(ctx: Context, sync_id: int) -> Sync:
    sync = await ctx.uow.syncs.get(sync_id)
    if sync is None or sync.cancelled_at is not None:
        raise NotFound(f"there is no sync S{sync_id}")
    return sync


async def _agenda(ctx: Context) -> list[Assessment]:
    query = ReleaseQuery(
        states=ACTIVE,
        scheduled_from=ctx.now,
        scheduled_until=ctx.now + timedelta(days=AGENDA_DAYS),
        include_unscheduled=False,
        limit=AGENDA_SIZE,
    )
    return [
        await assess(ctx.uow, r, ctx.policy, ctx.now) for r in await ctx.uow.releases.find(query)
    ]


@handles(c.Poll)
async def open_poll(cmd: c.Poll, ctx: Context) -> Reply:
    release = await existing(ctx, cmd.release, for_update=True)
    if release.state not in ACTIVE:
        raise DomainError(f"{release.name} is {release.state.label}; there is nothing to poll")
    if not _in_chat(release):
        raise DomainError(
            f"a poll asks in the release's Slack or Teams channel, and {release.name} has none:"
            " declare it there"
        )
    opens = cmd.at or ctx.now
    if opens < ctx.now:
        raise DomainError("that time is in the past")
    poll = await _create_poll(ctx, release, opens)
    if opens <= ctx.now:
        await _post_poll(ctx, poll)
    await ctx.uow.commit()
    when = "now" if opens <= ctx.now else f"at {opens.astimezone(ctx.policy.zone):%a %H:%M}"
    return Reply(
        title=f"Readiness poll {poll.label} for {release.name} opens {when}", tone=Tone.SUCCESS
    )


async def _create_poll(ctx: Context, release: Release, opens: datetime) -> Poll:
    rules = ctx.policy.polls
    deadline = opens + timedelta(hours=24)
    if release.scheduled_at is not None:
        deadline = max(
            opens + timedelta(hours=1), release.scheduled_at - timedelta(hours=rules.deadline_hours)
        )
    roles = ctx.policy.for_class(release.change_class).signoffs
    people = tuple(dict.fromkeys(p for r in roles for p in ctx.policy.roles.get(r, ())))
    where = release.channel
    if where is not None and where.platform in CHAT_PLATFORMS:
        # Ask the principals who can answer in the poll's own channel.
        people = tuple(p for p in people if p.startswith(where.platform + ":"))
    poll = await ctx.uow.polls.add(
        release=release.name,
        conversation=release.channel,
        opens_at=opens,
        deadline=deadline,
        addressees=people,
    )
    await ctx.uow.audit.append(
        audit_draft(ctx, "poll_opened", release, detail={"poll": poll.label})
    )
    return poll


async def _post_poll(ctx: Context, poll: Poll) -> None:
    await ctx.uow.polls.mark(poll.id, posted=True)
    if poll.conversation is not None and poll.conversation.platform in CHAT_PLATFORMS:
        card = present.poll_card(poll, {}, ctx.policy.zone)
        await ctx.uow.outbox.add(
            Outgoing(poll.conversation, card, remember_as=poll.subject), at=ctx.now
        )


@handles(c.AnswerPoll)
async def answer_poll(cmd: c.AnswerPoll, ctx: Context) -> Reply:
    poll = await ctx.uow.polls.get(cmd.poll_id)
    if poll is None:
        raise NotFound(f"there is no poll P{cmd.poll_id}")
    answer = Answer(cmd.answer)
    release = await existing(ctx, poll.release, for_update=True)
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
        await _raise_blocking_risk(ctx, release, poll, f"Blocked (poll {poll.label}): {reason}")
    card = await _poll_card(ctx, poll)
    await update_cards(ctx, poll.subject, card)
    if answer is Answer.BLOCKED:
        await finish(ctx, release)  # the release's cards show the new risk; this commits
    else:
        await ctx.uow.commit()
    return card


async def _raise_blocking_risk(ctx: Context, release: Release, poll: Poll, what: str) -> None:
    """A "Blocked" answer is a high risk on the release, audited as any risk raised is."""
    risk = await ctx.uow.risks.add(
        release=release.name,
        severity=Severity.HIGH,
        description=what,
        raised_by=ctx.actor.principal,
        raised_at=ctx.now,
    )
    detail = {"risk": risk.label, "severity": risk.severity.value, "description": what}
    await ctx.uow.audit.append(audit_draft(ctx, "risk_raised", release, detail=detail))


async def _poll_card(ctx: Context, poll: Poll) -> Reply:
    answers = latest_answers(list(await ctx.uow.polls.answers(poll.id)))
    return present.poll_card(poll, answers, ctx.policy.zone)


@handles(c.PollTick)
async def poll_tick(cmd: c.PollTick, ctx: Context) -> Reply:
    """Open automatic polls, post scheduled ones, remind, escalate — each step claimed once."""
    opened = await _open_automatic_polls(ctx)
    for poll in await ctx.uow.polls.live():
        if not poll.posted and poll.opens_at <= ctx.now:
            # Every replica ticks at once: only the one that claims the opening posts the card.
            if await ctx.uow.occurrences.claim(f"{poll.subject}:post", poll.opens_at, at=ctx.now):
                await _post_poll(ctx, poll)
        elif poll.posted:
            await _remind_or_escalate(ctx, poll)
    await ctx.uow.commit()
    return Reply(title=f"Poll tick: {opened} poll(s) opened")


async def _open_automatic_polls(ctx: Context) -> int:
    hours = ctx.policy.polls.before_hours
    if hours is None:
        return 0
    query = ReleaseQuery(
        states=ACTIVE,
        scheduled_from=ctx.now,
        scheduled_until=ctx.now + timedelta(hours=hours),
        include_unscheduled=False,
    )
    opened = 0
    for release in await ctx.uow.releases.find(query):
        if not _in_chat(release):
            continue  # nowhere to ask (declared from the console or the API)
        claim = await ctx.uow.occurrences.claim(
            f"autopoll:{release.name}", release.scheduled_at or ctx.now, at=ctx.now
        )
        if claim and not await ctx.uow.polls.for_release(release.name):
            await _post_poll(ctx, await _create_poll(ctx, release, ctx.now))
            opened += 1
    return opened


def _in_chat(release: Release) -> bool:
    return release.channel is not None and release.channel.platform in CHAT_PLATFORMS


async def _remind_or_escalate(ctx: Context, poll: Poll) -> None:
    answers = latest_answers(list(await ctx.uow.polls.answers(poll.id)))
    waiting = [who for who in poll.addressees if who not in answers]
    if ctx.now >= poll.deadline:
        await ctx.uow.polls.mark(poll.id, escalated=True)
        if waiting and await ctx.uow.occurrences.claim(
            f"{poll.subject}:escalate", poll.deadline, at=ctx.now
        ):
            await _escalate(ctx, poll, waiting)
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


async def _escalate(ctx: Context, poll: Poll, waiting: list[str]) -> None:
    notice = present.poll_reminder(poll, waiting, escalation=True)
    await _tell(ctx, poll, notice)
    release = await ctx.uow.releases.get(poll.release)
    owner = release.owner if release else None
    if owner and poll.conversation and owner.startswith(poll.conversation.platform + ":"):
        await ctx.uow.outbox.add(
            Outgoing(poll.conversation, notice, kind=Delivery.EPHEMERAL, target=owner), at=ctx.now
        )


async def _tell(ctx: Context, poll: Poll, notice: Reply) -> None:
    if poll.conversation is not None and poll.conversation.platform in CHAT_PLATFORMS:
        await ctx.uow.outbox.add(Outgoing(poll.conversation, notice), at=ctx.now)
