"""Deterministic, near-instant stand-ins for the model deployments: the control-plane profile.

``configs/serve_load.yaml`` deploys these under the model deployments' own names, so the Serve
proxy, Ingress, Processor, hub and database do all of their real work while the models cost
almost nothing: hundreds of meetings can load the control plane of a 2-core machine. The text
is made-up words laid over the audio's real speech timing (an energy detector), speakers
alternate by speech run, and a configurable real-time factor stands in for GPU time without
using a core (``asyncio.sleep``). A benchmark and test profile only, never a default: nothing
these deployments return is a transcript of the audio.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np
from ray import serve

from core.speech_tracker import SpeechFrames
from core.types import (
    SAMPLE_RATE,
    ActionItem,
    DiarizationResult,
    Segment,
    SpeakerTurn,
    SummaryResult,
    TranscriptionResult,
    Word,
)
from core.voice_profiles import dominant_voice
from deployments.options import InstantArgs
from processor_api.voices import VoiceEmbedding, VoiceRefusal, VoiceReply, VoiceSample

LEXICON = (
    "we", "should", "ship", "the", "release", "on", "friday", "after", "review", "budget",
    "roadmap", "customer", "feedback", "team", "plan", "next", "sprint", "deadline", "design",
    "update", "meeting", "notes", "action", "item", "owner", "agree", "decide", "schedule",
    "testing", "build", "deploy", "metrics", "latency", "search", "portal", "billing",
)  # fmt: skip
FRAME_S = 0.05
SPEAKERS = 2
EMBEDDING_DIM = 8


@dataclass(frozen=True, slots=True)
class SpeechRun:
    start: float
    end: float


def speech_runs(audio: np.ndarray, args: InstantArgs) -> list[SpeechRun]:
    """Stretches louder than ``args.speech_db``, gaps shorter than ``args.min_gap_s`` bridged."""
    frame = int(SAMPLE_RATE * FRAME_S)
    count = len(audio) // frame
    if count == 0:
        return []
    frames = np.asarray(audio[: count * frame], dtype=np.float32).reshape(count, frame)
    active = np.sqrt(np.mean(frames**2, axis=1)) > 10 ** (args.speech_db / 20)
    runs: list[SpeechRun] = []
    for index in np.flatnonzero(active).tolist():
        start, end = index * FRAME_S, (index + 1) * FRAME_S
        if runs and start - runs[-1].end < args.min_gap_s:
            runs[-1] = SpeechRun(runs[-1].start, end)
        else:
            runs.append(SpeechRun(start, end))
    return [SpeechRun(round(r.start, 2), round(r.end, 2)) for r in runs]


def run_words(run: SpeechRun, words_per_s: float) -> list[Word]:
    """Evenly spaced words over one run; which words depends only on where the run is."""
    count = max(1, round((run.end - run.start) * words_per_s))
    step = (run.end - run.start) / count
    first = int(run.start * 10)
    return [
        Word(
            LEXICON[(first + k) % len(LEXICON)],
            round(run.start + k * step, 2),
            round(run.start + (k + 0.9) * step, 2),
            0.9,
        )
        for k in range(count)
    ]


def instant_transcription(audio: np.ndarray, args: InstantArgs) -> TranscriptionResult:
    words = [w for run in speech_runs(audio, args) for w in run_words(run, args.words_per_s)]
    text = " ".join(w.word for w in words)
    return TranscriptionResult(words, text.capitalize(), "en", len(audio) / SAMPLE_RATE)


def speaker_vector(index: int) -> list[float]:
    """One fixed unit vector per speaker, so meeting-wide linking pairs them consistently."""
    return [1.0 if k == index % EMBEDDING_DIM else 0.0 for k in range(EMBEDDING_DIM)]


def instant_diarization(audio: np.ndarray, args: InstantArgs) -> DiarizationResult:
    runs = speech_runs(audio, args)
    turns = [SpeakerTurn(r.start, r.end, f"SPEAKER_{i % SPEAKERS:02d}") for i, r in enumerate(runs)]
    labels = sorted({t.speaker for t in turns})
    return DiarizationResult(turns, {label: speaker_vector(i) for i, label in enumerate(labels)})


def instant_summary(segments: list[Segment]) -> SummaryResult:
    lines = [s.text for s in segments[:3]]
    summary = " ".join(lines) if lines else "Nothing was said."
    items = [ActionItem(segments[0].text[:60], segments[0].speaker)] if segments else []
    return SummaryResult(summary, items, engine="instant")


async def model_time(audio: np.ndarray, rtf: float) -> None:
    """Stand in for accelerator time: wait, without using a CPU core."""
    if rtf > 0:
        await asyncio.sleep(rtf * len(audio) / SAMPLE_RATE)


@serve.deployment(name="Transcriber")
class InstantTranscriber:
    def __init__(self, args: InstantArgs) -> None:
        self._args = args

    def reconfigure(self, user_config: dict[str, object]) -> None:
        """Accepts (and ignores) the real Transcriber's batching knobs."""

    def is_ready(self) -> bool:
        return True

    async def transcribe(
        self,
        audio: np.ndarray,
        language: str | None = None,
        task: str = "transcribe",
        speech: SpeechFrames | None = None,
    ) -> TranscriptionResult:
        """The real Transcriber's signature (the Processor passes language, task and the
        window's VAD frames positionally); the stand-in words ignore them."""
        await model_time(audio, self._args.transcribe_rtf)
        return instant_transcription(audio, self._args)

    async def transcribe_short(
        self, audio: np.ndarray, language: str | None = None, context: str = ""
    ) -> TranscriptionResult:
        """The real Transcriber's live final of a short utterance: the same stand-in words."""
        return await self.transcribe(audio, language)

    async def hypothesize(self, audio: np.ndarray, language: str | None = None) -> list[Word]:
        """The real Transcriber's quick partial guess: the same stand-in words."""
        await model_time(audio, self._args.transcribe_rtf)
        return instant_transcription(audio, self._args).words

    async def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """The stand-in words are English."""
        await model_time(audio, self._args.transcribe_rtf)
        return "en", 1.0


@serve.deployment(name="Diarizer")
class InstantDiarizer:
    def __init__(self, args: InstantArgs) -> None:
        self._args = args

    def is_ready(self) -> bool:
        return True

    async def diarize(
        self, audio: np.ndarray, speech: SpeechFrames | None = None
    ) -> DiarizationResult:
        await model_time(audio, self._args.diarize_rtf)
        return instant_diarization(audio, self._args)

    async def embed_voice(self, sample: VoiceSample) -> VoiceReply:
        """The real Diarizer's voice enrolment, over the stand-in speakers."""
        voice = dominant_voice(await self.diarize(sample.audio))
        if voice is None:
            return VoiceRefusal("no_speech", "No speech was found in the sample")
        embedding, speech_s = voice
        return VoiceEmbedding("instant", embedding, speech_s)


@serve.deployment(name="Summarizer")
class InstantSummarizer:
    def __init__(self, args: InstantArgs) -> None:
        self._args = args

    def is_ready(self) -> bool:
        return True

    async def summarize(
        self, segments: list[Segment], language: str | None = None
    ) -> SummaryResult:
        if self._args.summary_s > 0:
            await asyncio.sleep(self._args.summary_s)
        return instant_summary(segments)
