"""Job leases between Processor replicas on real SQLite and PostgreSQL databases: one winner
per claim, expiry, heartbeat renewal, fenced window commits, and which jobs count as orphaned."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from deployments.job_leases import LeaseKeeper, LeaseOptions
from persistence import Database, create_job, create_meeting, create_user, upgrade_database
from persistence.leases import (
    ClaimedJob,
    LeaseLostError,
    claim_job,
    commit_window,
    ended_by,
    orphaned_jobs,
    release_jobs,
    renew_leases,
)
from persistence.models import Job
from persistence.records import update_job

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
LEASE_S = 10.0


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    upgrade_database(database_url)
    database = Database(database_url)
    yield database
    database.dispose()


def new_job(db: Database, source: str = "upload", created: datetime = T0) -> str:
    with db.session() as s:
        user = create_user(
            s, email=f"{created.timestamp()}-{source}@x.org", name="O", password_hash="h"
        )
        meeting = create_meeting(s, owner_id=user.id, title="m")
        job = create_job(s, meeting.id, source=source)
        job.created_at = created
        return job.id


def claim(db: Database, job_id: str, owner: str, now: datetime, audio: str | None = None) -> bool:
    with db.session() as s:
        return claim_job(s, job_id, owner, now, LEASE_S, audio) is not None


def test_a_held_lease_refuses_a_second_claimer_until_it_expires(db: Database) -> None:
    job = new_job(db)
    assert claim(db, job, "A", at(0), "/uploads/m/j.audio")
    assert not claim(db, job, "B", at(5))
    assert not claim(db, job, "B", at(9.9))
    assert claim(db, job, "A", at(9))  # the owner may claim again (idempotent submit)
    with db.session() as s:
        claimed = claim_job(s, job, "B", at(19.5), LEASE_S)
    assert claimed is not None
    assert claimed.audio_path == "/uploads/m/j.audio"  # kept for the new owner
    assert not claim(db, job, "A", at(20))


def test_a_heartbeat_keeps_the_lease_and_reports_lost_jobs(db: Database) -> None:
    kept, lost = new_job(db), new_job(db, created=at(1))
    assert claim(db, kept, "A", at(0)) and claim(db, lost, "A", at(0))
    with db.session() as s:
        assert renew_leases(s, "A", {kept, lost}, at(8), LEASE_S) == {kept, lost}
    assert not claim(db, kept, "B", at(15))  # renewed at 8: held until 18
    with db.session() as s:
        renewed = renew_leases(s, "A", {kept}, at(17), LEASE_S)
    assert renewed == {kept}
    assert claim(db, lost, "B", at(19))
    with db.session() as s:
        assert renew_leases(s, "A", {kept, lost}, at(20), LEASE_S) == {kept}


def test_an_ended_job_cannot_be_claimed_or_renewed(db: Database) -> None:
    job = new_job(db)
    assert claim(db, job, "A", at(0))
    with db.session() as s:
        update_job(s, job, status="completed")
    with db.session() as s:
        assert renew_leases(s, "A", {job}, at(1), LEASE_S) == set()
    assert not claim(db, job, "B", at(100))


def test_a_job_its_owner_completed_is_ended_not_lost(db: Database) -> None:
    mine, taken = new_job(db), new_job(db, created=at(1))
    assert claim(db, mine, "A", at(0)) and claim(db, taken, "A", at(0))
    assert claim(db, taken, "B", at(11))  # A stalled past its lease
    with db.session() as s:
        update_job(s, mine, status="completed")
        update_job(s, taken, status="completed")
    with db.session() as s:
        assert ended_by(s, "A", {mine, taken}) == {mine}


def test_the_heartbeat_stops_only_jobs_another_replica_took(db: Database) -> None:
    """A job completed by its own task between two heartbeats must not be cancelled: the task
    is still publishing the final status (a load run lost a meeting's `completed` event)."""
    stopped: list[str] = []

    async def no_orphans(_claimed: ClaimedJob) -> None:
        return None

    keeper = LeaseKeeper(db, "A", LeaseOptions(), stopped.append, no_orphans)
    done, taken = new_job(db), new_job(db, created=at(1))

    async def scenario() -> None:
        assert await keeper.claim(done) is not None
        assert await keeper.claim(taken) is not None
        with db.session() as s:
            update_job(s, done, status="completed")
        with db.session() as s:  # another replica took it over after A's lease expired
            job = s.get(Job, taken)
            assert job is not None
            job.owner_id = "B"
        await keeper.heartbeat()

    asyncio.run(scenario())
    assert stopped == [taken]


def test_a_window_commit_is_fenced_by_the_lease(db: Database) -> None:
    job = new_job(db)
    assert claim(db, job, "A", at(0))
    with db.session() as s:
        commit_window(s, job, "A", 1, {"registry": "after window 0"})
    assert claim(db, job, "B", at(11))  # A stalled past its lease
    with pytest.raises(LeaseLostError), db.session() as s:
        commit_window(s, job, "A", 2, {"registry": "stale"})
    with db.session() as s:
        claimed = claim_job(s, job, "B", at(12), LEASE_S)
    assert claimed is not None
    assert (claimed.windows_done, claimed.resume_state) == (1, {"registry": "after window 0"})


def test_released_jobs_are_orphans_at_once(db: Database) -> None:
    job, other = new_job(db), new_job(db, created=at(1))
    assert claim(db, job, "A", at(0)) and claim(db, other, "B", at(0))
    with db.session() as s:
        release_jobs(s, "A", [job, other], at(1))  # only A's own lease is given up
        assert orphaned_jobs(s, at(1.5), unclaimed_grace_s=60) == [job]
    assert claim(db, job, "B", at(2))
    assert not claim(db, other, "A", at(2))


def test_orphans_are_expired_leases_and_stale_unclaimed_jobs(db: Database) -> None:
    held = new_job(db, created=at(0))
    expired = new_job(db, created=at(1))
    fresh_unclaimed = new_job(db, created=at(50))
    stale_unclaimed = new_job(db, created=at(2))
    live = new_job(db, source="live", created=at(3))
    assert claim(db, held, "A", at(58))  # held until 68
    assert claim(db, expired, "A", at(40))  # expired at 50
    assert claim(db, live, "A", at(35))  # expired at 45; its client may re-attach until 65
    with db.session() as s:
        found = orphaned_jobs(s, at(60), unclaimed_grace_s=30, live_grace_s=20)
        assert found == [expired, stale_unclaimed]  # oldest first; the live one has grace
        later = orphaned_jobs(s, at(66), unclaimed_grace_s=30, live_grace_s=20)
        assert later == [expired, stale_unclaimed, live]
        assert fresh_unclaimed not in orphaned_jobs(s, at(79), unclaimed_grace_s=30)


def test_racing_claimers_never_both_win(db: Database) -> None:
    jobs = [new_job(db, created=at(i)) for i in range(20)]

    def try_claim(args: tuple[str, str]) -> tuple[str, str, bool]:
        job, owner = args
        return job, owner, claim(db, job, owner, at(100))

    attempts = [(job, owner) for job in jobs for owner in ("A", "B", "C")]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(try_claim, attempts))
    for job in jobs:
        winners = [owner for j, owner, won in results if j == job and won]
        assert len(winners) == 1, (job, winners)
