"""The deployed CPU profile answers its probes once every model deployment is loaded."""

from __future__ import annotations

import httpx

from tests.integration.conftest import RunningPlatform


def test_healthz_answers_ok(platform: RunningPlatform) -> None:
    r = httpx.get(f"{platform.base_url}/healthz", timeout=10)
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_readyz_lists_every_model_deployment(platform: RunningPlatform) -> None:
    r = httpx.get(f"{platform.base_url}/readyz", timeout=10)
    assert r.status_code == 200
    assert r.json() == {
        "status": "ready",
        "deployments": [
            "Diarizer",
            "MultilingualTranscriber",
            "Processor",
            "Summarizer",
            "Transcriber",
        ],
    }


def test_serve_status_reports_every_deployment_healthy(platform: RunningPlatform) -> None:
    from ray import serve

    app = serve.status().applications["meetingserve"]
    assert app.status == "RUNNING"
    assert {name: d.status for name, d in app.deployments.items()} == {
        "Ingress": "HEALTHY",
        "Transcriber": "HEALTHY",
        "MultilingualTranscriber": "HEALTHY",
        "Diarizer": "HEALTHY",
        "Summarizer": "HEALTHY",
        "Processor": "HEALTHY",
    }
