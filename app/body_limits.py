"""Request-body bounds for every HTTP route, enforced before anything parses or buffers a body.

Every route gets the small default limit. A route that needs more declares a ``BodyLimit``
(path pattern, byte limit, whether it takes ``multipart/form-data``); today three do: the
meeting audio upload, ``/v1/audio/(transcriptions|translations)`` and the voice-profile sample
(10 MB). Multipart bodies are refused (415) everywhere else, so no route can be made to
spool file parts: ``/api/auth/token``'s OAuth2 form is urlencoded by the standard, and a
multipart POST to it is answered before the form parser or the rate limiter runs.

``Content-Length`` is checked up front (an unauthenticated 300 MB POST is answered 413 with
nothing read); streamed bodies are counted as they arrive, so a lying or absent header cannot
get more past the limit than one chunk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True, slots=True)
class BodyLimit:
    """A route's own bound: ``path`` is a regular expression matched against the whole path."""

    path: str
    max_bytes: int
    multipart: bool = False

    def matches(self, path: str) -> bool:
        return re.fullmatch(self.path, path) is not None


class BodyTooLarge(StarletteHTTPException):
    """An HTTPException so FastAPI's body parsing re-raises it as is (not as a 400)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(status_code=413, detail=too_large_detail(max_bytes))


def too_large_detail(max_bytes: int) -> str:
    return f"Request body too large (limit {max_bytes} bytes)"


MULTIPART_REFUSED = (
    "This endpoint does not accept multipart/form-data; send JSON "
    "(or application/x-www-form-urlencoded to /api/auth/token)"
)


class BodyLimitMiddleware:
    """413 for bodies over the route's limit, 415 for multipart outside the routes that take it."""

    def __init__(self, app: ASGIApp, default_max_bytes: int, routes: tuple[BodyLimit, ...]) -> None:
        self.app = app
        self.default = BodyLimit(".*", default_max_bytes)
        self.routes = routes

    def limit_for(self, path: str) -> BodyLimit:
        return next((limit for limit in self.routes if limit.matches(path)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit.max_bytes:
            await _reply(send, 413, too_large_detail(limit.max_bytes))
            return
        if _is_multipart(scope) and not limit.multipart:
            # Read (and drop) at most the route's small limit, so the client can read the 415
            # instead of a connection reset; nothing is parsed or kept.
            await _discard_body(receive, limit.max_bytes)
            await _reply(send, 415, MULTIPART_REFUSED)
            return
        await self._counted(scope, receive, send, limit.max_bytes)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge(max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await _reply(send, 413, too_large_detail(max_bytes))


async def _discard_body(receive: Receive, max_bytes: int) -> None:
    seen = 0
    while seen <= max_bytes:
        message = await receive()
        if message["type"] != "http.request":
            return
        seen += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def _reply(send: Send, status: int, detail: str) -> None:
    # Connection: close, because the unread body would otherwise be parsed as the next request.
    response = JSONResponse(
        status_code=status, content={"detail": detail}, headers={"Connection": "close"}
    )
    await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value)
    return None


def _is_multipart(scope: Scope) -> bool:
    content_type = _header(scope, b"content-type") or b""
    return content_type.strip().lower().startswith(b"multipart/")


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
