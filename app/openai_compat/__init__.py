"""OpenAI-compatible ``/v1`` endpoints (transcriptions, models) over the meeting pipeline."""

from __future__ import annotations

from fastapi import FastAPI

from app.openai_compat.errors import install_error_handlers
from app.openai_compat.routes import router


def install_openai_compat(app: FastAPI) -> None:
    """Add the ``/v1`` routes and OpenAI's error envelope for them (before the web catch-all)."""
    install_error_handlers(app)
    app.include_router(router)
