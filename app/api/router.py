"""All ``/api`` routes, assembled in one place."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.routes import audio, auth, events, meetings, speakers, transcript, voice_profiles

api_router = APIRouter(prefix="/api")
api_router.include_router(auth.router)
api_router.include_router(meetings.router)
api_router.include_router(events.router)
api_router.include_router(audio.router)
api_router.include_router(transcript.router)
api_router.include_router(speakers.router)
api_router.include_router(voice_profiles.router)
