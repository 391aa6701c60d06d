"""Reply: what the core says, semantically; each surface renders it natively."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Tone(StrEnum):
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"


class Style(StrEnum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True, slots=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Struck:
    """A line that no longer counts, shown struck through (a stale sign-off), then `after` in
    plain type saying why; where a surface cannot strike text, `after` alone says so."""

    text: str
    after: str = ""


Line = str | Struck


def line_text(line: Line) -> str:
    """A line as plain text (a struck line loses its stroke, not its explanation)."""
    return line if isinstance(line, str) else line.text + line.after


@dataclass(frozen=True, slots=True)
class Section:
    title: str | None
    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class Action:
    """A button: pressing it runs `command` (a `commands.dump`) as the person who pressed."""

    label: str
    command: str
    style: Style = Style.DEFAULT
    # When set, the surface first asks for a line of text (a Slack modal, a card input) and puts
    # it into the command's field of this name, e.g. the reason for a rejection.
    asks_for: str | None = None
    prompt: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    title: str
    tone: Tone = Tone.INFO
    summary: str | None = None
    facts: tuple[Fact, ...] = ()
    sections: tuple[Section, ...] = ()
    actions: tuple[Action, ...] = ()
    notes: tuple[str, ...] = ()
    usage: str | None = None
    # Post as a new message for the whole conversation (a release card), not only an answer.
    broadcast: bool = False
    # The release this reply is the card of, so a surface can keep it up to date.
    subject: str | None = None
    # For refusals, what kind of no: invalid, not_found, conflict, refused or internal.
    problem: str | None = None


def error(message: str, usage: str | None = None, *, problem: str = "invalid") -> Reply:
    """A short refusal that names the problem and, where it helps, the usage line."""
    return Reply(title=_sentence(message), tone=Tone.ERROR, usage=usage, problem=problem)


def _sentence(text: str) -> str:
    """Capitalize a message, but never a release or service name that happens to lead it."""
    first = text.split(" ", 1)[0]
    return text[:1].upper() + text[1:] if first.isalpha() else text
