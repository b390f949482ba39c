"""Transcriber deployment: faster-whisper, batched across concurrent windows of any meeting."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import numpy as np
from ray import serve

from core.clips import PackedBatch, pack_windows, window_of
from core.types import SAMPLE_RATE, TranscriptionResult, Word
from deployments.options import TranscriberArgs
from deployments.packaged import resolve_model
from deployments.vad import speech_regions

logger = logging.getLogger(__name__)

DEFAULT_MAX_BATCH_SIZE = 4
DEFAULT_BATCH_WAIT_S = 0.05


@serve.deployment(ray_actor_options={"num_cpus": 1}, max_ongoing_requests=32)
class Transcriber:
    def __init__(self, args: TranscriberArgs) -> None:
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        self._args = args
        threads = args.cpu_threads or max(1, os.cpu_count() or 1)
        self._model = WhisperModel(
            resolve_model(args.model),
            device=args.device,
            compute_type=args.compute_type,
            cpu_threads=threads,
        )
        self._pipeline = BatchedInferencePipeline(self._model)
        self._max_batch_size = DEFAULT_MAX_BATCH_SIZE
        logger.info("Transcriber loaded %s on %s", args.model, args.device)

    def reconfigure(self, user_config: dict[str, Any]) -> None:
        """Batching knobs, tunable at run time through the Serve config's ``user_config``."""
        self._max_batch_size = int(user_config.get("max_batch_size", DEFAULT_MAX_BATCH_SIZE))
        wait = float(user_config.get("batch_wait_timeout_s", DEFAULT_BATCH_WAIT_S))
        batcher: Any = self._transcribe_batch  # serve.batch adds the setters at run time
        batcher.set_max_batch_size(self._max_batch_size)
        batcher.set_batch_wait_timeout_s(wait)

    def is_ready(self) -> bool:
        return True

    async def transcribe(self, audio: np.ndarray) -> TranscriptionResult:
        """Transcribe one 16 kHz mono window; times are relative to the window start."""
        result: TranscriptionResult = await self._transcribe_batch(audio)
        return result

    @serve.batch(max_batch_size=DEFAULT_MAX_BATCH_SIZE, batch_wait_timeout_s=DEFAULT_BATCH_WAIT_S)
    async def _transcribe_batch(self, windows: list[np.ndarray]) -> list[TranscriptionResult]:
        return await asyncio.to_thread(self._run_batch, windows)

    def _run_batch(self, windows: list[np.ndarray]) -> list[TranscriptionResult]:
        speech = [speech_regions(w) for w in windows]
        packed = pack_windows(windows, speech)
        words: list[list[Word]] = [[] for _ in windows]
        if packed.clips:
            for segment in self._decode(packed):
                if self._is_hallucination(segment):
                    continue
                index = window_of(segment.start, packed.offsets)
                offset = packed.offsets[index]
                words[index].extend(
                    Word(
                        w.word.strip(),
                        round(float(w.start) - offset, 3),
                        round(float(w.end) - offset, 3),
                        round(float(w.probability), 3),
                    )
                    for w in segment.words or []
                    if w.word.strip()
                )
        return [
            TranscriptionResult(
                words=ws,
                text=" ".join(w.word for w in ws),
                language=self._args.language or "en",
                duration=len(audio) / SAMPLE_RATE,
            )
            for ws, audio in zip(words, windows, strict=True)
        ]

    def _decode(self, packed: PackedBatch) -> list[Any]:
        args = self._args
        segments, _info = self._pipeline.transcribe(
            packed.audio,
            language=args.language,
            beam_size=args.beam_size,
            word_timestamps=True,
            clip_timestamps=[{"start": c.start, "end": c.end} for c in packed.clips],
            batch_size=max(1, min(len(packed.clips), 16)),
            no_speech_threshold=args.no_speech_threshold,
            compression_ratio_threshold=args.compression_ratio_threshold,
            log_prob_threshold=args.log_prob_threshold,
        )
        return list(segments)

    def _is_hallucination(self, segment: Any) -> bool:
        """Whisper's own guards: likely-silence with low confidence, or repetitive text."""
        args = self._args
        silent = (
            segment.no_speech_prob > args.no_speech_threshold
            and segment.avg_logprob < args.log_prob_threshold
        )
        repetitive = segment.compression_ratio > args.compression_ratio_threshold
        return bool(silent or repetitive)
