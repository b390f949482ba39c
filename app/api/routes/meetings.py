"""Meetings: create, list, read, delete (owner only) and share."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from fastapi import APIRouter, HTTPException, Response, status

from app.api.deps import (
    CallerRole,
    CurrentUser,
    OwnedMeeting,
    SessionDep,
    SettingsDep,
    VisibleMeeting,
)
from app.api.languages import LanguagesDep, check_languages
from app.db import (
    create_meeting,
    delete_meeting,
    get_user_by_email,
    list_visible_meetings,
    share_meeting,
)
from app.db.languages import set_language_settings
from app.schemas import MeetingCreate, MeetingPublic, MemberCreate, MemberPublic

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/meetings", tags=["meetings"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_meeting_route(
    body: MeetingCreate, user: CurrentUser, session: SessionDep, languages: LanguagesDep
) -> MeetingPublic:
    check_languages(languages, body.language, body.translate_to)
    meeting = create_meeting(session, owner_id=user.id, title=body.title)
    if body.language is not None or body.translate_to is not None:
        set_language_settings(
            session, meeting.id, language=body.language, translate_to=body.translate_to
        )
    session.commit()
    logger.info("user %s created meeting %s", user.id, meeting.id)
    return MeetingPublic.model_validate(meeting).model_copy(update={"role": "owner"})


@router.get("")
def list_meetings(user: CurrentUser, session: SessionDep) -> list[MeetingPublic]:
    return [
        MeetingPublic.model_validate(meeting).model_copy(update={"role": role})
        for meeting, role in list_visible_meetings(session, user.id)
    ]


@router.get("/{meeting_id}")
def read_meeting(meeting: VisibleMeeting, role: CallerRole) -> MeetingPublic:
    return MeetingPublic.model_validate(meeting).model_copy(update={"role": role})


@router.delete("/{meeting_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_meeting_route(
    meeting: OwnedMeeting, session: SessionDep, settings: SettingsDep
) -> Response:
    """Delete the meeting, everything stored for it (by cascade) and its uploaded audio."""
    meeting_id = meeting.id
    delete_meeting(session, meeting_id)
    session.commit()
    remove_meeting_files(settings.uploads_dir, meeting_id)
    logger.info("deleted meeting %s", meeting_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def remove_meeting_files(uploads_dir: Path, meeting_id: str) -> None:
    """Remove ``uploads_dir/<meeting_id>``; refuses anything that would escape uploads_dir."""
    target = (uploads_dir / meeting_id).resolve()
    if target.parent != uploads_dir.resolve():
        logger.error("refusing to remove %s: outside %s", target, uploads_dir)
        return
    shutil.rmtree(target, ignore_errors=True)


@router.post("/{meeting_id}/members", status_code=status.HTTP_201_CREATED)
def add_meeting_member(
    body: MemberCreate, meeting: OwnedMeeting, user: CurrentUser, session: SessionDep
) -> MemberPublic:
    member = get_user_by_email(session, body.email)
    if member is None:
        raise HTTPException(
            status_code=status.HTTP_404_NOT_FOUND, detail="No account with this email"
        )
    if member.id == user.id:
        raise HTTPException(
            status_code=status.HTTP_409_CONFLICT, detail="You already own this meeting"
        )
    share_meeting(session, meeting.id, member.id, body.role)
    session.commit()
    logger.info("meeting %s shared with user %s as %s", meeting.id, member.id, body.role)
    return MemberPublic(
        meeting_id=meeting.id, user_id=member.id, email=member.email, role=body.role
    )
