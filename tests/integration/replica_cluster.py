"""A separate Ray cluster for the Processor-replica tests: the load profile (instant,
deterministic models) with two Processor replicas and short leases.

Run as a child process (``python -m tests.integration.replica_cluster DATA_DIR PORT``) so it
never meets the session's CPU-profile cluster: it prints ``ready`` when serving, then takes
``kill <actor name>`` lines on stdin (answering ``killed``) and stops at end of input.
"""

from __future__ import annotations

import os
import sys

# The load profile's stand-ins, slowed so a kill lands mid-job: ~1 s per 10 s window.
INSTANT = {"transcribe_rtf": 0.1, "diarize_rtf": 0.02, "summary_s": 0.05}
PROCESSOR = {
    "window_target_s": 10.0,
    "window_min_s": 5.0,
    "window_max_s": 15.0,
    "max_concurrent_windows": 1,
    "lease_s": 3.0,
    "heartbeat_every_s": 0.5,
    "takeover_every_s": 0.5,
}


def main(data_dir: str, port: int) -> None:
    import ray
    from ray import serve

    from benchmarks.platform import wait_ready
    from deployments.builder import compose_app
    from deployments.options import AppArgs
    from deployments.run import ingress_env

    env = {
        "MEETING_DATA_DIR": data_dir,
        "MEETING_ENVIRONMENT": "test",
        "MEETING_LOGIN_RATE_LIMIT": "100000",
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }
    os.environ.update({**env, **ingress_env(direct_ingress=False, haproxy=False)})
    ray.init(num_cpus=4, include_dashboard=False, runtime_env={"env_vars": env})
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    args = AppArgs.model_validate({"profile": "load", "instant": INSTANT, "processor": PROCESSOR})
    options = {"Processor": {"num_replicas": 2}, "Ingress": {"max_ongoing_requests": 500}}
    serve.run(compose_app(args, options), name="meetingserve", route_prefix="/", blocking=False)
    wait_ready(f"http://127.0.0.1:{port}")
    print("ready", flush=True)
    try:
        for line in sys.stdin:
            command, _, name = line.strip().partition(" ")
            if command == "kill":
                ray.kill(ray.get_actor(name, namespace="serve"), no_restart=True)
                print("killed", flush=True)
    finally:
        serve.shutdown()
        ray.shutdown()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
