"""Release syncs, their claimed occurrences, readiness polls and their answers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_moment = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True, nullable=False)


def upgrade() -> None:
    op.create_table(
        "sync",
        _id(),
        sa.Column("conversation_platform", sa.String(), nullable=False),
        sa.Column("conversation_id", sa.String(), nullable=False),
        sa.Column("schedule", sa.String(), nullable=False),
        sa.Column("cron", sa.String(), nullable=False),
        sa.Column("timezone", sa.String(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", _moment, nullable=False),
        sa.Column("cancelled_at", _moment, nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "occurrence",
        sa.Column("key", sa.String(), primary_key=True, nullable=False),
        sa.Column("occurrence", _moment, primary_key=True, nullable=False),
        sa.Column("claimed_at", _moment, nullable=False),
    )
    op.create_table(
        "poll",
        _id(),
        sa.Column("release", sa.String(), nullable=False),
        sa.Column("conversation_platform", sa.String(), nullable=True),
        sa.Column("conversation_id", sa.String(), nullable=True),
        sa.Column("opens_at", _moment, nullable=False),
        sa.Column("deadline", _moment, nullable=False),
        sa.Column("addressees", sa.Text(), nullable=False),
        sa.Column("posted", sa.Boolean(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_poll_release", "poll", ["release"])
    op.create_table(
        "poll_answer",
        _id(),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("principal", sa.String(), nullable=False),
        sa.Column("display_name", sa.String(), nullable=False),
        sa.Column("answer", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", _moment, nullable=False),
    )
    op.create_index("ix_poll_answer_poll", "poll_answer", ["poll_id"])


def downgrade() -> None:
    op.drop_index("ix_poll_answer_poll", table_name="poll_answer")
    op.drop_table("poll_answer")
    op.drop_index("ix_poll_release", table_name="poll")
    op.drop_table("poll")
    op.drop_table("occurrence")
    op.drop_table("sync")
