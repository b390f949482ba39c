"""One real local Ray Serve cluster for the whole integration session (CPU profile, real models)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmarks.platform import free_port, wait_ready


@dataclass(frozen=True)
class RunningPlatform:
    base_url: str
    ws_url: str
    data_dir: Path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    import ray
    from ray import serve

    from deployments.builder import build_app
    from deployments.options import AppArgs, TranscriberArgs
    from deployments.run import ingress_env

    data_dir = tmp_path_factory.mktemp("platform-data")
    env = {
        "MEETING_DATA_DIR": str(data_dir),
        "MEETING_ENVIRONMENT": "test",
        # Every test registers and logs in from 127.0.0.1; the limiter's own tests are unit tests.
        "MEETING_LOGIN_RATE_LIMIT": "100000",
        # Webhook tests post to a receiver on 127.0.0.1 and retry in seconds, not minutes.
        "MEETING_WEBHOOK_ALLOWED_NETWORKS": '["127.0.0.0/8"]',
        "MEETING_WEBHOOK_RETRY_BASE_S": "1",
        "MEETING_WEBHOOK_RETRY_MAX_INTERVAL_S": "4",
        "MEETING_WEBHOOK_POLL_INTERVAL_S": "0.5",
    }
    os.environ.update(env)  # the driver reads settings too (e.g. the hub's database)
    os.environ.update(ingress_env(direct_ingress=False, haproxy=False))  # as `make run` has it
    # Logical CPUs above the physical 2 so several replicas of the light deployments fit.
    ray.init(num_cpus=4, include_dashboard=False, runtime_env={"env_vars": env})
    port = free_port()  # after ray.init, whose processes bind ports of their own
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    # The CPU profile's pair of Transcribers: tiny.en for English, multilingual base for the rest.
    args = AppArgs(multilingual=TranscriberArgs(model="packaged:base", language=None))
    serve.run(build_app(args), name="meetingserve", route_prefix="/", blocking=False)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base_url)
        yield RunningPlatform(base_url, f"ws://127.0.0.1:{port}", data_dir)
    finally:
        serve.shutdown()
        ray.shutdown()
