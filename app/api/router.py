"""All ``/api`` routes, assembled in one place."""

from __future__ import annotations

from fastapi import APIRouter

api_router = APIRouter(prefix="/api")
