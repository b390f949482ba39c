"""Processor deployment: orchestrates jobs over the model deployments and publishes to rooms."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ray import serve
from ray.serve.handle import DeploymentHandle

from app.backend import JobRequest
from app.config import get_settings
from app.db import Database, list_segments, save_summary, set_meeting_status, upgrade_database
from app.db.models import ACTIVE_JOB_STATUSES, Job
from app.db.records import update_job
from app.rooms.publish import publish_error, publish_summary
from core.types import DiarizationResult, Segment, SummaryResult, TranscriptionResult
from core.windowing import WindowOptions
from deployments.hub import ActorHubClient
from deployments.options import ProcessorArgs
from deployments.pipeline import JobState, MeetingJob, Models, summary_payload

logger = logging.getLogger(__name__)
MAX_DURATION_S = 6 * 3600


@serve.deployment(ray_actor_options={"num_cpus": 0.1}, max_ongoing_requests=100)
class Processor:
    def __init__(
        self,
        transcriber: DeploymentHandle,
        diarizer: DeploymentHandle,
        summarizer: DeploymentHandle,
        args: ProcessorArgs,
    ) -> None:
        settings = get_settings()
        upgrade_database(settings.resolved_database_url)
        self._db = Database(settings.resolved_database_url)
        self._hub = ActorHubClient(settings.resolved_database_url)
        self._transcriber = transcriber
        self._diarizer = diarizer
        self._summarizer = summarizer
        self._args = args
        self._jobs: dict[str, asyncio.Task[None]] = {}
        self._fail_orphaned_jobs()

    def is_ready(self) -> bool:
        return True

    async def submit(self, request: JobRequest) -> None:
        """Start the job in the background and return at once (the upload answers 202)."""
        state = JobState(job_id=request.job_id, meeting_id=request.meeting_id)
        job = MeetingJob(
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
            MAX_DURATION_S,
        )
        task = asyncio.create_task(job.run(request.audio_path), name=f"job-{request.job_id}")
        self._jobs[request.job_id] = task
        task.add_done_callback(lambda _t: self._jobs.pop(request.job_id, None))

    async def regenerate_summary(self, meeting_id: str) -> None:
        """Summarise the stored transcript again and publish the new summary."""
        segments = await asyncio.to_thread(self._read_segments, meeting_id)
        try:
            summary = await self._summarize(segments)
        except Exception as e:
            logger.exception("meeting %s: summary regeneration failed", meeting_id)
            await publish_error(
                self._hub, meeting_id, f"Summarization failed: {e}", "summarizer_failed"
            )
            return
        await asyncio.to_thread(self._store_summary, meeting_id, summary)
        await publish_summary(self._hub, meeting_id, summary)

    def _models(self) -> Models:
        return Models(self._transcribe, self._diarize, self._summarize)

    async def _transcribe(self, audio: Any) -> TranscriptionResult:
        result: TranscriptionResult = await self._transcriber.transcribe.remote(audio)
        return result

    async def _diarize(self, audio: Any) -> DiarizationResult:
        result: DiarizationResult = await self._diarizer.diarize.remote(audio)
        return result

    async def _summarize(self, segments: list[Segment]) -> SummaryResult:
        result: SummaryResult = await self._summarizer.summarize.remote(segments)
        return result

    def _read_segments(self, meeting_id: str) -> list[Segment]:
        with self._db.session() as session:
            return list_segments(session, meeting_id)

    def _store_summary(self, meeting_id: str, summary: SummaryResult) -> None:
        with self._db.session() as session:
            save_summary(session, meeting_id, summary_payload(summary), summary.engine)

    def _fail_orphaned_jobs(self) -> None:
        """Jobs left queued/processing by a crashed Processor end failed, with a reason.

        The profiles run one Processor replica, so any active job at start-up is an orphan.
        """
        with self._db.session() as session:
            orphans = session.query(Job).filter(Job.status.in_(ACTIVE_JOB_STATUSES)).all()
            for job in orphans:
                update_job(
                    session,
                    job.id,
                    status="failed",
                    error="Interrupted by a restart; upload the audio again",
                    error_code="interrupted",
                )
                set_meeting_status(session, job.meeting_id, "failed")
        if orphans:
            logger.warning("marked %d interrupted job(s) as failed", len(orphans))
