"""`<when>`: the ways people write a moment — ISO, today/tomorrow, weekdays and offsets."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WHEN_FORMS = "2026-12-03 14:00, 2026-12-03T14:00+01:00, today 15:00, tomorrow 10:00, mon 09:30, +2h"

WEEKDAYS = {
    name: index
    for index, names in enumerate(
        [
            ("mon", "monday"),
            ("tue", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        ]
    )
    for name in names
}
_OFFSET = re.compile(r"\+(\d{1,4})([mhdw])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_OFFSET_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# The years a moment may fall in. Wide enough for any plan (or look back), and far enough from
# datetime's own limits (years 1–9999) that a time zone, a conflict window or a reminder added
# to a moment never overflows into an internal error.
FIRST_YEAR, LAST_YEAR = 1970, 2999


class WhenError(ValueError):
    """The text is not a moment we can read; the message says why."""


def take_when(
    tokens: Sequence[str], start: int, *, now: datetime, zone: ZoneInfo
) -> tuple[datetime, int]:
    """Read one `<when>` from `tokens[start:]`; return it in UTC and the index after it."""
    moment, end = _take_when(tokens, start, now=now, zone=zone)
    require_in_range(moment)
    return moment, end


def require_in_range(moment: datetime) -> None:
    """Refuse a moment outside FIRST_YEAR–LAST_YEAR (WhenError)."""
    _require_year(moment.year, moment.date().isoformat())


def _require_year(year: int, shown: str) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise WhenError(f"the date {shown} is out of range (years {FIRST_YEAR}–{LAST_YEAR})")


def _take_when(
    tokens: Sequence[str], start: int, *, now: datetime, zone: ZoneInfo
) -> tuple[datetime, int]:
    if start >= len(tokens):
        raise WhenError(f"a time is missing (e.g. {WHEN_FORMS})")
    first = tokens[start].lower()
    if match := _OFFSET.fullmatch(first):
        amount, unit = int(match[1]), _OFFSET_UNITS[match[2]]
        return now + timedelta(**{unit: amount}), start + 1
    if "t" in first and _DATE.match(first):
        return _iso_instant(tokens[start], tokens, start + 1, zone)
    _day(first, now=now, zone=zone)  # a word that names no day is refused first
    after_day = start + 1
    if after_day >= len(tokens) or not _TIME.fullmatch(tokens[after_day]):
        raise WhenError(f"{tokens[start]!r} needs a time of day after it, e.g. {first} 14:00")
    moment_zone, end = _optional_zone(tokens, after_day + 1, zone)
    # `tomorrow 10:00 America/New_York` is tomorrow in New York, whatever day it is in London.
    day = _day(first, now=now, zone=moment_zone)
    local = datetime.combine(day, _clock_time(tokens[after_day]))
    moment = _localize(local, moment_zone)
    if first in WEEKDAYS and moment <= now:
        moment = _localize(local + timedelta(days=7), moment_zone)
    return moment, end


def _iso_instant(
    text: str, tokens: Sequence[str], after: int, zone: ZoneInfo
) -> tuple[datetime, int]:
    try:
        parsed = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        raise WhenError(f"{text!r} is not a date and time (e.g. {WHEN_FORMS})") from None
    _require_year(parsed.year, text)  # before moving it to UTC, which overflows near year 1 or 9999
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC), after
    moment_zone, end = _optional_zone(tokens, after, zone)
    return _localize(parsed, moment_zone), end


def _day(word: str, *, now: datetime, zone: ZoneInfo) -> date:
    today = now.astimezone(zone).date()
    if word == "today":
        return today
    if word == "tomorrow":
        return today + timedelta(days=1)
    if word in WEEKDAYS:
        return today + timedelta(days=(WEEKDAYS[word] - today.weekday()) % 7)
    if _DATE.fullmatch(word):
        try:
            day = date.fromisoformat(word)
        except ValueError:
            raise WhenError(f"{word!r} is not a calendar date") from None
        _require_year(
            day.year, word
        )  # before it meets a time zone, which overflows near the limits
        return day
    raise WhenError(f"{word!r} is not a time I can read (e.g. {WHEN_FORMS})")


def _clock_time(text: str) -> time:
    match = _TIME.fullmatch(text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise WhenError(f"{text!r} is not a time of day (HH:MM, 24-hour)")
    return time(int(match[1]), int(match[2]))


def _optional_zone(tokens: Sequence[str], index: int, zone: ZoneInfo) -> tuple[ZoneInfo, int]:
    if index < len(tokens) and _looks_like_zone(tokens[index]):
        return parse_zone(tokens[index]), index + 1
    return zone, index


def _looks_like_zone(token: str) -> bool:
    return "/" in token or token.upper() == "UTC"


# Files of the zone database that name no place: the machine's own zone (which differs from
# one replica to the next), the rules file, and the variants kept for old systems.
_NO_PLACE = frozenset({"localtime", "posixrules", "factory"})
_NO_PLACE_FOLDERS = ("posix/", "right/")


def parse_zone(name: str) -> ZoneInfo:
    """An IANA timezone by name, or WhenError naming it."""
    problem = f"{name!r} is not a timezone (use an IANA name such as Europe/London)"
    if name.lower() in _NO_PLACE or name.lower().startswith(_NO_PLACE_FOLDERS):
        raise WhenError(problem)
    try:
        return ZoneInfo("UTC" if name.upper() == "UTC" else name)
    except (ZoneInfoNotFoundError, ValueError):
        raise WhenError(problem) from None


def _localize(local: datetime, zone: tzinfo) -> datetime:
    """Attach `zone` to a wall-clock time; refuse times that the clocks skip."""
    aware = local.replace(tzinfo=zone)
    in_utc = aware.astimezone(UTC)
    if in_utc.astimezone(zone).replace(tzinfo=None) != local:
        raise WhenError(f"{local:%Y-%m-%d %H:%M} does not exist in {zone} (the clocks skip it)")
    return in_utc


def format_moment(moment: datetime | None, zone: ZoneInfo) -> str:
    """A moment as people read it, in `zone`: `Thu 3 Dec 2026 14:00 GMT`."""
    if moment is None:
        return "unscheduled"
    local = moment.astimezone(zone)
    # Names from tables, not strftime: they stay English whatever the process locale, and
    # every card shows a moment or two.
    return (
        f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month]} {local.year} "
        f"{local.hour:02d}:{local.minute:02d} {local.tzname()}"
    )


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
