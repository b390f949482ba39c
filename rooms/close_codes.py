"""The WebSocket close codes of both sockets (room and live audio), in one table.

docs/protocol.md documents each; the web client's own tables (web/src/lib/meetingSocket.js,
liveAudio.js) are checked against this one by tests/unit/rooms/test_close_codes.py.
"""

from __future__ import annotations

from enum import IntEnum


class CloseCode(IntEnum):
    NORMAL = 1000
    GOING_AWAY = 1001  # server restarting or replay temporarily impossible: resume later
    UNSUPPORTED = 1003  # live audio: a bad `start`, or audio the Processor could not read
    MESSAGE_TOO_BIG = 1009
    INTERNAL = 1011  # live audio: the session is kept; reconnect with session_id
    UNSUPPORTED_LANGUAGE = 4400  # live audio: no loaded model writes the requested language
    UNAUTHORIZED = 4401  # missing, invalid, expired or revoked credential
    FORBIDDEN = 4403  # live audio: viewers may not stream
    NOT_FOUND = 4404  # no such meeting, no access, or access removed
    TIMEOUT = 4408  # no auth / start in time, or an idle live socket
    CONFLICT = 4409  # live audio: already processing, or a transcript exists without replace
    SESSION_GONE = 4410  # live audio: the session to resume no longer exists
    TOO_MANY = 4429  # too many sockets, too slow, too fast, or over a cap: resume later
