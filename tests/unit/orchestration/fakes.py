"""The edges of the orchestration, replaced for unit tests: models, VAD, metrics, the hub actor.

Everything between them is real: ``UploadJob``/``LiveSession``, the in-process ``EventLog`` (the
hub's own logic), a migrated SQLite database and PyAV decoding.

Audio is synthetic and self-describing. Speech is a 4 kHz square wave, silence is zero; the fake
VAD calls any sample louder than ``VAD_THRESHOLD`` speech. Utterance ``k`` is spoken at level
``level_of(k)``, so a model can tell which utterances (upload windows) a clip holds by its
levels, and the fake transcriber answers one word ``u<k>`` per speech region it hears. (A
constant level would be a DC offset, which decoding and live intake remove; the square wave's
level comes through them within 1 %.)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import shutil
import time
import wave
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.speech_tracker import FRAME_SAMPLES, SpeechTracker
from core.types import (
    SAMPLE_RATE,
    DiarizationResult,
    Segment,
    SpeakerTurn,
    SummaryResult,
    TranscriptionResult,
    Word,
)
from deployments.job_state import Models
from deployments.vad import StreamingVad
from persistence import Database, create_job, create_meeting, create_user, upgrade_database
from rooms.hub import Event, EventLog

VAD_THRESHOLD = 0.05
LEVEL_STEP = 0.04  # utterance k is at (k + 2) * LEVEL_STEP: 0.08, 0.12, ... up to k = 20
SQUARE_HALF_PERIOD = SAMPLE_RATE // 8000  # samples: a 4 kHz square wave


# ---- audio -----------------------------------------------------------------------------------


def level_of(utterance: int) -> float:
    return (utterance + 2) * LEVEL_STEP


def utterance_of(level: float) -> int:
    return round(level / LEVEL_STEP) - 2


def speech(utterance: int, seconds: float) -> np.ndarray:
    samples = np.arange(round(seconds * SAMPLE_RATE))
    sign = np.where(samples // SQUARE_HALF_PERIOD % 2, -1.0, 1.0)
    return (sign * level_of(utterance)).astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * SAMPLE_RATE), dtype=np.float32)


def utterances(count: int, speech_s: float, pause_s: float, first: int = 0) -> np.ndarray:
    """``count`` utterances, each ``speech_s`` of speech then ``pause_s`` of silence."""
    parts = [np.concatenate([speech(first + k, speech_s), silence(pause_s)]) for k in range(count)]
    return np.concatenate(parts)


def write_wav(path: Path, audio: np.ndarray) -> Path:
    """16 kHz mono PCM16 WAV, decoded for real by the job (PyAV)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def to_pcm16(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


def fake_speech_regions(
    audio: np.ndarray, min_silence_ms: int = 300, **_options: Any
) -> list[tuple[float, float]]:
    """Spans of samples above the threshold, split at silences of ``min_silence_ms``."""
    loud = np.flatnonzero(np.abs(audio) > VAD_THRESHOLD)
    if loud.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(loud) > min_silence_ms * SAMPLE_RATE // 1000)
    starts = np.concatenate([[loud[0]], loud[breaks + 1]])
    ends = np.concatenate([loud[breaks], [loud[-1]]])
    return [(s / SAMPLE_RATE, (e + 1) / SAMPLE_RATE) for s, e in zip(starts, ends, strict=True)]


class RegionsVad:
    """The live session's ``BufferVad`` over a regions function (Silero replaced at the edge)."""

    def __init__(self, regions_of: Callable[..., list[tuple[float, float]]]) -> None:
        self._regions_of = regions_of

    def restart(self) -> None:
        pass  # nothing is kept between looks

    def regions(
        self, buffer: np.ndarray, min_silence_ms: int = 300, pad_ms: int = 100
    ) -> list[tuple[float, float]]:
        return self._regions_of(buffer, min_silence_ms=min_silence_ms, pad_ms=pad_ms)


class LevelFrames:
    """Silero's frame scores replaced by a level threshold per frame."""

    def probabilities(self, audio: np.ndarray, commit: bool = True) -> np.ndarray:
        frames = audio.reshape(-1, FRAME_SAMPLES)
        return (np.abs(frames).max(axis=1) > VAD_THRESHOLD).astype(np.float32)


class LevelVad(StreamingVad):
    """The upload path's streaming VAD with Silero replaced by a level threshold per frame; the
    speech tracker (padding, minimum silence, what is final) is the real one."""

    def __init__(
        self, min_silence_ms: int = 300, threshold: float = 0.5, pad_ms: int = 100
    ) -> None:
        self._frames = LevelFrames()  # type: ignore[assignment]
        self.tracker = SpeechTracker(SAMPLE_RATE, threshold, min_silence_ms, pad_ms)
        self._rest = np.zeros(0, dtype=np.float32)
        self.samples = 0


def heard(audio: np.ndarray) -> list[int]:
    """The utterances a clip holds, in order (what the fake transcriber writes as words)."""
    return [
        utterance_of(
            float(np.median(np.abs(audio[round(s * SAMPLE_RATE) : round(e * SAMPLE_RATE)])))
        )
        for s, e in regions_of(audio)
    ]


def regions_of(audio: np.ndarray) -> list[tuple[float, float]]:
    # 50 ms: utterances of different levels that touch are still told apart below
    return _split_by_level(audio, fake_speech_regions(audio, min_silence_ms=50))


def _split_by_level(
    audio: np.ndarray, regions: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for start, end in regions:
        a, b = round(start * SAMPLE_RATE), round(end * SAMPLE_RATE)
        level = np.abs(audio[a:b])
        changes = np.flatnonzero(np.abs(np.diff(level)) > LEVEL_STEP / 2) + 1
        edges = [a, *(a + c for c in changes), b]
        out += [(x / SAMPLE_RATE, y / SAMPLE_RATE) for x, y in itertools.pairwise(edges)]
    return out


async def eventually(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Until ``condition()`` holds (checked as the event loop runs the code under test)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


# ---- models ----------------------------------------------------------------------------------


@dataclass
class Call:
    """One transcribe call: which utterances its audio held, and how long it was."""

    utterances: list[int]
    seconds: float
    task: str


@dataclass
class ScriptedModels:
    """Stand-in models whose timing and failures a test scripts per utterance.

    ``hold[k]``: a transcription holding utterance ``k`` waits for this event before answering.
    ``after[k]``: it waits for the transcription of utterance ``after[k]`` to have finished.
    ``fail[k]``: it raises this exception instead of answering.
    """

    hold: dict[int, asyncio.Event] = field(default_factory=dict)
    after: dict[int, int] = field(default_factory=dict)
    fail: dict[int, BaseException] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    finished: list[int] = field(default_factory=list)  # first utterance of each finished call
    failed: list[int] = field(default_factory=list)  # the utterance each failed call failed on
    summary: str = "We met."
    _done: dict[int, asyncio.Event] = field(default_factory=dict)
    _started: asyncio.Event = field(default_factory=asyncio.Event)

    def models(self) -> Models:
        return Models(self.transcribe, self.diarize, self.summarize, self.detect, _no_captions)

    async def wait_started(self, calls: int) -> None:
        """Until ``calls`` transcriptions have started."""
        while len(self.calls) < calls:
            self._started.clear()
            await self._started.wait()

    async def transcribe(
        self, audio: np.ndarray, language: str | None, task: str, _speech: object = None
    ) -> TranscriptionResult:
        held = heard(audio)
        self.calls.append(Call(held, round(len(audio) / SAMPLE_RATE, 3), task))
        self._started.set()
        for k in held:
            if k in self.hold:
                await self.hold[k].wait()
            if k in self.after:
                await self._done_event(self.after[k]).wait()
        for k in held:
            if k in self.fail:
                self.failed.append(k)
                raise self.fail[k]
        if held:
            self.finished.append(held[0])
        for k in held:
            self._done_event(k).set()
        words = [
            Word(f"u{k}", round(s, 3), round(e, 3))
            for k, (s, e) in zip(held, regions_of(audio), strict=True)
        ]
        return TranscriptionResult(words, " ".join(w.word for w in words), language or "en", 0.0)

    async def diarize(self, audio: np.ndarray, _speech: object = None) -> DiarizationResult:
        end = len(audio) / SAMPLE_RATE
        return DiarizationResult([SpeakerTurn(0.0, end, "A")], {"A": [1.0, 0.0]})

    async def summarize(self, segments: list[Segment], language: str | None) -> SummaryResult:
        return SummaryResult(summary=self.summary, engine="fake")

    async def detect(self, audio: np.ndarray) -> tuple[str, float]:
        return "en", 1.0

    def _done_event(self, utterance: int) -> asyncio.Event:
        return self._done.setdefault(utterance, asyncio.Event())


def _no_captions(_language: str) -> bool:
    return False


# ---- hub -------------------------------------------------------------------------------------


class RecordingHub(EventLog):
    """The in-process event log, remembering every event in publication order."""

    def __init__(self, database_url: str) -> None:
        super().__init__(database_url)
        self.sent: list[Event] = []
        self.batches: list[list[str]] = []  # the types of each publish call's events

    async def publish_many(self, meeting_id: str, events: list[Event]) -> list[Event]:
        stored = await super().publish_many(meeting_id, events)
        self.sent.extend(stored)
        self.batches.append([e["type"] for e in stored])
        return stored

    async def publish_ephemeral(self, meeting_id: str, event: Event) -> Event:
        message = await super().publish_ephemeral(meeting_id, event)
        self.sent.append(message)
        return message

    def of_type(self, kind: str) -> list[Event]:
        return [e for e in self.sent if e["type"] == kind]

    def transcript_words(self) -> list[str]:
        return [w["word"] for e in self.of_type("transcript") for w in e["segment"]["words"]]


class HubDown(Exception):
    """Which Ray error a flaky actor raises is up to the test (see ``FlakyActor``)."""


@dataclass
class Outage:
    """The next ``calls`` calls of ``method`` fail with ``error``; with ``after_work`` the
    actor does the work first (it stored the event, then died before answering)."""

    method: str
    calls: int
    error: Callable[[], BaseException]
    after_work: bool = False


class FlakyActor:
    """A MeetingHub actor handle over a real ``EventLog``: ``handle.publish.remote(...)``
    awaits the log's method, unless an ``Outage`` says this call fails."""

    def __init__(
        self, log: EventLog, outages: list[Outage], layout: tuple[int, int] = (0, 1)
    ) -> None:
        self.log = log
        self.outages = outages
        self.calls: list[str] = []
        self.hub_layout = layout  # (shard, shards), checked by the client at each lookup

    def __getattr__(self, method: str) -> _RemoteMethod:
        return _RemoteMethod(self, method)

    async def call(self, method: str, *args: Any) -> Any:
        if method == "layout":
            await asyncio.sleep(0)  # a round trip to the actor: other callers run meanwhile
            return self.hub_layout
        self.calls.append(method)
        outage = next((o for o in self.outages if o.method == method and o.calls > 0), None)
        if outage is None:
            return await getattr(self.log, method)(*args)
        outage.calls -= 1
        if outage.after_work:
            await getattr(self.log, method)(*args)
        raise outage.error()


@dataclass
class _RemoteMethod:
    actor: FlakyActor
    method: str

    def remote(self, *args: Any) -> Awaitable[Any]:
        return self.actor.call(self.method, *args)


# ---- metrics ---------------------------------------------------------------------------------


@dataclass
class MetricsLog:
    """What the pipeline recorded, instead of Ray metric objects (unit tests never start Ray)."""

    records: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def named(self, name: str) -> list[tuple[Any, ...]]:
        return [args for n, args in self.records if n == name]

    def install(self, monkeypatch: pytest.MonkeyPatch, module: Any) -> None:
        """Replace ``module``'s imported ``deployments.metrics`` recorders."""

        @contextlib.contextmanager
        def no_stage(_stage: str) -> Iterator[None]:
            yield

        async def untimed(_stage: str, call: Callable[[], Awaitable[Any]]) -> Any:
            return await call()

        for name, stand_in in (("time_stage", no_stage), ("timed", untimed)):
            if hasattr(module, name):  # each module imports the helpers it uses
                monkeypatch.setattr(module, name, stand_in)
        for name in dir(module):
            recorder = getattr(module, name)
            if name.startswith("record_") and recorder.__module__ == "deployments.metrics":
                monkeypatch.setattr(module, name, self._recorder(name))

    def _recorder(self, name: str) -> Callable[..., None]:
        def record(*args: Any) -> None:
            self.records.append((name, args))

        return record


# ---- database --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Meeting:
    db: Database
    meeting_id: str
    job_id: str

    @property
    def url(self) -> str:
        return self.db.url


def migrated_database(directory: Path) -> Path:
    """A migrated, empty SQLite file (copied per test: migrating takes most of a second)."""
    path = directory / "template.db"
    upgrade_database(f"sqlite:///{path}")
    return path


def new_meeting(template: Path, directory: Path, source: str = "upload") -> Meeting:
    """A copy of the migrated ``template`` with one user, one meeting and its queued job."""
    path = directory / "orchestration.db"
    shutil.copyfile(template, path)
    db = Database(f"sqlite:///{path}")
    with db.session() as session:
        user = create_user(session, email="o@example.com", name="O", password_hash="h")
        meeting_id = create_meeting(session, owner_id=user.id, title="Standup").id
        job_id = create_job(session, meeting_id, source=source).id  # type: ignore[arg-type]
    return Meeting(db, meeting_id, job_id)
