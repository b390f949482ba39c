"""Persistence: SQLAlchemy models, the ``Database`` handle, repository functions, migrations.

Free of FastAPI so the hub actor and the processor can import it. Typical use::

    db = Database(settings.resolved_database_url)
    upgrade_database(db.url)
    with db.session() as session:
        append_event(session, meeting_id, seq, "status", payload)
"""

from __future__ import annotations

from persistence.accounts import (
    MeetingCursor,
    create_meeting,
    create_user,
    delete_meeting,
    delete_user,
    get_meeting,
    get_user,
    get_user_by_email,
    list_visible_meetings,
    meeting_role,
    normalize_email,
    set_meeting_status,
    share_meeting,
    update_password_hash,
    visible_meeting,
)
from persistence.errors import (
    EmailTakenError,
    EventSeqConflictError,
    JobAlreadyActiveError,
    MeetingNotFoundError,
    RepositoryError,
    UserNotFoundError,
)
from persistence.migrate import upgrade_database
from persistence.models import Job, Meeting, Membership, Role, Summary, User
from persistence.records import (
    append_event,
    append_events,
    clear_transcript,
    create_job,
    events_after,
    get_active_job,
    get_job,
    get_summary,
    list_segments,
    max_event_seq,
    save_segments,
    save_summary,
    update_job,
)
from persistence.session import Database

__all__ = [
    "Database",
    "EmailTakenError",
    "EventSeqConflictError",
    "Job",
    "JobAlreadyActiveError",
    "Meeting",
    "MeetingCursor",
    "MeetingNotFoundError",
    "Membership",
    "RepositoryError",
    "Role",
    "Summary",
    "User",
    "UserNotFoundError",
    "append_event",
    "append_events",
    "clear_transcript",
    "create_job",
    "create_meeting",
    "create_user",
    "delete_meeting",
    "delete_user",
    "events_after",
    "get_active_job",
    "get_job",
    "get_meeting",
    "get_summary",
    "get_user",
    "get_user_by_email",
    "list_segments",
    "list_visible_meetings",
    "max_event_seq",
    "meeting_role",
    "normalize_email",
    "save_segments",
    "save_summary",
    "set_meeting_status",
    "share_meeting",
    "update_job",
    "update_password_hash",
    "upgrade_database",
    "visible_meeting",
]
