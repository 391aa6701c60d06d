"""The releases whose buttons each person's own page offers (Slack's App Home, SPEC §4.2).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "personal_page",
        sa.Column("platform", sa.String(), primary_key=True, nullable=False),
        sa.Column("person", sa.String(), primary_key=True, nullable=False),
        sa.Column("release", sa.String(), primary_key=True, nullable=False),
    )
    op.create_index("ix_personal_page_release", "personal_page", ["release"])


def downgrade() -> None:
    op.drop_index("ix_personal_page_release", table_name="personal_page")
    op.drop_table("personal_page")
