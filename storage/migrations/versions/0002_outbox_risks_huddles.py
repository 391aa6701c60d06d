"""The outbox (messages queued with the change that caused them); risks, decisions, huddles
and change items.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True, nullable=False),
        sa.Column("conversation_platform", sa.String(), nullable=False),
        sa.Column("conversation_id", sa.String(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", _moment, nullable=False),
        sa.Column("next_at", _moment, nullable=False),
        sa.Column("lease_until", _moment, nullable=True),
        sa.Column("done_at", _moment, nullable=True),
        sa.Column("message_id", sa.String(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["status", "conversation_platform", "conversation_id", "id"],
    )
    _risks_and_decisions()
    _huddles_and_changes()


def _risks_and_decisions() -> None:
    op.create_table(
        "risk",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True, nullable=False),
        sa.Column("release", sa.String(), nullable=True),
        sa.Column("origin", sa.String(), nullable=False),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("raised_by", sa.String(), nullable=False),
        sa.Column("raised_at", _moment, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_risk_release", "risk", ["release"])
    op.create_table(
        "decision",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True, nullable=False),
        sa.Column("risk_id", sa.Integer(), nullable=False),
        sa.Column("release", sa.String(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(), nullable=False),
        sa.Column("decided_name", sa.String(), nullable=False),
        sa.Column("decided_at", _moment, nullable=False),
        sa.Column("expires_at", _moment, nullable=True),
    )
    op.create_index("ix_decision_risk", "decision", ["risk_id"])
    op.create_index("ix_decision_release", "decision", ["release"])


def _huddles_and_changes() -> None:
    op.create_table(
        "huddle",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True, nullable=False),
        sa.Column("release", sa.String(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=True),
        sa.Column("opened_by", sa.String(), nullable=False),
        sa.Column("opened_at", _moment, nullable=False),
        sa.Column("conversation_platform", sa.String(), nullable=True),
        sa.Column("conversation_id", sa.String(), nullable=True),
        sa.Column("closed_at", _moment, nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_huddle_release", "huddle", ["release"])
    op.create_table(
        "change_item",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True, nullable=False),
        sa.Column("release", sa.String(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("squad", sa.String(), nullable=True),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("author", sa.String(), nullable=True),
        sa.Column("merged_at", _moment, nullable=True),
    )
    op.create_index("ix_change_item_release", "change_item", ["release"])


def downgrade() -> None:
    for table in ("change_item", "huddle", "decision", "risk"):
        for index in _indexes(table):
            op.drop_index(index, table_name=table)
        op.drop_table(table)
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.drop_table("outbox")


def _indexes(table: str) -> list[str]:
    if table == "decision":
        return ["ix_decision_risk", "ix_decision_release"]
    return [f"ix_{table}_release"]
