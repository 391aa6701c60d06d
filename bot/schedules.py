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
FIELD_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
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


def to_cron(schedule: str) -> str:
    """`weekdays 09:30`, `daily 10:00`, `mon,thu 14:00` or a cron expression → five fields."""
    words = schedule.lower().split()
    if len(words) == 5:
        for text, bounds in zip(words, FIELD_RANGES, strict=True):
            _check_field(text, bounds)
        return " ".join(words)
    days, clock = words
    hour, minute = (int(part) for part in clock.split(":"))
    if hour > 23 or minute > 59:
        raise ScheduleError(f"{clock} is not a time of day")
    return f"{minute} {hour} * * {DAY_SETS.get(days, days)}"


def _check_field(text: str, bounds: tuple[int, int]) -> None:
    for part in text.split(","):
        base, _, step = part.partition("/")
        if step and not step.isdigit():
            raise ScheduleError(f"{part!r} has a bad step")
        for value in [] if base == "*" else base.split("-"):
            number = _number(value)
            if not bounds[0] <= number <= bounds[1]:
                raise ScheduleError(f"{value} is out of range {bounds[0]}–{bounds[1]}")


def _number(value: str) -> int:
    if value in DAY_NAMES:
        return DAY_NAMES.index(value)
    if value in MONTH_NAMES:
        return MONTH_NAMES.index(value) + 1
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
