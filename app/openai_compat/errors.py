"""OpenAI's error envelope for everything under ``/v1``.

``{"error": {"message", "type", "param", "code"}}`` with OpenAI's status codes, so the official
clients raise their usual exceptions (``BadRequestError`` for 400, ``AuthenticationError`` for
401, ``NotFoundError``, ``RateLimitError``, ...). The rest of the API keeps FastAPI's
``{"detail": ...}``: the handlers below answer in the envelope only for ``/v1`` paths.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

V1_PREFIX = "/v1"
ErrorType = str  # OpenAI's ``type``: invalid_request_error, server_error, requests, ...


class OpenAIError(Exception):
    """An answer in OpenAI's error envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: ErrorType = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


STATUS_TYPES = {401: "invalid_request_error", 429: "requests"}


def from_http_status(status: int, detail: str) -> OpenAIError:
    """A plain HTTP error (404 route, 405 method, 413 body) in the envelope."""
    kind = STATUS_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    codes = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}
    return OpenAIError(status, detail, type=kind, code=codes.get(status))


def is_v1(request: Request) -> bool:
    path = request.url.path
    return path == V1_PREFIX or path.startswith(V1_PREFIX + "/")


Handler = Callable[[Request, Any], Awaitable[Response]]


def install_error_handlers(app: FastAPI) -> None:
    """Envelope for ``OpenAIError`` anywhere, and for HTTP/validation errors under ``/v1``;
    other paths keep the handlers installed before this call."""
    previous_http: Handler | None = app.exception_handlers.get(StarletteHTTPException)  # type: ignore[assignment]
    previous_validation: Handler | None = app.exception_handlers.get(RequestValidationError)  # type: ignore[assignment]

    async def on_openai_error(_request: Request, exc: OpenAIError) -> Response:
        return exc.response()

    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if is_v1(request) or previous_http is None:
            error = from_http_status(exc.status_code, str(exc.detail))
            error.headers = dict(exc.headers or {})
            return error.response()
        return await previous_http(request, exc)

    async def on_validation_error(request: Request, exc: RequestValidationError) -> Response:
        if is_v1(request) or previous_validation is None:
            first = exc.errors()[0] if exc.errors() else {}
            param = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
            return OpenAIError(
                400, str(first.get("msg", "Invalid request")), param=param
            ).response()
        return await previous_validation(request, exc)

    app.add_exception_handler(OpenAIError, on_openai_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, on_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, on_validation_error)  # type: ignore[arg-type]
