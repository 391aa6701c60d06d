"""The SQL tables behind the store, as SQLModel classes; the store uses their Core `Table`s."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always hands back aware UTC datetimes, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = as_utc(value)
        # SQLite has no zone-aware type: keep the UTC wall clock so text order is time order.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def as_utc(value: datetime) -> datetime:
    """`value` in UTC; a naive datetime is refused, as it is ambiguous (better than guessing)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()}: the store takes aware UTC")
    return value.astimezone(UTC)


class JSONText(TypeDecorator[Any]):
    """A JSON document kept as text, so both databases store it the same way."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        # default=str matches bot.audit's canonical form, so audit hashes survive the round trip.
        return json.dumps(value, default=str, ensure_ascii=False)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


def _column(name: str, type_: Any, *, nullable: bool = False, **kw: Any) -> Any:
    """A Field backed by an explicit Column, so the DDL matches the migration exactly."""
    return Field(sa_column=Column(name, type_, nullable=nullable, **kw))


class ReleaseRow(SQLModel, table=True):
    __tablename__ = "release"
    __table_args__ = (
        UniqueConstraint("name", name="uq_release_name"),
        Index("ix_release_scheduled_at", "scheduled_at"),
        Index("ix_release_service", "service"),
        Index("ix_release_train", "train"),
    )

    id: int | None = _column("id", Integer, primary_key=True, autoincrement=True)
    name: str = _column("name", String)
    service: str = _column("service", String)
    version: str = _column("version", String)
    state: str = _column("state", String)
    change_class: str = _column("change_class", String)
    owner: str = _column("owner", String)
    scheduled_at: datetime | None = _column("scheduled_at", UTCDateTime, nullable=True)
    train: str | None = _column("train", String, nullable=True)
    env: str | None = _column("env", String, nullable=True)
    channel_platform: str | None = _column("channel_platform", String, nullable=True)
    channel_id: str | None = _column("channel_id", String, nullable=True)
    created_at: datetime = _column("created_at", UTCDateTime)
    updated_at: datetime = _column("updated_at", UTCDateTime)
    revision: int = _column("revision", Integer)
    review_due_at: datetime | None = _column("review_due_at", UTCDateTime, nullable=True)
    reviewed_by: str | None = _column("reviewed_by", String, nullable=True)


class AuditEventRow(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_release", "release"),)

    # The chain position is ours to assign (head.seq + 1), never the database's.
    seq: int = _column("seq", Integer, primary_key=True, autoincrement=False)
    action: str = _column("action", String)
    actor: str = _column("actor", String)
    surface: str = _column("surface", String)
    at: datetime = _column("at", UTCDateTime)
    release: str | None = _column("release", String, nullable=True)
    before: dict[str, Any] | None = _column("before", JSONText, nullable=True)
    after: dict[str, Any] | None = _column("after", JSONText, nullable=True)
    detail: dict[str, Any] = _column("detail", JSONText)
    prev_hash: str = _column("prev_hash", String(64))
    hash: str = _column("hash", String(64))


class AuditHeadRow(SQLModel, table=True):
    """The chain's tip; locking this one row is what serializes audit appends."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="ck_audit_head_single_row"),)

    id: int = _column("id", Integer, primary_key=True, autoincrement=False)
    seq: int = _column("seq", Integer)
    hash: str = _column("hash", String(64))


class DeliveryRow(SQLModel, table=True):
    __tablename__ = "delivery"

    key: str = _column("key", String, primary_key=True)
    claimed_at: datetime = _column("claimed_at", UTCDateTime)


class ConversationRefRow(SQLModel, table=True):
    __tablename__ = "conversation_ref"

    conversation_id: str = _column("conversation_id", String, primary_key=True)
    reference: dict[str, Any] = _column("reference", JSONText)
    updated_at: datetime = _column("updated_at", UTCDateTime)


class SignOffRow(SQLModel, table=True):
    __tablename__ = "signoff"
    __table_args__ = (Index("ix_signoff_release", "release"),)

    # The id keeps sign-offs in the order they were given.
    id: int | None = _column("id", Integer, primary_key=True, autoincrement=True)
    release: str = _column("release", String)
    role: str = _column("role", String)
    principal: str = _column("principal", String)
    display_name: str = _column("display_name", String)
    verdict: str = _column("verdict", String)
    at: datetime = _column("at", UTCDateTime)
    note: str | None = _column("note", Text, nullable=True)
    stale: bool = _column("stale", Boolean)


class SignalRow(SQLModel, table=True):
    __tablename__ = "readiness_signal"
    __table_args__ = (Index("ix_readiness_signal_release", "release"),)

    id: int | None = _column("id", Integer, primary_key=True, autoincrement=True)
    release: str = _column("release", String)
    key: str = _column("key", String)
    value: float = _column("value", Float)
    at: datetime = _column("at", UTCDateTime)
    source: str = _column("source", String)


class FreezeRow(SQLModel, table=True):
    """A freeze window (`freeze` itself is a reserved word in PostgreSQL)."""

    __tablename__ = "freeze_window"
    # AUTOINCREMENT: SQLite would otherwise reuse the id of a removed last window, and
    # `F3` in last week's audit trail must never name a different window.
    __table_args__ = (
        Index("ix_freeze_window_starts_at", "starts_at"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = _column("id", Integer, primary_key=True, autoincrement=True)
    starts_at: datetime = _column("starts_at", UTCDateTime)
    ends_at: datetime = _column("ends_at", UTCDateTime)
    reason: str | None = _column("reason", Text, nullable=True)
    created_by: str = _column("created_by", String)


class PostedCardRow(SQLModel, table=True):
    __tablename__ = "posted_card"
    __table_args__ = (Index("ix_posted_card_release", "release"),)

    platform: str = _column("platform", String, primary_key=True)
    conversation_id: str = _column("conversation_id", String, primary_key=True)
    message_id: str = _column("message_id", String, primary_key=True)
    release: str = _column("release", String)
    posted_at: datetime = _column("posted_at", UTCDateTime)


class PersonalPageRow(SQLModel, table=True):
    """A release whose buttons a person's own page (Slack's App Home) offers right now."""

    __tablename__ = "personal_page"
    __table_args__ = (Index("ix_personal_page_release", "release"),)

    platform: str = _column("platform", String, primary_key=True)
    person: str = _column("person", String, primary_key=True)
    release: str = _column("release", String, primary_key=True)


class RiskRow(SQLModel, table=True):
    __tablename__ = "risk"
    # AUTOINCREMENT: `R7` in the decision log must never name a different risk.
    __table_args__ = (Index("ix_risk_release", "release"), {"sqlite_autoincrement": True})

    id: int | None = _column("id", Integer, primary_key=True, autoincrement=True)
    release: str | None = _column("release", String, nullable=True)
    origin: str = _column("origin", String)
    severity: str = _column("severity", String)
    description: str = _column("description", Text)
    raised_by: str = _column("raised_by", String)
    raised_at: datetime = _column("raised_at", UTCDateTime)


class DecisionRow(SQLModel, table=True):
    __tablename__ = "decision"
    __table_args__ = (Index("ix_decision_risk", "risk_id"), Index("ix_decision_release", "release"))

    # The id keeps decisions in the order they were taken.
    id: int | None = _column("id", Integer, primary_key=True, autoincrement=True)
    risk_id: int = _column("risk_id", Integer)
    release: str | None = _column("release", String, nullable=True)
    outcome: str = _column("outcome", String)
    rationale: str = _column("rationale", Text)
    decided_by: str = _column("decided_by", String)
    decided_name: str = _column("decided_name", String)
    decided_at: datetime = _column("decided_at", UTCDateTime)
    expires_at: datetime | None = _column("expires_at", UTCDateTime, nullable=True)


class HuddleRow(SQLModel, table=True):
    __tablename__ = "huddle"
    __table_args__ = (Index("ix_huddle_release", "release"), {"sqlite_autoincrement": True})

    id: int | None = _column("id", Integer, primary_key=True, autoincrement=True)
    release: str = _column("release", String)
    topic: str | None = _column("topic", Text, nullable=True)
    opened_by: str = _column("opened_by", String)
    opened_at: datetime = _column("opened_at", UTCDateTime)
    conversation_platform: str | None = _column("conversation_platform", String, nullable=True)
    conversation_id: str | None = _column("conversation_id", String, nullable=True)
    closed_at: datetime | None = _column("closed_at", UTCDateTime, nullable=True)


class ChangeItemRow(SQLModel, table=True):
    __tablename__ = "change_item"
    __table_args__ = (Index("ix_change_item_release", "release"),)

    id: int | None = _column("id", Integer, primary_key=True, autoincrement=True)
    release: str = _column("release", String)
    title: str = _column("title", Text)
    kind: str = _column("kind", String)
    squad: str | None = _column("squad", String, nullable=True)
    link: str | None = _column("link", Text, nullable=True)
    author: str | None = _column("author", String, nullable=True)
    merged_at: datetime | None = _column("merged_at", UTCDateTime, nullable=True)


class SyncRow(SQLModel, table=True):
    __tablename__ = "sync"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: int | None = _column("id", Integer, primary_key=True, autoincrement=True)
    conversation_platform: str = _column("conversation_platform", String)
    conversation_id: str = _column("conversation_id", String)
    schedule: str = _column("schedule", String)
    cron: str = _column("cron", String)
    timezone: str = _column("timezone", String)
    created_by: str = _column("created_by", String)
    created_at: datetime = _column("created_at", UTCDateTime)
    cancelled_at: datetime | None = _column("cancelled_at", UTCDateTime, nullable=True)


class OccurrenceRow(SQLModel, table=True):
    """One claimed firing: the primary key is what makes replicas post it once."""

    __tablename__ = "occurrence"

    key: str = _column("key", String, primary_key=True)
    occurrence: datetime = _column("occurrence", UTCDateTime, primary_key=True)
    claimed_at: datetime = _column("claimed_at", UTCDateTime)


class PollRow(SQLModel, table=True):
    __tablename__ = "poll"
    __table_args__ = (Index("ix_poll_release", "release"), {"sqlite_autoincrement": True})

    id: int | None = _column("id", Integer, primary_key=True, autoincrement=True)
    release: str = _column("release", String)
    conversation_platform: str | None = _column("conversation_platform", String, nullable=True)
    conversation_id: str | None = _column("conversation_id", String, nullable=True)
    opens_at: datetime = _column("opens_at", UTCDateTime)
    deadline: datetime = _column("deadline", UTCDateTime)
    addressees: list[str] = _column("addressees", JSONText)
    posted: bool = _column("posted", Boolean)
    escalated: bool = _column("escalated", Boolean)


class PollAnswerRow(SQLModel, table=True):
    __tablename__ = "poll_answer"
    __table_args__ = (Index("ix_poll_answer_poll", "poll_id"),)

    id: int | None = _column("id", Integer, primary_key=True, autoincrement=True)
    poll_id: int = _column("poll_id", Integer)
    principal: str = _column("principal", String)
    display_name: str = _column("display_name", String)
    answer: str = _column("answer", String)
    reason: str | None = _column("reason", Text, nullable=True)
    at: datetime = _column("at", UTCDateTime)


class OutboxRow(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        # The worker's question: the oldest pending message of each conversation.
        Index("ix_outbox_pending", "status", "conversation_platform", "conversation_id", "id"),
    )

    id: int | None = _column("id", Integer, primary_key=True, autoincrement=True)
    conversation_platform: str = _column("conversation_platform", String)
    conversation_id: str = _column("conversation_id", String)
    payload: dict[str, Any] = _column("payload", JSONText)
    status: str = _column("status", String)
    attempts: int = _column("attempts", Integer)
    created_at: datetime = _column("created_at", UTCDateTime)
    next_at: datetime = _column("next_at", UTCDateTime)
    lease_until: datetime | None = _column("lease_until", UTCDateTime, nullable=True)
    done_at: datetime | None = _column("done_at", UTCDateTime, nullable=True)
    message_id: str | None = _column("message_id", String, nullable=True)
    error: str | None = _column("error", Text, nullable=True)


class DeploymentRow(SQLModel, table=True):
    __tablename__ = "deployment"
    __table_args__ = (
        # A deployment reported again (a retry, a later rolled_back) is the same deployment.
        UniqueConstraint(
            "service", "environment", "version", "started_at", name="uq_deployment_identity"
        ),
        # The metrics window and change correlation both ask "finished between …".
        Index("ix_deployment_finished_at", "finished_at"),
        Index("ix_deployment_service_finished_at", "service", "finished_at"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = _column("id", Integer, primary_key=True, autoincrement=True)
    service: str = _column("service", String)
    version: str = _column("version", String)
    environment: str = _column("environment", String)
    status: str = _column("status", String)
    started_at: datetime = _column("started_at", UTCDateTime)
    finished_at: datetime = _column("finished_at", UTCDateTime)
    changes: int = _column("changes", Integer)
    lead_seconds: float = _column("lead_seconds", Float)
    release: str | None = _column("release", String, nullable=True)


class IncidentRow(SQLModel, table=True):
    __tablename__ = "incident"
    __table_args__ = (
        UniqueConstraint("key", name="uq_incident_key"),
        Index("ix_incident_opened_at", "opened_at"),
        Index("ix_incident_resolved_at", "resolved_at"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = _column("id", Integer, primary_key=True, autoincrement=True)
    key: str | None = _column("key", String, nullable=True)
    service: str = _column("service", String)
    severity: str = _column("severity", String)
    opened_at: datetime = _column("opened_at", UTCDateTime)
    resolved_at: datetime | None = _column("resolved_at", UTCDateTime, nullable=True)
    release: str | None = _column("release", String, nullable=True)


class SmokeCheckRow(SQLModel, table=True):
    __tablename__ = "smoke_check"
    __table_args__ = (Index("ix_smoke_check_release", "release", "run_at"),)

    # The id keeps a run's results in policy order.
    id: int | None = _column("id", Integer, primary_key=True, autoincrement=True)
    release: str = _column("release", String)
    run_at: datetime = _column("run_at", UTCDateTime)
    url: str = _column("url", Text)
    expected: int = _column("expected", Integer)
    status: int | None = _column("status", Integer, nullable=True)
    passed: bool = _column("passed", Boolean)
    detail: str = _column("detail", Text)
    checked_at: datetime = _column("checked_at", UTCDateTime)


def _table(model: type[SQLModel]) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


release = _table(ReleaseRow)
audit_event = _table(AuditEventRow)
audit_head = _table(AuditHeadRow)
delivery = _table(DeliveryRow)
conversation_ref = _table(ConversationRefRow)
signoff = _table(SignOffRow)
readiness_signal = _table(SignalRow)
freeze_window = _table(FreezeRow)
posted_card = _table(PostedCardRow)
personal_page = _table(PersonalPageRow)
outbox = _table(OutboxRow)
risk = _table(RiskRow)
decision = _table(DecisionRow)
huddle = _table(HuddleRow)
change_item = _table(ChangeItemRow)
sync = _table(SyncRow)
occurrence = _table(OccurrenceRow)
poll = _table(PollRow)
poll_answer = _table(PollAnswerRow)
deployment = _table(DeploymentRow)
incident = _table(IncidentRow)
smoke_check = _table(SmokeCheckRow)
