"""Runs the ``meetingserve`` command-line client as a separate process, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.integration.client import ApiUser


def cli_argv() -> list[str]:
    """The installed console script when the venv has it (``make venv`` creates it from
    ``[project.scripts]``), else the same entry point through ``python -m``."""
    script = Path(sys.executable).parent / "meetingserve"
    return [str(script)] if script.exists() else [sys.executable, "-m", "meetingserve_cli"]


def cli_env(user: ApiUser | None, base_url: str, config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEETINGSERVE_")}
    env.update({"MEETINGSERVE_URL": base_url, "MEETINGSERVE_CONFIG": str(config)})
    env["COLUMNS"] = "200"
    if user is not None:
        env["MEETINGSERVE_TOKEN"] = user.token
    return env


def run_cli(
    args: list[str], env: dict[str, str], stdin: str | None = None, timeout_s: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cli_argv(), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
