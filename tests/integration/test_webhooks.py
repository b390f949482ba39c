"""Webhooks on the real cluster: a meeting's ``completed`` and ``summary`` events reach a
receiver that was down while they happened, once each, signed, after the Processor (home
of the delivery loop) was killed and replaced in between.

The cluster runs with a 1 s retry base and a 4 s cap (tests/integration/conftest.py), and
allows 127.0.0.0/8 through the SSRF guard; the defaults retry for 24 hours.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from scripts.synth_meeting import ensure_meeting
from tests.integration.client import ApiUser, collect_until_done, register
from tests.integration.conftest import RunningPlatform
from tests.webhook_receiver import WebhookReceiver
from webhooks.signing import verify_signature

pytestmark = pytest.mark.slow

SERVE_NAMESPACE = "serve"
PROCESSOR_PREFIX = "SERVE_REPLICA::meetingserve#Processor#"


def processor_replicas() -> list[str]:
    import ray

    return sorted(
        a["name"]
        for a in ray.util.list_named_actors(all_namespaces=True)
        if a["namespace"] == SERVE_NAMESPACE and a["name"].startswith(PROCESSOR_PREFIX)
    )


def restart_processor(timeout_s: float = 180) -> None:
    """Kill the Processor replica and wait until Serve runs a new one."""
    import ray
    from ray import serve

    [victim] = processor_replicas()
    ray.kill(ray.get_actor(victim, namespace=SERVE_NAMESPACE), no_restart=True)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        app = serve.status().applications.get("meetingserve")
        healthy = app is not None and str(app.deployments["Processor"].status).endswith("HEALTHY")
        current = processor_replicas()
        if healthy and current and victim not in current:
            return
        time.sleep(0.5)
    raise TimeoutError("Serve did not replace the killed Processor replica")


def deliveries(user: ApiUser, hook_id: str) -> list[dict[str, Any]]:
    r = user.get(f"/api/webhooks/{hook_id}/deliveries")
    assert r.status_code == 200, r.text
    result: list[dict[str, Any]] = r.json()
    return result


def wait_for(predicate: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.25)


def test_receiver_down_then_up_gets_each_event_once_across_a_processor_restart(
    platform: RunningPlatform,
) -> None:
    user = register(platform.base_url, platform.ws_url)
    meeting_id = user.create_meeting("Webhook planning")
    receiver = WebhookReceiver()  # down: nothing listens on its port yet
    r = httpx.post(
        f"{platform.base_url}/api/webhooks",
        json={"url": receiver.url, "meeting_id": meeting_id},
        headers=user.headers,
    )
    assert r.status_code == 201, r.text
    hook_id, secret = r.json()["id"], r.json()["secret"]

    audio = ensure_meeting("planning2", install=True).audio_path
    assert user.upload(meeting_id, audio).status_code == 202
    received = asyncio.run(collect_until_done(user, meeting_id, timeout_s=300, last_seq=0))
    assert received[-1].message["status"] == "completed"

    def failed_twice() -> bool:
        log = deliveries(user, hook_id)
        return len(log) == 2 and all(d["attempts"] >= 2 for d in log)

    wait_for(failed_twice, 60, "deliveries were not retried while the receiver was down")
    assert {d["status"] for d in deliveries(user, hook_id)} == {"pending"}
    restart_processor()
    receiver.start()
    try:
        wait_for(lambda: len(receiver.requests) >= 2, 60, "events never reached the receiver")
        time.sleep(3)  # several more poll rounds: nothing may arrive twice
    finally:
        receiver.stop()

    types = []
    for request in receiver.requests:
        verify_signature(secret, request.headers["X-MeetingServe-Signature"], request.body)
        body = json.loads(request.body)
        assert body["id"] == request.headers["X-MeetingServe-Event-Id"]
        assert body["meeting_id"] == meeting_id
        types.append(body["type"])
    assert sorted(types) == ["completed", "summary"]
    assert len(set(receiver.event_ids())) == len(receiver.event_ids()) == 2
    log = deliveries(user, hook_id)
    assert {(d["event_type"], d["status"]) for d in log} == {
        ("completed", "delivered"),
        ("summary", "delivered"),
    }
    assert all(d["attempts"] >= 3 for d in log)  # ≥ 2 refused, then delivered
