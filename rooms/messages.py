"""Pydantic models of every WebSocket message (the wire contract in docs/protocol.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from persistence.models import JobStatus  # the wire reports the job row's status

Stage = Literal["upload", "diarization", "transcription", "alignment", "summarization", "done"]


def utc_timestamp() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class WireModel(BaseModel):
    model_config = ConfigDict(extra="allow")

    timestamp: str = Field(default_factory=utc_timestamp)


class DurableFields(BaseModel):
    """Set by the hub when it stores the event; absent before publication."""

    seq: int | None = None
    meeting_id: str | None = None
    event_id: str | None = None  # extension: unique per event, the same across publish retries


class ConnectedMessage(WireModel):
    type: Literal["connected"] = "connected"
    meeting_id: str
    message: str = "Connected to real-time meeting updates"
    last_seq: int
    server_id: str | None = None  # extension: which server process (Ingress replica) holds it


class PongMessage(WireModel):
    type: Literal["pong"] = "pong"


class StatusDetails(BaseModel):
    model_config = ConfigDict(extra="allow")

    message: str
    stage: Stage
    progress: float | None = Field(default=None, ge=0, le=1)
    window: int | None = None
    windows: int | None = None
    # extension: the meeting's language once known (detected on "auto"), with the detector's
    # probability; language_source is "detected", "requested", or "default" (no language was
    # set: the profile's default model transcribes, and this is what it wrote)
    language: str | None = None
    language_probability: float | None = Field(default=None, ge=0, le=1)
    language_source: Literal["detected", "requested", "default"] | None = None


class StatusMessage(WireModel, DurableFields):
    type: Literal["status"] = "status"
    status: JobStatus
    details: StatusDetails


class WordPayload(BaseModel):
    word: str
    start: float
    end: float
    probability: float = 1.0


class SegmentPayload(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    speaker: str
    text: str
    timestamp: float  # the seed's field; equals start
    start: float
    end: float
    window: int
    words: list[WordPayload] = []
    # extension: the live utterance this line finalises; equals the ``segment_id`` of the
    # ``transcript_partial`` messages it replaces (absent for uploads)
    segment_id: str | None = None
    translation: str | None = None  # extension: English caption, on meetings that ask for it


class TranscriptMessage(WireModel, DurableFields):
    type: Literal["transcript"] = "transcript"
    segment: SegmentPayload


class TranscriptPartialMessage(WireModel):
    """Extension: the running hypothesis of a live utterance that is still open.

    Not durable: no ``seq``, not stored, not replayed on resume. Each one replaces the previous
    partial with the same ``segment_id``; the ``transcript`` segment(s) carrying that
    ``segment_id`` replace it for good. ``text``/``words`` are the stable words (two decodes
    agreed on them); ``pending_text`` is the newest guess at the words after them, which may
    still change. Empty ``words`` withdraws the partial (the audio held no speech after all).
    """

    type: Literal["transcript_partial"] = "transcript_partial"
    meeting_id: str | None = None
    segment_id: str
    revision: int = Field(ge=0)  # increases with each partial of this segment
    speaker: str | None = None
    text: str
    words: list[WordPayload] = []
    pending_text: str = ""
    start: float  # meeting time of the utterance's audio, as for segments
    end: float


class ActionItemPayload(BaseModel):
    text: str
    owner: str | None = None
    due: str | None = None


class SummaryDetails(BaseModel):
    model_config = ConfigDict(extra="allow")

    action_items: list[ActionItemPayload] = []
    decisions: list[str] = []
    topics: list[str] = []
    language: str | None = None  # extension: the language the summary was made for
    language_note: str | None = None  # extension: what the engine could not do in it


class SummaryMessage(WireModel, DurableFields):
    type: Literal["summary"] = "summary"
    summary: str
    action_items: list[str]  # the seed's flat list
    details: SummaryDetails


class ErrorMessage(WireModel, DurableFields):
    type: Literal["error"] = "error"
    error: str
    code: str


class SpeakerNamePayload(BaseModel):
    name: str
    source: Literal["user", "profile"]
    confidence: float | None = None  # cosine similarity of a voice-profile match
    profile_id: str | None = None


class SpeakersMessage(WireModel, DurableFields):
    """Extension: the meeting's complete speaker state after a rename, merge, reassignment or
    voice-profile match. Clients replace their own copy with it (latest ``seq`` wins)."""

    type: Literal["speakers"] = "speakers"
    speakers: dict[str, SpeakerNamePayload]  # meeting label -> display name
    merges: dict[str, str]  # merged label -> label it now counts as
    segment_speakers: dict[str, str]  # segment id -> label it was reassigned to
    change: dict[str, Any] | None = None  # what this event changed, e.g. {"action": "rename"}


class KeepaliveMessage(WireModel):
    """Sent when a socket has been idle, so proxies keep it open (not durable, no seq)."""

    type: Literal["keepalive"] = "keepalive"


# ---- client → server ---------------------------------------------------------------------


class PingRequest(BaseModel):
    type: Literal["ping"]


class AuthRequest(BaseModel):
    type: Literal["auth"]
    token: str = Field(min_length=1, max_length=8192)


class ResumeRequest(BaseModel):
    type: Literal["resume"]
    last_seq: int = Field(ge=0)


ClientMessage = PingRequest | AuthRequest | ResumeRequest


class BatchMessage(WireModel):
    """Extension, only for sockets opened with ``?batch=1``: several messages that were ready
    together (e.g. a window's segments), in order, each exactly as it would be sent alone."""

    type: Literal["batch"] = "batch"
    messages: list[dict[str, Any]]


SERVER_MESSAGES: dict[str, type[BaseModel]] = {
    "connected": ConnectedMessage,
    "status": StatusMessage,
    "transcript": TranscriptMessage,
    "transcript_partial": TranscriptPartialMessage,
    "summary": SummaryMessage,
    "error": ErrorMessage,
    "speakers": SpeakersMessage,
    "pong": PongMessage,
    "keepalive": KeepaliveMessage,
    "batch": BatchMessage,
}


def wire(model: BaseModel) -> dict[str, Any]:
    """The JSON-able dict of a message, without unset durable fields."""
    return model.model_dump(mode="json", exclude_none=True)
