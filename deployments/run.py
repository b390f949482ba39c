"""``make run``: validate a profile, then hand over to ``serve run`` in the foreground.

Usage: python -m deployments.run --profile cpu [--check]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

from deployments.profiles import ProfileError, load_config, profile_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="cpu", help="configs/serve_<profile>.yaml")
    parser.add_argument("--check", action="store_true", help="validate only, do not start")
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
    base = f"http://{http.get('host', '127.0.0.1')}:{http.get('port', 8000)}"
    print(
        f"Starting profile {opts.profile!r} from {path}\n"
        f"  web app:        {base}/\n"
        f"  API docs:       {base}/docs\n"
        f"  readiness:      {base}/readyz\n"
        f"  Ray dashboard:  http://127.0.0.1:8265\n"
        "Press Ctrl-C to stop.",
        flush=True,
    )
    # Keep Ray's token auth on (its local default) without the start-up warning; `make
    # serve-status` sets the same mode so the CLI sends the token from ~/.ray/auth_token.
    os.environ.setdefault("RAY_AUTH_MODE", "token")
    serve = shutil.which("serve", path=os.path.dirname(sys.executable)) or "serve"
    os.execv(serve, [serve, "run", str(path)])  # noqa: S606 - replaces this process on purpose
    return 0  # unreachable


if __name__ == "__main__":
    sys.exit(main())
