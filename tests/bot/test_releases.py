"""The release commands of the foundation, driven through the bot's front door."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from adapters.clock import ManualClock
from bot import commands as c
from bot.audit import verify_chain
from bot.domain import Actor, State
from bot.handlers.releases import MOST_READ
from bot.reply import Reply, Tone
from bot.service import ReleaseBot
from bot.text import plain_text
from storage.memory import MemoryStore
from tests.support.people import ALICE, CHANNEL


async def say(bot: ReleaseBot, text: str, actor: Actor = ALICE) -> Reply:
    return await bot.handle_text(text, actor, CHANNEL)


def last_change(store: MemoryStore, field: str) -> tuple[str, object, object]:
    """The latest audit event's action, and `field` of the release before and after it."""
    event = store.data.audit[-1]
    return event.action, (event.before or {}).get(field), (event.after or {}).get(field)


async def test_declare_creates_a_planned_release_and_posts_its_card(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    reply = await say(bot, "declare checkout@2.4.0 at 2026-12-03 14:00 train public env prod")
    assert reply.broadcast and reply.subject == "checkout@2.4.0"
    release = store.data.releases["checkout@2.4.0"]
    assert release.state is State.PLANNED
    assert release.scheduled_at == datetime(2026, 12, 3, 14, tzinfo=UTC)
    assert release.owner == ALICE.principal and release.channel == CHANNEL
    [event] = store.data.audit
    assert (event.action, event.actor, event.surface) == ("declared", ALICE.principal, "slack")
    assert "When: Thu 3 Dec 2026 14:00 GMT" in plain_text(reply)


async def test_declaring_twice_is_refused_and_changes_nothing(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare checkout@2.4.0 train public")
    reply = await say(bot, "declare checkout@2.4.0 train other")
    assert reply.tone is Tone.ERROR and "already declared" in reply.title
    assert store.data.releases["checkout@2.4.0"].train == "public"
    assert len(store.data.audit) == 1


async def test_declare_in_the_past_is_refused(bot: ReleaseBot, store: MemoryStore) -> None:
    reply = await say(bot, "declare a@1 at 2026-01-01 10:00")
    assert reply.tone is Tone.ERROR and "in the past" in reply.title
    assert not store.data.releases


async def test_a_moment_out_of_range_from_outside_the_parser_is_refused(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    # The REST API builds its commands itself; the handler checks what the parser would.
    far = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    reply = await bot.handle(c.Declare("a@1", scheduled_at=far), ALICE, CHANNEL)
    assert reply.tone is Tone.ERROR
    assert reply.title == "The date 9999-12-31 is out of range (years 1970–2999)"
    assert not store.data.releases and not store.data.audit


async def test_declare_warns_about_a_nearby_release_of_the_same_service(bot: ReleaseBot) -> None:
    await say(bot, "declare checkout@2.4.0 at 2026-12-03 14:00")
    reply = await say(bot, "declare checkout@2.4.1 at 2026-12-03 15:00")
    assert any("checkout@2.4.0" in note for note in reply.notes)
    far = await say(bot, "declare checkout@2.5.0 at 2026-12-10 15:00")
    assert not far.notes


async def test_status_shows_the_card_or_says_the_release_is_unknown(bot: ReleaseBot) -> None:
    await say(bot, "declare checkout@2.4.0 at 2026-12-03 14:00")
    card = plain_text(await say(bot, "status checkout@2.4.0"))
    assert "State: planned" in card and "qa: waiting" in card
    unknown = await say(bot, "status nope@1")
    assert unknown.tone is Tone.ERROR and "no release nope@1" in unknown.title


async def test_list_orders_soonest_first_and_filters(bot: ReleaseBot) -> None:
    await say(bot, "declare b@1 at 2026-12-05 10:00 train public")
    await say(bot, "declare a@1 at 2026-12-04 10:00 train internal")
    await say(bot, "declare c@1")
    lines = (await say(bot, "list")).sections[0].lines
    assert [line.split(" · ")[0] for line in lines] == ["a@1", "b@1", "c@1"]
    only_public = (await say(bot, "list train public")).sections[0].lines
    assert [line.split(" · ")[0] for line in only_public] == ["b@1"]
    empty = await say(bot, "list service zzz")
    assert empty.summary == "No releases match."


async def test_a_long_list_shows_the_first_forty_and_says_how_many_more(bot: ReleaseBot) -> None:
    for n in range(42):
        await say(bot, f"declare svc{n:02}@1 at 2026-12-04 10:{n:02}")
    reply = await say(bot, "list")
    assert reply.title == "Upcoming releases (42)"
    lines = reply.sections[0].lines
    assert len(lines) == 40 and lines[-1].startswith("svc39@1")
    assert reply.notes == ("…and 2 more; narrow it with train or service.",)


async def test_list_all_includes_cancelled_releases_upcoming_does_not(bot: ReleaseBot) -> None:
    await say(bot, "declare a@1 at 2026-12-04 10:00")
    await say(bot, "cancel a@1 not needed")
    assert (await say(bot, "list")).summary == "No releases match."
    assert "cancelled" in (await say(bot, "list all")).sections[0].lines[0]


async def test_calendar_groups_the_next_days(bot: ReleaseBot) -> None:
    await say(bot, "declare a@1 at 2026-12-04 10:00")
    await say(bot, "declare b@1 at 2026-12-04 16:00")
    await say(bot, "declare c@1 at 2027-03-01 10:00")
    reply = await say(bot, "calendar 14")
    assert [s.title for s in reply.sections] == ["Fri 4 Dec"]
    assert reply.sections[0].lines == ("10:00 a@1 (planned)", "16:00 b@1 (planned)")


async def test_calendar_shows_each_meeting_of_the_active_syncs_among_the_releases(
    bot: ReleaseBot,
) -> None:
    await say(bot, "declare a@1 at 2026-12-04 10:00")
    await say(bot, "sync fri 09:30")
    await say(bot, "sync daily 08:00 tz America/New_York")
    await say(bot, "sync cancel S2")  # cancelled: never on the calendar
    reply = await say(bot, "calendar 8")
    assert [s.title for s in reply.sections] == ["Fri 27 Nov", "Fri 4 Dec"]
    assert reply.sections[0].lines == ("09:30 release sync S1 (fri 09:30)",)
    assert reply.sections[1].lines == ("09:30 release sync S1 (fri 09:30)", "10:00 a@1 (planned)")
    await say(bot, "sync mon,thu 15:00 tz America/New_York")  # 20:00 in London
    days = {s.title: s.lines for s in (await say(bot, "calendar 8")).sections}
    assert days["Thu 26 Nov"] == ("20:00 release sync S3 (mon,thu 15:00)",)
    assert days["Mon 30 Nov"] == ("20:00 release sync S3 (mon,thu 15:00)",)


async def test_a_cron_sync_counts_weekdays_as_cron_does(bot: ReleaseBot) -> None:
    await say(bot, "sync 0 9 * * 1")  # Monday: in cron the week starts on Sunday, 0 (or 7)
    await say(bot, "sync 0 10 * * 7")
    days = {s.title: s.lines for s in (await say(bot, "calendar 7")).sections}
    assert days == {
        "Sun 29 Nov": ("10:00 release sync S2 (0 10 * * 7)",),
        "Mon 30 Nov": ("09:00 release sync S1 (0 9 * * 1)",),
    }


async def test_a_calendar_too_long_to_show_says_how_many_days_it_left_out(
    bot: ReleaseBot,
) -> None:
    await say(bot, "sync daily 09:00")
    reply = await say(bot, "calendar 60")
    assert len(reply.sections) == 40 and reply.sections[-1].title == "Tue 5 Jan"
    assert reply.notes == ("…and 20 more days not shown; ask for fewer days.",)


async def test_cancel_is_audited_with_its_reason_and_cannot_repeat(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare a@1 at 2026-12-04 10:00")
    reply = await say(bot, "cancel a@1 superseded by a@2")
    assert "Cancelled by alice: superseded by a@2" in reply.notes
    assert last_change(store, "state") == ("cancelled", "planned", "cancelled")
    assert store.data.audit[-1].detail == {"reason": "superseded by a@2"}
    again = await say(bot, "cancel a@1 again")
    assert again.tone is Tone.ERROR
    assert (
        again.title
        == "a@1 is cancelled; only a planned or approved or deploying release can be cancelled"
    )
    assert [e.action for e in store.data.audit] == ["declared", "cancelled", "refused"]
    assert store.data.releases["a@1"].revision == 2


async def test_reschedule_moves_the_release(
    bot: ReleaseBot, store: MemoryStore, clock: ManualClock
) -> None:
    await say(bot, "declare a@1 at 2026-12-04 10:00")
    await say(bot, "reschedule a@1 2026-12-07 09:00")
    assert store.data.releases["a@1"].scheduled_at == datetime(2026, 12, 7, 9, tzinfo=UTC)
    assert store.data.audit[-1].action == "rescheduled"
    clock.advance(timedelta(days=30))
    late = await say(bot, "reschedule a@1 2026-12-08 09:00")
    assert late.tone is Tone.ERROR and "in the past" in late.title


async def test_promote_moves_a_release_to_another_train_once(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare checkout@2.4.0 at 2026-12-03 14:00 train internal")
    reply = await say(bot, "promote checkout@2.4.0 public")
    assert "Promoted to train public by alice" in reply.notes
    assert "Train: public" in plain_text(reply)
    assert store.data.releases["checkout@2.4.0"].train == "public"
    assert last_change(store, "train") == ("promoted", "internal", "public")

    again = await say(bot, "promote checkout@2.4.0 public")
    assert again.title == "Nothing changed: checkout@2.4.0 is already on train public"
    assert [e.action for e in store.data.audit] == ["declared", "promoted"]


async def test_a_cancelled_release_cannot_be_promoted(bot: ReleaseBot, store: MemoryStore) -> None:
    await say(bot, "declare a@1 train internal")
    await say(bot, "cancel a@1 not needed")
    reply = await say(bot, "promote a@1 public")
    assert reply.tone is Tone.ERROR and reply.title == "a@1 is cancelled"
    assert store.data.releases["a@1"].train == "internal"
    assert store.data.audit[-1].action == "refused"


async def test_a_command_without_a_handler_says_it_is_not_available(bot: ReleaseBot) -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Later(c.Command):
        verb: ClassVar[str] = "later"

    reply = await bot.handle(Later(), ALICE, CHANNEL)
    assert reply.tone is Tone.ERROR and "not available yet" in reply.title
    assert "declare" in reply.title and "metrics" in reply.title


async def test_every_change_is_in_one_valid_audit_chain(
    bot: ReleaseBot, store: MemoryStore
) -> None:
    await say(bot, "declare a@1 at 2026-12-04 10:00")
    await say(bot, "reschedule a@1 2026-12-05 10:00")
    await say(bot, "cancel a@1 done")
    assert [e.action for e in store.data.audit] == ["declared", "rescheduled", "cancelled"]
    assert verify_chain(store.data.audit) is None


async def test_moving_a_release_next_to_another_warns_as_declaring_it_there_would(
    bot: ReleaseBot,
) -> None:
    await say(bot, "declare pay@1.0 at 2026-12-03 10:00")
    await say(bot, "declare pay@1.1 at 2026-12-10 10:00")
    await say(bot, "declare web@1 at 2026-12-03 11:00 train public")

    moved = await say(bot, "reschedule pay@1.1 2026-12-03 10:30")
    promoted = await say(bot, "promote pay@1.1 public")

    # Moved next to a release of its service; promoted onto the train of another close by.
    assert "⚠ Close to pay@1.0 at Thu 3 Dec 2026 10:00 GMT" in moved.notes
    assert not [n for n in moved.notes if "web@1" in n]  # another service, on another train
    assert "⚠ Close to web@1 at Thu 3 Dec 2026 11:00 GMT" in promoted.notes


async def test_a_listing_longer_than_what_is_read_says_so(bot: ReleaseBot) -> None:
    for n in range(MOST_READ + 5):
        await say(bot, f"declare s{n:03d}@1 at 2026-12-{1 + n % 25:02d} 10:00")

    listing = await say(bot, "list")
    calendar = await say(bot, "calendar 31")

    assert listing.title == f"Upcoming releases ({MOST_READ}+)"
    assert listing.notes == (f"…and {MOST_READ - 40}+ more; narrow it with train or service.",)
    assert calendar.notes[-1].endswith("are not shown; ask for fewer days.")
