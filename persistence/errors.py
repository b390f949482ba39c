"""Domain errors raised by the repository functions (no HTTP here: routes translate them)."""

from __future__ import annotations


class RepositoryError(Exception):
    """Base class for persistence-level rule violations."""


class EmailTakenError(RepositoryError):
    def __init__(self, email: str) -> None:
        super().__init__("an account with this email already exists")
        self.email = email


class UserNotFoundError(RepositoryError):
    def __init__(self, user_id: str) -> None:
        super().__init__(f"user {user_id} does not exist")
        self.user_id = user_id


class MeetingNotFoundError(RepositoryError):
    def __init__(self, meeting_id: str) -> None:
        super().__init__(f"meeting {meeting_id} does not exist")
        self.meeting_id = meeting_id


class JobAlreadyActiveError(RepositoryError):
    """The meeting already has a queued or processing job (one at a time per meeting)."""

    def __init__(self, meeting_id: str, job_id: str | None) -> None:
        super().__init__(f"meeting {meeting_id} already has an active job {job_id}")
        self.meeting_id = meeting_id
        self.job_id = job_id


class EventSeqConflictError(RepositoryError):
    """An event with this (meeting, seq) is already stored: two writers assigned one seq."""

    def __init__(self, meeting_id: str, seq: int) -> None:
        super().__init__(f"meeting {meeting_id} already has an event with seq {seq}")
        self.meeting_id = meeting_id
        self.seq = seq
