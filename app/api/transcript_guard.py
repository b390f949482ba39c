"""Re-recording a meeting that has a transcript needs an explicit ``replace=true``.

Without it an upload answers 409 ``{"detail": ..., "code": "transcript_exists"}`` and a live
socket gets an ``error`` message with that code and closes with 4409. With it the recording
goes ahead and the old transcript is archived as an earlier version when processing starts
(``persistence/versions.py``), so nothing is lost either way.
"""

from __future__ import annotations

import contextlib

import anyio.to_thread
from fastapi import HTTPException, Request, WebSocket, status
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.websockets import WebSocketDisconnect, WebSocketState

from persistence import Database, get_active_job
from persistence.versions import has_transcript
from rooms.close_codes import CloseCode
from rooms.messages import ErrorMessage, wire
from settings.flags import is_true

TRANSCRIPT_EXISTS = "transcript_exists"
TRANSCRIPT_EXISTS_DETAIL = (
    "This meeting already has a transcript; send replace=true to record again "
    "(the current transcript stays available as an earlier version)"
)
CLOSE_CONFLICT = CloseCode.CONFLICT


class CodedHTTPException(HTTPException):
    """An HTTP error with a machine-readable ``code`` beside the readable ``detail``."""

    def __init__(self, status_code: int, detail: str, code: str) -> None:
        super().__init__(status_code=status_code, detail=detail)
        self.code = code


async def coded_http_exception_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CodedHTTPException)
    return JSONResponse(
        status_code=exc.status_code, content={"detail": exc.detail, "code": exc.code}
    )


def would_replace(db: Database, meeting_id: str) -> bool:
    """True when a new recording would replace a finished transcript. A meeting being
    processed is not a replacement (a live session re-attaching, or the usual 409 busy)."""
    with db.session() as session:
        return has_transcript(session, meeting_id) and get_active_job(session, meeting_id) is None


def refuse_silent_replacement(session: Session, meeting_id: str, replace: bool) -> None:
    """409 ``transcript_exists`` unless ``replace`` or there is nothing to replace (inside a
    session the caller already holds; the caller has ruled out an active job)."""
    if not replace and has_transcript(session, meeting_id):
        raise CodedHTTPException(
            status.HTTP_409_CONFLICT, TRANSCRIPT_EXISTS_DETAIL, TRANSCRIPT_EXISTS
        )


async def transcript_may_be_replaced(websocket: WebSocket, meeting_id: str) -> bool:
    """For the live-audio socket (``?replace=true``); False after refusing and closing."""
    if is_true(websocket.query_params.get("replace")):
        return True
    if not await anyio.to_thread.run_sync(would_replace, websocket.app.state.db, meeting_id):
        return True
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        error = ErrorMessage(error=TRANSCRIPT_EXISTS_DETAIL, code=TRANSCRIPT_EXISTS)
        await websocket.send_json(wire(error))
        if websocket.application_state == WebSocketState.CONNECTED:
            await websocket.close(CLOSE_CONFLICT, TRANSCRIPT_EXISTS)
    return False
