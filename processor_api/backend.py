"""What the web layer needs from the model side, as a protocol.

The Ingress deployment implements it with Serve deployment handles and the MeetingHub actor;
tests pass ``LocalBackend``. Keeping the web layer behind this seam is what lets ``app/`` run
(and be tested) without Ray or torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.languages import ENGLISH, LanguageRouter, ModelRoute
from processor_api.live_replies import UNKNOWN_SESSION, LiveRefusal, LiveReply
from processor_api.voices import NO_DIARIZER, VoiceReply, VoiceSample
from rooms.hub import EventLog, HubClient

ENGLISH_ONLY = LanguageRouter((ModelRoute("Transcriber", frozenset({ENGLISH})),))


@dataclass(frozen=True, slots=True)
class JobRequest:
    """An accepted upload, handed to the Processor."""

    job_id: str
    meeting_id: str
    audio_path: str


@dataclass(frozen=True, slots=True)
class ServedModel:
    """The transcription model a profile serves (``GET /v1/models``): its id (the model's
    name without a path) and its fixed language (None: detected per window)."""

    id: str
    language: str | None


class Backend(Protocol):
    async def readiness(self) -> dict[str, bool]:
        """Each model deployment's name mapped to whether its model is loaded."""
        ...

    def make_hub(self, database_url: str) -> HubClient:
        """The hub this process publishes to and long-polls."""
        ...

    def languages(self) -> LanguageRouter:
        """Which languages the loaded models serve (validates meeting requests)."""
        ...

    async def submit_job(self, job: JobRequest) -> None:
        """Start processing an accepted upload; returns once the Processor has taken it."""
        ...

    async def regenerate_summary(self, meeting_id: str) -> None:
        """Summarise a finished meeting's stored transcript again (publishes a summary event)."""
        ...

    def served_models(self) -> list[ServedModel]:
        """What the profile serves, for the OpenAI-compatible ``/v1`` endpoints."""
        ...

    async def embed_voice(self, sample: VoiceSample) -> VoiceReply:
        """The dominant voice of an enrolment sample, or why there is none."""
        ...

    async def live_open(self, meeting_id: str, session_id: str | None) -> LiveReply:
        """Start (or re-attach to) a live session."""
        ...

    async def live_feed(self, session_id: str, pcm: bytes) -> LiveReply: ...

    async def live_detach(self, session_id: str) -> None: ...

    async def live_stop(self, session_id: str) -> LiveReply:
        """Finish the session (every window and the summary) and end it."""
        ...


class LocalBackend:
    """In-process backend without models: fixed readiness, an in-process event log, and jobs
    recorded rather than processed (unit tests of the web layer; web-only development)."""

    def __init__(
        self,
        ready: dict[str, bool] | None = None,
        served: list[ServedModel] | None = None,
        router: LanguageRouter | None = None,
    ) -> None:
        self._ready = dict(ready or {})
        self._served = list(served or [])
        self._router = router or ENGLISH_ONLY
        self.hub: EventLog | None = None
        self.submitted: list[JobRequest] = []
        self.summary_requests: list[str] = []

    def languages(self) -> LanguageRouter:
        return self._router

    async def readiness(self) -> dict[str, bool]:
        return dict(self._ready)

    def make_hub(self, database_url: str) -> HubClient:
        if self.hub is None:
            self.hub = EventLog(database_url)
        return self.hub

    async def submit_job(self, job: JobRequest) -> None:
        self.submitted.append(job)

    def served_models(self) -> list[ServedModel]:
        return list(self._served)

    async def regenerate_summary(self, meeting_id: str) -> None:
        self.summary_requests.append(meeting_id)

    async def embed_voice(self, sample: VoiceSample) -> VoiceReply:
        return NO_DIARIZER

    async def live_open(self, meeting_id: str, session_id: str | None) -> LiveReply:
        return LiveRefusal("unavailable", "Live audio needs the Processor deployment")

    async def live_feed(self, session_id: str, pcm: bytes) -> LiveReply:
        return UNKNOWN_SESSION

    async def live_detach(self, session_id: str) -> None:
        return None

    async def live_stop(self, session_id: str) -> LiveReply:
        return UNKNOWN_SESSION
