"""`make run`'s entry point starts the CPU profile with `serve run` and stops cleanly on Ctrl-C;
with ``--direct-ingress`` the Ingress replica serves uploads and rooms on its own port, and with
``--haproxy`` Serve's HAProxy serves them on the usual one."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psutil
import pytest
import websockets

from benchmarks.platform import PlatformError, wait_ready
from deployments.run import DIRECT_INGRESS_FIRST_PORT
from meetingserve_cli.room import bearer
from scripts.synth_meeting import ensure_meeting
from tests.integration.client import collect_until_done, register

REPO = Path(__file__).resolve().parents[2]
BASE = "http://127.0.0.1:8000"


def start_run(tmp_path: Path, *args: str, **env: str) -> subprocess.Popen[bytes]:
    environ = {**os.environ, "MEETING_DATA_DIR": str(tmp_path), **env}
    environ.pop("RAY_ADDRESS", None)
    return subprocess.Popen(
        [sys.executable, "-m", "deployments.run", *args],
        cwd=REPO,
        env=environ,
        stdout=(tmp_path / "run.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_run(proc: subprocess.Popen[bytes]) -> int:
    os.killpg(proc.pid, signal.SIGINT)
    return proc.wait(timeout=90)


@pytest.mark.slow
def test_run_cli_serves_probes_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    proc = start_run(tmp_path, "--profile", "cpu")
    try:
        wait_started(tmp_path)
        assert httpx.get(f"{BASE}/healthz", timeout=10).status_code == 200
        # Offered permessage-deflate, as browsers do, the proxy declines it by default.
        assert negotiated_extensions(BASE, "ws://127.0.0.1:8000") is None
        status = subprocess.run(
            [str(Path(sys.executable).parent / "serve"), "status"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "RAY_AUTH_MODE": "token"},
            check=True,
        ).stdout
        for name in ("Ingress", "Transcriber", "Diarizer", "Summarizer", "Processor"):
            assert f"{name}:\n        status: HEALTHY" in status, status
    finally:
        code = stop_run(proc)
    output = (tmp_path / "run.log").read_text()
    assert "API docs:       http://127.0.0.1:8000/docs" in output
    assert code == 0, output[-3000:]


@pytest.mark.slow
def test_direct_ingress_serves_uploads_and_rooms_on_the_replica_port(tmp_path: Path) -> None:
    """Serve's direct ingress (experimental in Ray 2.60): REST, a multipart upload and the
    room's WebSocket, auth included, all on the Ingress replica's port, no proxy."""
    proc = start_run(tmp_path, "--profile", "load", "--direct-ingress")
    try:
        wait_started(tmp_path)
        direct = replica_address()
        wait_ready(f"http://{direct}", timeout_s=60)
        upload_and_watch(f"http://{direct}", f"ws://{direct}")
        # The replica's own server declines compression too (Serve runs the proxy's hook there).
        assert negotiated_extensions(f"http://{direct}", f"ws://{direct}") is None
    finally:
        stop_run(proc)
    assert "direct ingress: http://127.0.0.1:30000/" in (tmp_path / "run.log").read_text()


@pytest.mark.slow
def test_haproxy_ingress_serves_uploads_and_rooms_on_the_usual_port(tmp_path: Path) -> None:
    """Serve's HAProxy ingress: port 8000 is an HAProxy process relaying REST, the upload and
    the room's WebSocket to the Ingress replica, with each client's own address (per-address
    limits apart); Ctrl-C still stops everything."""
    proc = start_run(
        tmp_path,
        "--profile",
        "load",
        "--haproxy",
        MEETING_LOGIN_RATE_LIMIT="3",
        MEETING_WS_COMPRESSION="1",
    )
    try:
        wait_started(tmp_path)
        assert listener_name(8000) == "haproxy"
        # Compression switched on: the replica's own server accepts it (behind HAProxy).
        agreed = negotiated_extensions(BASE, "ws://127.0.0.1:8000")
        assert agreed and agreed.startswith("permessage-deflate"), agreed
        upload_and_watch(BASE, "ws://127.0.0.1:8000")
        # Registrations count per address (3 a minute here). 127.0.0.2 reaches HAProxy from an
        # address of its own, and a header it writes itself does not make it someone else.
        assert registrations("127.0.0.2", 4) == [201, 201, 201, 429]
        assert registrations("127.0.0.2", 1, forwarded_for="203.0.113.9") == [429]
        assert registrations("127.0.0.1", 1) == [201]  # upload_and_watch and the handshake used two
    finally:
        code = stop_run(proc)
    assert code == 0, (tmp_path / "run.log").read_text()[-3000:]
    assert not [p for p in psutil.process_iter(["name"]) if p.info["name"] == "haproxy"]


def registrations(source: str, count: int, forwarded_for: str | None = None) -> list[int]:
    """Status codes of ``count`` new accounts registered from the local address ``source``."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, base_url=BASE, headers=headers, timeout=30) as client:
        return [
            client.post(
                "/api/auth/register",
                json={
                    "email": f"{uuid.uuid4().hex[:12]}@example.com",
                    "password": "correct horse battery",
                },
            ).status_code
            for _ in range(count)
        ]


def wait_started(tmp_path: Path) -> None:
    try:
        wait_ready(BASE)
    except PlatformError as e:
        raise AssertionError((tmp_path / "run.log").read_text()[-4000:]) from e


def upload_and_watch(base_url: str, ws_url: str) -> None:
    """A new account uploads a meeting and watches its room until the job completes."""
    user = register(base_url, ws_url)
    meeting_id = user.create_meeting()
    audio = ensure_meeting("planning2", install=True).audio_path
    assert user.upload(meeting_id, audio).status_code == 202
    received = asyncio.run(collect_until_done(user, meeting_id, timeout_s=300))
    types = [r.message["type"] for r in received]
    assert types[0] == "connected" and "transcript" in types, types
    assert received[-1].message.get("status") == "completed", received[-1].message


def negotiated_extensions(base_url: str, ws_url: str) -> str | None:
    """The extensions a room socket's handshake agreed on, for a client offering
    permessage-deflate."""
    user = register(base_url, ws_url)
    meeting_id = user.create_meeting()

    async def handshake() -> str | None:
        url = f"{ws_url}/ws/meeting/{meeting_id}"
        async with websockets.connect(url, subprotocols=bearer(user.token)) as ws:
            return ws.response.headers.get("Sec-WebSocket-Extensions")

    return asyncio.run(handshake())


def listener_name(port: int, timeout_s: float = 15.0) -> str:
    """The name of the process listening on ``port`` on this machine. HAProxy reloads when the
    replicas' targets change and hands its listening socket to the new process, so for a
    moment no process holds it, or the one that held it has just exited: look again until a
    live one does."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
                try:
                    return psutil.Process(conn.pid).name()
                except psutil.NoSuchProcess:
                    break
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on port {port}")


def replica_address() -> str:
    """Where the Ingress replica listens: the first port from 30000 up that was free when it
    started, so probe a few; a replica answers ``/-/routes`` with its app."""
    for port in range(DIRECT_INGRESS_FIRST_PORT, DIRECT_INGRESS_FIRST_PORT + 10):
        try:
            r = httpx.get(f"http://127.0.0.1:{port}/-/routes", timeout=5)
        except httpx.TransportError:
            continue
        if r.status_code == 200 and "meetingserve" in r.text:
            return f"127.0.0.1:{port}"
    raise AssertionError("no Ingress replica answers on ports 30000-30009")
