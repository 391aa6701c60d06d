"""Recurring release-sync reminders and readiness polls: stored rows with an IANA timezone.

The core says what a schedule is and what each firing says; the scheduler outside the core
decides when (SPEC §4.5). Every firing first claims its (schedule, occurrence) pair, so
several replicas post each occurrence once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain import Conversation

DAY_SETS = {"weekdays": "mon-fri", "daily": "*"}
DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# February as in a leap year: a sync on the 29th fires every four years, which is rare, not never.
DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


class Answer(StrEnum):
    READY = "ready"
    NOT_READY = "not_ready"
    BLOCKED = "blocked"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


@dataclass(frozen=True, slots=True)
class Sync:
    id: int
    conversation: Conversation
    schedule: str  # as the person wrote it, e.g. "weekdays 09:30"
    cron: str  # five fields, read in `timezone`
    timezone: str
    created_by: str
    created_at: datetime
    cancelled_at: datetime | None = None

    @property
    def label(self) -> str:
        return f"S{self.id}"

    @property
    def key(self) -> str:
        """What its occurrences are claimed under."""
        return f"sync:{self.id}"


class ScheduleError(ValueError):
    """A schedule that cannot be read; the message says why."""


@dataclass(frozen=True, slots=True)
class _Field:
    """One of the five cron fields: its range, and the names it takes (from `low` on)."""

    low: int
    high: int
    names: tuple[str, ...] = ()
    # Handed to the scheduler as written, so a step it refuses is refused here too (months and
    # weekdays are handed over as lists: see for_the_scheduler).
    as_written: bool = True


MINUTE, HOUR, DAY, MONTH, WEEKDAY = range(5)
FIELDS = (
    _Field(0, 59),
    _Field(0, 23),
    _Field(1, 31),
    _Field(1, 12, MONTH_NAMES, as_written=False),
    _Field(0, 7, DAY_NAMES, as_written=False),
)


def to_cron(schedule: str) -> str:
    """`weekdays 09:30`, `daily 10:00`, `mon,thu 14:00` or a cron expression → five fields."""
    words = schedule.lower().split()
    if len(words) == 5:
        fields = [_values(text, field) for text, field in zip(words, FIELDS, strict=True)]
        if words[DAY] != "*" and words[WEEKDAY] != "*":
            # Cron fires on either; the scheduler would fire only where both match.
            raise ScheduleError("give the day of the month or the weekday, not both")
        _require_a_day(days=fields[DAY], months=fields[MONTH])
        return " ".join(words)
    days, clock = words
    hour, minute = (int(part) for part in clock.split(":"))
    if hour > 23 or minute > 59:
        raise ScheduleError(f"{clock} is not a time of day")
    return f"{minute} {hour} * * {DAY_SETS.get(days, days)}"


def for_the_scheduler(cron: str) -> str:
    """`cron` as APScheduler reads it alike: months as numbers, weekdays as names.

    In cron 0 and 7 are Sunday and 1 is Monday; APScheduler counts from Monday = 0, so a number
    handed to it fires a day late (and 7 fails): names mean the same to both (`1-5` →
    `mon,tue,wed,thu,fri`). And APScheduler drops the step after a month name (`jan-dec/3`
    fired every month): the months are listed instead (`1,4,7,10`).
    """
    *rest, months, weekdays = cron.split()
    if months != "*":
        months = ",".join(str(m) for m in sorted(_values(months, FIELDS[MONTH])))
    if weekdays != "*":
        days = _values(weekdays, FIELDS[WEEKDAY])
        weekdays = ",".join(DAY_NAMES[d] for d in range(7) if d in days or (d == 0 and 7 in days))
    return " ".join([*rest, months, weekdays])


def fires_on(cron: str) -> tuple[frozenset[int], ...]:
    """What a valid cron expression names, field by field (Sunday always 0): two expressions
    with the same answer fire alike, however they are written (`1-5`, `mon-fri`, `1,2,3,4,5`)."""
    named = []
    for text, field in zip(cron.split(), FIELDS, strict=True):
        values = _values(text, field)
        if field is FIELDS[WEEKDAY] and 7 in values:
            values = (values - {7}) | {0}
        named.append(frozenset(values))
    return tuple(named)


def _values(text: str, field: _Field) -> set[int]:
    """Every value one cron field names, e.g. `1-10/3,20` → {1, 4, 7, 10, 20}."""
    values: set[int] = set()
    for part in text.split(","):
        base, slash, step = part.partition("/")
        if slash and not (step.isascii() and step.isdigit() and int(step) > 0):
            raise ScheduleError(f"{part!r} has a bad step")
        low, high = _range(base, field, stepped=bool(slash))
        if slash and field.as_written and int(step) > high - low:
            # Cron would fire once; the scheduler refuses it, and a sync it cannot read never
            # fires.
            raise ScheduleError(f"{part!r}: a step of {step} is longer than {low}–{high}")
        values.update(range(low, high + 1, int(step) if slash else 1))
    return values


def _range(base: str, field: _Field, *, stepped: bool) -> tuple[int, int]:
    if base == "*":
        return field.low, field.high
    first, dash, last = base.partition("-")
    low = _bounded(first, field)
    if not dash:
        # `5/10` runs from 5 to the end in steps of 10, in cron as in the scheduler.
        return (low, field.high) if stepped else (low, low)
    high = _bounded(last, field)
    if low > high:
        # The scheduler cannot read a backwards range: refused here, it cannot fail there.
        raise ScheduleError(f"{base} runs backwards")
    return low, high


def _bounded(text: str, field: _Field) -> int:
    number = _number(text, field)
    if not field.low <= number <= field.high:
        raise ScheduleError(f"{text} is out of range {field.low}–{field.high}")
    return number


def _require_a_day(*, days: set[int], months: set[int]) -> None:
    """Refuse a day of the month that none of the months has (`31 2`): it would never fire.

    The weekday needs no check: a schedule names it only with any day of the month.
    """
    if any(day <= DAYS_IN_MONTH[month - 1] for day in days for month in months):
        return
    names = ", ".join(MONTH_NAMES[m - 1].capitalize() for m in sorted(months))
    verb = "has" if len(months) == 1 else "have"
    listed = ", ".join(str(d) for d in sorted(days))
    raise ScheduleError(f"it never fires: {names} {verb} no day{'s' * (len(days) > 1)} {listed}")


def _number(value: str, field: _Field) -> int:
    if value in field.names:  # a month name only for the month, a day name for the weekday
        return field.names.index(value) + field.low
    if not re.fullmatch(r"\d{1,2}", value):
        raise ScheduleError(f"{value!r} is not a number")
    return int(value)


@dataclass(frozen=True, slots=True)
class Poll:
    id: int
    release: str
    conversation: Conversation | None
    opens_at: datetime  # when the card is posted (now, or `poll <rel> at <when>`)
    deadline: datetime  # after it, the owner and the channel hear who has not answered
    addressees: tuple[str, ...]  # principals of the release's sign-off roles
    posted: bool = False
    escalated: bool = False

    @property
    def label(self) -> str:
        return f"P{self.id}"

    @property
    def subject(self) -> str:
        return f"poll:{self.id}"


@dataclass(frozen=True, slots=True)
class PollAnswer:
    poll_id: int
    principal: str
    display_name: str
    answer: Answer
    reason: str | None
    at: datetime


def latest_answers(answers: list[PollAnswer]) -> dict[str, PollAnswer]:
    """Each person's answer in force: a later answer replaces an earlier one."""
    latest: dict[str, PollAnswer] = {}
    for answer in sorted(answers, key=lambda a: a.at):
        latest[answer.principal] = answer
    return latest
