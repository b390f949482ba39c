"""Who may join a meeting's room, and who still may: token → user → meeting access, checked
when a socket opens and re-checked while it stays open (``AccessWatcher``).

An open socket ends with 4401 when its token expires (exactly then) or is revoked by logout,
and with 4404 when its user is removed from the meeting or the meeting is deleted. Revocations
are found by one query per Ingress replica every ``recheck_s`` seconds for all of its sockets
(so the cost grows with replicas, not sockets), and at once on the replica that handled the
revoking request; the longest delay anywhere is therefore ``recheck_s`` plus one query.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from app.apikeys import ApiKeyGuard, looks_like_api_key, user_for_credential
from app.ratelimit import RateLimited
from app.security import AuthenticationError, user_and_claims_for_token
from persistence import Database, Membership, Role, User, meeting_role
from persistence.limits import token_version, token_versions
from rooms.close_codes import CloseCode
from settings.config import Settings

logger = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = CloseCode.UNAUTHORIZED
CLOSE_NOT_FOUND = CloseCode.NOT_FOUND
CLOSE_TOO_MANY = CloseCode.TOO_MANY
TOKEN_EXPIRED = "Token expired; log in again"  # noqa: S105 (a message)
TOKEN_REVOKED = "Session ended (logged out); log in again"  # noqa: S105 (a message)
ACCESS_REVOKED = "Access to this meeting was removed or the meeting was deleted"
QUERY_CHUNK = 500  # pairs per IN (...) list


def credential_claims(
    session: Session, token: str, settings: Settings, api_keys: ApiKeyGuard | None
) -> tuple[User, dict[str, Any]]:
    """The user and the claims a socket grant keeps: a JWT's own; for an API key, the user's
    current token version (a logout ends key sockets too) and no expiry."""
    if looks_like_api_key(token):
        user = user_for_credential(session, token, settings, api_keys)
        return user, {"ver": token_version(session, user.id)}
    return user_and_claims_for_token(session, token, settings)


class RoomAccessError(Exception):
    """Refused room access; ``close_code`` is the WebSocket close code to answer with."""

    def __init__(self, close_code: int, reason: str) -> None:
        super().__init__(reason)
        self.close_code = close_code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SocketGrant:
    """What an open socket was admitted with: re-checked until it closes."""

    user_id: str
    meeting_id: str
    token_version: int
    expires_at: float | None  # epoch seconds (the token's ``exp``); None: an API key


async def authorize_room(
    db: Database,
    settings: Settings,
    token: str,
    meeting_id: str,
    api_keys: ApiKeyGuard | None = None,
) -> tuple[User, Role]:
    """The user (by JWT or API key) and their role in the meeting, or ``RoomAccessError``
    (4401 bad credential, 4404 no such meeting for them, 4429 key over its rate limit)."""
    user, role, _grant = await authorize_room_grant(db, settings, token, meeting_id, api_keys)
    return user, role


async def authorize_room_grant(
    db: Database,
    settings: Settings,
    token: str,
    meeting_id: str,
    api_keys: ApiKeyGuard | None = None,
) -> tuple[User, Role, SocketGrant]:
    """Like ``authorize_room``, with the grant an ``AccessWatcher`` re-checks."""

    def check() -> tuple[User, Role, SocketGrant]:
        with db.session() as session:
            try:
                user, claims = credential_claims(session, token, settings, api_keys)
            except AuthenticationError as e:
                raise RoomAccessError(CLOSE_UNAUTHORIZED, "Invalid or expired token") from e
            except RateLimited as e:
                raise RoomAccessError(CLOSE_TOO_MANY, "Too many requests with this key") from e
            role = meeting_role(session, user.id, meeting_id)
            if role is None:
                raise RoomAccessError(CLOSE_NOT_FOUND, "Meeting not found")
            expires = float(claims["exp"]) if "exp" in claims else None
            grant = SocketGrant(user.id, meeting_id, claims["ver"], expires)
            return user, role, grant

    return await anyio.to_thread.run_sync(check)


@dataclass(eq=False)
class Watch:
    """One watched socket: ``ended`` resolves to (close code, reason) when access ends."""

    grant: SocketGrant
    ended: asyncio.Future[tuple[int, str]]
    expiry: asyncio.TimerHandle | None = field(default=None)

    def end(self, code: int, reason: str) -> None:
        if not self.ended.done():
            self.ended.set_result((code, reason))


def recheck_access_soon(app_state: object) -> None:
    """Ask this replica's watcher (if it runs) to re-check its sockets now."""
    watcher = getattr(app_state, "access_watcher", None)
    if isinstance(watcher, AccessWatcher):
        watcher.recheck_soon()


class AccessWatcher:
    """Re-checks every open socket of this replica (see the module docstring)."""

    def __init__(self, db: Database, recheck_s: float) -> None:
        self.db = db
        self.recheck_s = recheck_s
        self._watches: set[Watch] = set()
        self._nudge = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="access-watcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def watch(self, grant: SocketGrant) -> Watch:
        loop = asyncio.get_running_loop()
        watch = Watch(grant, loop.create_future())
        if grant.expires_at is not None:  # API keys do not expire (they are revoked)
            delay = grant.expires_at - time.time()
            watch.expiry = loop.call_later(
                max(0.0, delay), watch.end, CLOSE_UNAUTHORIZED, TOKEN_EXPIRED
            )
        self._watches.add(watch)
        return watch

    def unwatch(self, watch: Watch) -> None:
        self._watches.discard(watch)
        if watch.expiry is not None:
            watch.expiry.cancel()

    def recheck_soon(self) -> None:
        """Re-check now (this replica handled a logout, removal or deletion). Thread-safe."""
        if self._task is not None:
            self._task.get_loop().call_soon_threadsafe(self._nudge.set)

    async def recheck(self) -> None:
        """One pass over every watched socket: one query for memberships, one for versions."""
        watches = [w for w in self._watches if not w.ended.done()]
        if not watches:
            return
        grants = [w.grant for w in watches]
        allowed, versions = await anyio.to_thread.run_sync(self._read_access, grants)
        for watch in watches:
            grant = watch.grant
            if versions.get(grant.user_id, 0) != grant.token_version:
                watch.end(CLOSE_UNAUTHORIZED, TOKEN_REVOKED)
            elif (grant.user_id, grant.meeting_id) not in allowed:
                watch.end(CLOSE_NOT_FOUND, ACCESS_REVOKED)

    def _read_access(
        self, grants: list[SocketGrant]
    ) -> tuple[set[tuple[str, str]], dict[str, int]]:
        pairs = sorted({(g.user_id, g.meeting_id) for g in grants})
        allowed: set[tuple[str, str]] = set()
        with self.db.session() as session:
            for i in range(0, len(pairs), QUERY_CHUNK):
                chunk = pairs[i : i + QUERY_CHUNK]
                rows = session.execute(
                    select(Membership.user_id, Membership.meeting_id).where(
                        tuple_(Membership.user_id, Membership.meeting_id).in_(chunk)
                    )
                )
                allowed.update((user_id, meeting_id) for user_id, meeting_id in rows.tuples())
            versions = token_versions(session, sorted({g.user_id for g in grants}))
        return allowed, versions

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):  # not wait_for: it may swallow a cancel
                async with asyncio.timeout(self.recheck_s):
                    await self._nudge.wait()
            self._nudge.clear()
            try:
                await self.recheck()
            except asyncio.CancelledError:
                raise
            except Exception:  # database briefly unavailable: sockets keep going, try again
                logger.warning("socket access re-check failed; retrying", exc_info=True)
