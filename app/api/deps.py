"""FastAPI dependencies: settings, DB session, the current user and meeting access.

The only place (with the routes) that turns domain errors into ``HTTPException``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from app.apikeys import ApiKeyGuard, user_for_credential
from app.login_guard import LoginGuard
from app.ratelimit import RateLimited
from app.security import AuthenticationError
from persistence import Database, Meeting, Role, User, meeting_role, visible_meeting
from persistence.quotas import QuotaExceeded
from settings.config import Settings

logger = logging.getLogger(__name__)

# auto_error=False: a missing header gets our own 401 body rather than FastAPI's default.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)

MEETING_NOT_FOUND = "Meeting not found"


# The app-state lookups are ``async def`` although they never wait: FastAPI runs a plain ``def``
# dependency in a worker thread, a thread hand-off per request for a dictionary read.
async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_login_guard(request: Request) -> LoginGuard:
    guard: LoginGuard = request.app.state.login_guard
    return guard


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
GuardDep = Annotated[LoginGuard, Depends(get_login_guard)]
TokenDep = Annotated[str | None, Depends(oauth2_scheme)]


def get_session(db: DatabaseDep) -> Iterator[Session]:
    """One session per request; routes commit explicitly, anything uncommitted rolls back."""
    with db.sessionmaker() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def unauthorized(detail: str = "Not authenticated") -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


async def get_api_key_guard(request: Request) -> ApiKeyGuard | None:
    guard: ApiKeyGuard | None = getattr(request.app.state, "api_keys", None)
    return guard


ApiKeysDep = Annotated[ApiKeyGuard | None, Depends(get_api_key_guard)]


def get_current_user(
    session: SessionDep, settings: SettingsDep, token: TokenDep, api_keys: ApiKeysDep
) -> User:
    """The caller, from a JWT or an API key (``Authorization: Bearer ...``)."""
    return authenticated_user(session, settings, token, api_keys)


def authenticated_user(
    session: Session, settings: Settings, token: str | None, api_keys: ApiKeyGuard | None
) -> User:
    """The credential's user, or 401/429 (also for routes that manage their own session)."""
    if not token:
        raise unauthorized()
    try:
        return user_for_credential(session, token, settings, api_keys)
    except AuthenticationError as e:
        logger.info("rejected bearer credential: %s", e.reason)
        raise unauthorized("Invalid or expired token") from e
    except RateLimited as e:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "Too many requests with this API key",
            headers={"Retry-After": str(e.retry_after_s)},
        ) from e


CurrentUser = Annotated[User, Depends(get_current_user)]


def quota_refused(e: QuotaExceeded) -> HTTPException:
    """429 for a cap the meeting's owner reached, with ``Retry-After`` when waiting helps."""
    return HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, e.detail, headers=e.headers)


def rate_limited(e: RateLimited) -> HTTPException:
    """429 with ``Retry-After`` (the wait in whole seconds) for a refused, uncounted attempt."""
    return HTTPException(
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        detail=f"Too many attempts; try again in {e.retry_after_s} seconds",
        headers={"Retry-After": str(e.retry_after_s)},
    )


MeetingId = Annotated[str, Path(min_length=1, max_length=64)]


def get_visible_meeting(meeting_id: MeetingId, user: CurrentUser, session: SessionDep) -> Meeting:
    """The meeting, or 404 when it does not exist *or* the caller may not see it."""
    meeting = visible_meeting(session, user.id, meeting_id)
    if meeting is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=MEETING_NOT_FOUND)
    return meeting


VisibleMeeting = Annotated[Meeting, Depends(get_visible_meeting)]


def get_caller_role(meeting: VisibleMeeting, user: CurrentUser, session: SessionDep) -> Role:
    role = meeting_role(session, user.id, meeting.id)
    if role is None:  # membership removed between the two reads
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=MEETING_NOT_FOUND)
    return role


CallerRole = Annotated[Role, Depends(get_caller_role)]


def get_owned_meeting(meeting: VisibleMeeting, role: CallerRole) -> Meeting:
    """A visible meeting the caller owns; 403 for viewers/editors (they know it exists)."""
    if role != "owner":
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail="Only the meeting's owner can do this",
        )
    return meeting


OwnedMeeting = Annotated[Meeting, Depends(get_owned_meeting)]
