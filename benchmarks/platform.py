"""The platform under test: one the benchmark starts itself, or one already running (``--url``).

A started platform deploys the profile's Serve config (``configs/serve_<profile>.yaml``) through
Serve's declarative API, exactly as ``serve run``/``serve deploy`` do, so replica resources and
``user_config`` are the profile's. That is also how batching is switched off for the throughput
comparison: the same config with the Transcriber's ``user_config`` changed, which Serve applies
in place through ``Transcriber.reconfigure()`` without restarting replicas.
"""

from __future__ import annotations

import copy
import logging
import os
import random
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from deployments.profiles import load_config, profile_path
from deployments.run import ingress_env

logger = logging.getLogger(__name__)
READY_TIMEOUT_S = 600
APP_NAME = "meetingserve"


class PlatformError(RuntimeError):
    """The platform did not come up or cannot do what the benchmark asked."""

    def __init__(self, reason: str, url: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.url = url


@dataclass
class Platform:
    base_url: str
    ws_url: str
    profile: str
    # The application config currently deployed; None when the platform is not ours to change.
    app_config: dict[str, Any] | None = None
    # Direct ingress with several Ingress replicas: every replica's socket URL (ws_url first);
    # watchers are spread over them as a load balancer in front of the replicas would.
    replica_ws_urls: tuple[str, ...] = ()

    @property
    def watcher_ws_urls(self) -> tuple[str, ...]:
        return self.replica_ws_urls or (self.ws_url,)

    @property
    def controllable(self) -> bool:
        return self.app_config is not None

    def deployment_options(self, name: str) -> dict[str, Any]:
        if self.app_config is None:
            return {}
        for deployment in self.app_config.get("deployments", []):
            if deployment.get("name") == name:
                return dict(deployment)
        return {}

    @property
    def diarizer_backend(self) -> str:
        if self.app_config is None:
            return "as-deployed"
        return str(self.app_config["args"].get("diarizer", {}).get("backend", "embedded"))

    def set_transcriber_user_config(self, user_config: dict[str, Any]) -> None:
        """Redeploy with new Transcriber batching knobs (in place, no replica restart)."""
        config = self._copy_config("batching")
        for deployment in config["deployments"]:
            if deployment["name"] == "Transcriber":
                deployment["user_config"] = {**deployment.get("user_config", {}), **user_config}
        self.redeploy(config)

    def set_diarizer_backend(self, backend: str) -> None:
        """Redeploy with another diarization backend (new Diarizer replicas)."""
        from pydantic import ValidationError

        from deployments.options import AppArgs

        config = self._copy_config("the diarization backend")
        config["args"].setdefault("diarizer", {})["backend"] = backend
        try:
            AppArgs.model_validate(config["args"])
        except ValidationError as e:
            raise PlatformError(f"diarizer backend {backend!r} is not available: {e}") from e
        self.redeploy(config)

    def _copy_config(self, what: str) -> dict[str, Any]:
        if self.app_config is None:
            raise PlatformError(f"{what} can only be changed on a platform the benchmark started")
        return copy.deepcopy(self.app_config)

    def redeploy(self, config: dict[str, Any]) -> None:
        deploy_application(config)
        wait_running(self.base_url)
        self.app_config = config


# Below Linux's ephemeral range (32768-60999) and above Ray's worker ports (10002-19999). A port
# the kernel hands out as ephemeral can be taken by any outgoing connection or new Ray process
# between this check and the server's own bind; CI lost a run to exactly that.
LISTEN_PORTS = range(20000, 32768)


def free_port() -> int:
    """A port on 127.0.0.1 that is free now and that the kernel will not hand out by itself."""
    for port in random.sample(LISTEN_PORTS, 64):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {LISTEN_PORTS.start}-{LISTEN_PORTS.stop - 1}")


def profile_application(profile: str) -> dict[str, Any]:
    """The single application of a profile's Serve config, validated."""
    config = load_config(profile_path(profile))
    applications: list[dict[str, Any]] = config["applications"]
    return applications[0]


def profile_hub_shards(profile: str) -> int:
    """The hub shard count a profile sets (``MEETING_HUB_SHARDS`` in its runtime_env), else 1."""
    env_vars = profile_application(profile).get("runtime_env", {}).get("env_vars", {})
    return int(env_vars.get("MEETING_HUB_SHARDS", 1))


def external_platform(url: str, profile: str) -> Platform:
    base = url.rstrip("/")
    ws = "ws" + base.removeprefix("http")
    wait_ready(base, timeout_s=30)
    return Platform(base, ws, profile)


@contextmanager
def started_platform(
    profile: str,
    data_dir: Path | None = None,
    extra_env: dict[str, str] | None = None,
    processor: dict[str, Any] | None = None,
) -> Iterator[Platform]:
    """A private local Ray cluster running the profile on a free port; torn down on exit.
    ``extra_env``: more ``MEETING_*`` settings for every process of the cluster;
    ``processor`` overrides the profile's Processor args (e.g. to turn live partials off)."""
    import ray
    from ray import serve

    own_data = data_dir is None
    data = data_dir or Path(tempfile.mkdtemp(prefix="meeting-bench-"))
    env = {"MEETING_DATA_DIR": str(data), "MEETING_ENVIRONMENT": "test", **(extra_env or {})}
    os.environ.update(env)  # the driver reads settings too (the hub's database)
    # The Serve proxy as `make run` starts it (its hook, its gRPC channel to the replicas);
    # switches already in the environment (e.g. ``load --haproxy``, an A/B run) are kept.
    os.environ.update(ingress_env(direct_ingress=False, haproxy=False))
    cpus = os.cpu_count() or 2
    # Logical CPUs above the physical count (as the integration fixture does) so every
    # light replica and the hub fit; the models still share the real cores.
    ray.init(
        num_cpus=max(4, cpus) if profile in ("cpu", "load") else None,
        include_dashboard=False,
        log_to_driver=False,  # replica logs stay in the session's log directory
        runtime_env={"env_vars": env},
    )
    try:
        port = free_port()  # after ray.init, whose processes bind ports of their own
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        app = profile_application(profile)
        if processor:
            args = app.setdefault("args", {})
            args["processor"] = {**args.get("processor", {}), **processor}
        runtime_env = app.get("runtime_env", {})
        # The profile's own variables (e.g. MEETING_HUB_SHARDS), then this run's on top.
        app["runtime_env"] = {**runtime_env, "env_vars": {**runtime_env.get("env_vars", {}), **env}}
        deploy_application(app)
        base = f"http://127.0.0.1:{port}"
        wait_ready(base)
        yield Platform(base, f"ws://127.0.0.1:{port}", profile, app)
    finally:
        serve.shutdown()
        ray.shutdown()
        if own_data:
            shutil.rmtree(data, ignore_errors=True)


def direct_ingress(platform: Platform) -> Platform:
    """The same platform reached on its Ingress replicas' own ports (Serve's direct ingress,
    on when the cluster started with ``RAY_SERVE_ENABLE_DIRECT_INGRESS=1``), no proxy hop."""
    import ray
    from ray.serve._private.constants import SERVE_CONTROLLER_NAME, SERVE_NAMESPACE

    controller = ray.get_actor(SERVE_CONTROLLER_NAME, namespace=SERVE_NAMESPACE)
    groups = ray.get(controller.get_target_groups.remote(APP_NAME))
    proxy_port = int(platform.base_url.rsplit(":", 1)[1])
    ports = [t.port for g in groups if g.protocol == "HTTP" for t in g.targets]
    ports = [p for p in ports if p != proxy_port]  # with direct ingress off, the proxy's
    if not ports:
        raise PlatformError("direct ingress is off: Serve routes this app through its proxy")
    for port in ports:
        wait_ready(f"http://127.0.0.1:{port}", timeout_s=60)
    sockets = tuple(f"ws://127.0.0.1:{port}" for port in sorted(ports))
    return Platform(
        f"http://127.0.0.1:{min(ports)}", sockets[0], platform.profile, platform.app_config, sockets
    )


def deploy_application(app: dict[str, Any]) -> None:
    from ray.serve.context import _get_global_client
    from ray.serve.schema import ServeDeploySchema

    schema = ServeDeploySchema.model_validate({"applications": [app]})
    client = _get_global_client()
    if client is None:
        raise PlatformError("Serve is not running in this process")
    client.deploy_apps(schema)


def wait_running(base_url: str, timeout_s: float = READY_TIMEOUT_S) -> None:
    """Wait for the application to settle after a (re)deploy, then for readiness."""
    from ray import serve

    time.sleep(1.0)  # let the controller pick the new config up before polling
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        app = serve.status().applications.get(APP_NAME)
        if app is not None and str(app.status).endswith("RUNNING"):
            wait_ready(base_url, timeout_s=max(1.0, deadline - time.monotonic()))
            return
        if app is not None and str(app.status).endswith("DEPLOY_FAILED"):
            raise PlatformError(f"redeploy failed: {app.message}", base_url)
        time.sleep(0.5)
    raise PlatformError(f"application not RUNNING after {timeout_s:.0f}s", base_url)


def wait_ready(base_url: str, timeout_s: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            r = httpx.get(f"{base_url}/readyz", timeout=5)
            if r.status_code == 200:
                return
            last = f"{r.status_code} {r.text[:200]}"
        except httpx.HTTPError as e:
            last = repr(e)
        time.sleep(1)
    raise PlatformError(f"{base_url}/readyz not ready after {timeout_s:.0f}s: {last}", base_url)
