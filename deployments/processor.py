"""Processor deployment: orchestrates jobs over the model deployments and publishes to rooms."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import replace
from typing import Any

from ray import serve
from ray.serve.config import RequestRouterConfig
from ray.serve.handle import DeploymentHandle

from core.languages import LanguageRouter, ModelRoute
from core.llm_prompts import SummarizationError
from core.speakers import SpeakerRegistry
from core.speech_tracker import SpeechFrames
from core.types import DiarizationResult, Segment, SummaryResult, TranscriptionResult, Word
from core.windowing import WindowOptions
from deployments.cpu_priority import audio_executor, lower_process_priority
from deployments.failures import JobFailedError
from deployments.hub_shards import hub_for_settings
from deployments.job_leases import LeaseKeeper, LeaseOptions, replica_identity
from deployments.job_output import JobOutput, store_summary
from deployments.job_resume import restore_state
from deployments.job_state import JobState, Models
from deployments.live import LiveSession
from deployments.live_sessions import LIVE_GRACE_S, LiveSessions
from deployments.metrics import record_error
from deployments.options import ProcessorArgs
from deployments.partials import PartialBudget
from deployments.pipeline import UploadJob
from deployments.speaker_naming import SpeakerNaming
from deployments.speech_calls import SpeechCalls
from deployments.vad import warm_vad
from observability.logging_context import bind_log_context, install_log_record_factory
from persistence import (
    Database,
    list_segments,
    upgrade_database,
)
from persistence.languages import get_language_settings
from persistence.leases import ClaimedJob
from processor_api.backend import JobRequest
from processor_api.live_replies import (
    LiveRedirect,
    LiveReply,
)
from processor_api.voices import VoiceReply, VoiceSample
from rooms.publish import publish_error, publish_summary
from settings.config import db_pool, get_settings
from webhooks.dispatcher import WebhookDispatcher

logger = logging.getLogger(__name__)
SESSION_ROUTER = "deployments.session_router.SessionOwnerRouter"


# Live calls name the replica that holds their session (deployments/session_router.py).
@serve.deployment(
    max_ongoing_requests=100,
    request_router_config=RequestRouterConfig.model_validate(
        {"request_router_class": SESSION_ROUTER}
    ),
)
class Processor:
    def __init__(
        self,
        transcribers: dict[str, DeploymentHandle],
        diarizer: DeploymentHandle,
        summarizer: DeploymentHandle,
        args: ProcessorArgs,
        router: LanguageRouter,
    ) -> None:
        install_log_record_factory()
        settings = get_settings()
        upgrade_database(settings.resolved_database_url)
        self._db = Database(settings.resolved_database_url, db_pool(settings))
        self._max_duration_s = settings.max_audio_duration_s
        self._settings = settings
        self._hub = hub_for_settings(settings)
        self._transcribers = transcribers
        self._router = router
        self._diarizer = diarizer
        self._speech_calls = SpeechCalls()  # frames to the models, across a rolling update
        self._summarizer = summarizer
        self._args = args
        self._jobs: dict[str, asyncio.Task[None]] = {}
        self._audio_executor = audio_executor(args.audio_threads, args.audio_nice)
        warm_vad()  # the replica is ready when the first upload will not wait for Silero
        self._partial_budget = PartialBudget(args.max_partials_in_flight)
        # No start-up sweep: a job whose replica died is taken over by a live replica once its
        # lease expires (persistence/leases.py), so any number of replicas can run side by side.
        self._leases = LeaseKeeper(
            self._db,
            replica_identity(),
            LeaseOptions(
                args.lease_s,
                args.heartbeat_every_s,
                args.takeover_every_s,
                args.unclaimed_job_grace_s,
                LIVE_GRACE_S,
            ),
            self._lease_lost,
            self._take_over,
        )
        self._live = LiveSessions(
            self._db,
            settings,
            self._leases,
            args.lease_s + args.heartbeat_every_s,
            min(0.5, args.heartbeat_every_s),
            self._job_state,
            self._live_session,
        )
        self._leases.start()
        # Webhook deliveries queued in the database (by any process, before any restart)
        # are sent from here; Serve runs __init__ on the replica's event loop.
        self._webhooks = WebhookDispatcher(self._db, settings)
        self._webhooks.start()
        lower_process_priority(args.cpu_nice)  # once ready; threads started later inherit it

    def is_ready(self) -> bool:
        return True

    async def __del__(self) -> None:
        """Graceful shutdown (scale-down, redeploy): stop this replica's jobs and hand their
        leases back, so another replica resumes them now rather than after the lease."""
        webhooks = getattr(self, "_webhooks", None)  # stopped first: its next database round
        if webhooks is not None:  # would find the thread pool already shut down
            await webhooks.stop()
        for task in list(getattr(self, "_jobs", {}).values()):
            task.cancel()
        executor = getattr(self, "_audio_executor", None)
        if executor is not None:  # a step in flight finishes; queued ones never start
            executor.shutdown(wait=False, cancel_futures=True)
        leases = getattr(self, "_leases", None)  # absent when __init__ failed
        if leases is not None:
            await leases.release_all()

    async def submit(self, request: JobRequest) -> None:
        """Own the job and start it in the background; returns at once (the upload answers
        202). A job another replica already owns (it took an unclaimed job over) is left to it."""
        claimed = await self._leases.claim(request.job_id, request.audio_path)
        if claimed is None:
            logger.info("job %s: already owned by another replica", request.job_id)
            return
        self._start_upload(self._job_state(request.job_id, request.meeting_id), request.audio_path)

    def _start_upload(self, state: JobState, audio_path: str) -> None:
        state.owner_id = self._leases.owner_id
        job = UploadJob(
            state,
            self._models(),
            self._hub,
            self._db,
            WindowOptions(
                target_s=self._args.window_target_s,
                min_s=self._args.window_min_s,
                max_s=self._args.window_max_s,
            ),
            self._args.max_concurrent_windows,
            self._max_duration_s,
            self._naming(state.meeting_id),
            self._audio_executor,
            self._args.window_speech,
        )
        job_id = state.job_id
        with bind_log_context(meeting_id=state.meeting_id, job_id=job_id):
            # The task copies the context now, so every log line of the job carries both ids.
            task = asyncio.create_task(job.run(audio_path), name=f"job-{job_id}")
        self._jobs[job_id] = task
        task.add_done_callback(lambda _t: self._job_ended(job_id))

    def _job_ended(self, job_id: str) -> None:
        self._jobs.pop(job_id, None)
        self._leases.forget(job_id)

    def _lease_lost(self, job_id: str) -> None:
        """Another replica owns the job now (this one stalled past its lease): stop here."""
        task = self._jobs.pop(job_id, None)
        if task is not None:
            task.cancel()
        self._live.drop_job(job_id)

    async def _take_over(self, claimed: ClaimedJob) -> None:
        """A job whose replica died: resume an upload after its last stored window; end a
        live session whose client did not come back as if it had stopped."""
        state = self._job_state(claimed.job_id, claimed.meeting_id)
        if claimed.status == "processing":
            restore_state(state, claimed.resume_state, claimed.windows_done)
        state.owner_id = self._leases.owner_id
        if claimed.source == "live":
            await self._finish_orphaned_live(state)
            return
        audio_path = claimed.audio_path
        if audio_path is None or not await asyncio.to_thread(os.path.exists, audio_path):
            await self._fail_unreadable(state, audio_path)
            return
        self._start_upload(state, audio_path)

    async def _fail_unreadable(self, state: JobState, audio_path: str | None) -> None:
        recorder = JobOutput(state, self._hub, self._db, self._models().summarize)
        if audio_path is None:
            message = "Interrupted before processing started; upload the audio again"
        else:
            message = (
                "The uploaded audio is not readable by the Processor replica that took the job "
                "over (multi-node clusters need the upload directory on shared storage); "
                "upload the audio again"
            )
        logger.warning("job %s: cannot resume: %s (%s)", state.job_id, message, audio_path)
        try:
            await recorder.fail(message, "interrupted")
        finally:
            self._leases.forget(state.job_id)

    async def _finish_orphaned_live(self, state: JobState) -> None:
        summarize, naming = self._models().summarize, self._naming(state.meeting_id)
        recorder = JobOutput(state, self._hub, self._db, summarize, naming)
        try:
            await recorder.resume(None)
            duration = max((s.end for s in state.segments), default=0.0)
            await recorder.finish(duration)
        except JobFailedError as e:
            await recorder.fail(e.message, e.code)
        finally:
            self._leases.forget(state.job_id)

    async def regenerate_summary(self, meeting_id: str) -> None:
        """Summarise the stored transcript again and publish the new summary."""
        segments = await asyncio.to_thread(self._read_segments, meeting_id)
        language = await asyncio.to_thread(self._read_spoken_language, meeting_id)
        try:
            summary = await self._summarize(segments, language)
        except Exception as e:
            logger.exception("meeting %s: summary regeneration failed", meeting_id)
            reason, code = (
                (e.reason, e.code)
                if isinstance(e, SummarizationError)
                else (type(e).__name__, "summarizer_failed")
            )
            record_error(code)
            await publish_error(self._hub, meeting_id, f"Summarization failed: {reason}", code)
            return
        await asyncio.to_thread(self._store_summary, meeting_id, summary)
        await publish_summary(self._hub, meeting_id, summary)

    async def live_open(
        self, meeting_id: str, session_id: str | None, owner: str | None = None
    ) -> LiveReply | LiveRedirect:
        """Start a live session, or re-attach to one whose connection dropped.

        ``owner``: the replica the caller believes holds ``session_id``: it routes the call
        (``deployments/session_router.py``) and tells a takeover from a redirect."""
        return await self._live.open(meeting_id, session_id, owner)

    async def live_feed(self, session_id: str, pcm: bytes, owner: str | None = None) -> LiveReply:
        return await self._live.feed(session_id, pcm)

    async def live_detach(self, session_id: str, owner: str | None = None) -> None:
        """The audio socket dropped without ``stop``: keep the session for a reconnect."""
        self._live.detach(session_id)

    async def live_stop(self, session_id: str, owner: str | None = None) -> LiveReply:
        return await self._live.stop(session_id)

    def _live_session(self, state: JobState, session_id: str) -> LiveSession:
        models = self._models()
        if self._args.live_short_finals:
            models = replace(models, live_final=self._live_final)
        return LiveSession(
            state,
            models,
            self._hub,
            self._db,
            session_id=session_id,
            partial_every_s=self._args.partial_every_s,
            partial_budget=self._partial_budget,
            min_pause_s=self._args.live_min_pause_s,
            vad_every_s=self._args.live_vad_every_s,
            sentence_pause_s=self._args.live_sentence_pause_s,
            naming=self._naming(state.meeting_id),
        )

    def _job_state(self, job_id: str, meeting_id: str) -> JobState:
        registry = SpeakerRegistry(
            threshold=self._args.speaker_link_threshold,
            short_turn_s=self._args.short_turn_s,
            novel_below=self._args.novel_speaker_below,
        )
        return JobState(job_id=job_id, meeting_id=meeting_id, registry=registry)

    def _naming(self, meeting_id: str) -> SpeakerNaming:
        return SpeakerNaming(
            meeting_id,
            self._db,
            self._hub,
            self._args.voice_match_threshold,
            self._args.voice_match_margin,
            self._args.minor_speakers(),
        )

    async def embed_voice(self, sample: VoiceSample) -> VoiceReply:
        """An enrolment sample's dominant voice, from the active diarization backend."""
        reply: VoiceReply = await self._diarizer.embed_voice.remote(sample)
        return reply

    def _models(self) -> Models:
        return Models(
            self._transcribe,
            self._diarize,
            self._summarize,
            self._detect,
            self._can_translate,
            self._hypothesize,
        )

    async def _transcribe(
        self, audio: Any, language: str | None, task: str, speech: SpeechFrames | None
    ) -> TranscriptionResult:
        """Route by language (``_route``); a translation goes to a model that translates."""
        route = self._route(language)
        if task == "translate":
            route = self._router.translator(language or "") or route
        handle = self._transcribers[route.deployment]
        result: TranscriptionResult = await self._speech_calls.remote(
            handle.transcribe, speech, audio, language, task
        )
        return result

    async def _live_final(
        self, audio: Any, language: str | None, context: str
    ) -> TranscriptionResult:
        """A live final: the quick decode of a short utterance (``transcribe_short``)."""
        handle = self._transcribers[self._route(language).deployment]
        result: TranscriptionResult = await handle.transcribe_short.remote(audio, language, context)
        return result

    def _route(self, language: str | None) -> ModelRoute:
        """None keeps the profile's default Transcriber (and its default language); a language
        goes to the first deployment whose model writes it."""
        return self._router.routes[0] if language is None else self._router.route(language)

    async def _hypothesize(self, audio: Any, language: str | None) -> list[Word]:
        """A live partial's quick guess, from the Transcriber that writes ``language``."""
        route = self._route(language)
        words: list[Word] = await self._transcribers[route.deployment].hypothesize.remote(
            audio, language
        )
        return words

    async def _detect(self, audio: Any) -> tuple[str, float]:
        detector = self._router.detector
        if detector is None:  # the Ingress refuses "auto" then; a stale meeting row can't win
            raise JobFailedError("No loaded model detects languages", "unsupported_language")
        handle = self._transcribers[detector.deployment]
        code, probability = await handle.detect_language.remote(audio)
        if code not in self._router.supported:
            raise JobFailedError(
                f"Detected {code}, which no loaded model transcribes", "unsupported_language"
            )
        return str(code), float(probability)

    def _can_translate(self, language: str) -> bool:
        return self._router.translator(language) is not None

    async def _diarize(self, audio: Any, speech: SpeechFrames | None) -> DiarizationResult:
        result: DiarizationResult = await self._speech_calls.remote(
            self._diarizer.diarize, speech, audio
        )
        return result

    async def _summarize(self, segments: list[Segment], language: str | None) -> SummaryResult:
        result: SummaryResult = await self._summarizer.summarize.remote(segments, language)
        return result

    def _read_spoken_language(self, meeting_id: str) -> str | None:
        with self._db.session() as session:
            settings = get_language_settings(session, meeting_id)
            spoken = settings.spoken_language or settings.language
            return None if spoken == "auto" else spoken

    def _read_segments(self, meeting_id: str) -> list[Segment]:
        with self._db.session() as session:
            return list_segments(session, meeting_id)

    def _store_summary(self, meeting_id: str, summary: SummaryResult) -> None:
        with self._db.session() as session:
            store_summary(session, meeting_id, summary)
