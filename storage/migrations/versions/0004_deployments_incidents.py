"""Deployments, incidents and smoke-check results (observability, SPEC §4.6).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_moment = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True, nullable=False)


def upgrade() -> None:
    op.create_table(
        "deployment",
        _id(),
        sa.Column("service", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("environment", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("started_at", _moment, nullable=False),
        sa.Column("finished_at", _moment, nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("lead_seconds", sa.Float(), nullable=False),
        sa.Column("release", sa.String(), nullable=True),
        sa.UniqueConstraint(
            "service", "environment", "version", "started_at", name="uq_deployment_identity"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_deployment_finished_at", "deployment", ["finished_at"])
    op.create_index(
        "ix_deployment_service_finished_at", "deployment", ["service", "finished_at"]
    )
    op.create_table(
        "incident",
        _id(),
        sa.Column("key", sa.String(), nullable=True),
        sa.Column("service", sa.String(), nullable=False),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("opened_at", _moment, nullable=False),
        sa.Column("resolved_at", _moment, nullable=True),
        sa.Column("release", sa.String(), nullable=True),
        sa.UniqueConstraint("key", name="uq_incident_key"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_incident_opened_at", "incident", ["opened_at"])
    op.create_index("ix_incident_resolved_at", "incident", ["resolved_at"])
    op.create_table(
        "smoke_check",
        _id(),
        sa.Column("release", sa.String(), nullable=False),
        sa.Column("run_at", _moment, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("checked_at", _moment, nullable=False),
    )
    op.create_index("ix_smoke_check_release", "smoke_check", ["release", "run_at"])


def downgrade() -> None:
    op.drop_index("ix_smoke_check_release", table_name="smoke_check")
    op.drop_table("smoke_check")
    op.drop_index("ix_incident_resolved_at", table_name="incident")
    op.drop_index("ix_incident_opened_at", table_name="incident")
    op.drop_table("incident")
    op.drop_index("ix_deployment_service_finished_at", table_name="deployment")
    op.drop_index("ix_deployment_finished_at", table_name="deployment")
    op.drop_table("deployment")
