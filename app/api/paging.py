"""Keyset pages of the meetings list: an opaque cursor and the ``Link: rel="next"`` header.

The cursor is the last listed meeting's sort key (creation time and id), base64url-encoded so
clients treat it as a token; a page never repeats or skips a meeting when others are created
or deleted between requests, as an offset would.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from urllib.parse import urlencode

from fastapi import HTTPException, status

from persistence import MeetingCursor

MAX_CURSOR_CHARS = 200


def encode_cursor(cursor: MeetingCursor) -> str:
    raw = f"{cursor.created_at.isoformat()}|{cursor.meeting_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> MeetingCursor:
    """The cursor a ``next`` link carried; 400 for anything this server did not issue."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        created_at, meeting_id = raw.split("|", 1)
        when = datetime.fromisoformat(created_at)
    except (binascii.Error, UnicodeDecodeError, ValueError) as e:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "cursor is not valid") from e
    if when.tzinfo is None or not meeting_id:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "cursor is not valid")
    return MeetingCursor(when, meeting_id)


def next_link(path: str, limit: int, last: MeetingCursor) -> str:
    """An RFC 8288 ``Link`` header value for the page after ``last`` (relative, so it holds
    behind any proxy)."""
    query = urlencode({"limit": limit, "cursor": encode_cursor(last)})
    return f'<{path}?{query}>; rel="next"'
