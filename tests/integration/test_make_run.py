"""`make run`'s entry point starts the CPU profile with `serve run` and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from benchmarks.platform import PlatformError, wait_ready

REPO = Path(__file__).resolve().parents[2]
BASE = "http://127.0.0.1:8000"


@pytest.mark.slow
def test_run_cli_serves_probes_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = {**os.environ, "MEETING_DATA_DIR": str(tmp_path)}
    env.pop("RAY_ADDRESS", None)
    log = (tmp_path / "run.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "deployments.run", "--profile", "cpu"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        try:
            wait_ready(BASE)
        except PlatformError as e:
            raise AssertionError((tmp_path / "run.log").read_text()[-4000:]) from e
        assert httpx.get(f"{BASE}/healthz", timeout=10).status_code == 200
        status = subprocess.run(
            [str(Path(sys.executable).parent / "serve"), "status"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**env, "RAY_AUTH_MODE": "token"},
            check=True,
        ).stdout
        for name in ("Ingress", "Transcriber", "Diarizer", "Summarizer", "Processor"):
            assert f"{name}:\n        status: HEALTHY" in status, status
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        code = proc.wait(timeout=90)
        log.close()
    output = (tmp_path / "run.log").read_text()
    assert "API docs:       http://127.0.0.1:8000/docs" in output
    assert code == 0, output[-3000:]
