"""Meetings: create, list, read, delete (owner only) and share."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Request, Response, status
from fastapi import Path as PathParam

from app.api.deps import (
    CallerRole,
    CurrentUser,
    GuardDep,
    OwnedMeeting,
    SessionDep,
    SettingsDep,
    VisibleMeeting,
    quota_refused,
    rate_limited,
)
from app.api.languages import LanguagesDep, check_languages
from app.api.paging import MAX_CURSOR_CHARS, decode_cursor, next_link
from app.ratelimit import RateLimited
from app.schemas import MeetingCreate, MeetingPublic, MemberCreate, MemberPublic
from app.sockets.access import recheck_access_soon
from persistence import (
    MeetingCursor,
    create_meeting,
    delete_meeting,
    get_user_by_email,
    list_visible_meetings,
    share_meeting,
)
from persistence.accounts import list_members, remove_member
from persistence.languages import set_language_settings
from persistence.quotas import QuotaExceeded, check_meeting_slot, check_member_slot
from rooms.hub import HubClient

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/meetings", tags=["meetings"])
# One page of the meetings list; also what a client that sends no ``limit`` gets (each user
# owns at most ``MEETING_MAX_MEETINGS_PER_USER``, 1000 by default, but shares are unbounded).
MAX_PAGE = 1000


@router.post("", status_code=status.HTTP_201_CREATED)
def create_meeting_route(
    body: MeetingCreate,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    languages: LanguagesDep,
) -> MeetingPublic:
    check_languages(languages, body.language, body.translate_to)
    try:
        check_meeting_slot(session, settings, user.id)
    except QuotaExceeded as e:
        raise quota_refused(e) from e
    meeting = create_meeting(session, owner_id=user.id, title=body.title)
    if body.language is not None or body.translate_to is not None:
        set_language_settings(
            session, meeting.id, language=body.language, translate_to=body.translate_to
        )
    session.commit()
    logger.info("user %s created meeting %s", user.id, meeting.id)
    return MeetingPublic.model_validate(meeting).model_copy(update={"role": "owner"})


@router.get("")
def list_meetings(
    request: Request,
    response: Response,
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_CHARS)] = None,
) -> list[MeetingPublic]:
    """Newest first, ``limit`` at a time; a ``Link: rel="next"`` header when more follow."""
    after = decode_cursor(cursor) if cursor is not None else None
    rows = list_visible_meetings(session, user.id, limit=limit + 1, after=after)
    page = rows[:limit]
    if len(rows) > limit:
        last = page[-1][0]
        response.headers["Link"] = next_link(
            request.url.path, limit, MeetingCursor(last.created_at, last.id)
        )
    return [
        MeetingPublic.model_validate(meeting).model_copy(update={"role": role})
        for meeting, role in page
    ]


@router.get("/{meeting_id}")
def read_meeting(meeting: VisibleMeeting, role: CallerRole) -> MeetingPublic:
    return MeetingPublic.model_validate(meeting).model_copy(update={"role": role})


@router.delete("/{meeting_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_meeting_route(
    request: Request,
    meeting: OwnedMeeting,
    session: SessionDep,
    settings: SettingsDep,
    background: BackgroundTasks,
) -> Response:
    """Delete the meeting, everything stored for it (by cascade) and its uploaded audio."""
    meeting_id = meeting.id
    delete_meeting(session, meeting_id)
    session.commit()
    recheck_access_soon(request.app.state)  # its open sockets close with 4404
    remove_meeting_files(settings.uploads_dir, meeting_id)
    background.add_task(forget_room, request.app.state.hub, meeting_id)
    logger.info("deleted meeting %s", meeting_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def forget_room(hub: HubClient, meeting_id: str) -> None:
    """Drop the deleted meeting's room from the hub's memory (idle eviction would, later)."""
    try:
        await hub.forget(meeting_id)
    except Exception:  # the hub restarting: it holds no room for the meeting after a restart
        logger.warning("could not tell the hub to forget meeting %s", meeting_id, exc_info=True)


def remove_meeting_files(uploads_dir: Path, meeting_id: str) -> None:
    """Remove ``uploads_dir/<meeting_id>``; refuses anything that would escape uploads_dir."""
    target = (uploads_dir / meeting_id).resolve()
    if target.parent != uploads_dir.resolve():
        logger.error("refusing to remove %s: outside %s", target, uploads_dir)
        return
    shutil.rmtree(target, ignore_errors=True)


@router.post("/{meeting_id}/members", status_code=status.HTTP_201_CREATED)
def add_meeting_member(
    body: MemberCreate,
    meeting: OwnedMeeting,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    guard: GuardDep,
) -> MemberPublic:
    """Share the meeting. Lookups of unknown emails are counted per caller
    (``MEETING_MEMBER_LOOKUP_LIMIT``): past the limit every add-member answers 429, known
    email or not, so the endpoint cannot be used to test which emails have accounts."""
    try:
        guard.check_member_lookups(user.id)
    except RateLimited as e:
        raise rate_limited(e) from e
    member = get_user_by_email(session, body.email)
    if member is None:
        try:
            guard.member_lookup_missed(user.id)
        except RateLimited as e:
            raise rate_limited(e) from e
        raise HTTPException(
            status_code=status.HTTP_404_NOT_FOUND, detail="No account with this email"
        )
    if member.id == user.id:
        raise HTTPException(
            status_code=status.HTTP_409_CONFLICT, detail="You already own this meeting"
        )
    try:
        check_member_slot(session, settings, meeting.id, member.id)
    except QuotaExceeded as e:
        raise quota_refused(e) from e
    share_meeting(session, meeting.id, member.id, body.role)
    session.commit()
    logger.info("meeting %s shared with user %s as %s", meeting.id, member.id, body.role)
    return MemberPublic(
        meeting_id=meeting.id, user_id=member.id, email=member.email, role=body.role
    )


@router.get("/{meeting_id}/members")
def list_meeting_members(meeting: OwnedMeeting, session: SessionDep) -> list[MemberPublic]:
    """Owner only (members' emails are the owner's to see): 403 for others, 404 if invisible."""
    return [
        MemberPublic(meeting_id=meeting.id, user_id=member.id, email=member.email, role=role)
        for member, role in list_members(session, meeting.id)
    ]


@router.delete("/{meeting_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_meeting_member(
    request: Request,
    meeting: OwnedMeeting,
    user_id: Annotated[str, PathParam(min_length=1, max_length=64)],
    session: SessionDep,
) -> Response:
    """Owner only: 404 when the meeting is invisible or the user is not a member, 403 for
    non-owners, 409 for the owner. The removed user's open sockets close with 4404."""
    if user_id == meeting.owner_id:
        raise HTTPException(status.HTTP_409_CONFLICT, "The owner cannot be removed")
    if not remove_member(session, meeting.id, user_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "This user is not a member")
    session.commit()
    recheck_access_soon(request.app.state)
    logger.info("meeting %s: removed member %s", meeting.id, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
