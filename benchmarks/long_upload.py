"""A long upload through the real Serve path: the Processor's memory and the time to window 0.

    python -m benchmarks long-upload                    # 120-minute and 21-minute uploads
    python -m benchmarks long-upload --minutes 120 --label after

A private Ray cluster runs ``configs/serve_load.yaml`` (real proxy, Ingress, Processor, hub,
database; instant stand-in models), so hours of audio go through the Processor's real decode,
VAD, windowing and publication path in about a minute on 2 cores. The file is the corpus
meeting tiled to the asked length, a 16 kHz mono 16-bit WAV, uploaded over HTTP.

Recorded per upload: the Processor replica's RSS sampled every 0.2 s, idle before any upload
(cold) and after a short warm-up upload (warm), its peak while the long file is processed,
and the time to the first ``transcript`` event counted from the upload's 202 answer (so the
transfer of the file is left out) and from the request start.

To measure the code before a change, run this file against an exported tree of that commit:
``git archive <sha> | tar -x -C /tmp/before`` then
``PYTHONPATH=/tmp/before python benchmarks/long_upload.py --label before`` (the cluster's
workers import the Processor from the first ``PYTHONPATH`` entry).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path
from typing import Any

import httpx
import psutil
from websockets.asyncio.client import connect

MB = 1024 * 1024
SAMPLE_EVERY_S = 0.2
IDLE_SAMPLE_S = 5.0
JOB_TIMEOUT_S = 1800
BENCH_ENV = {"MEETING_LOGIN_RATE_LIMIT": "100000"}
RESULTS = Path(__file__).resolve().parent / "results"
logger = logging.getLogger(__name__)


def write_long_wav(source: Path, minutes: float, out: Path) -> float:
    """The source meeting tiled to ``minutes``; returns the duration written (seconds)."""
    with wave.open(str(source), "rb") as w:
        rate, pcm = w.getframerate(), w.readframes(w.getnframes())
    frames = len(pcm) // 2
    target = int(minutes * 60 * rate)
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        written = 0
        while written < target:
            take = min(frames, target - written)
            w.writeframes(pcm[: take * 2])
            written += take
    return written / rate


class RssSampler:
    """One process's RSS every ``SAMPLE_EVERY_S`` in a background thread."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.monotonic(), self.process.memory_info().rss / MB))
            self._stop.wait(SAMPLE_EVERY_S)

    def between(self, start: float, end: float) -> list[float]:
        return [rss for at, rss in self.samples if start <= at <= end]


def processor_pid() -> int:
    from benchmarks.memory import session_processes

    pids = [pid for pid, group in session_processes().items() if group == "Processor"]
    if len(pids) != 1:
        raise RuntimeError(f"expected one Processor replica process, found {pids}")
    return pids[0]


async def register(client: httpx.AsyncClient) -> str:
    from benchmarks.load_clients import PASSWORD

    email = f"long-{os.getpid()}-{time.time_ns()}@example.com"
    r = await client.post("/api/auth/register", json={"email": email, "password": PASSWORD})
    r.raise_for_status()
    r = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    r.raise_for_status()
    return str(r.json()["access_token"])


async def upload_and_watch(
    client: httpx.AsyncClient, ws_url: str, token: str, path: Path
) -> dict[str, Any]:
    """Upload ``path`` to a new meeting; times (monotonic) of the milestones seen on its room."""
    headers = {"Authorization": f"Bearer {token}"}
    r = await client.post("/api/meetings", json={"title": path.name}, headers=headers)
    r.raise_for_status()
    meeting_id = r.json()["id"]
    url = f"{ws_url}/ws/meeting/{meeting_id}?last_seq=0"
    marks: dict[str, Any] = {"segments": 0}
    async with connect(url, subprotocols=["bearer", token], max_size=2**24) as ws:  # type: ignore[list-item]
        json.loads(await ws.recv())  # connected
        marks["request"] = time.monotonic()
        with path.open("rb") as file:
            files = {"file": (path.name, file, "audio/wav")}
            r = await client.post(f"/api/meetings/{meeting_id}/audio", files=files, headers=headers)
        r.raise_for_status()
        marks["accepted"] = time.monotonic()
        await asyncio.wait_for(read_until_done(ws, marks), JOB_TIMEOUT_S)
    return marks


async def read_until_done(ws: Any, marks: dict[str, Any]) -> None:
    async for raw in ws:
        message = json.loads(raw)
        kind = message.get("type")
        if kind == "transcript":
            marks.setdefault("first_segment", time.monotonic())
            marks["segments"] += 1
        elif kind == "error":
            marks["error"] = f"{message.get('code')}: {message.get('error')}"
        elif kind == "status" and message["details"].get("stage") == "diarization":
            marks.setdefault("started", time.monotonic())
        elif kind == "status" and message.get("status") in ("completed", "failed"):
            marks["done"] = time.monotonic()
            marks["status"] = message["status"]
            return
        elif kind == "status" and message["details"].get("windows") is not None:
            marks["windows"] = message["details"]["windows"]


def summarize(marks: dict[str, Any], rss: list[float], idle: dict[str, float]) -> dict[str, Any]:
    def since(mark: str, origin: str) -> float | None:
        return round(marks[mark] - marks[origin], 3) if mark in marks else None

    peak = max(rss) if rss else None
    return {
        "status": marks.get("status"),
        "error": marks.get("error"),
        "segments": marks["segments"],
        "windows": marks.get("windows"),
        "upload_transfer_s": since("accepted", "request"),
        "first_segment_after_accepted_s": since("first_segment", "accepted"),
        "first_segment_after_request_s": since("first_segment", "request"),
        "job_started_after_accepted_s": since("started", "accepted"),
        "done_after_accepted_s": since("done", "accepted"),
        "processor_peak_rss_mb": round(peak, 1) if peak else None,
        "processor_peak_over_idle_cold_mb": round(peak - idle["cold"], 1) if peak else None,
        "processor_peak_over_idle_warm_mb": round(peak - idle["warm"], 1) if peak else None,
        "rss_samples": len(rss),
    }


async def measure(platform: Any, files: list[tuple[float, Path]], warmup: Path) -> dict[str, Any]:
    pid = processor_pid()
    with RssSampler(pid) as sampler:
        async with httpx.AsyncClient(base_url=platform.base_url, timeout=600) as client:
            token = await register(client)
            await asyncio.sleep(IDLE_SAMPLE_S)
            idle = {"cold": statistics.median(sampler.between(0, time.monotonic()))}
            warm = await upload_and_watch(client, platform.ws_url, token, warmup)
            if warm.get("status") != "completed":  # a broken path measures nothing
                raise RuntimeError(f"warm-up upload {warm.get('status')}: {warm.get('error')}")
            settle = time.monotonic()
            await asyncio.sleep(IDLE_SAMPLE_S)
            idle["warm"] = statistics.median(sampler.between(settle, time.monotonic()))
            runs = []
            for minutes, path in files:
                marks = await upload_and_watch(client, platform.ws_url, token, path)
                rss = sampler.between(marks["request"], marks.get("done", time.monotonic()))
                row = {"minutes": minutes, "file_mb": round(path.stat().st_size / MB, 1)}
                runs.append(row | summarize(marks, rss, idle))
                logger.info("%s", runs[-1])
    return {"idle_rss_mb": {k: round(v, 1) for k, v in idle.items()}, "uploads": runs}


def markdown(result: dict[str, Any]) -> str:
    hw = result["hardware"]
    lines = [
        f"# Long upload ({result['settings']['label']}), load profile",
        "",
        f"`{result['settings']['command']}`, commit `{(result['commit']['sha'] or '?')[:10]}`, "
        f"{result['created']}. Hardware `{hw['id']}`: {hw['cpu']}, {hw['cores']} cores "
        f"(shared with other jobs), {hw['memory_gb']} GB.",
        "",
        f"Processor idle RSS: {result['long_upload']['idle_rss_mb']} MB",
        "",
        "| minutes | file MB | windows | first segment after 202 s | job started after 202 s "
        "| done after 202 s | Processor peak RSS MB | peak - idle (cold) MB "
        "| peak - idle (warm) MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["long_upload"]["uploads"]:
        lines.append(
            f"| {r['minutes']} | {r['file_mb']} | {r['windows']} | "
            f"{r['first_segment_after_accepted_s']} | {r['job_started_after_accepted_s']} | "
            f"{r['done_after_accepted_s']} | {r['processor_peak_rss_mb']} | "
            f"{r['processor_peak_over_idle_cold_mb']} | {r['processor_peak_over_idle_warm_mb']} |"
        )
    return "\n".join(lines) + "\n"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks long-upload", description=__doc__)
    p.add_argument("--minutes", type=float, nargs="+", default=[120.0, 21.0])
    p.add_argument("--meeting", default="standup3", help="corpus meeting to tile")
    p.add_argument("--label", default="after", help="names the result: long-upload-<label>")
    p.add_argument("--out", type=Path, help="results directory")
    p.add_argument("--corpus-dir", type=Path, help="where the synthetic corpus is cached")
    return p


def main(argv: list[str] | None = None) -> int:
    from benchmarks.platform import started_platform
    from benchmarks.report import hardware_info, new_result
    from scripts.synth_meeting import ensure_meeting

    opts = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    source = ensure_meeting(opts.meeting, cache_dir=opts.corpus_dir, install=True).audio_path
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="long-upload-") as tmp:
        files = []
        for minutes in opts.minutes:
            path = Path(tmp) / f"{opts.meeting}-{minutes:g}min.wav"
            write_long_wav(source, minutes, path)
            files.append((minutes, path))
        with started_platform("load", extra_env=BENCH_ENV) as platform:
            measured = asyncio.run(measure(platform, files, source))
    command = " ".join(["python -m benchmarks long-upload", *(argv or sys.argv[1:])])
    result = new_result(
        f"long-upload-{opts.label}",
        "load",
        {
            "minutes": opts.minutes,
            "meeting": opts.meeting,
            "label": opts.label,
            "command": command,
        },
    )
    result["long_upload"] = measured
    result["wall_s"] = round(time.monotonic() - started, 1)
    # Beside this file, also when the cluster runs another tree's code (the "before" run).
    directory = opts.out or RESULTS / hardware_info("load")["id"]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{result['suite']}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    (directory / f"{result['suite']}.md").write_text(markdown(result))
    print(f"long-upload: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
