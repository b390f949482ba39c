"""Scripted abuse run against the real cluster (issue #15): hostile input while others work.

    python -m benchmarks abuse                 # starts its own CPU-profile cluster (needs Ray)
    python -m benchmarks abuse --url http://127.0.0.1:8000   # a running one (no memory figures)

An attacker account sends audio bombs, multipart floods, 100 trickling uploads, 200 idle
sockets, odd-length PCM and password guessing against the victim's account (lockout
attempts from 20 addresses), bounded in count and time, on loopback only. Meanwhile a victim
account uploads a meeting, streams one live and lists its meetings; the run passes when the
victim's work completes, every attack got its documented answer, and no process's RSS grew by
more than 200 MB over its level after a warm-up upload.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import httpx

from benchmarks import abuse_attacks as attacks
from benchmarks.client import BenchUser, create_meeting, process_upload, register_user
from benchmarks.live_client import StreamLog, stream_audio
from benchmarks.memory import session_processes, summed_memory
from benchmarks.platform import Platform, external_platform, started_platform
from benchmarks.report import RESULTS_DIR, new_result
from scripts.synth_meeting import ensure_meeting

logger = logging.getLogger(__name__)
MAX_GROWTH_MB = 200.0
OWNER_LOGIN_MAX_S = 5.0  # the owner's known address never waits out the attacker's backoff
# Loopback is the trusted proxy, so the lockout attack can name its addresses in X-Forwarded-For.
TRUSTED_LOOPBACK = {"MEETING_TRUSTED_PROXIES": "127.0.0.1/32"}
T = TypeVar("T")


def memory_by_group() -> dict[str, float]:
    groups: dict[str, list[int]] = {}
    for pid, group in session_processes().items():
        groups.setdefault(group, []).append(pid)
    return {name: round(summed_memory(pids)[0], 1) for name, pids in groups.items()}


class PeakWatcher:
    """Samples each process group's RSS every second while the attacks run."""

    def __init__(self) -> None:
        self.peak: dict[str, float] = {}
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            sample = await asyncio.to_thread(memory_by_group)
            for name, rss in sample.items():
                self.peak[name] = max(self.peak.get(name, 0.0), rss)
            await asyncio.sleep(1.0)

    def stop(self) -> None:
        self._stop.set()


async def timed(name: str, coro: Awaitable[T], log: dict[str, Any]) -> T:
    began = time.monotonic()
    result = await coro
    log[name] = round(time.monotonic() - began, 1)
    return result


async def victim_lists(user: BenchUser, until: asyncio.Event) -> dict[str, Any]:
    """The victim's REST calls during the attack: every one must answer, and quickly."""
    latencies, failures = [], 0
    async with httpx.AsyncClient(base_url=user.base_url, timeout=30) as client:
        while not until.is_set():
            began = time.monotonic()
            r = await client.get("/api/meetings", headers=user.headers)
            latencies.append(time.monotonic() - began)
            failures += r.status_code != 200
            await asyncio.sleep(0.5)
    latencies.sort()
    return {
        "requests": len(latencies),
        "failures": failures,
        "median_s": round(latencies[len(latencies) // 2], 3) if latencies else None,
        "max_s": round(latencies[-1], 3) if latencies else None,
    }


async def victim_live(user: BenchUser, audio: Any) -> dict[str, Any]:
    meeting_id = await asyncio.to_thread(create_meeting, user, "victim live")
    log = StreamLog()
    await stream_audio(user.ws_url, meeting_id, user.token, audio, log)
    stopped = log.replies[-1] if log.replies else {}
    async with httpx.AsyncClient(base_url=user.base_url, timeout=30) as client:
        meeting = (await client.get(f"/api/meetings/{meeting_id}", headers=user.headers)).json()
    return {"reply": stopped.get("type"), "meeting_status": meeting.get("status")}


async def run_attacks(platform: Platform, opts: argparse.Namespace) -> dict[str, Any]:
    port = int(platform.base_url.rsplit(":", 1)[1])
    meeting = ensure_meeting("planning2", install=True)
    victim = register_user(platform.base_url, platform.ws_url)
    attacker = register_user(platform.base_url, platform.ws_url)
    a_meetings = [create_meeting(attacker, f"attacker {i}") for i in range(4)]
    attacks.remember_meeting(attacker, a_meetings[3])
    logger.info("warm-up upload (models load; the baseline is taken after it)")
    warm = await process_upload(victim, meeting.audio_path, "warm-up")
    memory = opts.memory
    baseline = memory_by_group() if memory else {}
    bombs = {
        "wav-1Hz.wav": attacks.wav_with_rate(1),
        "wav-1MHz.wav": attacks.wav_with_rate(1_000_000),
        "flac-6.5h-silence.flac": attacks.flac_silence(int(6.5 * 3600)),
    }
    watcher = PeakWatcher()
    watch = asyncio.create_task(watcher.run()) if memory else None
    done = asyncio.Event()
    lists = asyncio.create_task(victim_lists(victim, done))
    durations: dict[str, Any] = {}
    upload = asyncio.create_task(
        timed("victim_upload", process_upload(victim, meeting.audio_path, "victim"), durations)
    )
    results = await asyncio.gather(
        timed("victim_live", victim_live(victim, meeting.load_audio()), durations),
        timed("bombs", attacks.audio_bombs(attacker, a_meetings[0], bombs), durations),
        timed("floods", attacks.multipart_floods(attacker, port, 50), durations),
        timed(
            "trickles",
            attacks.trickling_uploads(attacker, port, a_meetings[1], 100, opts.trickle_s),
            durations,
        ),
        timed("idle", attacks.idle_sockets(attacker, a_meetings[2], 200, 20.0), durations),
        timed("lockout", attacks.lockout_attempts(victim, 20, 10), durations),
    )
    upload_run = await upload
    owner = await attacks.owner_login(victim)
    odd = await timed("odd_pcm", attacks.odd_pcm(attacker, a_meetings[2]), durations)
    done.set()
    if watch is not None:
        watcher.stop()
        await watch
    await asyncio.sleep(3)
    after = memory_by_group() if memory else {}
    return {
        "warm_up_status": warm.status,
        "victim": {
            "upload_status": upload_run.status,
            "upload_segments": len(upload_run.segments),
            "live": results[0],
            "rest": await lists,
            "login_after_guessing": owner,
        },
        "attacks": {
            "audio_bombs": results[1],
            "multipart_floods": results[2],
            "trickling_uploads": results[3],
            "idle_sockets": results[4],
            "lockout_attempts": results[5],
            "odd_pcm": odd,
        },
        "seconds": durations,
        "leftover_staging_files": leftover_staging(),
        "memory_rss_mb": growth(baseline, watcher.peak, after) if memory else None,
    }


def leftover_staging() -> int | None:
    data = os.environ.get("MEETING_DATA_DIR")
    if not data:
        return None
    return len(list(Path(data).glob("uploads/*/incoming-*")))


def growth(
    baseline: dict[str, float], peak: dict[str, float], after: dict[str, float]
) -> dict[str, Any]:
    groups = {
        name: {
            "baseline": baseline.get(name, 0.0),
            "peak": peak.get(name, 0.0),
            "after": after.get(name, 0.0),
            "growth_peak": round(peak.get(name, 0.0) - baseline.get(name, 0.0), 1),
        }
        for name in sorted(set(baseline) | set(peak))
    }
    worst = max((g["growth_peak"] for g in groups.values()), default=0.0)
    return {"groups": groups, "max_growth_mb": worst, "limit_mb": MAX_GROWTH_MB}


def verdict(result: dict[str, Any]) -> list[str]:
    """What failed; empty when the run passed."""
    problems = []
    victim = result["victim"]
    if victim["upload_status"] != "completed":
        problems.append(f"victim upload ended {victim['upload_status']}")
    if victim["live"] != {"reply": "stopped", "meeting_status": "completed"}:
        problems.append(f"victim live stream: {victim['live']}")
    if victim["rest"]["failures"]:
        problems.append(f"victim REST failures: {victim['rest']['failures']}")
    if any(not key.endswith(":400") for key in result["attacks"]["audio_bombs"]):
        problems.append(f"audio bombs: {result['attacks']['audio_bombs']}")
    problems += lockout_problems(result)
    if result["attacks"]["odd_pcm"].get("stopped") != 1:
        problems.append(f"odd PCM: {result['attacks']['odd_pcm']}")
    memory = result["memory_rss_mb"]
    if memory and memory["max_growth_mb"] > MAX_GROWTH_MB:
        problems.append(f"memory grew {memory['max_growth_mb']} MB")
    if result["leftover_staging_files"]:
        problems.append(f"{result['leftover_staging_files']} partial uploads left on disk")
    return problems


def lockout_problems(result: dict[str, Any]) -> list[str]:
    """Guesses never succeed and are slowed (429); the owner still signs in at once."""
    guesses = result["attacks"]["lockout_attempts"]
    problems = []
    if set(guesses) - {"guess:401", "guess:429"} or not guesses.get("guess:429"):
        problems.append(f"lockout attempts: {guesses}")
    owner = result["victim"]["login_after_guessing"]
    if owner["status"] != 200 or owner["seconds"] > OWNER_LOGIN_MAX_S:
        problems.append(f"owner login after guessing: {owner}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running platform (default: start one)")
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--trickle-s", type=float, default=60.0, help="how long uploads trickle")
    parser.add_argument("--out", type=Path, help="results directory")
    opts = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    opts.memory = not opts.url
    started = time.monotonic()
    with ExitStack() as stack:
        platform = (
            external_platform(opts.url, opts.profile)
            if opts.url
            else stack.enter_context(started_platform(opts.profile, extra_env=TRUSTED_LOOPBACK))
        )
        stats = asyncio.run(run_attacks(platform, opts))
    result = new_result("abuse", opts.profile, {"trickle_s": opts.trickle_s})
    result["results"] = stats
    result["problems"] = verdict(stats)
    result["wall_s"] = round(time.monotonic() - started, 1)
    directory = opts.out or RESULTS_DIR / result["hardware"]["id"]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "abuse.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"problems": result["problems"], **stats}, indent=2))
    print(f"abuse: wrote {path}")
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
