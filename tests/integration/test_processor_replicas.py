"""Two Processor replicas on a real Ray Serve cluster (load profile: deterministic instant
models, short leases): concurrent uploads complete, and killing the replica that owns a
running upload leaves the job to the other one, which finishes it with every segment exactly
once, in order, and the same text and speakers as a run without the kill."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.platform import free_port
from persistence import Database
from persistence.models import Job
from scripts.synth_meeting import MeetingAudio, ensure_meeting
from tests.integration.client import ApiUser, Received, collect_until_done, register
from tests.integration.conftest import RunningPlatform

pytestmark = pytest.mark.slow


class ReplicaCluster(RunningPlatform):
    process: subprocess.Popen[str]

    def kill_actor(self, name: str) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"kill {name}\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == "killed"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplicaCluster]:
    data_dir = tmp_path_factory.mktemp("replicas-data")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.replica_cluster", str(data_dir), str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready", "replica cluster did not start"
        running = ReplicaCluster(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", data_dir)
        running.process = process
        yield running
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def standup() -> MeetingAudio:
    return ensure_meeting("standup3", install=True)


def database(cluster: ReplicaCluster) -> Database:
    return Database(f"sqlite:///{cluster.data_dir / 'meetings.db'}")


async def upload_and_collect(user: ApiUser, meeting_id: str, audio: Path) -> list[Received]:
    listener = asyncio.create_task(collect_until_done(user, meeting_id, last_seq=0, timeout_s=300))
    await asyncio.sleep(0.5)  # the socket is connected before processing starts
    response = await asyncio.to_thread(user.upload, meeting_id, audio)
    assert response.status_code == 202, response.text
    return await listener


def transcript(received: list[Received]) -> list[tuple[str, str, float]]:
    return [
        (m["segment"]["text"], m["segment"]["speaker"], m["segment"]["start"])
        for m in (r.message for r in received)
        if m["type"] == "transcript"
    ]


def speech_spans(received: list[Received]) -> list[tuple[float, float]]:
    """(start, end) of every transcript segment, in the order received."""
    return [
        (m["segment"]["start"], m["segment"]["end"])
        for m in (r.message for r in received)
        if m["type"] == "transcript"
    ]


def covered(spans: list[tuple[float, float]], start: float, end: float) -> float:
    """Seconds of [start, end] that ``spans`` cover."""
    return sum(max(0.0, min(end, b) - max(start, a)) for a, b in spans)


def assert_completed_once_in_order(received: list[Received]) -> None:
    messages = [r.message for r in received]
    assert messages[-1]["type"] == "status" and messages[-1]["status"] == "completed", messages[-3:]
    seqs = [m["seq"] for m in messages if "seq" in m]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no gap, no repeat
    ids = [m["segment"]["id"] for m in messages if m["type"] == "transcript"]
    assert len(ids) == len(set(ids))
    starts = [m["segment"]["start"] for m in messages if m["type"] == "transcript"]
    assert starts == sorted(starts)


@pytest.fixture(scope="module")
def reference(cluster: ReplicaCluster, standup: MeetingAudio) -> list[tuple[str, str, float]]:
    """Three meetings uploaded at once over the two replicas; all end alike."""
    user = register(cluster.base_url, cluster.ws_url)
    meetings = [user.create_meeting(f"concurrent {n}") for n in range(3)]

    async def run() -> list[list[Received]]:
        return await asyncio.gather(
            *(upload_and_collect(user, m, standup.audio_path) for m in meetings)
        )

    runs = asyncio.run(run())
    for received in runs:
        assert_completed_once_in_order(received)
    texts = [transcript(received) for received in runs]
    assert texts[0] and texts[0] == texts[1] == texts[2]
    return texts[0]


def test_concurrent_uploads_complete_alike(reference: list[tuple[str, str, float]]) -> None:
    # The instant diarizer's made-up voices: several, linked across windows by the registry.
    assert len({speaker for _, speaker, _ in reference}) >= 2
    assert len(reference) >= 10


def test_killing_the_owner_mid_upload_hands_the_job_over(
    cluster: ReplicaCluster, standup: MeetingAudio, reference: list[tuple[str, str, float]]
) -> None:
    user = register(cluster.base_url, cluster.ws_url)
    meeting_id = user.create_meeting("killed owner")
    db = database(cluster)

    async def run() -> tuple[list[Received], str, int]:
        collecting = asyncio.create_task(upload_and_collect(user, meeting_id, standup.audio_path))
        owner, done = await asyncio.to_thread(wait_for_progress, db, meeting_id)
        await asyncio.to_thread(cluster.kill_actor, owner)
        return await collecting, owner, done

    received, killed, done_at_kill = asyncio.run(run())
    assert_completed_once_in_order(received)
    assert transcript(received) == reference
    with db.session() as s:
        job = s.query(Job).filter(Job.meeting_id == meeting_id).one()
        assert job.status == "completed"
        assert job.owner_id is not None and job.owner_id != killed
        assert job.windows_done == job.windows_total
        assert 0 < done_at_kill < job.windows_done  # the kill really was mid-job
    transcript_rows = user.get(f"/api/meetings/{meeting_id}/transcript").json()
    assert [s["text"] for s in transcript_rows["segments"]] == [t for t, _, _ in reference]
    db.dispose()


def wait_for_progress(db: Database, meeting_id: str, timeout_s: float = 60) -> tuple[str, int]:
    """The job's owner once it has stored a window (and not finished)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with db.session() as s:
            job: Any = s.query(Job).filter(Job.meeting_id == meeting_id).one_or_none()
            if job is not None and job.owner_id and job.windows_done >= 1:
                assert job.status == "processing", "the job ended before the kill"
                return str(job.owner_id), int(job.windows_done)
        time.sleep(0.05)
    raise AssertionError("the job stored no window in time")


def test_live_calls_reach_the_session_owner_and_a_reconnect_finds_it(
    cluster: ReplicaCluster, standup: MeetingAudio
) -> None:
    """With two replicas, every live call must reach the one holding the session (a call on
    the other would answer unknown_session), also after a reconnect with ``session_id``."""
    from benchmarks.live_client import StreamLog, stream_audio

    audio = standup.load_audio()
    user = register(cluster.base_url, cluster.ws_url)
    meeting_id = user.create_meeting("live over replicas")
    log = StreamLog()

    async def run() -> list[Received]:
        listener = asyncio.create_task(collect_until_done(user, meeting_id, last_seq=0))
        await asyncio.sleep(0.5)
        started = await stream_audio(
            user.ws_url, meeting_id, user.token, audio, log, stop_s=8.0, finish=False
        )
        assert "owner" not in started  # an internal replica name stays inside
        for drop_at in (16.0, 24.0):  # each reconnect may land on either Processor replica
            resumed = await stream_audio(
                user.ws_url,
                meeting_id,
                user.token,
                audio,
                log,
                start_s=drop_at - 8.0,
                stop_s=drop_at,
                session_id=started["session_id"],
                finish=drop_at == 24.0,
            )
            assert resumed["session_id"] == started["session_id"]
            assert resumed["received_s"] == pytest.approx(drop_at - 8.0, abs=0.01)
        return await listener

    received = asyncio.run(run())
    assert_completed_once_in_order(received)
    assert log.replies[-1]["type"] == "stopped"
    assert len(transcript(received)) >= 3


async def reattach(user: ApiUser, meeting_id: str, session_id: str) -> float:
    """Reconnect with ``session_id`` until a replica takes the session (the dead owner's calls
    fail until Serve drops it); the server's ``received_s``. The socket then drops again."""
    import json

    import websockets

    url = f"{user.ws_url}/ws/meeting/{meeting_id}/audio"
    start = {"type": "start", "sample_rate": 16000, "encoding": "pcm_s16le"}
    deadline = time.monotonic() + 60
    while True:
        try:
            async with websockets.connect(url, subprotocols=["bearer", user.token]) as ws:  # type: ignore[list-item]
                await ws.send(json.dumps({**start, "session_id": session_id}))
                reply = json.loads(await ws.recv())
                if reply.get("type") == "started":
                    assert reply["session_id"] == session_id
                    return float(reply["received_s"])
        except websockets.ConnectionClosed:
            pass
        assert time.monotonic() < deadline, "no replica took the session over"
        await asyncio.sleep(1.0)


def test_killing_a_live_sessions_owner_resumes_it_on_another_replica(
    cluster: ReplicaCluster, standup: MeetingAudio
) -> None:
    """The client's documented resume (``session_id`` + ``received_s``) after the owner dies:
    the transcript continues on the other replica with no gap and nothing twice."""
    from benchmarks.live_client import StreamLog, stream_audio

    audio = standup.load_audio()
    user = register(cluster.base_url, cluster.ws_url)
    db = database(cluster)

    async def live(meeting_id: str, kill: bool) -> tuple[list[Received], float]:
        log = StreamLog()
        listener = asyncio.create_task(collect_until_done(user, meeting_id, last_seq=0))
        await asyncio.sleep(0.5)
        started = await stream_audio(
            user.ws_url, meeting_id, user.token, audio, log, stop_s=14.0, finish=False
        )
        resume_from = 14.0
        if kill:
            owner, _ = await asyncio.to_thread(wait_for_progress, db, meeting_id)
            await asyncio.to_thread(cluster.kill_actor, owner)
            resume_from = await reattach(user, meeting_id, started["session_id"])
        await stream_audio(
            user.ws_url,
            meeting_id,
            user.token,
            audio,
            log,
            start_s=resume_from,
            stop_s=24.0,
            session_id=started["session_id"],
        )
        return await listener, resume_from

    plain, _ = asyncio.run(live(user.create_meeting("live, uninterrupted"), kill=False))
    killed_meeting = user.create_meeting("live, owner killed")
    killed, resumed_at = asyncio.run(live(killed_meeting, kill=True))
    assert 0 < resumed_at <= 14.0  # the end of the last window the dead owner stored
    for received in (plain, killed):
        assert_completed_once_in_order(received)
    # No gap: the speech the uninterrupted run transcribed is transcribed after the kill too.
    # (Not word for word: the resumed session's VAD looks start at the resume point, so a
    # later utterance end may be cut a frame apart, and the stand-in models' words follow the
    # window edges.) Nothing twice: the resumed transcript's segments never overlap.
    plain_spans, killed_spans = speech_spans(plain), speech_spans(killed)
    assert killed_spans[-1][1] == pytest.approx(plain_spans[-1][1], abs=0.5)
    speech = sum(end - start for start, end in plain_spans)
    assert sum(covered(killed_spans, a, b) for a, b in plain_spans) >= 0.9 * speech
    holes = [(a, b) for a, b in plain_spans if covered(killed_spans, a, b) < 0.5 * (b - a)]
    assert all(b - a < 1.0 for a, b in holes), holes  # a lost window would leave seconds
    assert all(b[0] >= a[1] - 0.05 for a, b in itertools.pairwise(killed_spans))
    with db.session() as s:
        job = s.query(Job).filter(Job.meeting_id == killed_meeting).one()
        assert job.status == "completed" and job.source == "live"
    db.dispose()
