"""One processing job: decode → windows → (diarize ∥ transcribe) per window → ordered publication
→ summary → completed. Runs inside the Processor deployment.

Windows are processed concurrently up to a bound, but published strictly in order: a window's
segments go out the moment it *and every earlier window* are done, so clients see final,
media-time-ordered segments seconds after an upload starts. Speaker linking happens at
publication time for the same reason: it must see windows in order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from core.alignment import align_words
from core.audio import AudioDecodeError
from core.audio_formats import DecodeLimits
from core.languages import language_name
from core.llm_prompts import SummarizationError
from core.meeting_language import MeetingLanguage
from core.speakers import SpeakerRegistry, relabel
from core.translation import TranslatedSpan, attach_translations, span_audio
from core.types import DiarizationResult, Segment, SummaryResult, TranscriptionResult
from core.windowing import Window, WindowOptions
from deployments.failures import JobFailedError, public_failure
from deployments.job_resume import (
    missing_from_room,
    republish_missing,
    resume_state,
    segment_event_id,
    stored_segments,
)
from deployments.metrics import (
    record_error,
    record_job_outcome,
    record_real_time_factor,
    record_time_to_first_segment,
    record_windows_processed,
    time_stage,
    timed,
)
from deployments.speaker_naming import SpeakerNaming
from deployments.window_source import PlannedWindow, WindowSource
from persistence import Database, clear_transcript, save_segments, save_summary, set_meeting_status
from persistence.languages import LanguageSettings, get_language_settings, record_detected_language
from persistence.leases import LeaseLostError, commit_window, owns_job
from persistence.records import update_job
from rooms.hub import HubClient
from rooms.messages import JobStatus, Stage
from rooms.publish import (
    publish_error,
    publish_segment,
    publish_status,
    publish_summary,
    summary_fields,
)
from webhooks.outbox import enqueue_event

logger = logging.getLogger(__name__)

# (audio, language or None for the profile default, "transcribe" | "translate")
Transcribe = Callable[[np.ndarray, str | None, str], Awaitable[TranscriptionResult]]
Diarize = Callable[[np.ndarray], Awaitable[DiarizationResult]]
Summarize = Callable[[list[Segment], str | None], Awaitable[SummaryResult]]
Detect = Callable[[np.ndarray], Awaitable[tuple[str, float]]]


@dataclass(frozen=True)
class Models:
    transcribe: Transcribe
    diarize: Diarize
    summarize: Summarize
    detect: Detect
    # whether speech in a language can be translated into English by a loaded model
    can_translate: Callable[[str], bool]


@dataclass
class WindowResult:
    window: Window
    transcription: TranscriptionResult
    diarization: DiarizationResult
    translations: list[TranslatedSpan] = field(default_factory=list)


@dataclass
class JobState:
    job_id: str
    meeting_id: str
    windows: list[Window] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    registry: SpeakerRegistry = field(default_factory=SpeakerRegistry)
    published: int = 0
    started: float = field(default_factory=time.monotonic)
    first_segment_s: float | None = None
    language: MeetingLanguage = field(default_factory=MeetingLanguage)
    # Ownership (persistence/leases.py): the replica that must still own the job to store a window
    # (None: unfenced), and whether it continues a job another replica started.
    owner_id: str | None = None
    resumed: bool = False


def store_summary(session: Session, meeting_id: str, summary: SummaryResult) -> None:
    """Save a summary and queue its ``summary`` webhook event in the same transaction."""
    fields = summary_fields(summary)
    save_summary(session, meeting_id, fields, summary.engine)
    enqueue_event(session, meeting_id, "summary", {"summary": fields, "engine": summary.engine})


def enqueue_failed(session: Session, meeting_id: str, job_id: str, message: str, code: str) -> None:
    data = {"job_id": job_id, "error": message, "code": code}
    enqueue_event(session, meeting_id, "failed", data)


class JobRecorder:
    """What every job does with a finished window and how a job ends: link speakers, align,
    persist and publish in order, then the summary and the terminal status. Upload jobs (below)
    and live sessions (``deployments/live.py``) share it."""

    # Windows whose language is still tried when a detection is unsure (short live utterances).
    detection_attempts = 1

    def __init__(
        self,
        state: JobState,
        models: Models,
        hub: HubClient,
        db: Database,
        naming: SpeakerNaming | None = None,
    ) -> None:
        self.state = state
        self._models = models
        self._hub = hub
        self._db = db
        self._naming = naming

    async def run_window(self, audio: np.ndarray, window: Window) -> WindowResult:
        """Diarize and transcribe one window concurrently (``audio`` is the window's own), and
        translate its speech when the meeting asks for captions."""
        language = self.state.language
        if language.detecting:
            await self._detect_language(audio)
        transcription, diarization = await asyncio.gather(
            timed(
                "transcription",
                lambda: self._models.transcribe(audio, language.code, "transcribe"),
            ),
            timed("diarization", lambda: self._models.diarize(audio)),
        )
        result = WindowResult(window, transcription, diarization)
        if language.wants_translation(self._models.can_translate):
            with time_stage("translation"):
                result.translations = await self._translate(audio, result)
        return result

    async def _detect_language(self, audio: np.ndarray) -> None:
        language = self.state.language
        with time_stage("language_detection"):
            code, probability = await self._models.detect(audio)
        language.observe(code, probability, self.detection_attempts)
        if language.detecting:
            return  # unsure on little speech: this window uses the guess, the next one retries
        await self._announce_language()

    async def _announce_language(self) -> None:
        """Store the settled detection on the meeting and tell the room."""
        language = self.state.language
        code, probability = language.code or "", language.probability or 0.0
        logger.info("meeting %s: language %s (p=%.2f)", self.state.meeting_id, code, probability)
        await asyncio.to_thread(
            self._db_write, record_detected_language, self.state.meeting_id, code, probability
        )
        await self.status(
            "processing",
            "transcription",
            f"Detected language: {language_name(code)}",
            None,
            language=code,
            language_probability=probability,
            language_source="detected",
        )

    async def _settle_language(self) -> None:
        """A session that ended while still unsure keeps its last guess as the detection."""
        language = self.state.language
        if language.detecting and language.code is not None:
            language.observe(language.code, language.probability or 0.0, max_attempts=0)
            await self._announce_language()

    async def _translate(self, audio: np.ndarray, result: WindowResult) -> list[TranslatedSpan]:
        """English for each provisional speaker span, batched by the Transcriber like any
        window (``core/translation.py`` says why provisional spans are enough)."""
        window, code = result.window, self.state.language.code
        spans = align_words(
            result.transcription.words, result.diarization.turns, window.index, window.start
        )
        clips = [span_audio(audio, window.start, s.start, s.end) for s in spans]
        translated = await asyncio.gather(
            *(self._models.transcribe(clip, code, "translate") for clip in clips)
        )
        return [
            TranslatedSpan(s.start, s.end, t.text) for s, t in zip(spans, translated, strict=True)
        ]

    async def publish_window(
        self, result: WindowResult, segment_id: str | None = None
    ) -> list[Segment]:
        """Link, align, store and publish one window; call in window order. ``segment_id``
        (live sessions) ties the window's segments to the partials they replace."""
        state, window = self.state, result.window
        with time_stage("speaker_linking"):
            mapping = state.registry.link_diarization(result.diarization)
            turns = relabel(result.diarization.turns, mapping)
        with time_stage("alignment"):
            segments = align_words(result.transcription.words, turns, window.index, window.start)
            segments = attach_translations(segments, result.translations)
            for segment in segments:
                segment.segment_id = segment_id
        with time_stage("persistence"):
            await asyncio.to_thread(self._store_window, segments, window)
        for segment in segments:
            await publish_segment(
                self._hub, state.meeting_id, segment, segment_event_id(state.job_id, segment)
            )
            if state.first_segment_s is None:
                state.first_segment_s = time.monotonic() - state.started
                record_time_to_first_segment(state.first_segment_s)
        state.segments.extend(segments)
        if self._naming is not None:
            with time_stage("speaker_linking"):
                await self._naming.after_window(state.registry, result.diarization.backend)
        state.published += 1
        record_windows_processed()
        return segments

    async def start(self, windows_total: int | None) -> None:
        settings = await asyncio.to_thread(self._start_in_db, windows_total)
        self.state.language = MeetingLanguage.start(settings.language, settings.translate_to)

    async def resume(self, windows_total: int | None) -> None:
        """Continue a job another replica started (``job_resume.py``): keep its transcript,
        publish what it stored but had not published, and go on after its last window."""
        state = self.state
        settings = await asyncio.to_thread(self._resume_in_db, windows_total)
        if state.published == 0:  # nothing stored yet: the language decision starts afresh
            state.language = MeetingLanguage.start(settings.language, settings.translate_to)
        state.segments = await asyncio.to_thread(stored_segments, self._db, state)
        missing = await asyncio.to_thread(missing_from_room, self._db, state, state.segments)
        await republish_missing(self._hub, state, missing)
        logger.info(
            "meeting %s job %s: resumed after %d window(s)",
            state.meeting_id,
            state.job_id,
            state.published,
        )

    async def finish(self, duration: float) -> None:
        state = self.state
        await self._settle_language()
        if self._naming is not None:
            with time_stage("speaker_linking"):
                await self._naming.reattribute(state.registry)
        await self.status("processing", "summarization", "Summarizing the meeting...", 0.9)
        with time_stage("summarization"):
            summary = await self._summarize(state.segments, state.language.code)
        await asyncio.to_thread(self._summary_in_db, summary)
        await publish_summary(self._hub, state.meeting_id, summary)
        await asyncio.to_thread(self._complete_in_db, duration)
        await self.status("completed", "done", "Meeting processing completed!", 1.0)
        record_job_outcome("completed")
        record_real_time_factor(time.monotonic() - state.started, duration)
        logger.info(
            "meeting %s job %s completed: %d windows, %d segments, first segment after %.2fs",
            state.meeting_id,
            state.job_id,
            state.published,
            len(state.segments),
            state.first_segment_s or -1,
        )

    async def fail(self, message: str, code: str) -> None:
        if not await asyncio.to_thread(self._still_owner):
            logger.warning(
                "job %s: not failing it (%s): another replica owns it", self.state.job_id, code
            )
            return
        record_job_outcome("failed")
        record_error(code)
        try:
            await publish_error(self._hub, self.state.meeting_id, message, code)
            await self.status("failed", "done", message, None)
        finally:
            await asyncio.to_thread(self._fail_in_db, message, code)

    async def status(
        self,
        status: JobStatus,
        stage: Stage,
        message: str,
        progress: float | None,
        **extra: float | int | str,
    ) -> None:
        details = {"progress": round(progress, 4)} if progress is not None else {}
        await publish_status(
            self._hub,
            self.state.meeting_id,
            status,
            stage,
            message,
            job_id=self.state.job_id,
            **details,
            **extra,
        )

    async def _summarize(self, segments: list[Segment], language: str | None) -> SummaryResult:
        if not segments:
            return SummaryResult(summary="No speech was transcribed.", engine="none")
        try:
            return await self._models.summarize(segments, language)
        except SummarizationError as e:  # crosses Ray with its fields (not a traceback text)
            raise JobFailedError(f"Summarization failed: {e.reason}", e.code) from e
        except Exception as e:
            raise JobFailedError(
                f"Summarization failed: {type(e).__name__}", "summarizer_failed"
            ) from e

    def _db_write(self, fn: Callable[..., object], *args: object) -> None:
        with self._db.session() as session:
            fn(session, *args)

    def _db_write_job(self, **fields: object) -> None:
        with self._db.session() as session:
            update_job(session, self.state.job_id, **fields)  # type: ignore[arg-type]

    def _store_window(self, segments: list[Segment], window: Window) -> None:
        """The window's segments and the job's progress in one transaction, fenced by the
        lease: a replica that lost the job raises ``LeaseLostError`` here and stores nothing."""
        state = self.state
        with self._db.session() as session:
            save_segments(session, state.meeting_id, segments)
            saved = {**resume_state(state), **self.resume_fields(window)}
            commit_window(session, state.job_id, state.owner_id, state.published + 1, saved)

    def resume_fields(self, window: Window | None) -> dict[str, Any]:
        """Extra ``resume_state`` fields of this kind of job after ``window`` is stored (live
        sessions: the session id and where its audio resumes)."""
        return {}

    def _start_in_db(self, windows_total: int | None) -> LanguageSettings:
        with self._db.session() as session:
            # The new recording replaces the old transcript only once it is known to be usable.
            clear_transcript(session, self.state.meeting_id)
            update_job(session, self.state.job_id, status="processing", windows_total=windows_total)
            set_meeting_status(session, self.state.meeting_id, "processing")
            return get_language_settings(session, self.state.meeting_id)

    def _still_owner(self) -> bool:
        with self._db.session() as session:
            return owns_job(session, self.state.job_id, self.state.owner_id)

    def _resume_in_db(self, windows_total: int | None) -> LanguageSettings:
        with self._db.session() as session:
            if windows_total is not None:
                update_job(session, self.state.job_id, windows_total=windows_total)
            return get_language_settings(session, self.state.meeting_id)

    def _summary_in_db(self, summary: SummaryResult) -> None:
        with self._db.session() as session:
            store_summary(session, self.state.meeting_id, summary)

    def _complete_in_db(self, duration: float) -> None:
        with self._db.session() as session:
            update_job(session, self.state.job_id, status="completed")
            set_meeting_status(session, self.state.meeting_id, "completed", duration=duration)
            # Same transaction as the outcome: the webhook event exists iff the outcome does.
            data = {"job_id": self.state.job_id}
            enqueue_event(session, self.state.meeting_id, "completed", data)

    def _fail_in_db(self, message: str, code: str) -> None:
        with self._db.session() as session:
            update_job(session, self.state.job_id, status="failed", error=message, error_code=code)
            set_meeting_status(session, self.state.meeting_id, "failed")
            enqueue_failed(session, self.state.meeting_id, self.state.job_id, message, code)


class UploadJob(JobRecorder):
    """An uploaded file: decode it chunk by chunk while windows are planned at silences
    (``deployments/window_source.py``), process them concurrently, publish each the moment it
    and all earlier windows are done."""

    def __init__(
        self,
        state: JobState,
        models: Models,
        hub: HubClient,
        db: Database,
        window_options: WindowOptions,
        max_concurrent_windows: int,
        max_duration_s: float,
        naming: SpeakerNaming | None = None,
    ) -> None:
        super().__init__(state, models, hub, db, naming)
        self._window_options = window_options
        self._concurrency = max_concurrent_windows
        self._max_duration_s = max_duration_s
        self._total_stored = False  # the job row learns windows_total once the file is decoded
        self._progress = 0.0

    async def run(self, audio_path: str) -> None:
        """Process the job to a terminal state; never raises for bad input or model errors."""
        # The duration bound is enforced while decoding: a small file that expands to hours of
        # audio stops at the limit instead of filling the Processor's memory first.
        source = WindowSource(
            audio_path, self._window_options, DecodeLimits(max_duration_s=self._max_duration_s)
        )
        try:
            await self.status("processing", "upload", "Audio received, starting processing", 0.0)
            await self._process(source)
            await self.finish(source.duration_s or 0.0)
        except LeaseLostError:
            # Another replica took the job over (this one stalled past its lease): it finishes
            # the job; this one must neither store, publish nor fail anything more.
            logger.warning(
                "meeting %s job %s: lease lost", self.state.meeting_id, self.state.job_id
            )
        except JobFailedError as e:
            await self.fail(e.message, e.code)
        except Exception as e:
            logger.exception("meeting %s job %s failed", self.state.meeting_id, self.state.job_id)
            await self.fail(*public_failure(e))
        finally:
            source.close()

    async def _next_window(self, source: WindowSource) -> PlannedWindow | None:
        try:
            return await source.next_window()
        except AudioDecodeError as e:
            raise JobFailedError(f"Processing failed: {e}", e.code) from e

    async def _begin(self, source: WindowSource) -> None:
        """The first window with speech is planned: the new recording is usable, so the job
        starts (replacing the old transcript) and says so."""
        await self.start(None)
        await self.status(
            "processing", "diarization", "Starting speaker diarization...", 0.0, window=0
        )
        estimate = source.declared_s  # the exact length is only known at the end of the file
        extra = {"duration": round(estimate, 3)} if estimate else {}
        await self.status(
            "processing", "transcription", "Transcribing audio...", 0.0, window=0, **extra
        )

    async def _process(self, source: WindowSource) -> None:
        """Pull windows as the file decodes, at most ``max_concurrent_windows`` holding audio
        at once, and publish them in order. Windows before the first speech (VAD found none
        in them) are published empty without calling the models: until speech is found the
        job has not started, and a file with none fails with ``no_speech`` having touched
        nothing."""
        state = self.state
        first = state.published  # > 0 when resuming after windows another replica stored
        gate = asyncio.Semaphore(self._concurrency)
        first_done = asyncio.Event()
        done: dict[int, WindowResult] = {}
        publishing = asyncio.Lock()
        tasks: list[asyncio.Task[None]] = []
        at_models: set[asyncio.Task[None] | None] = set()  # window tasks not yet publishing
        stopped = asyncio.Event()  # set on any failure: nothing more is published

        async def publish_ready() -> None:
            async with publishing:
                while not stopped.is_set() and state.published in done:
                    result = done.pop(state.published)
                    await self.publish_window(result)
                    await self._aligned(source, result.window)

        async def one(planned: PlannedWindow) -> None:
            me = asyncio.current_task()
            at_models.add(me)
            try:
                if tasks and tasks[0] is not me:
                    # The first window runs alone: sharing the models with window 2 would delay
                    # the user's first lines (time to first segment) for no throughput gain.
                    await first_done.wait()
                done[planned.window.index] = await self.run_window(planned.audio, planned.window)
            except Exception:
                stopped.set()
                raise
            finally:
                at_models.discard(me)
                gate.release()
            first_done.set()
            await publish_ready()

        if state.resumed:
            await self.resume(None)
        try:
            while True:
                await gate.acquire()
                raise_failure(tasks)  # a failed window ends the job before more is decoded
                planned = await self._next_window(source)
                if planned is None:
                    gate.release()
                    break
                state.windows.append(planned.window)
                if planned.window.index < first:  # stored (and published) by the old owner
                    gate.release()
                    continue
                if planned.before_speech:
                    done[planned.window.index] = empty_result(planned.window)
                    gate.release()
                    continue
                if not tasks and not state.resumed:
                    await self._begin(source)
                tasks.append(asyncio.create_task(one(planned)))
            if not tasks and not state.resumed:
                raise JobFailedError("No speech was found in the audio", "no_speech")
            await asyncio.gather(*tasks)
        except BaseException:
            stopped.set()
            raise
        finally:
            # Windows still at the models are cancelled; one that is publishing finishes that
            # window (a publish cut off mid-way could leave its room half-written) and stops.
            # Every task has ended before the job's failure is published.
            for task in tasks:
                if task in at_models:
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _aligned(self, source: WindowSource, window: Window) -> None:
        """Progress after a published window; the totals join once the file is decoded."""
        n, duration = source.windows_total, source.duration_s
        published = self.state.published
        length = duration or source.declared_s
        progress = None
        if length:  # never backwards when the exact length replaces the declared one
            self._progress = max(self._progress, 0.9 * min(1.0, window.end / length))
            progress = self._progress
        totals: dict[str, float | int] = {}
        if n is not None and duration is not None:
            totals = {"windows": n, "duration": round(duration, 3)}
            if not self._total_stored:
                self._total_stored = True
                await asyncio.to_thread(self._db_write_job, windows_total=n)
        await self.status(
            "processing",
            "alignment",
            f"Aligned window {published} of {n}" if n else f"Aligned window {published}",
            progress,
            window=published,
            **totals,
        )


def raise_failure(tasks: list[asyncio.Task[None]]) -> None:
    """Re-raise the error of the first window task that failed."""
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            task.result()


def empty_result(window: Window) -> WindowResult:
    """A window with no speech: nothing to transcribe, nobody to diarize."""
    return WindowResult(
        window,
        TranscriptionResult(words=[], text="", duration=window.duration),
        DiarizationResult(turns=[]),
    )
