"""Accounts hardening: token versions (logout), shared rate-limit buckets, transcript versions.

Revision ID: 0002_accounts_hardening
Revises: 0001
Create Date: 2026-11-30

Self-contained (no imports from ``persistence.models``), like 0001.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_accounts_hardening"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_user_sessions_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_user_sessions"),
    )
    op.create_table(
        "limit_buckets",
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.Float(), nullable=False),
        sa.Column("blocked_until", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_limit_buckets"),
    )
    op.create_table(
        "transcript_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("meeting_id", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("segments", _json(), nullable=False),
        sa.Column("summary", _json(), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name="fk_transcript_versions_meeting_id_meetings",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_transcript_versions"),
        sa.UniqueConstraint(
            "meeting_id", "version", name="uq_transcript_versions_meeting_id_version"
        ),
    )


def downgrade() -> None:
    for table in ("transcript_versions", "limit_buckets", "user_sessions"):
        op.drop_table(table)
