"""A Processor replica's live sessions: open, feed, detach and stop them, take over one whose
replica died, and finish those whose client never came back.

Sessions live in this replica's memory; the job row names the session and its owner
(``persistence/leases.py``), so a reconnect through any Ingress replica is routed here
(``deployments/session_router.py``) or, once this replica is gone, taken over after the last
stored window.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable

from deployments.failures import JobFailedError
from deployments.job_leases import LeaseKeeper
from deployments.job_resume import restore_state
from deployments.job_state import JobState
from deployments.live import LiveSession, LiveSessionError
from persistence import Database, JobAlreadyActiveError, create_job
from persistence.leases import commit_window, live_session_owner
from persistence.quotas import QuotaExceeded, check_live_slot
from processor_api.live_replies import (
    UNKNOWN_SESSION,
    LiveRedirect,
    LiveRefusal,
    LiveReply,
    LiveSessionState,
)
from settings.config import Settings

logger = logging.getLogger(__name__)
LIVE_GRACE_S = 120.0  # how long a dropped live session waits for its client to reconnect
REAP_EVERY_S = 5.0


def live_reply(session: LiveSession) -> LiveSessionState:
    """``owner``: the replica holding the session; the Ingress names it in the session's
    next calls so that ``SessionOwnerRouter`` delivers them there."""
    return LiveSessionState(
        session_id=session.session_id,
        job_id=session.state.job_id,
        received_s=round(session.received_s, 3),
        owner=session.state.owner_id,
    )


class LiveSessions:
    """The live sessions one Processor replica holds, by session id."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        leases: LeaseKeeper,
        takeover_wait_s: float,
        takeover_poll_s: float,
        job_state: Callable[[str, str], JobState],
        new_session: Callable[[JobState, str], LiveSession],
    ) -> None:
        self._db = db
        self._settings = settings
        self._leases = leases
        # How long a reconnect waits for a dead replica's lease to expire (lease + heartbeat).
        self._takeover_wait_s = takeover_wait_s
        self._takeover_poll_s = takeover_poll_s
        self._job_state = job_state
        self._new_session = new_session
        self._live: dict[str, LiveSession] = {}
        self._reaper: asyncio.Task[None] | None = None

    async def open(
        self, meeting_id: str, session_id: str | None, owner: str | None
    ) -> LiveReply | LiveRedirect:
        """Start a live session, or re-attach to one whose connection dropped.

        ``owner``: the replica the caller believes holds ``session_id`` (routing only)."""
        session = self._live.get(session_id or "")
        if session is not None and session.state.meeting_id == meeting_id:
            session.detached_at = None
            return live_reply(session)
        if session_id:
            found = await asyncio.to_thread(self._owner_of, meeting_id, session_id)
            if found is not None and found[1] == self._leases.owner_id:  # stopping here
                return LiveRefusal("busy", "The live session is finishing")
            if found is not None and found[1] != owner:
                return LiveRedirect(found[1])
            if found is not None:  # the caller named the owner and reached us: it is gone
                return await self._take_over(found[0], session_id)
        try:
            job_id = await asyncio.to_thread(self._create_job, meeting_id)
        except JobAlreadyActiveError:
            return LiveRefusal("busy", "The meeting is already being processed")
        except QuotaExceeded as e:
            return LiveRefusal("too_many", f"{e.detail} (retry after {e.retry_after_s} s)")
        session = self._new_session(self._job_state(job_id, meeting_id), uuid.uuid4().hex)
        claimed = await self._leases.claim(job_id)
        session.state.owner_id = self._leases.owner_id if claimed is not None else None
        await asyncio.to_thread(self._record_session, job_id, session)
        self._live[session.session_id] = session
        await session.open()
        self._start_reaper()
        return live_reply(session)

    async def feed(self, session_id: str, pcm: bytes) -> LiveReply:
        session = self._live.get(session_id)
        if session is None:
            return UNKNOWN_SESSION
        try:
            session.feed(pcm)
        except LiveSessionError as e:
            return LiveRefusal(e.code, e.message)
        except Exception:  # never leave the socket (and the meeting) hanging on a surprise
            logger.exception("live session %s: could not take audio", session_id)
            return LiveRefusal("bad_audio", "The audio could not be read; reconnect")
        return live_reply(session)

    def detach(self, session_id: str) -> None:
        """The audio socket dropped without ``stop``: keep the session for a reconnect."""
        session = self._live.get(session_id)
        if session is not None:
            session.detached_at = time.monotonic()

    async def stop(self, session_id: str) -> LiveReply:
        session = self._live.pop(session_id, None)
        if session is None:
            return UNKNOWN_SESSION
        try:
            await session.stop()
        except JobFailedError as e:
            await session.fail(e.message, e.code)
        finally:
            self._leases.forget(session.state.job_id)
        return live_reply(session)

    def drop_job(self, job_id: str) -> None:
        """Another replica owns the job now: forget its session here without ending it."""
        for session_id, session in list(self._live.items()):
            if session.state.job_id == job_id:
                self._live.pop(session_id, None)

    async def _take_over(self, job_id: str, session_id: str) -> LiveReply:
        """Re-attach a session whose replica died: wait for its lease to expire, claim the
        job, and continue after the last stored window (the client resends from there)."""
        deadline = time.monotonic() + self._takeover_wait_s
        claimed = await self._leases.claim(job_id)
        while claimed is None and time.monotonic() < deadline:
            await asyncio.sleep(self._takeover_poll_s)
            claimed = await self._leases.claim(job_id)
        if claimed is None:
            return LiveRefusal("owner_busy", "The session is held elsewhere; reconnect")
        existing = self._live.get(session_id)
        if existing is not None:  # a concurrent reconnect took it over a moment ago
            return live_reply(existing)
        # From here to the insertion below nothing awaits, so one reconnect wins.
        state = self._job_state(claimed.job_id, claimed.meeting_id)
        restore_state(state, claimed.resume_state, claimed.windows_done)
        state.owner_id = self._leases.owner_id
        saved = claimed.resume_state or {}
        session = self._new_session(state, session_id)
        session.resume_at(float(saved.get("audio_end_s", 0.0)), int(saved.get("next_index", 0)))
        self._live[session_id] = session
        await session.reopen()
        self._start_reaper()
        logger.warning("live session %s: taken over after its replica died", session_id)
        return live_reply(session)

    def _owner_of(self, meeting_id: str, session_id: str) -> tuple[str, str | None] | None:
        with self._db.session() as session:
            return live_session_owner(session, meeting_id, session_id)

    def _record_session(self, job_id: str, live: LiveSession) -> None:
        """The session id on the job row, so a reconnect through any replica finds its owner."""
        with self._db.session() as session:
            commit_window(session, job_id, live.state.owner_id, 0, live.resume_fields(None))

    def _create_job(self, meeting_id: str) -> str:
        with self._db.session() as session:
            # Locks the owner's row (PostgreSQL) until the job exists: replicas take turns.
            check_live_slot(session, self._settings, meeting_id)
            return create_job(session, meeting_id, source="live").id

    def _start_reaper(self) -> None:
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.create_task(self._reap_detached())

    async def _reap_detached(self) -> None:
        """Sessions whose client never came back end as if stopped: nothing sent is lost."""
        while self._live:
            await asyncio.sleep(REAP_EVERY_S)
            now = time.monotonic()
            for session_id, session in list(self._live.items()):
                if session.detached_at is not None and now - session.detached_at > LIVE_GRACE_S:
                    logger.info("live session %s: client gone, finishing", session_id)
                    await self.stop(session_id)
