"""Replies of the Processor's live-session calls, typed once for both sides of the web <->
Processor seam (``processor_api.backend.Backend``, ``deployments.processor.Processor``): the
session's state, or a refusal whose code the live socket maps to a close code. Plain frozen
dataclasses, so they cross Ray by pickling unchanged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

LiveRefusalCode = Literal[
    "busy",  # the meeting is being processed, or the session is finishing
    "too_many",  # the user's live-session quota
    "unknown_session",  # no such session (finished, or never opened here)
    "bad_audio",  # frames that could not be read
    "too_fast",  # audio arriving faster than real time
    "overloaded",  # transcription cannot keep up
    "owner_busy",  # the session's replica still holds it (a takeover timed out)
    "unavailable",  # no Processor (web-only development)
]


@dataclass(frozen=True, slots=True)
class LiveSessionState:
    session_id: str
    job_id: str
    received_s: float  # audio the session holds, in seconds: a resuming client resends after it
    owner: str | None = None  # the Processor replica holding it: routing only, never sent out

    def public(self) -> dict[str, Any]:
        """What clients see (``started`` / ``stopped``)."""
        return {"session_id": self.session_id, "job_id": self.job_id, "received_s": self.received_s}


@dataclass(frozen=True, slots=True)
class LiveRefusal:
    code: LiveRefusalCode
    message: str


@dataclass(frozen=True, slots=True)
class LiveRedirect:
    """``live_open`` reached a replica that does not hold the session: ask ``owner`` (None:
    no replica holds it any more, so whichever is asked next takes it over)."""

    owner: str | None


LiveReply = LiveSessionState | LiveRefusal
UNKNOWN_SESSION = LiveRefusal("unknown_session", "No such live session")
