"""Transcriber deployment: faster-whisper, batched across concurrent windows of any meeting.

One deployment per model: a profile may run a second one (``MultilingualTranscriber``) beside a
fast English-only default; ``core.languages.LanguageRouter`` picks between them per meeting.
A batch may mix languages and tasks (transcribe / translate into English): it is decoded in one
pass per (language, task) group, since Whisper takes both as a prompt for the whole batch.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from ray import serve

from core.clips import (
    Clip,
    PackedBatch,
    pack_windows,
    skipped_spans,
    sparse_clips,
    window_of,
)
from core.languages import ENGLISH
from core.speech_tracker import SpeechFrames
from core.types import SAMPLE_RATE, TranscriptionResult, Word
from core.windowing import Region
from core.word_pieces import join_texts, whole_words
from deployments.cpu_priority import lower_process_priority
from deployments.options import TranscriberArgs
from deployments.packaged import is_local_model, resolve_model
from deployments.quick_decode import (
    FINAL_INPUT_S,
    mean_probability,
    quick_words,
    repeats_itself,
    too_many_words,
)
from deployments.vad import speech_regions

logger = logging.getLogger(__name__)

DEFAULT_MAX_BATCH_SIZE = 4
DEFAULT_BATCH_WAIT_S = 0.05
SHORT_FINAL_MAX_S = 15.0  # longer live windows (merged when behind) take the batched decode
# Below this mean word probability a quick final is more likely noise heard as words ("you"):
# the batched decode, with Whisper's no-speech and compression guards, decides instead.
SHORT_FINAL_MIN_PROB = 0.5
Task = Literal["transcribe", "translate"]


@dataclass(frozen=True, slots=True)
class Request:
    audio: np.ndarray
    language: str | None
    task: Task
    # The window's speech regions, found before the request joined a batch (``transcribe``);
    # None (direct calls): the batch finds them.
    speech: list[Region] | None = None

    def speech_regions(self) -> list[Region]:
        return self.speech if self.speech is not None else speech_regions(self.audio)


def speech_only(audio: np.ndarray) -> np.ndarray:
    """The speech of ``audio`` laid end to end (the detector hears no silence); all of it when
    VAD finds none, so detection never runs on an empty array."""
    parts = [
        audio[round(s * SAMPLE_RATE) : round(e * SAMPLE_RATE)] for s, e in speech_regions(audio)
    ]
    return np.concatenate(parts) if parts else audio


@serve.deployment(max_ongoing_requests=32)
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
            # A packaged or local model must never turn into a hub download.
            local_files_only=is_local_model(args.model),
        )
        self._pipeline = BatchedInferencePipeline(self._model)
        self._max_batch_size = DEFAULT_MAX_BATCH_SIZE
        self._warm_up()
        lower_process_priority(args.cpu_nice)
        logger.info("Transcriber loaded %s on %s", args.model, args.device)

    def _warm_up(self) -> None:
        """Decode a second of silence (a few tokens at most): the first window then does not pay
        for the runtime's first allocations, nor on a GPU for its kernels' first launch."""
        silence = np.zeros(SAMPLE_RATE, np.float32)
        language = self._args.language or ENGLISH
        segments, _ = self._model.transcribe(
            silence, language=language, vad_filter=False, beam_size=1, max_new_tokens=4
        )
        list(segments)

    def reconfigure(self, user_config: dict[str, Any]) -> None:
        """Batching knobs, tunable at run time through the Serve config's ``user_config``."""
        self._max_batch_size = int(user_config.get("max_batch_size", DEFAULT_MAX_BATCH_SIZE))
        wait = float(user_config.get("batch_wait_timeout_s", DEFAULT_BATCH_WAIT_S))
        batcher: Any = self._transcribe_batch  # serve.batch adds the setters at run time
        batcher.set_max_batch_size(self._max_batch_size)
        batcher.set_batch_wait_timeout_s(wait)

    def is_ready(self) -> bool:
        return True

    async def transcribe(
        self,
        audio: np.ndarray,
        language: str | None = None,
        task: Task = "transcribe",
        speech: SpeechFrames | None = None,
    ) -> TranscriptionResult:
        """Transcribe (or translate into English) one 16 kHz mono window; times are relative
        to the window start. ``language`` None uses the profile's default for this model.
        ``speech``: the window's VAD frames, scored by the caller (the Processor sends them
        with upload windows), so this replica's host does not run Silero over the window."""
        if speech is not None:
            speech.matches(audio)
            regions = speech.regions()
        else:
            # Found here, in a thread beside the batch being decoded, not in the batch: there,
            # one window after another, a GPU waited for it (docs/benchmarks.md, "GPU results").
            regions = await asyncio.to_thread(speech_regions, audio)
        return await self._transcribe_found(Request(audio, language, task, regions))

    async def _transcribe_found(self, request: Request) -> TranscriptionResult:
        result: TranscriptionResult = await self._transcribe_batch(request)
        return result

    async def hypothesize(self, audio: np.ndarray, language: str | None = None) -> list[Word]:
        """A quick guess at the words of a short open live utterance (a partial), outside the
        batch: ``deployments/quick_decode.py`` says why it is cheaper and only for partials."""
        return await asyncio.to_thread(
            quick_words, self._model, audio, language or self._args.language
        )

    async def transcribe_short(
        self, audio: np.ndarray, language: str | None = None, context: str = ""
    ) -> TranscriptionResult:
        """A live utterance's final: the quick decode (``deployments/quick_decode.py``) when
        the language is known, the window short and the words do not repeat themselves;
        otherwise the whole-window decode of ``transcribe``. ``context`` is the text said just
        before (the session's last finals), Whisper's previous-text prompt."""
        code = language or self._args.language
        speech = await asyncio.to_thread(speech_regions, audio)
        whole = Request(audio, language, "transcribe", speech)
        if code is None or not speech or len(audio) > SHORT_FINAL_MAX_S * SAMPLE_RATE:
            return await self._transcribe_found(whole)
        words = await asyncio.to_thread(self._quick_final, audio, code, speech, context)
        if not _plausible(words, sum(e - s for s, e in speech)):
            return await self._transcribe_found(whole)
        text = join_texts([w.word for w in words])
        return TranscriptionResult(words, text, code, len(audio) / SAMPLE_RATE)

    def _quick_final(
        self, audio: np.ndarray, language: str, speech: list[Region], context: str
    ) -> list[Word]:
        """The quick decode of the window from its first speech to its last, in window time:
        over leading silence the alignment would start the first word too early."""
        start = round(speech[0][0] * SAMPLE_RATE)
        clip = audio[start : round(speech[-1][1] * SAMPLE_RATE)]
        words = quick_words(self._model, clip, language, context, FINAL_INPUT_S)
        return [w.shifted(start / SAMPLE_RATE) for w in words]

    async def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """The spoken language of ``audio`` (its speech only) and the model's probability."""
        if not self._model.model.is_multilingual:
            raise ValueError(f"{self._args.model} is English-only and cannot detect languages")
        language, probability, _all = await asyncio.to_thread(
            self._model.detect_language, speech_only(audio)
        )
        return str(language), round(float(probability), 4)

    @serve.batch(max_batch_size=DEFAULT_MAX_BATCH_SIZE, batch_wait_timeout_s=DEFAULT_BATCH_WAIT_S)
    async def _transcribe_batch(self, requests: list[Request]) -> list[TranscriptionResult]:
        return await asyncio.to_thread(self._run_batch, requests)

    def _run_batch(self, requests: list[Request]) -> list[TranscriptionResult]:
        groups: dict[tuple[str | None, Task], list[int]] = defaultdict(list)
        for index, request in enumerate(requests):
            groups[(request.language or self._args.language, request.task)].append(index)
        results: list[TranscriptionResult | None] = [None] * len(requests)
        for (language, task), indices in groups.items():
            group = self._run_group([requests[i] for i in indices], language, task)
            for index, result in zip(indices, group, strict=True):
                results[index] = result
        return [r for r in results if r is not None]

    def _run_group(
        self, requests: list[Request], language: str | None, task: Task
    ) -> list[TranscriptionResult]:
        windows = [r.audio for r in requests]
        packed = pack_windows(windows, [r.speech_regions() for r in requests])
        words: list[list[Word]] = [[] for _ in windows]
        detected = language
        if packed.clips:
            segments, info = self._decode(packed, packed.clips, language, task)
            detected = detected or info.language
            for segment in self._redecode_sparse(packed, segments, detected, task):
                index = window_of(segment.start, packed.offsets)
                words[index].extend(self._words(segment, packed.offsets[index]))
            words = self._fill_skipped(packed, words, detected, task)
        return [
            TranscriptionResult(
                words=ws,
                text=join_texts([w.word for w in ws]),
                language=ENGLISH if task == "translate" else (detected or ENGLISH),
                duration=len(audio) / SAMPLE_RATE,
            )
            for ws, audio in zip(words, windows, strict=True)
        ]

    @staticmethod
    def _words(segment: Any, offset: float) -> list[Word]:
        return whole_words(
            [
                Word(
                    w.word,
                    round(float(w.start) - offset, 3),
                    round(float(w.end) - offset, 3),
                    round(float(w.probability), 3),
                )
                for w in segment.words or []
            ]
        )

    def _redecode_sparse(
        self, packed: PackedBatch, segments: list[Any], language: str | None, task: Task
    ) -> list[Any]:
        """The kept segments, with clips the first pass ended early (``sparse_clips``)
        decoded again with timestamp tokens, which keep Whisper going to the clip's end; the
        second decode replaces the first where it found more words."""
        kept = self._without_hallucinations(segments)
        sparse = sparse_clips(packed, [w.start for s in kept for w in s.words or []])
        if not sparse:
            return kept
        again = self._without_hallucinations(
            self._decode(packed, sparse, language, task, timestamps=True)[0]
        )
        logger.info("decoded %d clips again with timestamps (too few words)", len(sparse))
        for clip in sparse:
            before = [s for s in kept if _within(s, clip.start, clip.end)]
            after = [s for s in again if _within(s, clip.start, clip.end)]
            if _word_count(after) > _word_count(before):
                kept = [s for s in kept if s not in before] + after
        return sorted(kept, key=lambda s: s.start)

    def _fill_skipped(
        self, packed: PackedBatch, words: list[list[Word]], language: str | None, task: Task
    ) -> list[list[Word]]:
        """Each window's words with the speech Whisper skipped (``skipped_spans``) decoded again
        region by region; a span's new words replace its old ones where there are more of them
        and they are not a loop."""
        starts = [packed.offsets[i] + w.start for i, ws in enumerate(words) for w in ws]
        spans = skipped_spans(packed, starts)
        if not spans:
            return words
        clips = [clip for span in spans for clip in span]
        again = self._without_hallucinations(self._decode(packed, clips, language, task)[0])
        logger.info("decoded %d skipped speech spans again", len(spans))
        for span in spans:
            window, offset = span[0].window, packed.offsets[span[0].window]
            lo, hi = span[0].start, span[-1].end
            new = [w for s in again if _within(s, lo, hi) for w in self._words(s, offset)]
            inside = [lo <= w.start + offset < hi for w in words[window]]
            speech_s = sum(c.end - c.start for c in span)
            if len(new) > sum(inside) and not too_many_words(new, speech_s):
                kept = [w for w, within in zip(words[window], inside, strict=True) if not within]
                words[window] = sorted([*kept, *new], key=lambda w: w.start)
        return words

    def _decode(
        self,
        packed: PackedBatch,
        clips: list[Clip],
        language: str | None,
        task: Task,
        timestamps: bool = False,
    ) -> tuple[list[Any], Any]:
        args = self._args
        segments, info = self._pipeline.transcribe(
            packed.audio,
            language=language,
            task=task,
            beam_size=args.beam_size,
            word_timestamps=True,
            without_timestamps=not timestamps,
            clip_timestamps=[{"start": c.start, "end": c.end} for c in clips],
            batch_size=max(1, min(len(clips), 16)),
            no_speech_threshold=args.no_speech_threshold,
            compression_ratio_threshold=args.compression_ratio_threshold,
            log_prob_threshold=args.log_prob_threshold,
        )
        return list(segments), info

    def _without_hallucinations(self, segments: list[Any]) -> list[Any]:
        return [s for s in segments if not self._is_hallucination(s)]

    def _is_hallucination(self, segment: Any) -> bool:
        """Whisper's own guards: likely-silence with low confidence, or repetitive text."""
        args = self._args
        silent = (
            segment.no_speech_prob > args.no_speech_threshold
            and segment.avg_logprob < args.log_prob_threshold
        )
        repetitive = segment.compression_ratio > args.compression_ratio_threshold
        return bool(silent or repetitive)


def _within(segment: Any, start: float, end: float) -> bool:
    """Whether a decoded segment belongs to the clip ``start``-``end``: by its middle, since
    faster-whisper rounds a segment's start (0.44) ahead of its clip's (0.444)."""
    return start <= (segment.start + segment.end) / 2 < end


def _word_count(segments: list[Any]) -> int:
    return sum(len(s.words or []) for s in segments)


def _plausible(words: list[Word], speech_s: float) -> bool:
    """A quick final worth keeping: some words, no loop, not unsure on average."""
    return (
        bool(words)
        and not repeats_itself(words)
        and not too_many_words(words, speech_s)
        and mean_probability(words) >= SHORT_FINAL_MIN_PROB
    )
