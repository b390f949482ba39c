"""The deployed CPU profile answers its probes once every model deployment is loaded, and
its replicas run at the CPU priorities their options give."""

from __future__ import annotations

import os
import sys

import httpx
import psutil
import pytest

from tests.integration.conftest import RunningPlatform


def test_healthz_answers_ok(platform: RunningPlatform) -> None:
    r = httpx.get(f"{platform.base_url}/healthz", timeout=10)
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_readyz_lists_every_model_deployment(platform: RunningPlatform) -> None:
    r = httpx.get(f"{platform.base_url}/readyz", timeout=10)
    assert r.status_code == 200
    assert r.json() == {
        "status": "ready",
        "deployments": [
            "Diarizer",
            "MultilingualTranscriber",
            "Processor",
            "Summarizer",
            "Transcriber",
        ],
    }


def test_serve_status_reports_every_deployment_healthy(platform: RunningPlatform) -> None:
    from ray import serve

    app = serve.status().applications["meetingserve"]
    assert app.status == "RUNNING"
    assert {name: d.status for name, d in app.deployments.items()} == {
        "Ingress": "HEALTHY",
        "Transcriber": "HEALTHY",
        "MultilingualTranscriber": "HEALTHY",
        "Diarizer": "HEALTHY",
        "Summarizer": "HEALTHY",
        "Processor": "HEALTHY",
    }


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values")
def test_the_processor_runs_below_the_ingress_priority(platform: RunningPlatform) -> None:
    """Job orchestration yields the cores to event delivery (``processor.cpu_nice``, 10 by
    default): the Processor's Python threads run 10 nice levels below the Ingress's (19 at
    most), and Ray's own threads in it, which Ray starts at 0, at 10 or lower still."""
    from benchmarks.memory import session_processes

    pids = session_processes()
    processors = [pid for pid, group in pids.items() if group == "Processor"]
    ingress = [pid for pid, group in pids.items() if group == "Ingress"]
    assert processors and ingress
    base = os.getpriority(os.PRIO_PROCESS, ingress[0])  # Ray's worker niceness, 15
    running = {pid: nice_of(pid) for pid in processors}
    running = {pid: main for pid, main in running.items() if main is not None}
    assert running, "every Processor replica went away"  # one replaced just now is skipped
    for pid, main in running.items():
        assert main == min(19, base + 10), f"Processor {pid} at nice {main}"
        threads = [nice_of(t.id) for t in psutil.Process(pid).threads()]
        assert min(n for n in threads if n is not None) >= 10


def nice_of(tid: int) -> int | None:
    """A thread's nice value; None when it ended meanwhile."""
    try:
        return os.getpriority(os.PRIO_PROCESS, tid)
    except OSError:
        return None
