"""Speakers: names, merges and centroids per meeting speaker; reassigned lines; voice profiles.

Revision ID: 0006_speakers
Revises: 0001
Create Date: 2026-11-30

Self-contained on purpose (no imports from ``persistence.models``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_speakers"
down_revision: str | None = "0005_meeting_language"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _meeting_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["meeting_id"],
        ["meetings.id"],
        name=f"fk_{table}_meeting_id_meetings",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "meeting_speakers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("meeting_id", sa.String(32), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("name_source", sa.String(16), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("profile_id", sa.String(36), nullable=True),
        sa.Column("merged_into", sa.String(64), nullable=True),
        sa.Column("backend", sa.String(64), nullable=True),
        sa.Column("centroid", _json(), nullable=True),
        sa.Column("speech_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_meeting_speakers"),
        _meeting_fk("meeting_speakers"),
        sa.UniqueConstraint("meeting_id", "label", name="uq_meeting_speakers_meeting_id_label"),
    )
    op.create_table(
        "segment_speakers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("meeting_id", sa.String(32), nullable=False),
        sa.Column("segment_id", sa.String(64), nullable=False),
        sa.Column("speaker", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_segment_speakers"),
        _meeting_fk("segment_speakers"),
        sa.UniqueConstraint(
            "meeting_id", "segment_id", name="uq_segment_speakers_meeting_id_segment_id"
        ),
    )
    op.create_table(
        "voice_profiles",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("backend", sa.String(64), nullable=False),
        sa.Column("embedding", _json(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("source_meeting_id", sa.String(32), nullable=True),
        sa.Column("speech_s", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_voice_profiles"),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name="fk_voice_profiles_owner_id_users",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_voice_profiles_owner_id", "voice_profiles", ["owner_id"])


def downgrade() -> None:
    op.drop_index("ix_voice_profiles_owner_id", table_name="voice_profiles")
    op.drop_table("voice_profiles")
    op.drop_table("segment_speakers")
    op.drop_table("meeting_speakers")
