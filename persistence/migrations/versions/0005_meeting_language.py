"""Meeting languages: requested/spoken language, detection probability, caption translation.

Revision ID: 0005_meeting_language
Revises: 0001
Create Date: 2026-11-30

Self-contained (no imports from ``persistence.models``). Additive and nullable: existing meetings
keep today's behaviour (the profile's default language, no translation).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_meeting_language"
down_revision: str | None = "0004_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.add_column(sa.Column("language", sa.String(8), nullable=True))
        batch.add_column(sa.Column("spoken_language", sa.String(8), nullable=True))
        batch.add_column(sa.Column("language_probability", sa.Float(), nullable=True))
        batch.add_column(sa.Column("translate_to", sa.String(8), nullable=True))
    with op.batch_alter_table("segments") as batch:
        batch.add_column(sa.Column("translation", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("segments") as batch:
        batch.drop_column("translation")
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("translate_to")
        batch.drop_column("language_probability")
        batch.drop_column("spoken_language")
        batch.drop_column("language")
