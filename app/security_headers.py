"""Security headers on every HTTP response: the web client, the API and the API docs.

The web client's policy allows only its own origin: the Vite build is one module script, one
stylesheet and one worklet file under ``/assets`` (no inline script or style tags; React's
``style={...}`` props go through the CSSOM, which CSP does not restrict) and it talks to its
own origin over fetch and WebSockets (CSP3 ``'self'`` covers same-origin ``ws:``/``wss:``).
FastAPI's ``/docs`` and ``/redoc`` pages load Swagger UI / ReDoc from jsDelivr with an inline
bootstrap script, so they get a policy that names exactly that.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

APP_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "media-src 'self' blob:",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
DOCS_CDN = "https://cdn.jsdelivr.net"
DOCS_POLICY = "; ".join(
    (
        "default-src 'self'",
        f"script-src 'self' 'unsafe-inline' {DOCS_CDN}",
        f"style-src 'self' 'unsafe-inline' {DOCS_CDN}",
        "img-src 'self' data: https://fastapi.tiangolo.com",
        f"worker-src 'self' blob: {DOCS_CDN}",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    )
)
DOCS_PATHS = ("/docs", "/redoc")
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # for browsers without CSP frame-ancestors
    "Referrer-Policy": "no-referrer",
}


def policy_for(path: str) -> str:
    return DOCS_POLICY if path.startswith(DOCS_PATHS) else APP_POLICY


class SecurityHeadersMiddleware:
    """Adds the headers to every HTTP response (WebSocket handshakes are left alone)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = policy_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in COMMON_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", policy)
            await send(message)

        await self.app(scope, receive, send_with_headers)
