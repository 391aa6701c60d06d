"""`GET /calendar.ics`: parsed with icalendar, each release at the right instant in two zones."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import icalendar
import pytest

from adapters.clock import ManualClock
from storage.memory import MemoryStore
from tests.support.people import ALICE, CHANNEL, NOW
from tests.support.server import RunningBot, running_bot

TOKEN = "feed-token"
NEW_YORK, TOKYO, LONDON = (ZoneInfo(z) for z in ("America/New_York", "Asia/Tokyo", "Europe/London"))


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningBot]:
    env = {"RELEASEBOT_API_TOKEN": TOKEN, "RELEASEBOT_TIMEZONE": "Europe/London"}
    async with running_bot(env, cwd=tmp_path, clock=ManualClock(NOW), store=MemoryStore()) as bot:
        for text in (
            "declare checkout@2.4.0 at 2026-12-03 14:00 train public",  # GMT
            "declare search@7 at 2027-07-01 14:00",  # BST
            "freeze 2026-12-20 18:00 2027-01-04 08:00 holidays",
            "sync weekdays 09:30",
            "sync */30 9 * * *",
        ):
            reply = await bot.components.bot.handle_text(text, ALICE, CHANNEL)
            assert reply.problem is None, reply.title
        yield bot


async def fetch(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


async def calendar(bot: RunningBot) -> icalendar.Calendar:
    status, text = await fetch(f"{bot.url}/calendar.ics?token={TOKEN}")
    assert status == 200
    parsed = icalendar.Calendar.from_ical(text)
    assert isinstance(parsed, icalendar.Calendar)
    return parsed


def events(cal: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


async def test_a_release_is_at_the_right_instant_in_two_time_zones(bot: RunningBot) -> None:
    found = events(await calendar(bot))
    winter = found["release-checkout%402.4.0@releasebot"].decoded("dtstart")
    summer = found["release-search%407@releasebot"].decoded("dtstart")
    assert winter == datetime(2026, 12, 3, 14, tzinfo=UTC)
    assert summer == datetime(2027, 7, 1, 13, tzinfo=UTC)  # 14:00 BST
    assert winter.astimezone(NEW_YORK).strftime("%d %H:%M") == "03 09:00"
    assert winter.astimezone(TOKYO).strftime("%d %H:%M") == "03 23:00"
    assert summer.astimezone(NEW_YORK).strftime("%d %H:%M") == "01 09:00"
    assert summer.astimezone(TOKYO).strftime("%d %H:%M") == "01 22:00"


async def test_times_carry_their_zone_with_a_vtimezone(bot: RunningBot) -> None:
    cal = await calendar(bot)
    release = events(cal)["release-checkout%402.4.0@releasebot"]
    assert release["dtstart"].params["TZID"] == "Europe/London"
    assert "Europe/London" in {str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")}
    assert str(release["summary"]) == "Release checkout@2.4.0 (planned)"
    assert str(release["status"]) == "TENTATIVE"
    assert str(release["url"]).endswith("/releases/checkout@2.4.0")


async def test_the_vtimezone_holds_the_rules_of_a_release_years_ahead(bot: RunningBot) -> None:
    far = "declare far@1.0 at 2031-07-01 10:00"  # BST, beyond the few years syncs need
    assert (await bot.components.bot.handle_text(far, ALICE, CHANNEL)).problem is None

    cal = await calendar(bot)

    (london,) = [tz for tz in cal.walk("VTIMEZONE") if str(tz["tzid"]) == "Europe/London"]
    by_its_rules = london.to_tz(lookup_tzid=False)  # as a reader without a zone database
    start = events(cal)["release-far%401.0@releasebot"]["dtstart"].dt
    assert start.replace(tzinfo=by_its_rules).utcoffset() == timedelta(hours=1)


async def test_freezes_and_syncs_are_in_the_feed(bot: RunningBot) -> None:
    found = events(await calendar(bot))
    freeze = found["freeze-1@releasebot"]
    assert freeze.decoded("dtstart") == datetime(2026, 12, 20, 18, tzinfo=UTC)
    assert str(freeze["summary"]) == "Freeze F1: holidays"
    weekly = found["sync-1@releasebot"]
    rule = weekly["rrule"]
    assert rule["FREQ"] == ["WEEKLY"] and rule["BYDAY"] == ["MO", "TU", "WE", "TH", "FR"]
    first = weekly.decoded("dtstart")
    assert (first.astimezone(LONDON).hour, first.astimezone(LONDON).minute) == (9, 30)
    assert first.astimezone(LONDON).date() == datetime(2026, 11, 27).date()  # the next weekday
    # Every 30 minutes of the 9 o'clock hour is not one weekly time: written out instead.
    expanded = [uid for uid in found if uid.startswith("sync-2-")]
    assert len(expanded) == 2 * 7 * 6


async def test_uids_stay_and_a_change_raises_the_sequence(bot: RunningBot) -> None:
    before = events(await calendar(bot))["release-checkout%402.4.0@releasebot"]
    await bot.components.bot.handle_text("reschedule checkout@2.4.0 2026-12-04 10:00", ALICE)
    after = events(await calendar(bot))["release-checkout%402.4.0@releasebot"]
    assert int(after["sequence"]) == int(before["sequence"]) + 1
    assert after.decoded("dtstart") == datetime(2026, 12, 4, 10, tzinfo=UTC)


async def test_the_feed_needs_the_token_when_one_is_set(bot: RunningBot) -> None:
    assert (await fetch(f"{bot.url}/calendar.ics"))[0] == 401
    assert (await fetch(f"{bot.url}/calendar.ics?token=wrong"))[0] == 401


async def test_the_feed_is_open_without_a_token(tmp_path: Path) -> None:
    async with running_bot({}, cwd=tmp_path, store=MemoryStore()) as bot:
        status, text = await fetch(f"{bot.url}/calendar.ics")
    assert status == 200 and text.startswith("BEGIN:VCALENDAR")
