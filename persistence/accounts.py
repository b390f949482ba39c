"""Users, meetings and who may see them. Plain functions over a ``Session``; no FastAPI.

Callers own the transaction: ``with db.session() as s: create_meeting(s, ...)`` commits when
the block ends. Functions flush so generated ids and constraint errors surface immediately.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from persistence.errors import EmailTakenError, MeetingNotFoundError
from persistence.models import Meeting, MeetingStatus, Membership, Role, User

logger = logging.getLogger(__name__)


def normalize_email(email: str) -> str:
    """The stored form of an address: trimmed and lower-case (one account per mailbox)."""
    return email.strip().lower()


# ---- users -------------------------------------------------------------------------------


def create_user(session: Session, *, email: str, name: str, password_hash: str) -> User:
    """Add a user; on a taken email the session's transaction is rolled back.

    No SAVEPOINT: pysqlite's savepoints are unreliable in its default transaction mode, and
    keeping that mode is what lets SQLite writers queue on ``busy_timeout`` across processes.
    """
    user = User(email=normalize_email(email), name=name, password_hash=password_hash)
    if get_user_by_email(session, user.email) is not None:
        raise EmailTakenError(user.email)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as e:  # lost a race with a concurrent registration
        session.rollback()
        raise EmailTakenError(user.email) from e
    return user


def get_user(session: Session, user_id: str) -> User | None:
    return session.get(User, user_id)


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def update_password_hash(session: Session, user_id: str, password_hash: str) -> None:
    user = session.get(User, user_id)
    if user is not None:
        user.password_hash = password_hash
        session.flush()


def delete_user(session: Session, user_id: str) -> bool:
    """Delete a user and, by cascade, the meetings they own. True when a row went away."""
    result = session.execute(delete(User).where(User.id == user_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


# ---- meetings ----------------------------------------------------------------------------


def create_meeting(session: Session, *, owner_id: str, title: str) -> Meeting:
    meeting = Meeting(owner_id=owner_id, title=title, status="created")
    session.add(meeting)
    session.flush()
    session.add(Membership(meeting_id=meeting.id, user_id=owner_id, role="owner"))
    session.flush()
    return meeting


def get_meeting(session: Session, meeting_id: str) -> Meeting | None:
    return session.get(Meeting, meeting_id)


def meeting_role(session: Session, user_id: str, meeting_id: str) -> Role | None:
    """The user's role in the meeting, or None when they may not see it at all."""
    role = session.scalar(
        select(Membership.role).where(
            Membership.meeting_id == meeting_id, Membership.user_id == user_id
        )
    )
    return role  # type: ignore[return-value]


def visible_meeting(session: Session, user_id: str, meeting_id: str) -> Meeting | None:
    """The meeting if ``user_id`` owns it or it was shared with them; otherwise None."""
    return session.scalar(
        select(Meeting)
        .join(Membership, Membership.meeting_id == Meeting.id)
        .where(Meeting.id == meeting_id, Membership.user_id == user_id)
    )


@dataclass(frozen=True)
class MeetingCursor:
    """Where a page of ``list_visible_meetings`` ended: its last meeting's sort key."""

    created_at: datetime
    meeting_id: str


def list_visible_meetings(
    session: Session, user_id: str, *, limit: int | None = None, after: MeetingCursor | None = None
) -> list[tuple[Meeting, Role]]:
    """Meetings the user owns or was shared, newest first (ties by id), each with the user's
    role; at most ``limit``, starting after ``after`` (keyset paging: stable while meetings
    are added or deleted in between)."""
    query = (
        select(Meeting, Membership.role)
        .join(Membership, Membership.meeting_id == Meeting.id)
        .where(Membership.user_id == user_id)
    )
    if after is not None:
        same_time_later_id = and_(
            Meeting.created_at == after.created_at, Meeting.id > after.meeting_id
        )
        query = query.where(or_(Meeting.created_at < after.created_at, same_time_later_id))
    rows = session.execute(query.order_by(Meeting.created_at.desc(), Meeting.id).limit(limit))
    return [(meeting, role) for meeting, role in rows.tuples()]  # type: ignore[misc]


def set_meeting_status(
    session: Session,
    meeting_id: str,
    status: MeetingStatus,
    *,
    duration: float | None = None,
    audio_path: str | None = None,
) -> Meeting:
    """Update status (and, when given, duration/audio path); raises if the meeting is gone."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise MeetingNotFoundError(meeting_id)
    meeting.status = status
    if duration is not None:
        meeting.duration = duration
    if audio_path is not None:
        meeting.audio_path = audio_path
    session.flush()
    return meeting


def delete_meeting(session: Session, meeting_id: str) -> bool:
    """Delete the meeting row; the database cascades to everything that belongs to it."""
    result = session.execute(delete(Meeting).where(Meeting.id == meeting_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def share_meeting(session: Session, meeting_id: str, user_id: str, role: Role) -> Membership:
    """Give ``user_id`` ``role`` in the meeting; sharing again changes the role."""
    membership = session.scalar(
        select(Membership).where(Membership.meeting_id == meeting_id, Membership.user_id == user_id)
    )
    if membership is None:
        membership = Membership(meeting_id=meeting_id, user_id=user_id, role=role)
        session.add(membership)
    else:
        membership.role = role
    session.flush()
    return membership


def remove_member(session: Session, meeting_id: str, user_id: str) -> bool:
    """Take ``user_id``'s access to the meeting away (never the owner's). True when removed."""
    result = session.execute(
        delete(Membership).where(
            Membership.meeting_id == meeting_id,
            Membership.user_id == user_id,
            Membership.role != "owner",
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def list_members(session: Session, meeting_id: str) -> list[tuple[User, Role]]:
    """Everyone with access to the meeting, owner first, then by email."""
    rows = session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.meeting_id == meeting_id)
        .order_by((Membership.role != "owner"), User.email)
    )
    return [(user, role) for user, role in rows.tuples()]  # type: ignore[misc]
