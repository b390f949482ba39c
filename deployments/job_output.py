"""Where a job's results go: the database (fenced by the job's lease), the meeting's room, the
metrics, the webhook outbox, and at the end the summary. Upload jobs and live sessions each
hold one ``JobOutput`` (composition, not a base class): they decide *when* a window is done,
the output decides what finishing a window, a job or a failure means.

``JobStore`` is the persistence part on its own: every write is one short transaction run in a
worker thread, and a window's segments are stored together with the job's progress.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from core.alignment import align_words
from core.languages import language_name
from core.llm_prompts import SummarizationError
from core.meeting_language import MeetingLanguage
from core.short_turns import MAX_KEPT, alignment_turns, short_turn_lines
from core.speaker_edits import SpeakerEdits
from core.speakers import speech_by_label
from core.translation import attach_translations
from core.types import Segment, SpeakerTurn, SummaryResult
from core.windowing import Window
from deployments.failures import JobFailedError
from deployments.job_resume import (
    missing_from_room,
    publish_job_segments,
    republish_missing,
    resume_state,
    stored_segments,
)
from deployments.job_state import JobState, Summarize, WindowResult
from deployments.metrics import (
    record_error,
    record_job_outcome,
    record_real_time_factor,
    record_time_to_first_segment,
    record_windows_processed,
    time_stage,
)
from deployments.speaker_naming import SpeakerNaming
from persistence import Database, clear_transcript, save_segments, save_summary, set_meeting_status
from persistence.languages import LanguageSettings, get_language_settings, record_detected_language
from persistence.leases import commit_window, owns_job
from persistence.records import update_job
from rooms.hub import HubClient
from rooms.messages import JobStatus, Stage
from rooms.publish import (
    publish_error,
    publish_status,
    publish_summary,
    summary_fields,
)
from webhooks.outbox import enqueue_event

logger = logging.getLogger(__name__)

# Extra ``resume_state`` fields of a kind of job after a window is stored (live sessions: the
# session id and where its audio resumes); uploads store none.
ResumeFields = Callable[[Window | None], dict[str, Any]]


def no_resume_fields(_window: Window | None) -> dict[str, Any]:
    return {}


def _keep_short_lines(
    state: JobState,
    segments: Sequence[Segment],
    turns: Sequence[SpeakerTurn],
    mapping: Mapping[str, str],
    offset: float,
) -> None:
    """Remember the window's short-turn lines for the end of the job (bounded per job)."""
    joins = state.registry.last_short_joins
    if joins and len(state.short_lines) < MAX_KEPT:
        state.short_lines.extend(short_turn_lines(segments, turns, mapping, joins, offset))


def store_summary(session: Session, meeting_id: str, summary: SummaryResult) -> None:
    """Save a summary and queue its ``summary`` webhook event in the same transaction."""
    fields = summary_fields(summary)
    save_summary(session, meeting_id, fields, summary.engine)
    enqueue_event(session, meeting_id, "summary", {"summary": fields, "engine": summary.engine})


def enqueue_failed(session: Session, meeting_id: str, job_id: str, message: str, code: str) -> None:
    data = {"job_id": job_id, "error": message, "code": code}
    enqueue_event(session, meeting_id, "failed", data)


class JobStore:
    """A job's rows: its status, its windows' segments (fenced by the lease), its outcome and
    the webhook events that go with it. Blocking; callers run it in a worker thread."""

    def __init__(self, state: JobState, db: Database, resume_fields: ResumeFields) -> None:
        self.state = state
        self.db = db
        self._resume_fields = resume_fields

    def write_job(self, **fields: object) -> None:
        with self.db.session() as session:
            update_job(session, self.state.job_id, **fields)  # type: ignore[arg-type]

    def record_language(self, code: str, probability: float) -> None:
        with self.db.session() as session:
            record_detected_language(session, self.state.meeting_id, code, probability)

    def store_window(self, segments: list[Segment], window: Window) -> None:
        """The window's segments and the job's progress in one transaction, fenced by the
        lease: a replica that lost the job raises ``LeaseLostError`` here and stores nothing."""
        state = self.state
        with self.db.session() as session:
            save_segments(session, state.meeting_id, segments)
            saved = {**resume_state(state), **self._resume_fields(window)}
            commit_window(session, state.job_id, state.owner_id, state.published + 1, saved)

    def start(self, windows_total: int | None) -> LanguageSettings:
        with self.db.session() as session:
            # The new recording replaces the old transcript only once it is known to be usable.
            clear_transcript(session, self.state.meeting_id)
            update_job(session, self.state.job_id, status="processing", windows_total=windows_total)
            set_meeting_status(session, self.state.meeting_id, "processing")
            return get_language_settings(session, self.state.meeting_id)

    def resume(self, windows_total: int | None) -> LanguageSettings:
        with self.db.session() as session:
            if windows_total is not None:
                update_job(session, self.state.job_id, windows_total=windows_total)
            return get_language_settings(session, self.state.meeting_id)

    def still_owner(self) -> bool:
        with self.db.session() as session:
            return owns_job(session, self.state.job_id, self.state.owner_id)

    def summary(self, summary: SummaryResult) -> None:
        with self.db.session() as session:
            store_summary(session, self.state.meeting_id, summary)

    def complete(self, duration: float) -> None:
        with self.db.session() as session:
            update_job(session, self.state.job_id, status="completed")
            set_meeting_status(session, self.state.meeting_id, "completed", duration=duration)
            # Same transaction as the outcome: the webhook event exists iff the outcome does.
            data = {"job_id": self.state.job_id}
            enqueue_event(session, self.state.meeting_id, "completed", data)

    def fail(self, message: str, code: str, duration: float | None = None) -> None:
        with self.db.session() as session:
            update_job(session, self.state.job_id, status="failed", error=message, error_code=code)
            set_meeting_status(session, self.state.meeting_id, "failed", duration=duration)
            enqueue_failed(session, self.state.meeting_id, self.state.job_id, message, code)


class JobOutput:
    """A job's output: link, align, store and publish each finished window in order; the
    language once detected; then the summary and the terminal status, or the failure."""

    def __init__(
        self,
        state: JobState,
        hub: HubClient,
        db: Database,
        summarize: Summarize,
        naming: SpeakerNaming | None = None,
        resume_fields: ResumeFields = no_resume_fields,
    ) -> None:
        self.state = state
        self.hub = hub
        self.store = JobStore(state, db, resume_fields)
        self._summarize_call = summarize
        self._naming = naming
        self._default_told = False  # the language of a meeting with none set, told once

    async def publish_window(
        self, result: WindowResult, segment_id: str | None = None
    ) -> list[Segment]:
        """Link, align, store and publish one window; call in window order. ``segment_id``
        (live sessions) ties the window's segments to the partials they replace."""
        state, window = self.state, result.window
        with time_stage("speaker_linking"):
            mapping = state.registry.link_diarization(result.diarization)
            turns, labels = alignment_turns(
                result.diarization.turns, mapping, state.registry.last_short_joins
            )
        with time_stage("alignment"):
            segments = align_words(
                result.transcription.words, turns, window.index, window.start, labels=labels
            )
            _keep_short_lines(state, segments, result.diarization.turns, mapping, window.start)
            segments = attach_translations(segments, result.translations)
            for segment in segments:
                segment.segment_id = segment_id
        with time_stage("persistence"):
            await asyncio.to_thread(self.store.store_window, segments, window)
        await publish_job_segments(self.hub, state, segments)
        if segments and state.first_segment_s is None:
            state.first_segment_s = time.monotonic() - state.started
            record_time_to_first_segment(state.first_segment_s)
        state.segments.extend(segments)
        if segments and state.language.requested is None and not self._default_told:
            self._default_told = True
            await self._tell_default_language(result.transcription.language)
        if self._naming is not None:
            with time_stage("speaker_linking"):
                await self._naming.after_window(state.registry, result.diarization.backend)
        state.published += 1
        record_windows_processed()
        return segments

    async def announce_language(self) -> None:
        """Store the settled detection on the meeting and tell the room."""
        language = self.state.language
        code, probability = language.code or "", language.probability or 0.0
        logger.info("meeting %s: language %s (p=%.2f)", self.state.meeting_id, code, probability)
        await asyncio.to_thread(self.store.record_language, code, probability)
        await self.status(
            "processing",
            "transcription",
            f"Detected language: {language_name(code)}",
            None,
            language=code,
            language_probability=probability,
            language_source="detected",
        )

    async def _tell_default_language(self, code: str) -> None:
        """A meeting with no language set is transcribed by the profile's default model: say
        in which language, so clients need not guess. Not stored on the meeting, since a
        multilingual default model may hear another language in the next recording."""
        await self.status(
            "processing",
            "transcription",
            f"Transcribing in {language_name(code)} (no language was set)",
            None,
            language=code,
            language_source="default",
        )

    async def start(self, windows_total: int | None) -> None:
        settings = await asyncio.to_thread(self.store.start, windows_total)
        self.state.language = MeetingLanguage.start(settings.language, settings.translate_to)

    async def resume(self, windows_total: int | None) -> None:
        """Continue a job another replica started (``job_resume.py``): keep its transcript,
        publish what it stored but had not published, and go on after its last window."""
        state = self.state
        settings = await asyncio.to_thread(self.store.resume, windows_total)
        if state.published == 0:  # nothing stored yet: the language decision starts afresh
            state.language = MeetingLanguage.start(settings.language, settings.translate_to)
        state.segments = await asyncio.to_thread(stored_segments, self.store.db, state)
        self._default_told = bool(state.segments)  # the old owner told it with its first words
        missing = await asyncio.to_thread(missing_from_room, self.store.db, state, state.segments)
        await republish_missing(self.hub, state, missing)
        logger.info(
            "meeting %s job %s: resumed after %d window(s)",
            state.meeting_id,
            state.job_id,
            state.published,
        )

    async def finish(self, duration: float) -> None:
        state = self.state
        await self._settle_language()
        edits = SpeakerEdits()
        if self._naming is not None:
            with time_stage("speaker_linking"):
                edits = await self._naming.reattribute(
                    state.registry, state.short_lines, speech_by_label(state.segments)
                )
        await self.status("processing", "summarization", "Summarizing the meeting...", 0.9)
        with time_stage("summarization"):
            # The summary sees each line's speaker after merges and reassignments.
            lines = [
                replace(s, speaker=edits.segment_label(s.id, s.speaker)) for s in state.segments
            ]
            summary = await self._summarize(lines, state.language.code)
        await asyncio.to_thread(self.store.summary, summary)
        await publish_summary(self.hub, state.meeting_id, summary)
        await asyncio.to_thread(self.store.complete, duration)
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

    async def fail(self, message: str, code: str, duration: float | None = None) -> None:
        """Publish and store the failure; ``duration``, the decoded length when the whole file
        was read (a file without speech), goes with it."""
        if not await asyncio.to_thread(self.store.still_owner):
            logger.warning(
                "job %s: not failing it (%s): another replica owns it", self.state.job_id, code
            )
            return
        record_job_outcome("failed")
        record_error(code)
        try:
            await publish_error(self.hub, self.state.meeting_id, message, code)
            extra = {"duration": round(duration, 3)} if duration is not None else {}
            await self.status("failed", "done", message, None, **extra)
        finally:
            await asyncio.to_thread(self.store.fail, message, code, duration)

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
            self.hub,
            self.state.meeting_id,
            status,
            stage,
            message,
            job_id=self.state.job_id,
            **details,
            **extra,
        )

    async def _settle_language(self) -> None:
        """A session that ended while still unsure keeps its last guess as the detection."""
        language = self.state.language
        if language.detecting and language.code is not None:
            language.observe(language.code, language.probability or 0.0, max_attempts=0)
            await self.announce_language()

    async def _summarize(self, segments: list[Segment], language: str | None) -> SummaryResult:
        if not segments:
            return SummaryResult(summary="No speech was transcribed.", engine="none")
        try:
            return await self._summarize_call(segments, language)
        except SummarizationError as e:  # crosses Ray with its fields (not a traceback text)
            raise JobFailedError(f"Summarization failed: {e.reason}", e.code) from e
        except Exception as e:
            raise JobFailedError(
                f"Summarization failed: {type(e).__name__}", "summarizer_failed"
            ) from e
