"""Job leases: the Processor replica that owns a job, its lease and heartbeat, and what a new
owner needs to resume the job (audio path, speaker registry and language after each window).

Revision ID: 0007_job_leases
Revises: 0006_speakers
Create Date: 2026-11-30

Self-contained on purpose (no imports from ``persistence.models``). Additive: existing rows get
NULLs, which read as "no owner", so a job queued before the upgrade is taken over like any
job whose owner is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007_job_leases"
down_revision: str | None = "0006_speakers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("owner_id", sa.String(200), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("audio_path", sa.Text(), nullable=True))
        batch.add_column(sa.Column("resume_state", _json(), nullable=True))
        batch.create_index("ix_jobs_lease_expires_at", ["lease_expires_at"])


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_lease_expires_at")
        batch.drop_column("resume_state")
        batch.drop_column("audio_path")
        batch.drop_column("heartbeat_at")
        batch.drop_column("lease_expires_at")
        batch.drop_column("owner_id")
