"""Liveness and readiness probes (no auth: they reveal nothing about users or meetings)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def get_healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def get_readyz(request: Request) -> JSONResponse:
    readiness = await request.app.state.backend.readiness()
    not_ready = sorted(name for name, ok in readiness.items() if not ok)
    if not_ready:
        return JSONResponse(
            status_code=503, content={"status": "not_ready", "not_ready": not_ready}
        )
    return JSONResponse(content={"status": "ready", "deployments": sorted(readiness)})
