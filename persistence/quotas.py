"""Per-user caps on the expensive things: jobs in flight, live sessions, stored audio, meetings
(and members per meeting).

Usage is charged to the *meeting's owner*, whoever starts the work (an editor uploading to
Alice's meeting uses Alice's allowance), so sharing a meeting cannot multiply anyone's caps and
no extra bookkeeping column is needed: every count is read from the rows that already exist.
Caps are checked at admission; the Processor checks live sessions again when it creates one.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from persistence.models import ACTIVE_JOB_STATUSES, Job, Meeting, Membership, User
from settings.config import Settings

JOB_RETRY_AFTER_S = 30  # a typical job finishes a window in this time; ask the client to wait


class QuotaExceeded(Exception):
    """A cap is reached; ``retry_after_s`` is None when waiting alone will not help."""

    def __init__(self, detail: str, retry_after_s: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after_s = retry_after_s

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)} if self.retry_after_s else {}


def meeting_owner(session: Session, meeting_id: str) -> str | None:
    owner: str | None = session.scalar(select(Meeting.owner_id).where(Meeting.id == meeting_id))
    return owner


def active_jobs(session: Session, owner_id: str, source: str | None = None) -> int:
    query = (
        select(func.count(Job.id))
        .join(Meeting, Meeting.id == Job.meeting_id)
        .where(Meeting.owner_id == owner_id, Job.status.in_(ACTIVE_JOB_STATUSES))
    )
    if source is not None:
        query = query.where(Job.source == source)
    return int(session.scalar(query) or 0)


def lock_owner(session: Session, owner_id: str) -> None:
    """Hold the owner's row until this transaction ends, so replicas admitting work for one
    owner at the same instant count in turn and cannot both pass a cap (the caller creates
    the job in the same transaction). PostgreSQL locks the row; SQLite has no row locks and
    ignores it: replicas sharing one SQLite file may still both pass at the same instant."""
    session.execute(select(User.id).where(User.id == owner_id).with_for_update())


def check_job_slot(session: Session, settings: Settings, owner_id: str) -> None:
    lock_owner(session, owner_id)
    limit = settings.max_concurrent_jobs_per_user
    if active_jobs(session, owner_id) >= limit:
        raise QuotaExceeded(
            f"The meeting owner already has {limit} recordings being processed; "
            "wait for one to finish",
            JOB_RETRY_AFTER_S,
        )


def check_live_slot(session: Session, settings: Settings, meeting_id: str) -> None:
    """A new live session on ``meeting_id`` fits its owner's job and live-session caps."""
    owner_id = meeting_owner(session, meeting_id)
    if owner_id is None:
        return  # the meeting is gone; creating the job reports that
    check_job_slot(session, settings, owner_id)
    limit = settings.max_live_sessions_per_user
    if active_jobs(session, owner_id, source="live") >= limit:
        raise QuotaExceeded(
            f"The meeting owner already has {limit} live sessions; stop one first",
            JOB_RETRY_AFTER_S,
        )


def check_meeting_slot(session: Session, settings: Settings, owner_id: str) -> None:
    count = session.scalar(select(func.count(Meeting.id)).where(Meeting.owner_id == owner_id))
    if int(count or 0) >= settings.max_meetings_per_user:
        raise QuotaExceeded(
            f"You own {settings.max_meetings_per_user} meetings, the most allowed; "
            "delete one to create another"
        )


def check_member_slot(session: Session, settings: Settings, meeting_id: str, user_id: str) -> None:
    """Room for one more member (the owner counts); sharing again with a member is a role
    change and always fits."""
    members = select(Membership.user_id).where(Membership.meeting_id == meeting_id)
    if session.scalar(members.where(Membership.user_id == user_id)) is not None:
        return
    count = session.scalar(select(func.count()).select_from(members.subquery()))
    if int(count or 0) >= settings.max_members_per_meeting:
        raise QuotaExceeded(
            f"This meeting has {settings.max_members_per_meeting} members, the most allowed; "
            "remove one to share it with someone else"
        )


def stored_audio_bytes(uploads_dir: Path, meeting_ids: list[str]) -> int:
    """Bytes of audio kept under ``uploads/<meeting>/`` for these meetings."""
    total = 0
    for meeting_id in meeting_ids:
        folder = uploads_dir / meeting_id
        if not folder.is_dir():
            continue
        with os.scandir(folder) as entries:
            total += sum(e.stat().st_size for e in entries if e.is_file(follow_symlinks=False))
    return total


def remaining_audio_bytes(session: Session, settings: Settings, owner_id: str) -> int:
    """How much more audio the owner may store; QuotaExceeded when nothing is left."""
    owned = list(session.scalars(select(Meeting.id).where(Meeting.owner_id == owner_id)))
    left = settings.max_stored_audio_bytes_per_user - stored_audio_bytes(
        settings.uploads_dir, owned
    )
    if left <= 0:
        raise QuotaExceeded(
            "The meeting owner's audio storage is full "
            f"({settings.max_stored_audio_bytes_per_user} bytes); delete old meetings first"
        )
    return left
