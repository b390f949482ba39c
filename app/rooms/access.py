"""Who may join a meeting's room: token → user → meeting access, for WebSocket endpoints."""

from __future__ import annotations

import anyio.to_thread

from app.apikeys import ApiKeyGuard, user_for_credential
from app.config import Settings
from app.db import Database, Role, User, meeting_role
from app.ratelimit import RateLimited
from app.security import AuthenticationError


class RoomAccessError(Exception):
    """Refused room access; ``close_code`` is the WebSocket close code to answer with."""

    def __init__(self, close_code: int, reason: str) -> None:
        super().__init__(reason)
        self.close_code = close_code
        self.reason = reason


CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_MANY = 4429


async def authorize_room(
    db: Database,
    settings: Settings,
    token: str,
    meeting_id: str,
    api_keys: ApiKeyGuard | None = None,
) -> tuple[User, Role]:
    """The user (by JWT or API key) and their role in the meeting, or ``RoomAccessError``
    (4401 bad credential, 4404 no such meeting for them, 4429 key over its rate limit)."""

    def check() -> tuple[User, Role]:
        with db.session() as session:
            try:
                user = user_for_credential(session, token, settings, api_keys)
            except AuthenticationError as e:
                raise RoomAccessError(CLOSE_UNAUTHORIZED, "Invalid or expired token") from e
            except RateLimited as e:
                raise RoomAccessError(CLOSE_TOO_MANY, "Too many requests with this key") from e
            role = meeting_role(session, user.id, meeting_id)
            if role is None:
                raise RoomAccessError(CLOSE_NOT_FOUND, "Meeting not found")
            return user, role

    return await anyio.to_thread.run_sync(check)
