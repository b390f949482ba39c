"""Live microphone sessions: buffer PCM, cut a window at each utterance end, process in order.

Latency follows utterance length: a window is cut as soon as VAD sees a pause after speech
(or at a hard maximum), not on a fixed clock. When processing falls behind, waiting windows are
merged into one (up to Whisper's 30 s horizon) instead of queueing without bound, so lag stays
flat; a client sending faster than real time, or further ahead than the bound, is refused.

While an utterance is open, the session re-decodes it every ``partial_every_s`` of new audio
and publishes a not-durable ``transcript_partial`` (``deployments/partials.py``); the window cut
at the utterance's end keeps the same ``segment_id`` into its final ``transcript`` segments.
The one worker task runs finals and partials, finals first, so a partial never overtakes the
final of its own utterance, and a cut cancels the partial decode in flight.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import numpy as np

from core.audio import pcm16_to_float, whole_samples
from core.clips import CLIP_MAX_S
from core.dc_blocker import DcBlocker
from core.types import SAMPLE_RATE, Word
from core.windowing import Window, WindowOptions, find_utterance_end, silences
from deployments.failures import JobFailedError, public_failure
from deployments.job_output import JobOutput
from deployments.job_state import JobState, Models
from deployments.partials import (
    SENTENCE_FOLLOW_S,
    SENTENCE_PAST_S,
    OpenUtterance,
    PartialBudget,
)
from deployments.pipeline import WindowRunner
from deployments.speaker_naming import SpeakerNaming
from deployments.vad import BufferVad
from persistence import Database
from persistence.leases import LeaseLostError
from processor_api.live_replies import LiveRefusalCode
from rooms.hub import HubClient
from rooms.publish import publish_partial

logger = logging.getLogger(__name__)

LIVE_WINDOWS = WindowOptions(target_s=1.5, min_s=0.5, max_s=12.0, search_s=12.0)
MIN_PAUSE_S = 0.3  # a silence this long after speech ends an utterance (benchmarked)
VAD_EVERY_S = 0.15  # how much new audio triggers another look for an utterance end
# Speech regions are padded this much when looking for an utterance end. The upload path's
# 100 ms padding would make a 0.3 s pause need 0.5 s of silence, so turns that follow each
# other after 0.3-0.5 s would share a window and the first one's final would wait for the
# second's end (benchmarked: that was the p95 of utterance end → final).
ENDPOINT_PAD_MS = 30
# A shorter pause ends an utterance when a hypothesis that heard the words after it ends a
# sentence there: people take turns after 0.2-0.4 s, which MIN_PAUSE_S alone misses (the
# first turn's final then waits for the second's end), while a pause that short inside a
# sentence must not cut it.
SENTENCE_PAUSE_S = 0.2  # processor.live_sentence_pause_s; 0 turns the rule off
SENTENCE_LOOK_S = 2.0  # how far back from the buffer's end that pause is looked for
CONTEXT_CHARS = 400  # of the session's last finals, the prompt of the next one's decode
# Audio before a window that is diarized with it (``WindowRunner.run``'s ``lead``): a 1-3 s
# utterance alone gives a voice too little speech to link it to the meeting's speakers, and
# would open a phantom one (seen on planning2: a 2.7 s turn scored 0.80 against a centroid
# made from one 1.5 s window).
DIARIZE_LEAD_S = 8.0
REALTIME_SLACK_S = 10.0  # how far ahead of the wall clock a client may send (network bursts)
MAX_BACKLOG_S = 120.0  # audio waiting for the models before a session is refused
MIN_PARTIAL_AUDIO_S = 0.5  # shorter open audio is not worth a decode
# A partial waits for at least this many times its last decode's duration of new audio, so
# partials take at most about half of real time per session when decoding is slow (a CPU
# profile's Whisper encoder costs the same for 1 s as for 30 s) and run at the configured
# cadence when it is fast (GPU).
PARTIAL_BACKOFF = 2.0


class LiveSessionError(Exception):
    """The session cannot accept more audio; ``code`` becomes the client's close reason."""

    def __init__(self, message: str, code: LiveRefusalCode) -> None:
        super().__init__(message)
        self.message = message
        self.code: LiveRefusalCode = code


class LiveSession:
    """One live microphone session: cuts windows from the socket's audio, runs them through
    its ``WindowRunner`` and hands them, in order, to its ``JobOutput``."""

    def __init__(
        self,
        state: JobState,
        models: Models,
        hub: HubClient,
        db: Database,
        session_id: str,
        partial_every_s: float = 0.4,
        partial_budget: PartialBudget | None = None,
        min_pause_s: float = MIN_PAUSE_S,
        vad_every_s: float = VAD_EVERY_S,
        sentence_pause_s: float = SENTENCE_PAUSE_S,
        naming: SpeakerNaming | None = None,
    ) -> None:
        self.state = state
        self.session_id = session_id
        self._models = models
        self._hub = hub
        self.output = JobOutput(state, hub, db, models.summarize, naming, self.resume_fields)
        # The first utterances may be a word or two: an unsure guess is retried on the next ones.
        self._windows = WindowRunner(state, models, self.output, detection_attempts=3)
        self.received = 0  # samples accepted since the session started
        self.detached_at: float | None = None
        self._buffer = np.zeros(0, dtype=np.float32)
        self._vad = BufferVad()  # the buffer's speech regions, each frame scored once
        self._carry = bytearray()
        self._dc_blocker = DcBlocker(SAMPLE_RATE)
        self._buffer_start = 0.0  # meeting time of the buffer's first sample
        self._unchecked = 0  # samples fed since the last VAD look
        self._next_index = 0  # merged windows keep the first one's number; numbers stay unique
        self._pending: list[tuple[Window, np.ndarray]] = []
        self._leads: dict[int, np.ndarray] = {}  # per pending window: the audio before it
        self._recent = np.zeros(0, dtype=np.float32)  # the last DIARIZE_LEAD_S before the buffer
        self._said = ""  # the end of the finals' text so far: the next final's context
        self._wake = asyncio.Event()
        self._stopping = False
        self._opened = time.monotonic()
        self._worker: asyncio.Task[None] | None = None
        self._partial_every = int(partial_every_s * SAMPLE_RATE)
        self._partial_gap = self._partial_every  # current cadence, adapted to decode time
        self._budget = partial_budget or PartialBudget(0)
        self._utterance = self._new_utterance()
        self._decoded_upto = 0  # buffer samples covered by the last partial decode
        self._heard_speech = False  # the last VAD look found speech in the open buffer
        self._probe = False  # a decode is wanted now: did the utterance end at this pause?
        self._partial: asyncio.Task[None] | None = None
        self._closed: dict[int, OpenUtterance] = {}  # cut windows whose partials were shown
        self._revisions = 0  # partials published by this session (their ``revision``)
        self._min_pause_s = min_pause_s
        self._vad_every = int(vad_every_s * SAMPLE_RATE)
        self._sentence_pause_s = sentence_pause_s

    def resume_fields(self, window: Window | None) -> dict[str, Any]:
        """How a reconnect finds the owner (``leases.live_session_owner``), and where a new
        owner resumes: after the last stored window (``resume_at``)."""
        return {
            "session_id": self.session_id,
            "audio_end_s": window.end if window is not None else 0.0,
            "next_index": window.index + 1 if window is not None else 0,
        }

    def resume_at(self, audio_end_s: float, next_index: int) -> None:
        """Continue a session another replica held: the client resends from ``audio_end_s``
        (``received_s``), the end of the last window that replica stored."""
        self.received = round(audio_end_s * SAMPLE_RATE)
        self._buffer_start = audio_end_s
        self._next_index = next_index
        self._opened = time.monotonic() - audio_end_s  # the real-time check counts from 0 s
        self._utterance = self._new_utterance()

    async def reopen(self) -> None:
        """``open`` for a session taken over: keep the transcript, publish what is missing."""
        await self.output.resume(None)
        await self.output.status("processing", "transcription", "Live transcription resumed", None)
        self._worker = asyncio.create_task(self._work(), name=f"live-{self.session_id}")

    async def fail(self, message: str, code: str) -> None:
        """End the session as failed (unless another replica owns it now)."""
        await self.output.fail(message, code)

    @property
    def received_s(self) -> float:
        return self.received / SAMPLE_RATE

    async def open(self) -> None:
        await self.output.start(None)
        await self.output.status("processing", "transcription", "Live transcription started", None)
        self._worker = asyncio.create_task(self._work(), name=f"live-{self.session_id}")

    def feed(self, pcm: bytes) -> None:
        """Accept a chunk of 16 kHz mono PCM16; may cut one or more windows."""
        self._carry += pcm
        audio = self._dc_blocker(pcm16_to_float(whole_samples(self._carry)))  # odd byte: waits
        self._check_rate(len(audio))
        self.received += len(audio)
        self._buffer = np.concatenate([self._buffer, audio])
        self._unchecked += len(audio)
        if self._unchecked >= self._vad_every:
            self._unchecked = 0
            self._cut_utterances()
        if self._partial_due():
            self._wake.set()

    async def stop(self) -> None:
        """Flush the last utterance, wait for every window, then summary and ``completed``."""
        if self._stopping:
            return
        self._stopping = True
        if len(self._buffer) and self._vad.regions(self._buffer):
            self._emit(len(self._buffer) / SAMPLE_RATE)
        self._wake.set()
        if self._worker is not None:
            await self._worker
        await self.output.finish(self.received_s)

    def _check_rate(self, samples: int) -> None:
        ahead = (self.received + samples) / SAMPLE_RATE - (time.monotonic() - self._opened)
        if ahead > REALTIME_SLACK_S:
            raise LiveSessionError("Audio is arriving faster than real time", "too_fast")
        backlog = sum(len(audio) for _, audio in self._pending) / SAMPLE_RATE
        if backlog > MAX_BACKLOG_S:
            raise LiveSessionError("Transcription cannot keep up; try again later", "overloaded")

    def _cut_utterances(self) -> None:
        while True:
            pause = self._min_pause_s
            regions = self._vad.regions(
                self._buffer, min_silence_ms=int(pause * 1000), pad_ms=ENDPOINT_PAD_MS
            )
            self._heard_speech = bool(regions)
            buffered = len(self._buffer) / SAMPLE_RATE
            cut = find_utterance_end(regions, buffered, pause, LIVE_WINDOWS)
            if cut is None and regions:
                cut = self._sentence_end(buffered)
            if cut is None:
                return
            if regions and regions[0][0] < cut:
                self._emit(cut)
            else:
                self._drop(cut)  # silence only: nothing to transcribe

    def _sentence_end(self, buffered: float) -> float | None:
        """A cut in the newest short pause near the buffer's end that follows a finished
        sentence, once the speech after it (the next speaker's, or the same speaker going on)
        has been heard: Whisper ends any audio that stops with a full stop, so only a
        hypothesis that heard ``SENTENCE_FOLLOW_S`` past the pause can tell a sentence's end
        from a breath inside it. When silence goes on, a pause of ``MIN_PAUSE_S`` after a
        finished sentence is enough.

        Unlike a cut by pause alone, it may close an utterance shorter than the windows'
        ``target_s``: a one-word turn ("Yes.") gets its final without waiting for the next
        turn. When the newest hypothesis has not heard far enough yet, ask for one
        (``_probe``): the partial it brings re-runs this check as soon as it lands.
        """
        pause = self._sentence_pause_s
        if not pause or buffered < LIVE_WINDOWS.min_s:
            return None
        look = max(buffered - SENTENCE_LOOK_S, 0.0)
        regions = self._vad.regions(
            self._buffer, min_silence_ms=int(pause * 1000), pad_ms=ENDPOINT_PAD_MS
        )
        tail = [(max(a, look) - look, b - look) for a, b in regions if b > look]
        gaps = [
            (look + a, look + b)
            for a, b in silences(tail, buffered - look)
            if a > 0 and b - a >= pause - ENDPOINT_PAD_MS / 1000
        ]
        if not tail or not gaps:
            return None  # no speech, or still speaking with no pause long enough so far
        speech_end, resumed = gaps[-1]
        if resumed < buffered:  # speech went on: believe a full stop heard with what followed
            heard_until, cut = resumed + SENTENCE_FOLLOW_S, (speech_end + resumed) / 2
            if buffered < heard_until:
                return None
        else:  # silence goes on: a pause of the ordinary length, even under target_s
            if buffered - speech_end < self._min_pause_s:
                return None
            heard_until, cut = speech_end + SENTENCE_PAST_S, speech_end + self._min_pause_s / 2
        offset = self._buffer_start - self._utterance.start_s
        ends = self._utterance.ends_sentence(offset + speech_end, offset + heard_until)
        if ends is None:
            self._probe = True
            return None
        return cut if ends else None

    def _emit(self, cut_s: float) -> None:
        samples = int(cut_s * SAMPLE_RATE)
        window = Window(
            self._next_index, self._buffer_start, self._buffer_start + samples / SAMPLE_RATE
        )
        self._next_index += 1
        self._pending.append((window, self._buffer[:samples]))
        self._leads[window.index] = self._recent
        if self._utterance.shown:
            self._closed[window.index] = self._utterance
        self._drop(cut_s, closed=True)
        self._wake.set()

    def _drop(self, cut_s: float, closed: bool = False) -> None:
        """Forget the buffer up to ``cut_s``: a cut window (``closed``) or leading silence.

        Leading silence before speech keeps the open utterance and its shown words (their
        times are meeting times); a cut starts a new utterance and cancels the partial decode
        in flight, whose audio is now the pending window's.
        """
        samples = int(cut_s * SAMPLE_RATE)
        keep = int(DIARIZE_LEAD_S * SAMPLE_RATE)
        self._recent = np.concatenate([self._recent, self._buffer[:samples]])[-keep:]
        self._buffer = self._buffer[samples:]
        self._vad.restart()
        self._buffer_start += samples / SAMPLE_RATE
        if not closed:
            self._decoded_upto = max(self._decoded_upto - samples, 0)
            return
        if self._partial is not None and self._partial is not asyncio.current_task():
            self._partial.cancel()
        self._utterance = self._new_utterance()
        self._probe = False
        self._decoded_upto = 0
        self._heard_speech = False

    def segment_id(self, index: int) -> str:
        """The id shared by an utterance's partials and its final segments."""
        return f"{self.state.job_id[:12]}-u{index}"

    def _new_utterance(self) -> OpenUtterance:
        return OpenUtterance(self.segment_id(self._next_index), self._buffer_start)

    async def _work(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                await self._finish_partial()
                while self._pending:
                    window, audio = self._next_window()
                    lead = self._leads.pop(window.index, None)
                    result = await self._windows.run(audio, window, lead, self._said)
                    said = f"{self._said} {result.transcription.text}".strip()
                    self._said = said[-CONTEXT_CHARS:]
                    await self.output.publish_window(result, self.segment_id(window.index))
                    await self._close_shown(window.index, result.transcription.words)
                    lag = round(self.received_s - window.end, 3)
                    await self.output.status(
                        "processing",
                        "transcription",
                        "Transcribed live audio",
                        None,
                        window=window.index,
                        lag_s=lag,
                        audio_end_s=round(window.end, 3),
                    )
                if self._stopping:
                    return
                self._start_partial()
        except (asyncio.CancelledError, LeaseLostError):
            raise  # a lost lease: the session's new owner carries on, nothing fails here
        except Exception as e:
            logger.exception("live session %s failed", self.session_id)
            raise JobFailedError(*public_failure(e)) from e

    def _next_window(self) -> tuple[Window, np.ndarray]:
        """The oldest waiting window, merged with the ones after it when we are behind."""
        window, audio = self._pending.pop(0)
        parts = [audio]
        end = window.end
        while self._pending and self._pending[0][0].end - window.start <= CLIP_MAX_S:
            following, more = self._pending.pop(0)
            self._leads.pop(following.index, None)
            gap = round((following.start - end) * SAMPLE_RATE)
            parts.extend([np.zeros(max(gap, 0), dtype=np.float32), more])
            end = following.end
        return Window(window.index, window.start, end), np.concatenate(parts)

    # ---- partial transcripts of the open utterance ----------------------------------------

    def _partial_due(self) -> bool:
        return (
            self._budget.limit > 0
            and self._heard_speech
            and self._partial is None
            and not self._pending
            and len(self._buffer) >= MIN_PARTIAL_AUDIO_S * SAMPLE_RATE
            and (self._probe or len(self._buffer) - self._decoded_upto >= self._partial_gap)
        )

    def _start_partial(self) -> None:
        """Decode the open utterance in the background, if due and the budget allows."""
        if self._stopping or not self._partial_due() or not self._budget.try_acquire():
            return
        self._decoded_upto = len(self._buffer)
        self._probe = False
        offset = self._buffer_start - self._utterance.start_s  # leading silence dropped since
        self._partial = asyncio.create_task(
            self._run_partial(self._utterance, self._buffer, offset)
        )
        self._partial.add_done_callback(lambda _t: self._partial_done())

    def _partial_done(self) -> None:
        self._budget.release()
        self._partial = None
        if self._partial_due():
            self._wake.set()

    async def _run_partial(
        self, utterance: OpenUtterance, audio: np.ndarray, offset: float
    ) -> None:
        language = self.state.language
        if language.requested == "auto" and language.code is None:
            return  # not before detection: the default model would guess English words
        started = time.monotonic()
        guess = await self._hypothesis(audio, language.code)
        decode = int((time.monotonic() - started) * PARTIAL_BACKOFF * SAMPLE_RATE)
        self._partial_gap = max(self._partial_every, decode)
        words = [Word(w.word, w.start + offset, w.end + offset, w.probability) for w in guess]
        if utterance is not self._utterance:
            return
        if utterance.update(words, offset + len(audio) / SAMPLE_RATE):
            await self._publish_partial(utterance)
        if utterance is self._utterance and not self._stopping:
            self._cut_utterances()  # the pause it heard may end the utterance (_sentence_end)

    async def _hypothesis(self, audio: np.ndarray, language: str | None) -> list[Word]:
        quick = self._models.hypothesize
        if quick is not None:
            return await quick(audio, language)
        return (await self._models.transcribe(audio, language, "transcribe", None)).words

    async def _publish_partial(self, utterance: OpenUtterance) -> None:
        stable, pending = utterance.stable_words(), utterance.pending_words()
        end = max([w.end for w in stable + pending], default=utterance.start_s)
        await publish_partial(
            self._hub,
            self.state.meeting_id,
            utterance.segment_id,
            self._next_revision(utterance),
            (utterance.start_s, end),
            stable,
            pending,
        )

    def _next_revision(self, utterance: OpenUtterance) -> int:
        utterance.revision = self._revisions
        self._revisions += 1
        return utterance.revision

    async def _finish_partial(self) -> None:
        """Let the partial in flight end (it was cancelled if its audio was cut) before any
        final is published, so no partial can follow the final of its own utterance."""
        task = self._partial
        if task is not None:
            try:
                await task
            except asyncio.CancelledError:
                if asyncio.current_task().cancelling():  # type: ignore[union-attr]
                    raise
            except Exception:
                logger.warning("live session %s: partial failed", self.session_id, exc_info=True)

    async def _close_shown(self, first_index: int, final_words: list[Word]) -> None:
        """Count the shown words of the utterance this final replaced against its words.

        A final merged from several windows (the session fell behind) carries the first
        one's ``segment_id``; partials shown for the later ones are withdrawn.
        """
        upto = self._pending[0][0].index if self._pending else self._next_index
        covered = [self._closed.pop(i) for i in sorted(self._closed) if first_index <= i < upto]
        for n, utterance in enumerate(covered):
            if n == 0 and utterance.segment_id == self.segment_id(first_index):
                utterance.record_final(final_words)
            else:
                utterance.agreement.stable.clear()
                utterance.agreement.tail.clear()
                await self._publish_partial(utterance)
