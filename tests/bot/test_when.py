from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.when import WhenError, format_moment, take_when

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # Thursday, GMT (UTC+0)


def when(text: str, zone: ZoneInfo = LONDON, now: datetime = NOW) -> datetime:
    words = text.split()
    moment, end = take_when(words, 0, now=now, zone=zone)
    assert end == len(words), f"left over: {words[end:]}"
    return moment


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-03 14:00", datetime(2026, 12, 3, 14, 0, tzinfo=UTC)),
        ("2026-12-03T14:00+01:00", datetime(2026, 12, 3, 13, 0, tzinfo=UTC)),
        ("2026-12-03T14:00Z", datetime(2026, 12, 3, 14, 0, tzinfo=UTC)),
        ("2026-12-03 14:00 America/New_York", datetime(2026, 12, 3, 19, 0, tzinfo=UTC)),
        ("2026-12-03 14:00 UTC", datetime(2026, 12, 3, 14, 0, tzinfo=UTC)),
        ("today 15:00", datetime(2026, 11, 26, 15, 0, tzinfo=UTC)),
        ("tomorrow 10:00", datetime(2026, 11, 27, 10, 0, tzinfo=UTC)),
        ("mon 09:30", datetime(2026, 11, 30, 9, 30, tzinfo=UTC)),
        ("thursday 13:00", datetime(2026, 11, 26, 13, 0, tzinfo=UTC)),
        ("thu 11:00", datetime(2026, 12, 3, 11, 0, tzinfo=UTC)),  # earlier today: next week
        ("+10m", datetime(2026, 11, 26, 12, 10, tzinfo=UTC)),
        ("+2h", datetime(2026, 11, 26, 14, 0, tzinfo=UTC)),
        ("+3d", datetime(2026, 11, 29, 12, 0, tzinfo=UTC)),
    ],
)
def test_when_forms(text: str, expected: datetime) -> None:
    assert when(text) == expected


# Sunday 29 Nov 21:00 in New York is already Monday 30 Nov 02:00 in London.
LATE_SUNDAY_IN_NEW_YORK = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tomorrow 10:00 America/New_York", datetime(2026, 11, 30, 15, 0, tzinfo=UTC)),  # Mon
        ("today 22:00 America/New_York", datetime(2026, 11, 30, 3, 0, tzinfo=UTC)),  # Sun
        ("sun 22:00 America/New_York", datetime(2026, 11, 30, 3, 0, tzinfo=UTC)),  # tonight
        ("tomorrow 10:00", datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),  # Tue, in London
    ],
)
def test_a_day_word_counts_days_where_the_time_is_read(text: str, expected: datetime) -> None:
    assert when(text, now=LATE_SUNDAY_IN_NEW_YORK) == expected


def test_summer_time_is_read_in_the_zone() -> None:
    assert when("2027-07-01 09:00") == datetime(2027, 7, 1, 8, 0, tzinfo=UTC)


def test_a_time_the_clocks_skip_is_refused() -> None:
    with pytest.raises(WhenError, match="does not exist"):
        when("2027-03-28 01:30")


def test_an_ambiguous_time_takes_the_first_occurrence() -> None:
    assert when("2027-10-31 01:30") == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("2026-13-45 10:00", "not a calendar date"),
        ("tomorrow", "needs a time of day"),
        ("tomorrow 25:00", "not a time of day"),
        ("someday 10:00", "not a time I can read"),
        ("2026-12-03 10:00 Mars/Olympus", "not a timezone"),
        # In the zone database, but no place: the machine's own zone, and rule variants.
        ("2026-12-03 10:00 posix/Europe/London", "not a timezone"),
        ("2026-12-03 10:00 right/UTC", "not a timezone"),
        ("2026-12-03T99:00", "not a date and time"),
        ("9999-12-31 23:59", "the date 9999-12-31 is out of range"),
        ("9999-12-31T23:59-01:00", "out of range"),  # UTC would be in year 10000
        ("0001-01-01 00:00 Asia/Tokyo", "out of range"),  # UTC would be before year 1
        ("1969-12-31 23:59", "out of range"),
        ("3000-01-01 00:00", "out of range"),
    ],
)
def test_bad_moments_say_why(text: str, problem: str) -> None:
    with pytest.raises(WhenError, match=problem):
        when(text)


def test_format_moment_uses_the_zone_and_its_abbreviation() -> None:
    summer = datetime(2027, 7, 1, 8, 0, tzinfo=UTC)
    assert format_moment(summer, LONDON) == "Thu 1 Jul 2027 09:00 BST"
    assert format_moment(None, LONDON) == "unscheduled"
