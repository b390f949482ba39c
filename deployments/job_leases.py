"""One Processor replica's side of job ownership (the rules are in ``persistence/leases.py``).

``LeaseKeeper`` claims the jobs the replica starts, renews their leases on a heartbeat, stops
a job whose lease it lost, and periodically looks for jobs whose owner is gone and hands each
one it wins to the replica (``on_orphan``), which resumes it. It runs on the replica's event
loop; database calls go to a thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from persistence import Database
from persistence.leases import (
    ClaimedJob,
    claim_job,
    ended_by,
    orphaned_jobs,
    release_jobs,
    renew_leases,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LeaseOptions:
    lease_s: float = 10.0
    heartbeat_every_s: float = 2.0
    takeover_every_s: float = 3.0
    unclaimed_grace_s: float = 60.0
    live_grace_s: float = 120.0  # a live job's client may re-attach this long after expiry


def replica_identity() -> str:
    """This Serve replica's full id (its actor's name); a random id outside Serve."""
    try:
        from ray import serve

        return str(serve.get_replica_context().replica_id.to_full_id_str())
    except Exception:  # not in a replica (unit tests, scripts)
        return f"processor-{uuid.uuid4().hex}"


def utc_now() -> datetime:
    return datetime.now(UTC)


class LeaseKeeper:
    def __init__(
        self,
        db: Database,
        owner_id: str,
        options: LeaseOptions,
        on_lost: Callable[[str], None],
        on_orphan: Callable[[ClaimedJob], Awaitable[None]],
    ) -> None:
        self.owner_id = owner_id
        self._db = db
        self._options = options
        self._on_lost = on_lost
        self._on_orphan = on_orphan
        self._held: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name="job-leases")

    async def claim(self, job_id: str, audio_path: str | None = None) -> ClaimedJob | None:
        """Own ``job_id`` now (None: another replica holds it, or it is over)."""
        claimed = await asyncio.to_thread(self._claim, job_id, audio_path)
        if claimed is not None:
            self._held.add(job_id)
        return claimed

    def forget(self, job_id: str) -> None:
        """The job ended here: stop renewing it."""
        self._held.discard(job_id)

    async def release_all(self) -> None:
        """Stop heartbeating and hand every held job back (graceful shutdown)."""
        if self._task is not None:
            self._task.cancel()
        held, self._held = set(self._held), set()
        if held:
            await asyncio.to_thread(self._release, held)
            logger.info("released %d job lease(s) for takeover", len(held))

    async def _loop(self) -> None:
        next_scan = 0.0
        while True:
            try:
                await self.heartbeat()
                if time.monotonic() >= next_scan:
                    next_scan = time.monotonic() + self._options.takeover_every_s
                    await self.take_over_orphans()
            except Exception:  # a database hiccup must not end ownership for good
                logger.exception("job leases: heartbeat or takeover failed; retrying")
            await asyncio.sleep(self._options.heartbeat_every_s)

    async def heartbeat(self) -> None:
        held = set(self._held)
        if not held:
            return
        kept = await asyncio.to_thread(self._renew, held)
        gone = held - kept
        # A job this replica just completed is no longer renewable, but it is not lost: its
        # task is still publishing the final status and must not be cancelled.
        ended_here = await asyncio.to_thread(self._ended_here, gone) if gone else set()
        for job_id in gone:
            if job_id not in self._held:
                continue
            self._held.discard(job_id)
            if job_id not in ended_here:
                logger.warning("job %s: lease lost or job ended elsewhere; stopping it", job_id)
                self._on_lost(job_id)

    async def take_over_orphans(self) -> None:
        options = self._options
        orphans = await asyncio.to_thread(
            self._read_orphans, options.unclaimed_grace_s, options.live_grace_s
        )
        for job_id in orphans:
            claimed = await self.claim(job_id)
            if claimed is None:
                continue  # another replica won it
            logger.warning("job %s: owner gone; taken over by %s", job_id, self.owner_id)
            await self._on_orphan(claimed)

    def _claim(self, job_id: str, audio_path: str | None) -> ClaimedJob | None:
        with self._db.session() as session:
            return claim_job(
                session, job_id, self.owner_id, utc_now(), self._options.lease_s, audio_path
            )

    def _renew(self, job_ids: set[str]) -> set[str]:
        with self._db.session() as session:
            return renew_leases(session, self.owner_id, job_ids, utc_now(), self._options.lease_s)

    def _ended_here(self, job_ids: set[str]) -> set[str]:
        with self._db.session() as session:
            return ended_by(session, self.owner_id, job_ids)

    def _read_orphans(self, unclaimed_grace_s: float, live_grace_s: float) -> list[str]:
        with self._db.session() as session:
            return orphaned_jobs(session, utc_now(), unclaimed_grace_s, live_grace_s)

    def _release(self, job_ids: set[str]) -> None:
        with self._db.session() as session:
            release_jobs(session, self.owner_id, job_ids, utc_now())
