"""Messages of the live-audio socket (``WS /ws/meeting/{id}/audio``, PROTOCOL.md "Live audio
in"), beside the room's in ``messages.py`` so the generated schema in docs/protocol.md covers
both sockets. Audio itself travels as binary frames (mono, in the format ``start`` declares:
16 kHz PCM16 by the seed's contract, or another rate and encoding, ``core/live_input.py``),
not as messages."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from core.live_input import MAX_LIVE_RATE, MIN_LIVE_RATE, Encoding
from rooms.messages import WireModel

# "auto" or an ISO 639-1 code (Whisper also knows "haw" and "yue"); malformed ones get a 422
# (REST) or close 1003 (socket); well-formed ones no loaded model writes are refused with
# ``unsupported_language``.
LanguageCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"(?i)^(auto|[a-z]{2,3})$"),
]
TranslationTarget = Literal["en"]


class LiveStartRequest(BaseModel):
    """The first frame: opens a session, or continues one after a dropped connection."""

    type: Literal["start"]
    # Hz of the binary frames that follow; 16000 is the seed's, any other is resampled to it
    sample_rate: int = Field(ge=MIN_LIVE_RATE, le=MAX_LIVE_RATE)
    encoding: Encoding = "pcm_s16le"
    session_id: str | None = Field(default=None, max_length=128)  # from an earlier `started`
    # the meeting's language settings for this session (omitted: the meeting's own apply)
    language: LanguageCode | None = None
    translate_to: TranslationTarget | None = None


class LiveStopRequest(BaseModel):
    """Ends the session: the server finishes every window and the summary, then `stopped`."""

    type: Literal["stop"]


class LiveSessionFields(BaseModel):
    session_id: str  # send it back in `start` to resume after a dropped connection
    job_id: str
    received_s: float  # audio the session holds, in seconds: resend from here on resume


class LiveStartedMessage(WireModel, LiveSessionFields):
    type: Literal["started"] = "started"


class LiveStoppedMessage(WireModel, LiveSessionFields):
    type: Literal["stopped"] = "stopped"


LIVE_SERVER_MESSAGES: dict[str, type[BaseModel]] = {
    "started": LiveStartedMessage,
    "stopped": LiveStoppedMessage,
}
LIVE_CLIENT_MESSAGES: dict[str, type[BaseModel]] = {
    "start": LiveStartRequest,
    "stop": LiveStopRequest,
}
