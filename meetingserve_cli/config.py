"""Where the CLI keeps its server URL and token, and the environment that overrides them.

The file is ``$XDG_CONFIG_HOME/meetingserve/config.json`` (``~/.config/...`` by default,
``MEETINGSERVE_CONFIG`` to move it), created with mode 0600 in a 0700 directory because it
holds a bearer credential. ``MEETINGSERVE_TOKEN`` (a JWT or an API key) and
``MEETINGSERVE_URL`` take precedence over the file, so scripts and CI need no login step.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from meetingserve_cli.errors import CliError, ExitCode

DEFAULT_SERVER = "http://127.0.0.1:8000"
TOKEN_ENV = "MEETINGSERVE_TOKEN"  # noqa: S105 - the variable's name, not a token
URL_ENV = "MEETINGSERVE_URL"
CONFIG_ENV = "MEETINGSERVE_CONFIG"


@dataclass(frozen=True)
class Credentials:
    server: str
    token: str | None

    @property
    def ws_base(self) -> str:
        if self.server.startswith("https://"):
            return "wss://" + self.server.removeprefix("https://")
        return "ws://" + self.server.removeprefix("http://")

    def require_token(self) -> str:
        if not self.token:
            raise CliError(
                f"Not logged in. Run `meetingserve login` or set {TOKEN_ENV}.", ExitCode.AUTH
            )
        return self.token


def config_path(env: Mapping[str, str] = os.environ) -> Path:
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "meetingserve" / "config.json"


def normalize_server(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise CliError(f"Server URL must start with http:// or https://: {url!r}", ExitCode.USAGE)
    return url


def read_config(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise CliError(f"Cannot read {path}: {e}", ExitCode.USAGE) from e
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def write_config(path: Path, values: Mapping[str, str]) -> None:
    """Replace the file atomically; it never exists with wider permissions than 0600."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(dict(values), f, indent=2)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def resolve_credentials(
    server_option: str | None, env: Mapping[str, str] = os.environ
) -> Credentials:
    """``--server`` > ``MEETINGSERVE_URL`` > file > default; token: env > file.

    The stored token is only sent to the server it was issued by: pointing the CLI at
    another server must not hand that server the credential.
    """
    stored = read_config(config_path(env))
    raw = server_option or env.get(URL_ENV) or stored.get("server") or DEFAULT_SERVER
    server = normalize_server(raw)
    token = env.get(TOKEN_ENV)
    if not token and stored.get("server") and normalize_server(stored["server"]) == server:
        token = stored.get("token")
    return Credentials(server, token or None)
