"""Text → Command. Every failure is a ParseError that names the problem and the usage line."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import commands as c
from bot.domain import SERVICE_PATTERN, ChangeClass
from bot.usage import BY_VERB
from bot.when import WhenError, parse_zone, take_when

MAX_COMMAND_LENGTH = 2000
# A release's name travels in its cards' buttons, twice in some (Slack allows a button value
# 2,000 characters): a name of a thousand characters would leave its card unsendable.
MAX_NAME_PART_LENGTH = 100
# Ids are INTEGER columns, 32-bit in PostgreSQL (storage/tables.py): a bigger number cannot
# name anything we stored, and handing it to the database overflows instead of finding nothing.
MAX_ID = 2**31 - 1
SIGNAL_KEY = re.compile(r"[a-z][a-z0-9_]*")
SEVERITIES = ("low", "medium", "high", "critical")
OUTCOMES = ("blocker", "accept", "defer")
LIST_SCOPES = ("upcoming", "active", "all")
SCHEDULE_WORDS = ("weekdays", "daily")
CRON_FIELD = re.compile(r"[0-9*/,\-a-z]+")


class ParseError(ValueError):
    def __init__(self, problem: str, verb: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.verb = verb

    @property
    def usage(self) -> str | None:
        return BY_VERB[self.verb].line if self.verb in BY_VERB else None


@dataclass
class _Words:
    """The words of one command after its verb, with the raw text kept for free-text tails."""

    verb: str
    words: list[str]
    spans: list[tuple[int, int]]
    text: str
    now: datetime
    zone: ZoneInfo

    def fail(self, problem: str) -> ParseError:
        return ParseError(problem, self.verb)

    def release(self, index: int = 0) -> str:
        if index >= len(self.words):
            raise self.fail("the release is missing: write service@version, e.g. checkout@2.4.0")
        return release_name(self.words[index], self.verb)

    def rest(self, index: int) -> str:
        """The raw text from word `index` on, as typed."""
        return self.text[self.spans[index][0] :].strip() if index < len(self.words) else ""

    def when(self, index: int) -> tuple[datetime, int]:
        try:
            return take_when(self.words, index, now=self.now, zone=self.zone)
        except WhenError as error:
            raise self.fail(str(error)) from None

    def only(self, count: int) -> None:
        if len(self.words) > count:
            raise self.fail(f"unexpected {self.words[count]!r}")


def release_name(word: str, verb: str | None = None) -> str:
    service, at, version = word.partition("@")
    if not at or not version:
        raise ParseError(
            f"{word!r} is not a release: write service@version, e.g. checkout@2.4.0", verb
        )
    for part, what in ((service, "service name"), (version, "version")):
        if len(part) > MAX_NAME_PART_LENGTH:
            raise ParseError(
                f"the {what} is too long ({len(part):,} characters; the limit is "
                f"{MAX_NAME_PART_LENGTH})",
                verb,
            )
    if not SERVICE_PATTERN.fullmatch(service):
        raise ParseError(
            f"{service!r} is not a service name (lowercase letters, digits, '.', '_' or '-')",
            verb,
        )
    if any(char.isspace() for char in version):
        # Chat splits words at spaces; a name from the REST API or a form may still hold one.
        raise ParseError(f"{version!r} is not a version: it may not contain spaces", verb)
    return f"{service}@{version}"


def parse(text: str, *, now: datetime, zone: ZoneInfo) -> c.Command:
    """Parse one command line of the command language."""
    text = text.strip()
    if not text:
        raise ParseError("the command is empty — `help` lists what I can do", "help")
    verb = text.split(maxsplit=1)[0].lower()
    if len(text) > MAX_COMMAND_LENGTH:
        raise ParseError(
            f"the command is too long ({len(text):,} characters; the limit is "
            f"{MAX_COMMAND_LENGTH:,})",
            verb if verb in RULES else "help",  # no command of that name: help lists them
        )
    spans = [m.span() for m in re.finditer(r"\S+", text)]
    words = _Words(verb, [text[a:b] for a, b in spans[1:]], spans[1:], text, now, zone)
    rule = RULES.get(verb)
    if rule is None:
        raise _unknown_verb(verb)
    return rule(words)


def _unknown_verb(verb: str) -> ParseError:
    guess = difflib.get_close_matches(verb, list(RULES), n=1, cutoff=0.6)
    if guess:
        return ParseError(f"unknown command {verb!r} — did you mean {guess[0]!r}?", guess[0])
    # Nothing is near enough to guess: the nearest useful command is `help` itself.
    return ParseError(f"unknown command {verb!r} — `help` lists the commands", "help")


def _help(w: _Words) -> c.Command:
    w.only(1)
    topic = w.words[0].lower() if w.words else None
    if topic is not None and topic not in BY_VERB:
        raise w.fail(f"there is no command {topic!r}")
    return c.Help(topic)


DECLARE_KEYWORDS = ("at", "class", "train", "env", "owner")


def _declare(w: _Words) -> c.Command:
    name = w.release(0)
    options: dict[str, object] = {}
    i = 1
    while i < len(w.words):
        key = w.words[i].lower()
        if key not in DECLARE_KEYWORDS:
            raise w.fail(f"unexpected {w.words[i]!r} (options: {', '.join(DECLARE_KEYWORDS)})")
        if key in options:
            raise w.fail(f"{key!r} is given twice")
        if key == "at":
            options[key], i = w.when(i + 1)
            continue
        if i + 1 >= len(w.words):
            raise w.fail(f"{key!r} needs a value")
        options[key] = _declare_value(w, key, w.words[i + 1])
        i += 2
    return c.Declare(
        release=name,
        scheduled_at=options.get("at"),  # type: ignore[arg-type]
        change_class=str(options.get("class", ChangeClass.NORMAL.value)),
        train=options.get("train"),  # type: ignore[arg-type]
        env=options.get("env"),  # type: ignore[arg-type]
        owner=options.get("owner"),  # type: ignore[arg-type]
    )


def _declare_value(w: _Words, key: str, value: str) -> str:
    if key == "class":
        if value.lower() not in {cls.value for cls in ChangeClass}:
            raise w.fail(f"{value!r} is not a change class (standard, normal or emergency)")
        return value.lower()
    if key == "owner":
        return principal(value, w.verb)
    return value


def principal(word: str, verb: str | None = None) -> str:
    kind, colon, ident = word.partition(":")
    if not colon or not ident or kind not in ("slack", "teams", "email", "console"):
        raise ParseError(
            f"{word!r} is not a person: mention them or write slack:<id>, teams:<id> or "
            "email:<address>",
            verb,
        )
    # An address is matched in any case (policy members are lower-cased the same way).
    return word.lower() if kind == "email" else word


def _release_only(factory: Callable[[str], c.Command]) -> Callable[[_Words], c.Command]:
    def rule(w: _Words) -> c.Command:
        name = w.release(0)
        w.only(1)
        return factory(name)

    return rule


def _release_and_reason(
    factory: Callable[[str, str], c.Command], what: str = "reason"
) -> Callable[[_Words], c.Command]:
    def rule(w: _Words) -> c.Command:
        name = w.release(0)
        reason = w.rest(1)
        if not reason:
            raise w.fail(f"a {what} is required")
        return factory(name, reason)

    return rule


def _list(w: _Words) -> c.Command:
    scope, train, service = "upcoming", None, None
    i = 0
    if w.words and w.words[0].lower() in LIST_SCOPES:
        scope, i = w.words[0].lower(), 1
    while i < len(w.words):
        key = w.words[i].lower()
        if key not in ("train", "service") or i + 1 >= len(w.words):
            raise w.fail(f"unexpected {w.words[i]!r}")
        if key == "train":
            train = w.words[i + 1]
        else:
            service = w.words[i + 1]
        i += 2
    return c.ListReleases(scope=scope, train=train, service=service)


def _calendar(w: _Words) -> c.Command:
    w.only(1)
    return c.Calendar(days=_days(w, 0, default=14))


def _days(w: _Words, index: int, *, default: int) -> int:
    if index >= len(w.words):
        return default
    word = w.words[index]
    if not word.isascii() or not word.isdigit() or not 1 <= int(word) <= 366:
        raise w.fail(f"{word!r} is not a number of days (1–366)")
    return int(word)


def _approve(w: _Words) -> c.Command:
    name = w.release(0)
    role, start = _as_role(w, 1)
    return c.Approve(release=name, role=role, note=w.rest(start) or None)


def _reject(w: _Words) -> c.Command:
    name = w.release(0)
    role, start = _as_role(w, 1)
    reason = w.rest(start)
    if not reason:
        raise w.fail("a reason is required")
    return c.Reject(release=name, role=role, reason=reason)


def _as_role(w: _Words, index: int) -> tuple[str | None, int]:
    if index < len(w.words) and w.words[index].lower() == "as":
        if index + 1 >= len(w.words):
            raise w.fail("'as' needs a role")
        return w.words[index + 1], index + 2
    return None, index


def _signal(w: _Words) -> c.Command:
    name = w.release(0)
    if len(w.words) < 2:
        raise w.fail("give at least one signal as key=value")
    values = []
    for word in w.words[1:]:
        key, eq, value = word.partition("=")
        if not eq or not value or not SIGNAL_KEY.fullmatch(key):
            raise w.fail(f"{word!r} is not a signal (key=value, e.g. coverage=82.5)")
        values.append((key, value))
    return c.Signal(release=name, values=tuple(values))


def _gate(w: _Words) -> c.Command:
    name = w.release(0)
    if len(w.words) == 1:
        return c.Gate(release=name)
    if [x.lower() for x in w.words[1:3]] != ["if", "accept"] or len(w.words) < 4:
        raise w.fail("expected `if accept <risk-id>…`")
    return c.Gate(release=name, accept_risks=tuple(_risk_id(w, x) for x in w.words[3:]))


def _risk_id(w: _Words, word: str) -> str:
    return _id(w, word, "R", "risk", required=True)


def _id(w: _Words, word: str, prefix: str, kind: str, *, required: bool = False) -> str:
    """An id such as R7, upper-cased; its letter may be left out unless `required`."""
    upper = word.upper()
    number = upper.removeprefix(prefix)
    if (required and number == upper) or not _ascii_number(number):
        raise w.fail(f"{word!r} is not a {kind} id (like {prefix}7)")
    if _beyond_any_id(number):
        raise w.fail(f"{word} is not a {kind} id I know")
    return upper


def id_number(label: str, prefix: str) -> int | None:
    """The number in an id like R7 (or plain 7), or None when no stored row can have it."""
    number = label.upper().removeprefix(prefix)
    return int(number) if _ascii_number(number) and not _beyond_any_id(number) else None


def _ascii_number(text: str) -> bool:
    # str.isdigit alone also holds for '²' and '٣', which int() refuses or misreads.
    return text.isascii() and text.isdigit()


def _beyond_any_id(number: str) -> bool:
    """Whether a string of digits is more than any stored id: by its length first, since
    int() refuses a few thousand digits outright."""
    return len(number) > len(str(MAX_ID)) or int(number) > MAX_ID


def _risk(w: _Words) -> c.Command:
    name = w.release(0)
    if len(w.words) < 2 or w.words[1].lower() not in SEVERITIES:
        raise w.fail(f"the severity must be one of {', '.join(SEVERITIES)}")
    description = w.rest(2)
    if not description:
        raise w.fail("describe the risk")
    return c.AddRisk(release=name, severity=w.words[1].lower(), description=description)


def _huddle(w: _Words) -> c.Command:
    if w.words and w.words[0].lower() == "close":
        name = w.release(1)
        w.only(2)
        return c.CloseHuddle(release=name)
    return c.Huddle(release=w.release(0), topic=w.rest(1) or None)


def _decide(w: _Words) -> c.Command:
    if not w.words:
        raise w.fail("the risk id is missing")
    risk = _risk_id(w, w.words[0])
    if len(w.words) < 2 or w.words[1].lower() not in OUTCOMES:
        raise w.fail(f"the decision must be one of {', '.join(OUTCOMES)}")
    outcome, start, expires = w.words[1].lower(), 2, None
    if outcome == "accept" and len(w.words) > 2 and w.words[2].lower() == "until":
        expires, start = w.when(3)
    rationale = w.rest(start)
    if not rationale:
        raise w.fail("a decision needs a rationale")
    return c.Decide(risk_id=risk, outcome=outcome, rationale=rationale, expires_at=expires)


def _reschedule(w: _Words) -> c.Command:
    name = w.release(0)
    moment, end = w.when(1)
    w.only(end)
    return c.Reschedule(release=name, scheduled_at=moment)


def _promote(w: _Words) -> c.Command:
    name = w.release(0)
    if len(w.words) < 2:
        raise w.fail("the train is missing")
    w.only(2)
    return c.Promote(release=name, train=w.words[1])


def _notes(w: _Words) -> c.Command:
    name = w.release(0)
    w.only(2)
    if len(w.words) == 2 and w.words[1].lower() != "publish":
        raise w.fail(f"unexpected {w.words[1]!r}")
    return c.Notes(release=name, publish=len(w.words) == 2)


def _sync(w: _Words) -> c.Command:
    if w.words and w.words[0].lower() == "cancel":
        if len(w.words) != 2:
            raise w.fail("`sync cancel` needs the id of one sync")
        return c.CancelSync(sync_id=_id(w, w.words[1], "S", "sync"))
    words, zone = list(w.words), None
    if len(words) >= 2 and words[-2].lower() == "tz":
        try:
            zone = parse_zone(words[-1]).key
        except WhenError as error:
            raise w.fail(str(error)) from None
        words = words[:-2]
    return c.AddSync(schedule=_schedule(w, words), timezone=zone)


def _schedule(w: _Words, words: list[str]) -> str:
    lowered = [x.lower() for x in words]
    if len(lowered) == 5 and all(CRON_FIELD.fullmatch(x) for x in lowered):
        return " ".join(lowered)
    if len(lowered) == 2 and re.fullmatch(r"\d{1,2}:\d{2}", lowered[1]):
        days = lowered[0]
        if days in SCHEDULE_WORDS or all(d in _SHORT_DAYS for d in days.split(",")):
            return " ".join(lowered)
    raise w.fail(
        "the schedule must be `weekdays 09:30`, `mon,thu 14:00`, `daily 10:00` or a 5-field cron"
    )


_SHORT_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _poll(w: _Words) -> c.Command:
    name = w.release(0)
    if len(w.words) == 1:
        return c.Poll(release=name)
    if w.words[1].lower() != "at":
        raise w.fail(f"unexpected {w.words[1]!r}")
    moment, end = w.when(2)
    w.only(end)
    return c.Poll(release=name, at=moment)


def _freeze(w: _Words) -> c.Command:
    starts, after = w.when(0)
    ends, tail = w.when(after)
    if ends <= starts:
        raise w.fail("the freeze must end after it starts")
    return c.Freeze(starts_at=starts, ends_at=ends, reason=w.rest(tail) or None)


def _unfreeze(w: _Words) -> c.Command:
    if len(w.words) != 1:
        raise w.fail("give the id of one freeze window")
    return c.Unfreeze(freeze_id=_id(w, w.words[0], "F", "freeze"))


def _metrics(w: _Words) -> c.Command:
    w.only(2)
    service, index = None, 0
    if w.words and not w.words[0].isdigit():
        if not SERVICE_PATTERN.fullmatch(w.words[0]):
            raise w.fail(f"{w.words[0]!r} is not a service name")
        service, index = w.words[0], 1
    w.only(index + 1)
    return c.Metrics(service=service, days=_days(w, index, default=30))


def _no_arguments(factory: Callable[[], c.Command]) -> Callable[[_Words], c.Command]:
    def rule(w: _Words) -> c.Command:
        w.only(0)
        return factory()

    return rule


RULES: dict[str, Callable[[_Words], c.Command]] = {
    "help": _help,
    "declare": _declare,
    "status": _release_only(lambda r: c.Status(release=r)),
    "list": _list,
    "calendar": _calendar,
    "approve": _approve,
    "reject": _reject,
    "signal": _signal,
    "gate": _gate,
    "risk": _risk,
    "huddle": _huddle,
    "decide": _decide,
    "decisions": _release_only(lambda r: c.Decisions(release=r)),
    "deploy": _release_only(lambda r: c.Deploy(release=r)),
    "deployed": _release_only(lambda r: c.Deployed(release=r)),
    "verified": _release_only(lambda r: c.Verified(release=r)),
    "rollback": _release_and_reason(lambda r, why: c.Rollback(release=r, reason=why)),
    "cancel": _release_and_reason(lambda r, why: c.Cancel(release=r, reason=why)),
    "reschedule": _reschedule,
    "promote": _promote,
    "notes": _notes,
    "sync": _sync,
    "syncs": _no_arguments(c.ListSyncs),
    "poll": _poll,
    "freeze": _freeze,
    "freezes": _no_arguments(c.ListFreezes),
    "unfreeze": _unfreeze,
    "metrics": _metrics,
    "audit": _release_only(lambda r: c.Audit(release=r)),
}
