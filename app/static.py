"""Serves the built browser client (`web/dist`) from the API's own origin.

One origin for the page, the REST API and the room sockets means no CORS setup and the
client can derive every URL from `window.location`. The client routes on the browser side
(`/meetings/abc`), so any unknown non-API path answers with `index.html` (SPA fallback).
Call `mount_web` after every router is included: its catch-all route must come last, and it
still refuses the API prefixes explicitly so a missing API route is a JSON 404, not a page.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response

logger = logging.getLogger(__name__)

# First path segments that belong to the backend and must never be answered with the SPA.
RESERVED_PREFIXES: frozenset[str] = frozenset(
    {"api", "ws", "docs", "redoc", "openapi.json", "healthz", "readyz", "v1"}
)
# Vite fingerprints everything under assets/ (content hash in the name), so it never changes.
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
# index.html names the current asset hashes, so browsers must revalidate it on every load.
REVALIDATE_CACHE = "no-cache"

BUILD_HINT_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>meetingserve: web client not built</title>
</head><body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto;">
<h1>The web client is not built yet</h1>
<p>The API is running (see <a href="/docs">/docs</a>), but <code>web/dist</code> does not exist.
Build the browser client with Node.js 20.19+ and reload this page:</p>
<pre>scripts/build_web.sh</pre>
<p>(equivalent to <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>)</p>
</body></html>
"""


def is_reserved_path(path: str) -> bool:
    """True when `path` (without the leading slash) belongs to the backend, not the SPA."""
    first = path.lstrip("/").split("/", 1)[0]
    return first in RESERVED_PREFIXES


def resolve_asset(dist_dir: Path, path: str) -> Path | None:
    """The file under `dist_dir` that `path` names, or None (missing, hidden or outside)."""
    if not path or any(part.startswith(".") for part in Path(path).parts):
        return None
    root = dist_dir.resolve()
    candidate = (root / path).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def _index_response(dist_dir: Path) -> Response:
    index = dist_dir / "index.html"
    if not index.is_file():
        return HTMLResponse(BUILD_HINT_HTML, headers={"Cache-Control": REVALIDATE_CACHE})
    return FileResponse(index, media_type="text/html", headers={"Cache-Control": REVALIDATE_CACHE})


def _asset_response(asset: Path, dist_dir: Path) -> FileResponse:
    under_assets = asset.parent == (dist_dir.resolve() / "assets")
    cache = IMMUTABLE_CACHE if under_assets else REVALIDATE_CACHE
    return FileResponse(asset, headers={"Cache-Control": cache})


def mount_web(app: FastAPI, dist_dir: Path) -> None:
    """Serves `dist_dir` at `/` with SPA fallback; without a build, `/` explains how to build.

    The directory is checked per request, so building the client while the server runs works
    without a restart.
    """
    if not (dist_dir / "index.html").is_file():
        logger.warning("Web client not built (%s missing); run scripts/build_web.sh", dist_dir)

    async def serve_web(full_path: str) -> Response:
        if is_reserved_path(full_path):
            raise HTTPException(status_code=404, detail="Not Found")
        asset = resolve_asset(dist_dir, full_path)
        if asset is not None:
            return _asset_response(asset, dist_dir)
        # A missing fingerprinted file is a stale page asking for an old build: answering with
        # HTML would make the browser try to run it as a script, so say 404 instead.
        missing_asset = full_path.startswith("assets/")
        if missing_asset or (full_path and not (dist_dir / "index.html").is_file()):
            raise HTTPException(status_code=404, detail="Not Found")
        return _index_response(dist_dir)

    app.add_api_route(
        "/{full_path:path}",
        serve_web,
        methods=["GET", "HEAD"],
        include_in_schema=False,
        name="web_client",
    )
