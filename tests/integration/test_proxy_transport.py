"""The Serve proxy's channel to the replicas, as `make run` and the clusters set it
(``deployments/run.py`` ``ingress_env``): gRPC, with room for a response larger than gRPC's
4 MiB default in one ASGI message (a long meeting's transcript as JSON)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.conftest import RunningPlatform

pytestmark = pytest.mark.slow
PROBE_APP = "proxy-transport-probe"
PREFIX = "/proxy-transport-probe"
LARGE_BYTES = 6 * 1024 * 1024


def probe_app() -> Any:
    import os

    from fastapi import FastAPI
    from fastapi.responses import Response
    from ray import serve

    api = FastAPI()

    @serve.deployment(ray_actor_options={"num_cpus": 0})
    @serve.ingress(api)
    class TransportProbe:
        @api.get("/large")
        def large(self) -> Response:
            # One ASGI body message of LARGE_BYTES, as a JSONResponse sends a big document.
            grpc = os.environ.get("RAY_SERVE_PROXY_USE_GRPC", "")
            return Response(b"x" * LARGE_BYTES, headers={"x-proxy-grpc": grpc})

    return TransportProbe.bind()


@pytest.fixture(scope="module")
def probe(platform: RunningPlatform) -> Iterator[str]:
    from ray import serve

    serve.run(probe_app(), name=PROBE_APP, route_prefix=PREFIX)
    try:
        yield f"{platform.base_url}{PREFIX}"
    finally:
        serve.delete(PROBE_APP)


def test_the_proxy_reaches_replicas_over_grpc_and_relays_a_large_body(probe: str) -> None:
    response = httpx.get(f"{probe}/large", timeout=60)
    assert response.status_code == 200, response.text[:200]
    assert response.headers["x-proxy-grpc"] == "1"
    assert len(response.content) == LARGE_BYTES
