"""Typed SQLAlchemy 2 ORM models: the schema the Alembic migrations create.

Every meeting-owned table references ``meetings.id`` with ``ON DELETE CASCADE`` so deleting a
meeting is one statement, whichever process (Ingress, hub, processor) does it.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

MeetingStatus = Literal["created", "queued", "processing", "completed", "failed"]
JobStatus = Literal["queued", "processing", "completed", "failed"]
JobSource = Literal["upload", "live"]
Role = Literal["owner", "editor", "viewer"]

ACTIVE_JOB_STATUSES: tuple[JobStatus, ...] = ("queued", "processing")

# Deterministic constraint names so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JsonValue = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite drops the offset on its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_user_id() -> str:
    return str(uuid.uuid4())


def new_meeting_id() -> str:
    """12 URL-safe characters (about 71 random bits): short enough for a URL, unguessable.

    Never starts with "-": a command line would read such an id as an option."""
    while (meeting_id := secrets.token_urlsafe(9)).startswith("-"):
        pass
    return meeting_id


def new_job_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_user_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Meeting(Base):
    __tablename__ = "meetings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_meeting_id)
    title: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="created")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    duration: Mapped[float | None] = mapped_column(Float, default=None)
    audio_path: Mapped[str | None] = mapped_column(Text, default=None)
    # Languages (migration 0005): what was asked ("auto" or an ISO 639-1 code; None = the
    # profile's default), what the transcript is in (detected or set by an editor), the
    # detector's probability (None when not detected), and the caption translation target.
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    spoken_language: Mapped[str | None] = mapped_column(String(8), default=None)
    language_probability: Mapped[float | None] = mapped_column(Float, default=None)
    translate_to: Mapped[str | None] = mapped_column(String(8), default=None)


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))


class Job(Base):
    __tablename__ = "jobs"
    # At most one queued/processing job per meeting, enforced by the database so two Ingress
    # replicas accepting uploads for the same meeting at once cannot both win.
    __table_args__ = (
        Index(
            "uq_jobs_active_meeting",
            "meeting_id",
            unique=True,
            sqlite_where=text("status IN ('queued', 'processing')"),
            postgresql_where=text("status IN ('queued', 'processing')"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_job_id)
    meeting_id: Mapped[str] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error: Mapped[str | None] = mapped_column(Text, default=None)
    error_code: Mapped[str | None] = mapped_column(String(64), default=None)
    source: Mapped[str] = mapped_column(String(16), default="upload")
    windows_total: Mapped[int | None] = mapped_column(Integer, default=None)
    windows_done: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Ownership (migration 0007, persistence/leases.py): the Processor replica running the job and
    # until when its lease holds; another replica takes the job over once the lease expires,
    # resuming from ``resume_state`` (speaker registry and language after the last window).
    owner_id: Mapped[str | None] = mapped_column(String(200), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), default=None, index=True
    )
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    audio_path: Mapped[str | None] = mapped_column(Text, default=None)
    resume_state: Mapped[dict[str, Any] | None] = mapped_column(JsonValue, default=None)


class SegmentRow(Base):
    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("meeting_id", "segment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    window: Mapped[int] = mapped_column(Integer)
    idx: Mapped[int] = mapped_column(Integer)
    segment_id: Mapped[str] = mapped_column(String(64))
    speaker: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    words: Mapped[list[dict[str, Any]]] = mapped_column(JsonValue, default=list)
    translation: Mapped[str | None] = mapped_column(Text, default=None)  # migration 0005


class RoomEvent(Base):
    __tablename__ = "room_events"
    __table_args__ = (UniqueConstraint("meeting_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonValue)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Summary(Base):
    __tablename__ = "summaries"

    meeting_id: Mapped[str] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JsonValue)
    engine: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# ---- accounts hardening (migration 0002_accounts_hardening) --------------------------------


class UserSession(Base):
    """A user's token version: access tokens carry it as ``ver``; logout bumps it, which
    revokes every token issued before (checked on each request and by open sockets).

    A table of its own (not a ``users`` column) so the check stays one primary-key read and
    a user without a row is at version 0."""

    __tablename__ = "user_sessions"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class LimitBucket(Base):
    """Shared rate-limit state: one row per bucket key (hashed), updated compare-and-swap so
    every Ingress replica counts into the same bucket (``app/ratelimit.py``).

    Times are epoch seconds (floats) from the replicas' clocks."""

    __tablename__ = "limit_buckets"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[float] = mapped_column(Float, default=0.0)
    blocked_until: Mapped[float] = mapped_column(Float, default=0.0)


class TranscriptVersion(Base):
    """A transcript (and its summary) that a later recording replaced, kept retrievable."""

    __tablename__ = "transcript_versions"
    __table_args__ = (UniqueConstraint("meeting_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    segments: Mapped[list[dict[str, Any]]] = mapped_column(JsonValue)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JsonValue, default=None)
    archived_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiKey(Base):
    """A user's API key: only a hash of its secret is stored (``app/apikeys.py``).

    ``prefix`` is public (shown in listings, the lookup index); ``usage_count`` and
    ``last_used_at`` are updated in batches, not on every request.
    """

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_job_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    rate_limit: Mapped[int | None] = mapped_column(Integer, default=None)
    usage_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


WebhookEventType = Literal["completed", "failed", "summary"]
DeliveryStatus = Literal["pending", "delivered", "failed"]


def new_webhook_id() -> str:
    return uuid.uuid4().hex


class Webhook(Base):
    """A callback URL of a user (every meeting they own) or of one meeting (``meeting_id``).

    The secret is stored as given: signing needs it, so it cannot be hashed like a password.
    """

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_webhook_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[str | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True, default=None
    )
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(128))
    events: Mapped[list[str]] = mapped_column(JsonValue)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WebhookDelivery(Base):
    """One event for one webhook: the outbox row the delivery loop claims, sends and retries.

    ``lease_owner``/``lease_until`` make a claim exclusive: a loop only sends rows whose lease
    it wrote, and a crashed loop's lease simply expires (at-least-once, never concurrent).
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    webhook_id: Mapped[str] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(32))
    meeting_id: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonValue)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class MeetingSpeaker(Base):
    """A meeting-wide speaker label: its centroid embedding (for enrolment), a display name
    (a rename or a voice-profile match) and, after a merge, the label it now counts as."""

    __tablename__ = "meeting_speakers"
    __table_args__ = (UniqueConstraint("meeting_id", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    name_source: Mapped[str | None] = mapped_column(String(16), default=None)
    confidence: Mapped[float | None] = mapped_column(Float, default=None)
    profile_id: Mapped[str | None] = mapped_column(String(36), default=None)
    merged_into: Mapped[str | None] = mapped_column(String(64), default=None)
    backend: Mapped[str | None] = mapped_column(String(64), default=None)
    centroid: Mapped[list[float] | None] = mapped_column(JsonValue, default=None)
    speech_s: Mapped[float] = mapped_column(Float, default=0.0)


class SegmentSpeaker(Base):
    """A transcript line reassigned to another speaker; the stored segment stays as it was."""

    __tablename__ = "segment_speakers"
    __table_args__ = (UniqueConstraint("meeting_id", "segment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    segment_id: Mapped[str] = mapped_column(String(64))
    speaker: Mapped[str] = mapped_column(String(64))


class VoiceProfile(Base):
    """A user's named voice: one embedding from one diarization backend (embeddings of
    different backends are not comparable, so ``backend`` is part of every lookup)."""

    __tablename__ = "voice_profiles"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_user_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    backend: Mapped[str] = mapped_column(String(64))
    embedding: Mapped[list[float]] = mapped_column(JsonValue)
    source: Mapped[str] = mapped_column(String(16))  # "meeting" | "sample"
    source_meeting_id: Mapped[str | None] = mapped_column(String(32), default=None)
    speech_s: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
