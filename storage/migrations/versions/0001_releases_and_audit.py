"""Releases, sign-offs, signals, freezes, the audit chain and its head, deliveries, references.

Revision ID: 0001
Revises:
Create Date: 2026-05-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64
# Written out here rather than imported, so this revision never changes when the models do.
_moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "release",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("service", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("change_class", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("scheduled_at", _moment, nullable=True),
        sa.Column("train", sa.String(), nullable=True),
        sa.Column("env", sa.String(), nullable=True),
        sa.Column("channel_platform", sa.String(), nullable=True),
        sa.Column("channel_id", sa.String(), nullable=True),
        sa.Column("created_at", _moment, nullable=False),
        sa.Column("updated_at", _moment, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("review_due_at", _moment, nullable=True),
        sa.Column("reviewed_by", sa.String(), nullable=True),
        sa.UniqueConstraint("name", name="uq_release_name"),
    )
    op.create_index("ix_release_scheduled_at", "release", ["scheduled_at"])
    op.create_index("ix_release_service", "release", ["service"])
    op.create_index("ix_release_train", "release", ["train"])

    op.create_table(
        "signoff",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True, nullable=False),
        sa.Column("release", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("principal", sa.String(), nullable=False),
        sa.Column("display_name", sa.String(), nullable=False),
        sa.Column("verdict", sa.String(), nullable=False),
        sa.Column("at", _moment, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("stale", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_signoff_release", "signoff", ["release"])

    op.create_table(
        "readiness_signal",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True, nullable=False),
        sa.Column("release", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("at", _moment, nullable=False),
        sa.Column("source", sa.String(), nullable=False),
    )
    op.create_index("ix_readiness_signal_release", "readiness_signal", ["release"])

    op.create_table(
        "freeze_window",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True, nullable=False),
        sa.Column("starts_at", _moment, nullable=False),
        sa.Column("ends_at", _moment, nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_freeze_window_starts_at", "freeze_window", ["starts_at"])

    op.create_table(
        "audit_event",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False, nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("surface", sa.String(), nullable=False),
        sa.Column("at", _moment, nullable=False),
        sa.Column("release", sa.String(), nullable=True),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_event_release", "audit_event", ["release"])

    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_audit_head_single_row"),
    )
    # The chain starts empty: event 1 will link to the genesis hash.
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS_HASH}])

    op.create_table(
        "delivery",
        sa.Column("key", sa.String(), primary_key=True, nullable=False),
        sa.Column("claimed_at", _moment, nullable=False),
    )

    op.create_table(
        "conversation_ref",
        sa.Column("conversation_id", sa.String(), primary_key=True, nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("updated_at", _moment, nullable=False),
    )

    op.create_table(
        "posted_card",
        sa.Column("platform", sa.String(), primary_key=True, nullable=False),
        sa.Column("conversation_id", sa.String(), primary_key=True, nullable=False),
        sa.Column("message_id", sa.String(), primary_key=True, nullable=False),
        sa.Column("release", sa.String(), nullable=False),
        sa.Column("posted_at", _moment, nullable=False),
    )
    op.create_index("ix_posted_card_release", "posted_card", ["release"])


def downgrade() -> None:
    op.drop_index("ix_posted_card_release", table_name="posted_card")
    op.drop_table("posted_card")
    op.drop_table("conversation_ref")
    op.drop_table("delivery")
    op.drop_table("audit_head")
    op.drop_index("ix_audit_event_release", table_name="audit_event")
    op.drop_table("audit_event")
    op.drop_index("ix_freeze_window_starts_at", table_name="freeze_window")
    op.drop_table("freeze_window")
    op.drop_index("ix_readiness_signal_release", table_name="readiness_signal")
    op.drop_table("readiness_signal")
    op.drop_index("ix_signoff_release", table_name="signoff")
    op.drop_table("signoff")
    op.drop_index("ix_release_train", table_name="release")
    op.drop_index("ix_release_service", table_name="release")
    op.drop_index("ix_release_scheduled_at", table_name="release")
    op.drop_table("release")
