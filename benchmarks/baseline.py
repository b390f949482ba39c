"""Whole-file baseline: plain faster-whisper + the embedded diarizer over the whole file.

No windows, no Serve, no WebSocket: the same packaged model, compute type, decoding options and
hallucination guards as the profile's Transcriber, and the same Diarizer class called directly
on the whole file. Comparing the platform with this shows what windowing, streaming and serving
cost (or save). A baseline user sees nothing until the whole file is done, so its time to first
segment is its whole-file time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.alignment import align_words
from core.types import Segment, SpeakerTurn, Word
from deployments.options import DiarizerArgs, TranscriberArgs
from deployments.packaged import resolve_model
from scripts.synth_meeting import MeetingAudio

logger = logging.getLogger(__name__)
BATCH_SIZE = 16  # the Transcriber's upper bound on clips decoded together


@dataclass(frozen=True)
class BaselineTiming:
    meeting: str
    duration_s: float
    load_s: float  # model loading, excluded from the figures below
    asr_s: float
    diarization_s: float
    wall_s: float  # asr + diarization + alignment: also the time to first segment
    rtf: float


@dataclass
class BaselineOutput:
    timing: BaselineTiming
    segments: list[Segment]


class WholeFileBaseline:
    """Models loaded once, reused for every meeting of a benchmark invocation."""

    def __init__(self, transcriber: TranscriberArgs, diarizer: DiarizerArgs) -> None:
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        from deployments.diarizer import Diarizer

        started = time.perf_counter()
        self._args = transcriber
        self._model = WhisperModel(
            resolve_model(transcriber.model),
            device=transcriber.device,
            compute_type=transcriber.compute_type,
            cpu_threads=transcriber.cpu_threads or max(1, os.cpu_count() or 1),
        )
        self._pipeline = BatchedInferencePipeline(self._model)
        # The deployment's own class, constructed directly: no Serve involved.
        deployment: Any = Diarizer
        self._diarizer: Any = deployment.func_or_class(diarizer)
        self.load_s = time.perf_counter() - started

    def run(self, meeting: MeetingAudio) -> BaselineOutput:
        audio = meeting.load_audio()
        started = time.perf_counter()
        words = self.transcribe(audio)
        asr_done = time.perf_counter()
        turns = self.diarize(audio)
        diarized = time.perf_counter()
        segments = align_words(words, turns, window=0, window_offset=0.0)
        wall = time.perf_counter() - started
        timing = BaselineTiming(
            meeting=meeting.directory.name,
            duration_s=round(meeting.duration, 3),
            load_s=round(self.load_s, 3),
            asr_s=round(asr_done - started, 4),
            diarization_s=round(diarized - asr_done, 4),
            wall_s=round(wall, 4),
            rtf=round(wall / meeting.duration, 5),
        )
        logger.info("baseline %s", timing)
        return BaselineOutput(timing, segments)

    def transcribe(self, audio: np.ndarray) -> list[Word]:
        args = self._args
        segments, _info = self._pipeline.transcribe(
            audio,
            language=args.language,
            beam_size=args.beam_size,
            word_timestamps=True,
            batch_size=BATCH_SIZE,
            no_speech_threshold=args.no_speech_threshold,
            compression_ratio_threshold=args.compression_ratio_threshold,
            log_prob_threshold=args.log_prob_threshold,
        )
        return [
            Word(w.word.strip(), float(w.start), float(w.end), float(w.probability))
            for segment in segments
            if not is_hallucination(segment, args)
            for w in segment.words or []
            if w.word.strip()
        ]

    def diarize(self, audio: np.ndarray) -> list[SpeakerTurn]:
        result = asyncio.run(self._diarizer.diarize(audio))
        turns: list[SpeakerTurn] = result.turns
        return turns


def is_hallucination(segment: Any, args: TranscriberArgs) -> bool:
    """The Transcriber's guards: likely silence with low confidence, or repetitive text."""
    silent = (
        segment.no_speech_prob > args.no_speech_threshold
        and segment.avg_logprob < args.log_prob_threshold
    )
    return bool(silent or segment.compression_ratio > args.compression_ratio_threshold)


def baseline_ratios(platform_latency: dict[str, Any], baseline: BaselineTiming) -> dict[str, Any]:
    """Platform / baseline: below 1 means the platform is faster than the whole-file run."""
    ttfs = platform_latency.get("ttfs_s")
    rtf = platform_latency.get("rtf")
    return {
        "meeting": baseline.meeting,
        "rtf_ratio": round(rtf / baseline.rtf, 3) if rtf else None,
        "ttfs_ratio": round(ttfs / baseline.wall_s, 4) if ttfs else None,
    }
