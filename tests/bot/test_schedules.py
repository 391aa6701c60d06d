"""Syncs and readiness polls in the core: what each firing says, and that it says it once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger

from adapters.clock import ManualClock
from bot import commands as c
from bot.domain import Actor, Conversation
from bot.handlers.schedules import AGENDA_SIZE
from bot.outbox import Delivery
from bot.policy import Policy, parse_policy
from bot.reply import Reply, Tone
from bot.schedules import ScheduleError, for_the_scheduler, to_cron
from bot.service import ReleaseBot
from bot.text import plain_text
from storage.base import CardRef
from storage.memory import MemoryStore
from tests.support.people import ALICE, CHANNEL, NOW

QA = Actor("slack:U0QA00001", "quinn", "slack")
ENG = Actor("slack:U0ENG0001", "erin", "slack")
CONSOLE = Conversation("console", "terminal")


async def say(bot: ReleaseBot, text: str, actor: Actor = ALICE) -> Reply:
    return await bot.handle_text(text, actor, CHANNEL)


def posts(store: MemoryStore) -> list[str]:
    return [q.message.reply.title for q in store.data.outbox]


async def test_the_same_sync_twice_in_a_channel_is_kept_once(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "sync weekdays 09:30")

    # The same schedule, written other ways.
    written = ["sync 30 9 * * mon-fri", "sync 30 09 * * 1-5", "sync mon,tue,wed,thu,fri 09:30"]
    again = [await say(bot, line) for line in written]
    other_zone = await say(bot, "sync weekdays 09:30 tz America/New_York")

    assert {a.title for a in again} == {
        "Nothing changed: S1 reminds here already (weekdays 09:30, Europe/London)"
    }
    assert other_zone.title.startswith("Release sync S2")
    assert len(store.data.tables.syncs) == 2


async def test_a_sync_is_kept_per_channel_and_listed(bot: ReleaseBot) -> None:
    reply = await say(bot, "sync weekdays 09:30 tz America/New_York")
    assert reply.title == "Release sync S1: weekdays 09:30 (America/New_York)"
    await say(bot, "sync mon,thu 14:00")
    listed = await say(bot, "syncs")
    assert listed.sections[0].lines == (
        "S1 weekdays 09:30 (America/New_York)",
        "S2 mon,thu 14:00 (Europe/London)",
    )
    await say(bot, "sync cancel S1")
    assert (await say(bot, "syncs")).sections[0].lines == ("S2 mon,thu 14:00 (Europe/London)",)
    elsewhere = Conversation("slack", "C0OTHER001")
    refused = await bot.handle_text("sync cancel S2", ALICE, elsewhere)
    assert (
        refused.tone is Tone.ERROR
        and refused.title == "S2 reminds another channel: cancel it there"
    )
    assert (await say(bot, "syncs")).sections[0].lines == ("S2 mon,thu 14:00 (Europe/London)",)


async def test_a_teams_sync_belongs_to_the_channel_not_the_post_it_was_set_up_under(
    bot: ReleaseBot,
) -> None:
    channel = "19:abc@thread.tacv2"
    under_one_post = Conversation("teams", f"{channel};messageid=1718000000001")
    under_another = Conversation("teams", f"{channel};messageid=1718000000999")
    await bot.handle_text("sync daily 09:30", ALICE, under_one_post)

    listed = await bot.handle_text("syncs", ALICE, under_another)
    cancelled = await bot.handle_text("sync cancel S1", ALICE, under_another)

    assert listed.sections[0].lines == ("S1 daily 09:30 (Europe/London)",)
    assert cancelled.title == "Release sync S1 cancelled"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("sync daily 25:00", "not a time of day"),
        ("sync 99 * * * *", "out of range"),
        ("sync cancel S7", "There is no sync S7"),
        ("sync 0 9 31 2 *", "'0 9 31 2 *': it never fires: Feb has no day 31"),
        ("sync 0 9 31 4,6,9,11 *", "Apr, Jun, Sep, Nov have no day 31"),
        ("sync 0 9 30-31 feb *", "Feb has no days 30, 31"),
        ("sync 0 9 31-1 * *", "31-1 runs backwards"),
        ("sync */0 9 * * *", "bad step"),
        ("sync daily 10:00 tz localtime", "'localtime' is not a timezone"),
        ("sync daily 10:00 tz posixrules", "'posixrules' is not a timezone"),
        ("sync 0 */24 * * *", "'*/24': a step of 24 is longer than 0–23"),
        ("sync 0 9 1-1/5 * *", "'1-1/5': a step of 5 is longer than 1–1"),
        ("sync 0 9 1 * mon", "the day of the month or the weekday, not both"),
        ("sync 0 9 * * jan", "'jan' is not a number"),
        ("sync mon 9 * * *", "'mon' is not a number"),
    ],
)
async def test_bad_syncs_change_nothing(
    bot: ReleaseBot, store: MemoryStore, text: str, problem: str
) -> None:
    reply = await say(bot, text)
    assert reply.tone is Tone.ERROR and problem in reply.title
    assert not store.data.tables.syncs and not store.data.audit


def test_a_schedule_is_refused_exactly_when_the_scheduler_would_never_fire_it() -> None:
    # The scheduler (APScheduler) has the last word on when a cron fires; the core must agree.
    crons = ["0 9 31 feb *", "0 9 31 4 *"]
    crons += ["0 9 29 2 *", "0 9 31 */2 *", "0 9 28-31 2 *", "0 9 5/10 2 *"]
    # Steps: the scheduler refuses one longer than its range, and so must the core.
    crons += ["0 */24 * * *", "*/60 * * * *", "0 9 */31 * *", "0 9 1-1/5 * *"]
    crons += ["0 */23 * * *", "*/59 * * * *", "0 9 */30 * *", "0 9 1 */11 *", "5/54 * * * *"]
    crons += ["0 9 * */12 1", "0 9 1 jan-dec/12 *", "0 9 * * 1-5/5"]  # handed over as lists
    for cron in crons:
        try:
            trigger = CronTrigger.from_crontab(for_the_scheduler(cron), timezone=UTC)
        except (ValueError, ScheduleError):
            fires = False
        else:
            fires = trigger.get_next_fire_time(None, NOW) is not None
        try:
            to_cron(cron)
        except ScheduleError:
            assert not fires, cron
        else:
            assert fires, cron


async def test_a_sync_needs_a_chat_channel(bot: ReleaseBot) -> None:
    reply = await bot.handle_text("sync daily 10:00", ALICE, CONSOLE)
    assert reply.tone is Tone.ERROR and "Slack or Teams channel" in reply.title


async def test_each_occurrence_posts_the_agenda_once(bot: ReleaseBot, store: MemoryStore) -> None:
    await say(bot, "declare checkout@2.4.0 at 2026-11-28 14:00")
    await say(bot, "risk checkout@2.4.0 high stampede")
    await say(bot, "decide R1 blocker not yet", QA)
    await say(bot, "declare later@1 at 2026-12-20 10:00")
    await say(bot, "sync daily 09:30")
    occurrence = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    first = await bot.handle(c.FireSync(1, occurrence), ALICE)
    again = await bot.handle(c.FireSync(1, occurrence), ALICE)
    assert "was posted already" in again.title
    [agenda] = [q.message for q in store.data.outbox if q.message.reply.title == first.title]
    assert agenda.conversation == CHANNEL
    [line] = agenda.reply.sections[0].lines
    assert line.startswith("checkout@2.4.0 · Sat 28 Nov 2026 14:00 GMT · readiness ")
    assert line.endswith("sign-off missing: qa, eng · blockers: R1")
    assert agenda.reply.notes == ("Dashboard: http://127.0.0.1:8080/",)


async def test_an_agenda_longer_than_it_shows_says_so(bot: ReleaseBot, store: MemoryStore) -> None:
    for n in range(AGENDA_SIZE + 1):
        await say(bot, f"declare s{n:02d}@1 at 2026-11-28 {n % 24:02d}:00 class standard")
    await say(bot, "sync daily 09:30")

    fired = await bot.handle(c.FireSync(1, datetime(2026, 11, 26, 9, 30, tzinfo=UTC)), ALICE)

    [agenda] = [q.message.reply for q in store.data.outbox if q.message.reply.title == fired.title]
    assert len(agenda.sections[0].lines) == AGENDA_SIZE
    assert agenda.notes[0].startswith("…and more later in the week")


async def test_missed_occurrences_are_reported_once_and_never_replayed(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "sync daily 09:30")
    missed = tuple(datetime(2026, 11, day, 9, 30, tzinfo=UTC) for day in (24, 25))
    await bot.handle(c.ReportMissed(1, missed), ALICE)
    await bot.handle(c.ReportMissed(1, missed), ALICE)
    assert posts(store).count("Missed the 09:30 sync of Tue 24 Nov while offline (and 1 more)") == 1
    assert "was posted already" in (await bot.handle(c.FireSync(1, missed[0]), ALICE)).title


async def test_a_poll_asks_the_signoff_roles_and_updates_in_place(
    bot: ReleaseBot, store: MemoryStore, clock: ManualClock
) -> None:
    await say(bot, "declare checkout@2.4.0 at 2026-11-27 14:00")
    opened = await say(bot, "poll checkout@2.4.0")
    assert opened.title == "Readiness poll P1 for checkout@2.4.0 opens now"
    card = store.data.outbox[-1].message
    assert card.remember_as == "poll:1" and [a.label for a in card.reply.actions] == [
        "Ready",
        "Not ready",
        "Blocked",
    ]
    await store.save_card(CardRef("poll:1", "slack", "C0RELEASES", "1.1"))
    answered = await bot.handle(c.AnswerPoll(1, "ready"), QA, CHANNEL)
    assert "✓ quinn: ready" in plain_text(answered)
    update = store.data.outbox[-1].message
    assert (update.kind, update.target) == (Delivery.UPDATE, "1.1")
    stranger = await bot.handle(c.AnswerPoll(1, "ready"), ALICE, CHANNEL)
    assert stranger.tone is Tone.ERROR and "you are not in them" in stranger.title
    no_reason = await bot.handle(c.AnswerPoll(1, "blocked"), ENG, CHANNEL)
    assert no_reason.tone is Tone.ERROR and "what blocks" in no_reason.title
    await bot.handle(c.AnswerPoll(1, "blocked", "migration not rehearsed"), ENG, CHANNEL)
    risks = list(store.data.tables.risks.values())
    assert [r.description for r in risks] == ["Blocked (poll P1): migration not rehearsed"]


async def test_a_second_click_on_a_poll_answer_records_and_raises_nothing_more(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare checkout@2.4.0 at 2026-11-27 14:00")
    await say(bot, "poll checkout@2.4.0")
    blocked = c.AnswerPoll(1, "blocked", "migration not rehearsed")
    await bot.handle(blocked, ENG, CHANNEL)
    again = await bot.handle(blocked, ENG, CHANNEL)
    assert again.title == "Nothing changed: you already answered blocked on P1"
    [risk] = store.data.tables.risks.values()
    actions = [e.action for e in store.data.audit]
    assert actions.count("poll_answered") == 1
    [raised] = [e for e in store.data.audit if e.action == "risk_raised"]  # audited as any risk
    assert raised.detail == {
        "risk": risk.label,
        "severity": "high",
        "description": "Blocked (poll P1): migration not rehearsed",
    }
    await bot.handle(c.AnswerPoll(1, "ready"), ENG, CHANNEL)  # a change of mind still counts
    assert [e.action for e in store.data.audit].count("poll_answered") == 2


async def test_a_poll_needs_a_chat_channel_to_ask_in(bot: ReleaseBot, store: MemoryStore) -> None:
    await bot.handle_text("declare checkout@2.4.0 at 2026-11-27 14:00", ALICE, CONSOLE)
    refused = await say(bot, "poll checkout@2.4.0")
    assert refused.tone is Tone.ERROR and "has none: declare it there" in refused.title
    assert not store.data.tables.polls


async def test_polls_remind_then_escalate_once_each(
    bot: ReleaseBot, store: MemoryStore, clock: ManualClock
) -> None:
    await say(bot, "declare checkout@2.4.0 at 2026-11-27 14:00")
    await say(bot, "poll checkout@2.4.0")
    await bot.handle(c.AnswerPoll(1, "ready"), QA, CHANNEL)
    clock.advance(timedelta(hours=4, minutes=1))
    await bot.handle(c.PollTick(), ALICE)
    await bot.handle(c.PollTick(), ALICE)
    reminders = [t for t in posts(store) if t.startswith("Reminder")]
    assert reminders == ["Reminder: readiness poll P1 for checkout@2.4.0"]
    assert "Still waiting for slack:U0ENG0001" in (
        store.data.outbox[-1].message.reply.summary or ""
    )
    clock.set(datetime(2026, 11, 27, 12, 0, tzinfo=UTC))  # the deadline: 2 h before
    await bot.handle(c.PollTick(), ALICE)
    await bot.handle(c.PollTick(), ALICE)
    escalations = [
        q.message
        for q in store.data.outbox
        if q.message.reply.title.startswith("No readiness answer")
    ]
    assert [(m.kind, m.target) for m in escalations] == [
        (Delivery.POST, None),
        (Delivery.EPHEMERAL, "slack:U0ALICE01"),
    ]
    assert (
        escalations[0].reply.title == "No readiness answer for checkout@2.4.0 from slack:U0ENG0001"
    )


async def poll_with_its_card(bot: ReleaseBot, store: MemoryStore) -> None:
    """checkout@2.4.0 (Fri 27 Nov 14:00), polled now, its card posted as ts 1.1."""
    await say(bot, "declare checkout@2.4.0 at 2026-11-27 14:00")
    await say(bot, "poll checkout@2.4.0")
    await store.save_card(CardRef("poll:1", "slack", "C0RELEASES", "1.1"))


async def test_a_poll_closes_when_its_release_is_cancelled_and_asks_no_one_after(
    bot: ReleaseBot, store: MemoryStore, clock: ManualClock
) -> None:
    await poll_with_its_card(bot, store)
    await say(bot, "cancel checkout@2.4.0 superseded")
    await bot.handle(c.PollTick(), ALICE)
    [closed] = [q.message for q in store.data.outbox if q.message.target == "1.1"]
    assert closed.reply.actions == ()  # no live buttons on a cancelled release's poll
    assert "Closed: checkout@2.4.0 is cancelled" in closed.reply.notes
    late = await bot.handle(c.AnswerPoll(1, "blocked", "too late"), ENG, CHANNEL)
    assert late.tone is Tone.ERROR and late.title == "P1 is closed: checkout@2.4.0 is cancelled"
    assert not store.data.tables.risks
    clock.set(datetime(2026, 11, 27, 12, 1, tzinfo=UTC))  # past what was its deadline
    await bot.handle(c.PollTick(), ALICE)
    assert not [t for t in posts(store) if t.startswith(("Reminder", "No readiness answer"))]
    assert [e.action for e in store.data.audit].count("poll_closed") == 1


async def test_a_poll_follows_its_release_when_it_is_rescheduled(
    bot: ReleaseBot, store: MemoryStore, clock: ManualClock
) -> None:
    await poll_with_its_card(bot, store)
    await say(bot, "reschedule checkout@2.4.0 2026-12-10 14:00")
    clock.set(datetime(2026, 11, 27, 12, 1, tzinfo=UTC))  # the old deadline has passed
    await bot.handle(c.PollTick(), ALICE)
    assert not [t for t in posts(store) if t.startswith("No readiness answer")]
    assert store.data.tables.polls[1].deadline == datetime(2026, 12, 10, 12, tzinfo=UTC)
    [card] = [q.message for q in store.data.outbox if q.message.target == "1.1"]
    assert card.reply.summary == "Answer by Thu 10 Dec 2026 12:00 GMT"  # the card says so
    clock.set(datetime(2026, 12, 10, 12, 1, tzinfo=UTC))  # 2 h before the new date
    await bot.handle(c.PollTick(), ALICE)
    escalated = {t for t in posts(store) if t.startswith("No readiness answer")}
    assert escalated == {
        "No readiness answer for checkout@2.4.0 from slack:U0QA00001, slack:U0ENG0001"
    }


async def test_a_poll_set_to_open_after_its_release_moved_earlier_opens_at_once(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare checkout@2.4.0 at 2026-11-28 14:00")
    await say(bot, "poll checkout@2.4.0 at 2026-11-28 10:00")
    await say(bot, "reschedule checkout@2.4.0 2026-11-27 15:00")  # now before the poll

    await bot.handle(c.PollTick(), ALICE)

    assert store.data.tables.polls[1].posted
    assert [q.message.remember_as for q in store.data.outbox].count("poll:1") == 1
    # It opens now, so its reminders count from now, and its answers are due as for a poll
    # opened now: two hours before the release (the demo policy), not at its old opening.
    poll = store.data.tables.polls[1]
    assert poll.opens_at == NOW
    assert poll.deadline == datetime(2026, 11, 27, 13, tzinfo=UTC)


async def test_a_poll_posted_after_its_release_passed_gives_an_hour_to_answer(
    bot: ReleaseBot, store: MemoryStore, clock: ManualClock
) -> None:
    await say(bot, "declare checkout@2.4.0 at 2026-11-26 16:00")
    await say(bot, "poll checkout@2.4.0 at 2026-11-26 15:00")
    clock.advance(timedelta(hours=4, minutes=30))  # the scheduler was down until 16:30

    await bot.handle(c.PollTick(), ALICE)  # posts it, late
    clock.advance(timedelta(minutes=1))
    await bot.handle(c.PollTick(), ALICE)

    poll = store.data.tables.polls[1]
    assert poll.posted and not poll.escalated
    assert poll.deadline == datetime(2026, 11, 26, 17, 30, tzinfo=UTC)


async def test_a_poll_on_a_late_release_gives_an_hour_to_answer(
    bot: ReleaseBot, store: MemoryStore, clock: ManualClock
) -> None:
    await say(bot, "declare checkout@2.4.0 at 2026-11-26 13:00")
    clock.advance(timedelta(hours=2))  # an hour past its time, still planned

    await say(bot, "poll checkout@2.4.0")
    clock.advance(timedelta(minutes=1))
    await bot.handle(c.PollTick(), ALICE)

    assert store.data.tables.polls[1].deadline == NOW + timedelta(hours=3)
    assert not store.data.tables.polls[1].escalated  # not escalated a minute after it opened


def polling_a_day_ahead() -> Policy:
    """qa signs normal releases, and is asked automatically a day ahead of each."""
    return parse_policy(
        {
            "roles": {"qa": ["slack:U0QA00001"]},
            "classes": {"standard": {}, "normal": {"signoffs": ["qa"]}, "emergency": {}},
            "polls": {"before_hours": 24},
        }
    )


async def test_an_automatic_poll_asks_again_when_its_release_slips(
    store: MemoryStore, clock: ManualClock
) -> None:
    bot = ReleaseBot(unit_of_work=store, clock=clock, policy=polling_a_day_ahead)
    await say(bot, "declare checkout@2.4.0 at 2026-11-27 10:00")
    await bot.handle(c.PollTick(), ALICE)  # 22 hours ahead: P1 opens
    clock.advance(timedelta(hours=23))
    await bot.handle(c.PollTick(), ALICE)  # past its deadline: P1 escalates and closes
    await say(bot, "reschedule checkout@2.4.0 2026-12-02 10:00")
    clock.advance(timedelta(days=4, hours=12))  # 2026-12-01 23:00

    await bot.handle(c.PollTick(), ALICE)

    assert [p.escalated for p in store.data.tables.polls.values()] == [True, False]


async def test_a_release_has_one_poll_opening_before_it_and_asking_someone(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare checkout@2.4.0 at 2026-11-27 14:00")
    await say(bot, "declare docs@1 at 2026-11-27 14:00 class standard")

    assert (await say(bot, "poll checkout@2.4.0")).tone is Tone.SUCCESS
    again = await say(bot, "poll checkout@2.4.0")
    late = await say(bot, "poll checkout@2.4.0 at 2026-11-27 15:00")
    nobody = await say(bot, "poll docs@1")

    assert again.title == "Nothing changed: checkout@2.4.0 has poll P1 already"
    assert late.tone is Tone.ERROR
    assert late.title == (
        "A poll opens before the release, and checkout@2.4.0 is Fri 27 Nov 2026 14:00 GMT"
    )
    assert nobody.tone is Tone.ERROR and "a poll would ask no one" in nobody.title
    assert list(store.data.tables.polls) == [1]
    assert [e.action for e in store.data.audit].count("poll_opened") == 1


async def test_automatic_polls_open_before_each_release(
    store: MemoryStore, clock: ManualClock
) -> None:
    bot = ReleaseBot(unit_of_work=store, clock=clock, policy=polling_a_day_ahead)
    await say(bot, "declare soon@1 at 2026-11-27 10:00")
    await say(bot, "declare later@1 at 2026-12-10 10:00")
    await bot.handle_text("declare quiet@1 at 2026-11-27 11:00", ALICE, CONSOLE)  # no channel
    await say(bot, "declare docs@1 at 2026-11-27 12:00 class standard")  # nobody to ask
    await bot.handle(c.PollTick(), ALICE)
    await bot.handle(c.PollTick(), ALICE)
    assert [p.release for p in store.data.tables.polls.values()] == ["soon@1"]
    assert store.data.tables.polls[1].deadline > NOW
