"""LiveSession partials without Ray: the real session, hub logic (EventLog) and database, with
the models and the VAD replaced at the edge by deterministic fakes.

The fake VAD calls any sample louder than 0.1 speech; the fake transcriber "hears" one word per
0.4 s of loud audio it is given, so successive decodes of a growing utterance agree on their
prefix the way Whisper's mostly do.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.types import (
    SAMPLE_RATE,
    DiarizationResult,
    SpeakerTurn,
    SummaryResult,
    TranscriptionResult,
    Word,
)
from deployments import live
from deployments.job_state import JobState, Models
from deployments.live import LiveSession
from deployments.partials import PartialBudget
from persistence import Database, create_job
from rooms.hub import EventLog
from settings.config import Settings
from tests.unit.orchestration.fakes import RegionsVad
from tests.unit.rooms.conftest import JWT_SECRET, add_member

CHUNK = SAMPLE_RATE // 10  # 100 ms frames, as the browser and the benchmark send


def fake_speech_regions(
    audio: np.ndarray, min_silence_ms: int = 0, pad_ms: int = 0
) -> list[tuple[float, float]]:
    loud = np.flatnonzero(np.abs(audio) > 0.1)
    if loud.size == 0:
        return []
    regions, start, last = [], loud[0], loud[0]
    gap = max(min_silence_ms, 100) * SAMPLE_RATE // 1000
    for i in loud[1:]:
        if i - last > gap:
            regions.append((start / SAMPLE_RATE, last / SAMPLE_RATE))
            start = i
        last = i
    regions.append((start / SAMPLE_RATE, last / SAMPLE_RATE))
    return regions


async def fake_transcribe(
    audio: np.ndarray,
    _language: str | None = None,
    _task: str = "transcribe",
    _speech: object = None,
) -> TranscriptionResult:
    await asyncio.sleep(0.005)
    words = []
    for start, end in fake_speech_regions(audio, 400):
        t = start
        while t + 0.4 <= end + 0.05:
            words.append(Word(f"w{round(t * 10)}", round(t, 3), round(t + 0.35, 3)))
            t += 0.4
    return TranscriptionResult(words=words, text=" ".join(w.word for w in words))


async def no_detection(_audio: np.ndarray) -> tuple[str, float]:
    raise AssertionError("these meetings have a set language")


def never_translate(_language: str) -> bool:
    return False


async def fake_diarize(audio: np.ndarray, _speech: object = None) -> DiarizationResult:
    return DiarizationResult([SpeakerTurn(0.0, len(audio) / SAMPLE_RATE, "A")], {"A": [1.0, 0.0]})


async def fake_summarize(segments: Any, _language: str | None = None) -> SummaryResult:
    return SummaryResult(summary="ok")


class RecordingHub(EventLog):
    def __init__(self, database_url: str) -> None:
        super().__init__(database_url)
        self.sent: list[dict[str, Any]] = []

    async def publish_many(
        self, meeting_id: str, events: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        stored = await super().publish_many(meeting_id, events)
        self.sent.extend(stored)
        return stored

    async def publish_ephemeral(self, meeting_id: str, event: dict[str, Any]) -> dict[str, Any]:
        message = await super().publish_ephemeral(meeting_id, event)
        self.sent.append(message)
        return message


FAKE_MODELS = Models(fake_transcribe, fake_diarize, fake_summarize, no_detection, never_translate)


@pytest.fixture
def models() -> Models:
    """The session's models; a test overrides this fixture to script them differently."""
    return FAKE_MODELS


@pytest.fixture
async def session_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, models: Models
) -> AsyncIterator[tuple[LiveSession, RecordingHub]]:
    monkeypatch.setattr(live, "BufferVad", lambda: RegionsVad(fake_speech_regions))
    url = f"sqlite:///{tmp_path / 'live.db'}"
    settings = Settings(
        environment="test", data_dir=tmp_path, database_url=url, jwt_secret=JWT_SECRET
    )
    from persistence import upgrade_database

    upgrade_database(url)
    member = add_member(url, settings, "live@example.com")
    db = Database(url)
    with db.session() as s:
        job_id = create_job(s, member.meeting_id, source="live").id
    hub = RecordingHub(url)
    session = LiveSession(
        JobState(job_id=job_id, meeting_id=member.meeting_id),
        models,
        hub,
        db,
        session_id="s1",
        partial_every_s=0.5,
        partial_budget=PartialBudget(4),
    )
    yield session, hub
    db.dispose()


def utterance(speech_s: float, pause_s: float) -> np.ndarray:
    """A 200 Hz square wave at 0.5 (a constant would be a DC offset, which the session removes)."""
    samples = np.arange(int(speech_s * SAMPLE_RATE))
    loud = np.where(samples // 40 % 2, 0.5, -0.5).astype(np.float32)
    return np.concatenate([loud, np.zeros(int(pause_s * SAMPLE_RATE), dtype=np.float32)])


async def stream(session: LiveSession, audio: np.ndarray) -> None:
    pcm = (audio * 32767).astype("<i2").tobytes()
    for offset in range(0, len(pcm), CHUNK * 2):
        session.feed(pcm[offset : offset + CHUNK * 2])
        await asyncio.sleep(0.01)  # let the worker run between frames, as a socket would


async def test_partials_grow_during_an_utterance_and_the_final_shares_their_segment_id(
    session_parts: tuple[LiveSession, RecordingHub],
) -> None:
    session, hub = session_parts
    await session.open()
    await stream(session, np.concatenate([utterance(3.0, 1.0), utterance(2.5, 1.0)]))
    await session.stop()
    kinds = [
        (e["type"], e.get("segment_id") or e.get("segment", {}).get("segment_id")) for e in hub.sent
    ]
    partial_ids = [sid for kind, sid in kinds if kind == "transcript_partial"]
    final_ids = [sid for kind, sid in kinds if kind == "transcript"]
    assert final_ids == [session.segment_id(0), session.segment_id(1)]
    assert set(partial_ids) == set(final_ids)
    for sid in final_ids:  # every partial of an utterance comes before its final
        last_partial = max(
            i for i, (k, s) in enumerate(kinds) if k == "transcript_partial" and s == sid
        )
        assert last_partial < kinds.index(("transcript", sid))
    first = [e for e in hub.sent if e.get("segment_id") == session.segment_id(0)]
    assert [e["revision"] for e in first] == list(range(len(first)))
    stable = [[w["word"] for w in e["words"]] for e in first]
    assert all(later[: len(earlier)] == earlier for earlier, later in itertools.pairwise(stable))
    assert len(stable[-1]) >= 4  # most of the 3 s utterance was shown before its final
    assert all("seq" not in e for e in first)
    assert hub.sent[-1]["status"] == "completed"


async def test_no_partials_when_the_budget_is_spent(
    session_parts: tuple[LiveSession, RecordingHub],
) -> None:
    session, hub = session_parts
    session._budget = PartialBudget(0)
    await session.open()
    await stream(session, utterance(3.0, 1.0))
    await session.stop()
    assert not [e for e in hub.sent if e["type"] == "transcript_partial"]
    assert [e["type"] for e in hub.sent].count("transcript") == 1


async def test_leading_silence_dropped_mid_utterance_keeps_the_shown_words(
    session_parts: tuple[LiveSession, RecordingHub],
) -> None:
    session, hub = session_parts
    await session.open()
    silence = np.zeros(int(1.4 * SAMPLE_RATE), dtype=np.float32)
    await stream(session, np.concatenate([silence, utterance(3.0, 1.0)]))
    await session.stop()
    partials = [e for e in hub.sent if e["type"] == "transcript_partial"]
    assert {e["segment_id"] for e in partials} == {session.segment_id(0)}
    stable = [[(w["word"], w["start"]) for w in e["words"]] for e in partials]
    assert all(later[: len(earlier)] == earlier for earlier, later in itertools.pairwise(stable))
    assert stable[-1] and stable[-1][0][1] == pytest.approx(1.4, abs=0.15)  # meeting time
    assert not any(e["text"] == "" and not e["pending_text"] for e in partials)  # no withdrawal


FULL_CALLS: list[float] = []
QUICK_CALLS: list[float] = []


async def counted_transcribe(
    audio: np.ndarray, language: str | None, task: str, _speech: object = None
) -> TranscriptionResult:
    FULL_CALLS.append(len(audio) / SAMPLE_RATE)
    return await fake_transcribe(audio, language, task)


async def counted_hypothesize(audio: np.ndarray, language: str | None) -> list[Word]:
    QUICK_CALLS.append(len(audio) / SAMPLE_RATE)
    return (await fake_transcribe(audio)).words


def counted_models(live_final: Any = None) -> Models:
    """Models that count whole-window decodes (FULL_CALLS) and quick guesses (QUICK_CALLS)."""
    return Models(
        counted_transcribe,
        fake_diarize,
        fake_summarize,
        no_detection,
        never_translate,
        counted_hypothesize,
        live_final,
    )


@pytest.mark.parametrize("models", [counted_models()])
async def test_partials_use_the_quick_hypothesis_and_finals_the_full_decode(
    session_parts: tuple[LiveSession, RecordingHub],
) -> None:
    session, hub = session_parts
    FULL_CALLS.clear()
    QUICK_CALLS.clear()
    await session.open()
    await stream(session, np.concatenate([utterance(3.0, 1.0), utterance(2.5, 1.0)]))
    await session.stop()
    assert len(FULL_CALLS) == 2  # one whole-window decode per utterance, nothing else
    assert len(QUICK_CALLS) >= 4 and all(d < 4.0 for d in QUICK_CALLS)
    partials = [e for e in hub.sent if e["type"] == "transcript_partial"]
    assert {e["segment_id"] for e in partials} == {session.segment_id(0), session.segment_id(1)}


CONTEXTS: list[str] = []


async def final_with_context(
    audio: np.ndarray, language: str | None, context: str
) -> TranscriptionResult:
    CONTEXTS.append(context)
    return await fake_transcribe(audio, language)


@pytest.mark.parametrize("models", [counted_models(final_with_context)])
async def test_each_live_final_is_decoded_after_the_text_of_the_finals_before_it(
    session_parts: tuple[LiveSession, RecordingHub],
) -> None:
    session, hub = session_parts
    CONTEXTS.clear()
    FULL_CALLS.clear()
    await session.open()
    await stream(session, np.concatenate([utterance(2.0, 1.0), utterance(1.2, 1.0)]))
    await stream(session, utterance(1.6, 1.0))
    await session.stop()
    texts = [e["segment"]["text"] for e in hub.sent if e["type"] == "transcript"]
    assert len(texts) == 3 and not FULL_CALLS  # finals take the live path only
    assert CONTEXTS[1:] == [texts[0], f"{texts[0]} {texts[1]}"] and not CONTEXTS[0]


def paused_after(word: Word, audio: np.ndarray) -> bool:
    """A silence begins within 0.3 s of ``word``'s end (the fake's words end before their
    speech does) and lasts 0.15 s, or to the end of the audio."""
    quiet = np.abs(audio) <= 0.1
    end = round(word.end * SAMPLE_RATE)
    starts = np.flatnonzero(quiet[end : end + round(0.3 * SAMPLE_RATE)])
    if not starts.size:
        return False
    start = end + int(starts[0])
    return bool(np.all(quiet[start : start + round(0.15 * SAMPLE_RATE)]))


def full_stop(word: Word) -> Word:
    return Word(word.word + ".", word.start, word.end)


async def sentence_hypothesize(audio: np.ndarray, _language: str | None) -> list[Word]:
    """Every pause ends a sentence: turns that follow each other after a short pause."""
    words = (await fake_transcribe(audio)).words
    return [full_stop(w) if paused_after(w, audio) else w for w in words]


async def run_on_hypothesis(audio: np.ndarray, _language: str | None) -> list[Word]:
    """A pause inside one sentence; like Whisper, it still ends audio that stops in the
    pause with a full stop (what the next words settle)."""
    words = (await fake_transcribe(audio)).words
    if words and paused_after(words[-1], audio):
        words[-1] = full_stop(words[-1])
    return words


def with_hypothesis(hypothesize: Any) -> Models:
    return Models(
        fake_transcribe, fake_diarize, fake_summarize, no_detection, never_translate, hypothesize
    )


def final_ids(hub: RecordingHub) -> list[str]:
    return [e["segment"]["segment_id"] for e in hub.sent if e["type"] == "transcript"]


@pytest.mark.parametrize(
    ("models", "first_s", "cut_early"),
    [
        (with_hypothesis(sentence_hypothesize), 2.0, True),
        (with_hypothesis(sentence_hypothesize), 0.6, True),
        (with_hypothesis(run_on_hypothesis), 2.0, False),
    ],
    ids=["turn-ends", "one-word-turn", "pause-inside-a-sentence"],
)
async def test_a_short_pause_ends_an_utterance_only_after_a_finished_sentence(
    session_parts: tuple[LiveSession, RecordingHub], first_s: float, cut_early: bool
) -> None:
    """0.25 s is under MIN_PAUSE_S; a one-word turn is also under the windows' target_s."""
    session, hub = session_parts
    await session.open()
    await stream(session, np.concatenate([utterance(first_s, 0.25), utterance(0.6, 0.0)]))
    assert bool(session._pending or final_ids(hub)) == cut_early  # the next turn just began
    await stream(session, utterance(1.6, 1.0))
    await session.stop()
    finals = [0, 1] if cut_early else [0]
    assert final_ids(hub) == [session.segment_id(i) for i in finals]


DIARIZED: list[float] = []


async def recording_diarize(audio: np.ndarray, _speech: object = None) -> DiarizationResult:
    DIARIZED.append(len(audio) / SAMPLE_RATE)
    return await fake_diarize(audio)


@pytest.mark.parametrize(
    "models",
    [Models(fake_transcribe, recording_diarize, fake_summarize, no_detection, never_translate)],
)
async def test_a_window_is_diarized_with_the_audio_before_it_and_keeps_its_own_turns(
    session_parts: tuple[LiveSession, RecordingHub],
) -> None:
    session, hub = session_parts
    DIARIZED.clear()
    await session.open()
    await stream(session, np.concatenate([utterance(3.0, 1.0), utterance(2.0, 1.0)]))
    await session.stop()
    first, second = DIARIZED
    assert second > first + 2.0  # the second utterance came with the audio before it
    assert second <= live.DIARIZE_LEAD_S + 3.5
    segments = [e["segment"] for e in hub.sent if e["type"] == "transcript"]
    assert segments[1]["start"] >= segments[0]["end"]  # its turns are its own, in meeting time


async def test_the_pause_before_a_turn_that_already_began_is_cut_after_a_finished_sentence(
    session_parts: tuple[LiveSession, RecordingHub],
) -> None:
    """Only a hypothesis that heard the words after the pause decides: the cut goes between."""
    session, _hub = session_parts
    audio = np.concatenate([utterance(2.0, 0.25), utterance(0.5, 0.0)])
    session._buffer = audio
    buffered = len(audio) / SAMPLE_RATE
    words = [Word("Done", 1.2, 1.6), Word("here.", 1.6, 1.99), Word("And", 2.26, 2.5)]
    session._utterance.update(words[:2], heard_s=2.2)  # stopped in the pause: cannot tell
    assert session._sentence_end(buffered) is None and session._probe
    session._utterance.update(words, heard_s=buffered)
    cut = session._sentence_end(buffered)
    assert cut is not None and 2.0 < cut < 2.25
    session._utterance.update([*words[:1], Word("here", 1.6, 1.99), words[2]], heard_s=buffered)
    assert session._sentence_end(buffered) is None  # no full stop before the pause: no cut


def test_a_sentence_followed_by_silence_ends_at_the_ordinary_pause(
    session_parts: tuple[LiveSession, RecordingHub],
) -> None:
    """A one-word turn ("Yes.") and then silence: cut once the pause reaches MIN_PAUSE_S,
    though the utterance is shorter than the windows' target_s."""
    session, _hub = session_parts
    words = [Word("Yes.", 0.0, 0.5)]
    session._buffer = utterance(0.5, 0.25)
    session._utterance.update(words, heard_s=0.75)
    assert session._sentence_end(0.75) is None  # 0.25 s of silence may still be a breath
    session._buffer = utterance(0.5, 0.4)
    session._utterance.update(words, heard_s=0.9)
    cut = session._sentence_end(0.9)
    assert cut is not None and 0.5 < cut < 0.9
