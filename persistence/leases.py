"""Job ownership between Processor replicas: leases in the ``jobs`` table.

A replica that runs a job owns it (``owner_id``) until ``lease_expires_at``, and renews the
lease on a heartbeat while the job runs. Once a lease has expired, any replica may claim the
job and resume it. Every write here is one conditional ``UPDATE ... WHERE`` whose row count
says whether it won, so two replicas racing for the same job cannot both win, on SQLite and
PostgreSQL alike (no ``SELECT ... FOR UPDATE``, which SQLite lacks).

The window commit is fenced the same way: a replica that lost its lease (it stalled past the
expiry and another took over) finds ``owner_id`` changed and stops before it stores or
publishes anything, so a window is never stored twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from persistence.models import ACTIVE_JOB_STATUSES, Job, JobSource, RoomEvent


class LeaseLostError(Exception):
    """This replica no longer owns the job: another one took it over (or it ended)."""

    def __init__(self, job_id: str, owner_id: str) -> None:
        super().__init__(f"job {job_id} is no longer owned by {owner_id}")
        self.job_id = job_id
        self.owner_id = owner_id


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """What a new owner needs to resume a job."""

    job_id: str
    meeting_id: str
    source: JobSource
    status: str
    windows_done: int
    audio_path: str | None
    resume_state: dict[str, Any] | None


def claim_job(
    session: Session,
    job_id: str,
    owner_id: str,
    now: datetime,
    lease_s: float,
    audio_path: str | None = None,
) -> ClaimedJob | None:
    """Own an active job whose lease is free (never owned, expired, or already ours);
    None when another replica holds it or the job is over."""
    values: dict[str, Any] = {
        "owner_id": owner_id,
        "lease_expires_at": now + timedelta(seconds=lease_s),
        "heartbeat_at": now,
    }
    if audio_path is not None:
        values["audio_path"] = audio_path
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(ACTIVE_JOB_STATUSES), _lease_free(owner_id, now))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        return None
    job = session.get(Job, job_id, populate_existing=True)
    assert job is not None  # the update just matched it
    return ClaimedJob(
        job.id,
        job.meeting_id,
        "live" if job.source == "live" else "upload",
        job.status,
        job.windows_done,
        job.audio_path,
        job.resume_state,
    )


def renew_leases(
    session: Session, owner_id: str, job_ids: Iterable[str], now: datetime, lease_s: float
) -> set[str]:
    """Extend this replica's leases; the ids it still owns (the rest were lost or ended)."""
    ids = list(job_ids)
    if not ids:
        return set()
    session.execute(
        update(Job)
        .where(_owned(owner_id, ids))
        .values(lease_expires_at=now + timedelta(seconds=lease_s), heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    return set(session.scalars(select(Job.id).where(_owned(owner_id, ids))))


def ended_by(session: Session, owner_id: str, job_ids: Iterable[str]) -> set[str]:
    """Of ``job_ids``, those that ended (completed or failed) while this owner held them:
    finished by its own task, not lost, so nothing should stop that task."""
    ids = list(job_ids)
    if not ids:
        return set()
    ended = Job.status.not_in(ACTIVE_JOB_STATUSES)
    return set(
        session.scalars(select(Job.id).where(Job.id.in_(ids), Job.owner_id == owner_id, ended))
    )


def release_jobs(session: Session, owner_id: str, job_ids: Iterable[str], now: datetime) -> None:
    """Give leases up at once (a replica shutting down): they count as expired from ``now``,
    so another replica takes the jobs over on its next look instead of after the lease."""
    session.execute(
        update(Job)
        .where(Job.id.in_(list(job_ids)), Job.owner_id == owner_id)
        .values(lease_expires_at=now)
        .execution_options(synchronize_session=False)
    )


def orphaned_jobs(
    session: Session,
    now: datetime,
    unclaimed_grace_s: float,
    live_grace_s: float = 0.0,
    limit: int = 10,
) -> list[str]:
    """Active jobs nobody holds: an expired lease, or never claimed for ``unclaimed_grace_s``
    (the Ingress that queued it died before handing it over). A live job's lease must have
    expired ``live_grace_s`` ago: until then its client may re-attach. Oldest first."""
    unclaimed_before = now - timedelta(seconds=unclaimed_grace_s)
    live_before = now - timedelta(seconds=live_grace_s)
    rows = session.scalars(
        select(Job.id)
        .where(
            Job.status.in_(ACTIVE_JOB_STATUSES),
            or_(
                and_(Job.source != "live", Job.lease_expires_at < now),
                and_(Job.source == "live", Job.lease_expires_at < live_before),
                and_(Job.lease_expires_at.is_(None), Job.created_at < unclaimed_before),
            ),
        )
        .order_by(Job.created_at)
        .limit(limit)
    )
    return list(rows)


def commit_window(
    session: Session,
    job_id: str,
    owner_id: str | None,
    windows_done: int,
    resume_state: dict[str, Any] | None,
) -> None:
    """Record that windows ``< windows_done`` are stored, in the transaction that stores the
    last of them; raises ``LeaseLostError`` (rolling it back) when ``owner_id`` no longer owns
    the job. ``owner_id`` None: an unfenced job (single-process use, tests)."""
    conditions = [Job.id == job_id]
    if owner_id is not None:
        conditions += [Job.owner_id == owner_id, Job.status.in_(ACTIVE_JOB_STATUSES)]
    result = session.execute(
        update(Job)
        .where(*conditions)
        .values(windows_done=windows_done, resume_state=resume_state)
        .execution_options(synchronize_session=False)
    )
    if owner_id is not None and _rowcount(result) != 1:
        raise LeaseLostError(job_id, owner_id)


def owns_job(session: Session, job_id: str, owner_id: str | None) -> bool:
    """Whether ``owner_id`` still owns the job (None: an unfenced job, always)."""
    if owner_id is None:
        return True
    return session.scalar(select(Job.owner_id).where(Job.id == job_id)) == owner_id


def live_session_owner(
    session: Session, meeting_id: str, session_id: str
) -> tuple[str, str | None] | None:
    """The job and the replica holding live session ``session_id`` of the meeting (its active
    live job records the session id in ``resume_state``); None when no such session runs."""
    job = session.scalars(
        select(Job).where(
            Job.meeting_id == meeting_id,
            Job.source == "live",
            Job.status.in_(ACTIVE_JOB_STATUSES),
        )
    ).first()
    if job is None or not job.resume_state or job.resume_state.get("session_id") != session_id:
        return None
    return job.id, job.owner_id


def published_event_ids(session: Session, meeting_id: str, last: int = 1000) -> set[str]:
    """``event_id``s of the meeting's latest stored ``transcript`` events (a resumed job
    republishes only the stored segments whose event is missing)."""
    payloads = session.scalars(
        select(RoomEvent.payload)
        .where(RoomEvent.meeting_id == meeting_id, RoomEvent.type == "transcript")
        .order_by(RoomEvent.seq.desc())
        .limit(last)
    )
    return {str(p.get("event_id")) for p in payloads if p.get("event_id")}


def _lease_free(owner_id: str, now: datetime) -> Any:
    return or_(
        Job.owner_id.is_(None),
        Job.owner_id == owner_id,
        Job.lease_expires_at.is_(None),
        Job.lease_expires_at < now,
    )


def _owned(owner_id: str, ids: Sequence[str]) -> Any:
    return and_(Job.id.in_(ids), Job.owner_id == owner_id, Job.status.in_(ACTIVE_JOB_STATUSES))


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
