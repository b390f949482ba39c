"""Makes the server drop live sockets by killing the Ingress replicas (Serve replaces them).

The room sockets terminate in the Ingress replica that accepted them, so killing it closes
them the way a crashed or redeployed server would, while the job keeps running in the
Processor and its events keep landing in the hub: exactly the case resume-from-seq is for.
"""

from __future__ import annotations

import logging
import time

logger = logging.getLogger(__name__)

SERVE_NAMESPACE = "serve"
INGRESS_PREFIX = "SERVE_REPLICA::meetingserve#Ingress#"


def ingress_replica_names() -> list[str]:
    """Actor names of the running Ingress replicas of the `meetingserve` app."""
    import ray

    return sorted(
        actor["name"]
        for actor in ray.util.list_named_actors(all_namespaces=True)
        if actor["namespace"] == SERVE_NAMESPACE and actor["name"].startswith(INGRESS_PREFIX)
    )


def kill_ingress_replicas() -> list[str]:
    """Kills every Ingress replica (one dropped socket is not enough when there are several)."""
    import ray

    names = ingress_replica_names()
    assert names, "no Ingress replica actor found in namespace 'serve'"
    for name in names:
        ray.kill(ray.get_actor(name, namespace=SERVE_NAMESPACE), no_restart=True)
    logger.info("killed Ingress replicas %s", names)
    return names


def wait_for_replacement(killed: list[str], timeout_s: float = 120) -> list[str]:
    """Waits until Serve runs as many Ingress replicas as before, none of them a killed one."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        current = ingress_replica_names()
        if len(current) >= len(killed) and not set(current) & set(killed):
            return current
        time.sleep(0.5)
    raise TimeoutError(f"Serve did not replace the Ingress replicas {killed} in {timeout_s}s")
