"""Commands: small frozen dataclasses of primitives, one per verb of the command language."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import datetime
from typing import Any, ClassVar

import orjson


@dataclasses.dataclass(frozen=True, slots=True)
class Command:
    verb: ClassVar[str] = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Help(Command):
    verb: ClassVar[str] = "help"
    topic: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Declare(Command):
    verb: ClassVar[str] = "declare"
    release: str
    scheduled_at: datetime | None = None
    change_class: str = "normal"
    train: str | None = None
    env: str | None = None
    owner: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Status(Command):
    verb: ClassVar[str] = "status"
    release: str


@dataclasses.dataclass(frozen=True, slots=True)
class ListReleases(Command):
    verb: ClassVar[str] = "list"
    scope: str = "upcoming"
    train: str | None = None
    service: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Calendar(Command):
    verb: ClassVar[str] = "calendar"
    days: int = 14


@dataclasses.dataclass(frozen=True, slots=True)
class Approve(Command):
    verb: ClassVar[str] = "approve"
    release: str
    role: str | None = None
    note: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Reject(Command):
    verb: ClassVar[str] = "reject"
    release: str
    reason: str
    role: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Signal(Command):
    verb: ClassVar[str] = "signal"
    release: str
    values: tuple[tuple[str, str], ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Gate(Command):
    verb: ClassVar[str] = "gate"
    release: str
    accept_risks: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class AddRisk(Command):
    verb: ClassVar[str] = "risk"
    release: str
    severity: str
    description: str


@dataclasses.dataclass(frozen=True, slots=True)
class Huddle(Command):
    verb: ClassVar[str] = "huddle"
    release: str
    topic: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Decide(Command):
    verb: ClassVar[str] = "decide"
    risk_id: str
    outcome: str
    rationale: str
    expires_at: datetime | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class CloseHuddle(Command):
    verb: ClassVar[str] = "huddle close"
    release: str


@dataclasses.dataclass(frozen=True, slots=True)
class Decisions(Command):
    verb: ClassVar[str] = "decisions"
    release: str


@dataclasses.dataclass(frozen=True, slots=True)
class Deploy(Command):
    verb: ClassVar[str] = "deploy"
    release: str


@dataclasses.dataclass(frozen=True, slots=True)
class Deployed(Command):
    verb: ClassVar[str] = "deployed"
    release: str


@dataclasses.dataclass(frozen=True, slots=True)
class Verified(Command):
    verb: ClassVar[str] = "verified"
    release: str


@dataclasses.dataclass(frozen=True, slots=True)
class Rollback(Command):
    verb: ClassVar[str] = "rollback"
    release: str
    reason: str


@dataclasses.dataclass(frozen=True, slots=True)
class Cancel(Command):
    verb: ClassVar[str] = "cancel"
    release: str
    reason: str


@dataclasses.dataclass(frozen=True, slots=True)
class Reschedule(Command):
    verb: ClassVar[str] = "reschedule"
    release: str
    scheduled_at: datetime


@dataclasses.dataclass(frozen=True, slots=True)
class Promote(Command):
    verb: ClassVar[str] = "promote"
    release: str
    train: str


@dataclasses.dataclass(frozen=True, slots=True)
class Notes(Command):
    verb: ClassVar[str] = "notes"
    release: str
    publish: bool = False


# A change item as a tool sends it: title, kind, squad, link, author, merged_at (ISO).
ChangeRow = tuple[str, str, str | None, str | None, str | None, str | None]


@dataclasses.dataclass(frozen=True, slots=True)
class AddChanges(Command):
    """Change items from tools (REST only): (title, kind, squad, link, author, merged_at ISO)."""

    verb: ClassVar[str] = "changes"
    release: str
    items: tuple[ChangeRow, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class AddSync(Command):
    verb: ClassVar[str] = "sync"
    schedule: str
    timezone: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class ListSyncs(Command):
    verb: ClassVar[str] = "syncs"


@dataclasses.dataclass(frozen=True, slots=True)
class CancelSync(Command):
    verb: ClassVar[str] = "sync cancel"
    sync_id: str


@dataclasses.dataclass(frozen=True, slots=True)
class Poll(Command):
    verb: ClassVar[str] = "poll"
    release: str
    at: datetime | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class AnswerPoll(Command):
    """A Ready / Not ready / Blocked button on a poll card (Blocked asks for a reason)."""

    verb: ClassVar[str] = "poll answer"
    poll_id: int
    answer: str
    reason: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class FireSync(Command):
    """The scheduler's call: post this occurrence of a sync (once, across replicas)."""

    verb: ClassVar[str] = "sync fire"
    sync_id: int
    occurrence: datetime


@dataclasses.dataclass(frozen=True, slots=True)
class ReportMissed(Command):
    """The scheduler's call: occurrences nobody posted (all replicas were down); say so once."""

    verb: ClassVar[str] = "sync missed"
    sync_id: int
    occurrences: tuple[datetime, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class PollTick(Command):
    """The scheduler's call: open, post, remind and escalate readiness polls that are due."""

    verb: ClassVar[str] = "poll tick"


@dataclasses.dataclass(frozen=True, slots=True)
class SettleReadiness(Command):
    """The scheduler's call: move the named releases, whose readiness changed with nobody
    acting on them (an acceptance ran out, a new policy is in force)."""

    verb: ClassVar[str] = "settle readiness"
    releases: tuple[str, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Freeze(Command):
    verb: ClassVar[str] = "freeze"
    starts_at: datetime
    ends_at: datetime
    reason: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class ListFreezes(Command):
    verb: ClassVar[str] = "freezes"


@dataclasses.dataclass(frozen=True, slots=True)
class Unfreeze(Command):
    verb: ClassVar[str] = "unfreeze"
    freeze_id: str


@dataclasses.dataclass(frozen=True, slots=True)
class Metrics(Command):
    verb: ClassVar[str] = "metrics"
    service: str | None = None
    days: int = 30


@dataclasses.dataclass(frozen=True, slots=True)
class Audit(Command):
    verb: ClassVar[str] = "audit"
    release: str


@dataclasses.dataclass(frozen=True, slots=True)
class RecordDeployment(Command):
    """A deployment event from a pipeline (REST only). `commits` are ISO instants; None means
    "take the merge times of the release's change items" for the lead time."""

    verb: ClassVar[str] = "deployment"
    service: str
    version: str
    environment: str
    status: str
    started_at: datetime
    finished_at: datetime
    commits: tuple[str, ...] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class RecordIncident(Command):
    """An incident opened (or updated, when `key` was seen before) on a service (REST only)."""

    verb: ClassVar[str] = "incident"
    service: str
    severity: str
    opened_at: datetime
    resolved_at: datetime | None = None
    release: str | None = None
    key: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class RecordSmoke(Command):
    """Results of a release's smoke checks, run by an adapter after it was marked deployed:
    (url, expected status, status or None, passed, detail, checked_at ISO) per check."""

    verb: ClassVar[str] = "smoke"
    release: str
    results: tuple[tuple[str, int, int | None, bool, str, str], ...]


# The commands behind the buttons the bot renders, and `status`, a read that changes nothing:
# the only ones a button's data may carry. That data comes back from the client, which can
# send anything; a command of any other kind (a declare, say) must be typed, where the parser
# checks every word of it.
BUTTON_COMMANDS: dict[str, type[Command]] = {
    cls.__name__: cls for cls in (Approve, Reject, Decide, AnswerPoll, Rollback, Huddle, Status)
}


class CommandDecodeError(ValueError):
    """A serialized command that is not one of ours."""


def dump(command: Command) -> str:
    """Serialize a command compactly, e.g. into a button value or card data."""
    data: dict[str, Any] = {"c": type(command).__name__}
    for name in _field_names(type(command)):
        data[name] = _encode(getattr(command, name))
    # orjson: every release card dumps the commands behind its buttons, and it writes this
    # compact form several times faster than the json module.
    return orjson.dumps(data).decode()


def _field_names(command_type: type) -> tuple[str, ...]:
    # A class's fields never change; dataclasses.fields() would rebuild the list on every dump.
    names = _FIELD_NAMES.get(command_type)
    if names is None:
        names = _FIELD_NAMES[command_type] = tuple(f.name for f in dataclasses.fields(command_type))
    return names


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def load(text: str) -> Command:
    """The button command `dump` wrote; raises CommandDecodeError for anything else, down to a
    field of the wrong type."""
    try:
        data = json.loads(text)
        cls = BUTTON_COMMANDS[data.pop("c")]
        hints = typing.get_type_hints(cls)
        kwargs = {name: _decode(hints[name], value) for name, value in data.items()}
        return cls(**kwargs)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise CommandDecodeError(f"not a releasebot command: {error}") from None


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _decode(hint: Any, value: Any) -> Any:
    members = _members(hint)
    if value is None and type(None) in members:
        return None
    if datetime in members and isinstance(value, str):
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError(f"{value!r} has no UTC offset")
        return moment
    if type(value) in (str, int) and type(value) in members:  # type(): a bool is no int here
        return value
    raise TypeError(f"{value!r} is not a {hint}")


def _members(hint: Any) -> tuple[Any, ...]:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return typing.get_args(hint)
    return (hint,)
