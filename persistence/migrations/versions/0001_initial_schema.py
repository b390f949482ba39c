"""Initial schema: users, meetings, memberships, jobs, segments, room events, summaries.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Self-contained on purpose (no imports from ``persistence.models``): a migration describes the
schema as it was at this revision, whatever the models become later.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_JOB = "status IN ('queued', 'processing')"


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _meeting_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["meeting_id"],
        ["meetings.id"],
        name=f"fk_{table}_meeting_id_meetings",
        ondelete="CASCADE",
    )


def _create_people_tables() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "meetings",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("audio_path", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_meetings_owner_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_meetings"),
    )
    op.create_index("ix_meetings_owner_id", "meetings", ["owner_id"])
    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("meeting_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        _meeting_fk("memberships"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_memberships_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_memberships"),
        sa.UniqueConstraint("meeting_id", "user_id", name="uq_memberships_meeting_id_user_id"),
    )
    op.create_index("ix_memberships_user_id", "memberships", ["user_id"])


def _create_processing_tables() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("meeting_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("windows_total", sa.Integer(), nullable=True),
        sa.Column("windows_done", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("finished_at", _utc(), nullable=True),
        _meeting_fk("jobs"),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    op.create_index("ix_jobs_meeting_id", "jobs", ["meeting_id"])
    op.create_index(
        "uq_jobs_active_meeting",
        "jobs",
        ["meeting_id"],
        unique=True,
        sqlite_where=sa.text(ACTIVE_JOB),
        postgresql_where=sa.text(ACTIVE_JOB),
    )
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("meeting_id", sa.String(32), nullable=False),
        sa.Column("window", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.String(64), nullable=False),
        sa.Column("speaker", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("words", _json(), nullable=False),
        _meeting_fk("segments"),
        sa.PrimaryKeyConstraint("id", name="pk_segments"),
        sa.UniqueConstraint("meeting_id", "segment_id", name="uq_segments_meeting_id_segment_id"),
    )
    op.create_table(
        "room_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("meeting_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        _meeting_fk("room_events"),
        sa.PrimaryKeyConstraint("id", name="pk_room_events"),
        sa.UniqueConstraint("meeting_id", "seq", name="uq_room_events_meeting_id_seq"),
    )
    op.create_table(
        "summaries",
        sa.Column("meeting_id", sa.String(32), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("engine", sa.String(64), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        _meeting_fk("summaries"),
        sa.PrimaryKeyConstraint("meeting_id", name="pk_summaries"),
    )


def upgrade() -> None:
    _create_people_tables()
    _create_processing_tables()


def downgrade() -> None:
    for table in ("summaries", "room_events", "segments", "jobs", "memberships", "meetings"):
        op.drop_table(table)
    op.drop_table("users")
