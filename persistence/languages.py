"""A meeting's language settings and its detected language (columns of migration 0005)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from persistence.errors import MeetingNotFoundError
from persistence.models import Meeting


@dataclass(frozen=True, slots=True)
class LanguageSettings:
    """What a job needs to know: the language asked for (``auto``, a code, or None for the
    profile default), the language already established for the meeting, and the caption
    translation target."""

    language: str | None
    spoken_language: str | None
    translate_to: str | None


def _meeting(session: Session, meeting_id: str) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise MeetingNotFoundError(meeting_id)
    return meeting


def get_language_settings(session: Session, meeting_id: str) -> LanguageSettings:
    meeting = _meeting(session, meeting_id)
    return LanguageSettings(meeting.language, meeting.spoken_language, meeting.translate_to)


def set_language_settings(
    session: Session,
    meeting_id: str,
    *,
    language: str | None,
    translate_to: str | None,
) -> Meeting:
    """Set the requested language and translation. A fixed language is also the spoken one
    (an editor's correction); ``auto`` clears it until the next job detects it."""
    meeting = _meeting(session, meeting_id)
    meeting.language = language
    meeting.translate_to = translate_to
    meeting.spoken_language = None if language in (None, "auto") else language
    meeting.language_probability = None
    session.flush()
    return meeting


def record_detected_language(
    session: Session, meeting_id: str, language: str, probability: float
) -> None:
    meeting = _meeting(session, meeting_id)
    meeting.spoken_language = language
    meeting.language_probability = probability
    session.flush()
