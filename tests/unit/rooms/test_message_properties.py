"""Property-based tests (Hypothesis) for WebSocket message parsing on both sockets: anything a
client sends is either a known message or refused cleanly, never an exception."""

from __future__ import annotations

import json

from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from app.api.routes.live import control_kind
from app.api.routes.ws import parse_client_message
from core.live_input import SAMPLE_BYTES
from rooms.live_messages import LiveStartRequest
from rooms.messages import AuthRequest, PingRequest, ResumeRequest

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
messages = st.dictionaries(
    st.sampled_from(["type", "token", "last_seq", "session_id", "sample_rate", "encoding"]),
    json_values,
).map(json.dumps)
frames = st.text(max_size=200) | st.binary(max_size=200) | messages
DEEP = "[" * 50_000  # within the 64 KiB frame limit, deeper than json.loads can nest


@given(frames)
@example(DEEP)
@example(b"\xff\xfe")
@example('{"type":"resume","last_seq":-1}')
def test_room_messages_parse_or_are_refused(raw: str | bytes) -> None:
    message = parse_client_message(raw)
    assert message is None or isinstance(message, PingRequest | AuthRequest | ResumeRequest)
    if isinstance(message, ResumeRequest):
        assert message.last_seq >= 0


@given(st.text(max_size=200) | messages)
@example(DEEP)
@example('{"type":["stop"]}')
def test_live_control_frames_parse_or_are_refused(text: str) -> None:
    kind = control_kind(text)
    assert kind is None or isinstance(kind, str)


@given(st.text(max_size=200) | messages)
@example(DEEP)
@example('{"type":"start","sample_rate":1}')
@example('{"type":"start","sample_rate":48000.5}')
@example('{"type":"start","sample_rate":48000,"encoding":"pcm_u8"}')
def test_live_start_is_a_supported_format_or_a_validation_error(text: str) -> None:
    try:
        start = LiveStartRequest.model_validate_json(text)
    except ValidationError:
        return
    assert start.type == "start"
    assert isinstance(start.sample_rate, int) and 8_000 <= start.sample_rate <= 48_000
    assert start.encoding in SAMPLE_BYTES
