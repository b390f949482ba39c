"""All ``/api`` routes, assembled in one place."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.routes import (
    audio,
    auth,
    events,
    keys,
    meeting_language,
    meetings,
    speakers,
    transcript,
    voice_profiles,
    webhooks,
)

api_router = APIRouter(prefix="/api")
api_router.include_router(auth.router)
api_router.include_router(meetings.router)
api_router.include_router(events.router)
api_router.include_router(audio.router)
api_router.include_router(transcript.router)
api_router.include_router(keys.router)
api_router.include_router(webhooks.router)
api_router.include_router(meeting_language.router)
api_router.include_router(speakers.router)
api_router.include_router(voice_profiles.router)
