"""One processing job: decode → windows → (diarize ∥ transcribe) per window → ordered publication
→ summary → completed. Runs inside the Processor deployment.

Windows are processed concurrently up to a bound, but published strictly in order: a window's
segments go out the moment it *and every earlier window* are done, so clients see final,
media-time-ordered segments seconds after an upload starts. Speaker linking happens at
publication time for the same reason: it must see windows in order.

A job is composed, not inherited: ``WindowRunner`` (below) makes a window's model calls,
``JobOutput`` (``job_output.py``) stores and publishes what they return and ends the job.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor

import numpy as np

from core.alignment import align_words
from core.audio import AudioDecodeError
from core.audio_formats import DecodeLimits
from core.diarization import without_lead
from core.speech_tracker import SpeechFrames
from core.translation import TranslatedSpan, span_audio
from core.types import SAMPLE_RATE, DiarizationResult, TranscriptionResult
from core.windowing import Window, WindowOptions
from deployments.failures import JobFailedError, public_failure
from deployments.job_output import JobOutput
from deployments.job_state import JobState, Models, WindowResult
from deployments.metrics import time_stage, timed
from deployments.speaker_naming import SpeakerNaming
from deployments.window_source import PlannedWindow, WindowSource
from persistence import Database
from persistence.leases import LeaseLostError
from rooms.hub import HubClient

logger = logging.getLogger(__name__)


class WindowRunner:
    """The model calls for one window: diarize and transcribe concurrently, detect the
    language while the meeting's is unknown, translate when the meeting asks for captions.
    Upload jobs and live sessions each hold one, beside their ``JobOutput``."""

    def __init__(
        self, state: JobState, models: Models, output: JobOutput, detection_attempts: int = 1
    ) -> None:
        self.state = state
        self._models = models
        self._output = output
        # Windows whose language is still tried when a detection is unsure (short live
        # utterances try several).
        self._detection_attempts = detection_attempts

    async def run(
        self,
        audio: np.ndarray,
        window: Window,
        lead: np.ndarray | None = None,
        context: str | None = None,
        speech: SpeechFrames | None = None,
    ) -> WindowResult:
        """Diarize and transcribe one window concurrently (``audio`` is the window's own), and
        translate its speech when the meeting asks for captions. ``lead``, audio just before
        the window, is diarized with it so a short window's voices are judged on more speech
        (``without_lead`` keeps the window's turns). ``context`` makes the window a live
        final (``Models.live_final``), decoded after the text said before it. ``speech``,
        the window's VAD frames, goes to the models that would otherwise score them."""
        language = self.state.language
        if language.detecting:
            await self._detect_language(audio)
        transcription, diarization = await asyncio.gather(
            timed("transcription", lambda: self._transcribe(audio, context, speech)),
            timed("diarization", lambda: self._diarize(audio, lead, speech)),
        )
        result = WindowResult(window, transcription, diarization)
        if language.wants_translation(self._models.can_translate):
            with time_stage("translation"):
                result.translations = await self._translate(audio, result)
        return result

    async def _transcribe(
        self, audio: np.ndarray, context: str | None, speech: SpeechFrames | None
    ) -> TranscriptionResult:
        code, final = self.state.language.code, self._models.live_final
        if context is not None and final is not None:
            return await final(audio, code, context)
        return await self._models.transcribe(audio, code, "transcribe", speech)

    async def _diarize(
        self, audio: np.ndarray, lead: np.ndarray | None, speech: SpeechFrames | None
    ) -> DiarizationResult:
        if lead is None or not lead.size:
            return await self._models.diarize(audio, speech)
        # The window's frames do not cover the lead: the Diarizer scores the two together.
        result = await self._models.diarize(np.concatenate([lead, audio]), None)
        return without_lead(result, len(lead) / SAMPLE_RATE, len(audio) / SAMPLE_RATE)

    async def _detect_language(self, audio: np.ndarray) -> None:
        language = self.state.language
        with time_stage("language_detection"):
            code, probability = await self._models.detect(audio)
        language.observe(code, probability, self._detection_attempts)
        if language.detecting:
            return  # unsure on little speech: this window uses the guess, the next one retries
        await self._output.announce_language()

    async def _translate(self, audio: np.ndarray, result: WindowResult) -> list[TranslatedSpan]:
        """English for each provisional speaker span, batched by the Transcriber like any
        window (``core/translation.py`` says why provisional spans are enough)."""
        window, code = result.window, self.state.language.code
        spans = align_words(
            result.transcription.words, result.diarization.turns, window.index, window.start
        )
        clips = [span_audio(audio, window.start, s.start, s.end) for s in spans]
        translated = await asyncio.gather(
            *(self._models.transcribe(clip, code, "translate", None) for clip in clips)
        )
        return [
            TranslatedSpan(s.start, s.end, t.text) for s, t in zip(spans, translated, strict=True)
        ]


class UploadJob:
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
        audio_executor: Executor | None = None,
        window_speech: bool = True,
    ) -> None:
        self.state = state
        self.output = JobOutput(state, hub, db, models.summarize, naming)
        self._windows = WindowRunner(state, models, self.output)
        self._window_options = window_options
        self._concurrency = max_concurrent_windows
        self._max_duration_s = max_duration_s
        self._audio_executor = audio_executor
        self._window_speech = window_speech
        self._total_stored = False  # the job row learns windows_total once the file is decoded
        self._progress = 0.0

    async def run(self, audio_path: str) -> None:
        """Process the job to a terminal state; never raises for bad input or model errors."""
        # The duration bound is enforced while decoding: a small file that expands to hours of
        # audio stops at the limit instead of filling the Processor's memory first.
        source = WindowSource(
            audio_path,
            self._window_options,
            DecodeLimits(max_duration_s=self._max_duration_s),
            executor=self._audio_executor,
            window_speech=self._window_speech,
        )
        try:
            await self.output.status(
                "processing", "upload", "Audio received, starting processing", 0.0
            )
            await self._process(source)
            await self.output.finish(source.duration_s or 0.0)
        except LeaseLostError:
            # Another replica took the job over (this one stalled past its lease): it finishes
            # the job; this one must neither store, publish nor fail anything more.
            logger.warning(
                "meeting %s job %s: lease lost", self.state.meeting_id, self.state.job_id
            )
        except JobFailedError as e:
            await self.output.fail(e.message, e.code, source.duration_s)
        except Exception as e:
            logger.exception("meeting %s job %s failed", self.state.meeting_id, self.state.job_id)
            await self.output.fail(*public_failure(e), source.duration_s)
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
        await self.output.start(None)
        await self.output.status(
            "processing", "diarization", "Starting speaker diarization...", 0.0, window=0
        )
        estimate = source.declared_s  # the exact length is only known at the end of the file
        extra = {"duration": round(estimate, 3)} if estimate else {}
        await self.output.status(
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
                    await self.output.publish_window(result)
                    await self._aligned(source, result.window)

        async def one(planned: PlannedWindow) -> None:
            me = asyncio.current_task()
            at_models.add(me)
            try:
                if tasks and tasks[0] is not me:
                    # The first window runs alone: sharing the models with window 2 would delay
                    # the user's first lines (time to first segment) for no throughput gain.
                    await first_done.wait()
                done[planned.window.index] = await self._windows.run(
                    planned.audio, planned.window, speech=planned.speech
                )
            except Exception:
                stopped.set()
                raise
            finally:
                at_models.discard(me)
                gate.release()
            first_done.set()
            await publish_ready()

        if state.resumed:
            await self.output.resume(None)
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
                await asyncio.to_thread(self.output.store.write_job, windows_total=n)
        await self.output.status(
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
