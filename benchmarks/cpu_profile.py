"""Where the CPU goes while a load scenario runs: py-spy samples of the cluster's processes.

``benchmarks load --cpu-profile S`` samples the Serve proxy, the Ingress, Processor and hub
replicas, the Serve controller and the benchmark's own client process for S seconds while
events flow, then divides each process's busy time by the socket-messages delivered in that
time: milliseconds of CPU per socket-message, per process, and within each process the share
spent in our code, in Ray Serve, in Ray's core, in the ASGI/WebSocket stack and in JSON.

A sample is charged to the innermost frame py-spy sees (its "self" time); time in a C
extension (Ray's Cython core, orjson, the socket itself) is charged to the Python frame that
called it. py-spy leaves out idle threads (waiting in ``epoll`` and the like), so a process's
samples over ``seconds x rate`` is its share of one core.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SAMPLE_RATE_HZ = 100
# Process groups of ``benchmarks.memory.session_processes`` sampled, by the name reported.
ROLES: dict[str, str] = {
    "ProxyActor": "proxy",
    "Ingress": "ingress",
    "Processor": "processor",
    "MeetingHub": "hub",
    "ServeController": "serve_controller",
}
# Where a frame's file lives, first match wins; the repository's own packages are "ours".
OURS = ("app", "core", "deployments", "rooms", "persistence", "processor_api", "benchmarks")
# py-spy names files relative to their sys.path entry ("ray/serve/_private/proxy.py",
# "app/api/routes/ws.py"), so a repository package is a path starting with its name.
GROUPS: list[tuple[str, re.Pattern[str]]] = [
    ("ray_serve", re.compile(r"(^|/)ray/serve/")),
    ("ray_core", re.compile(r"(^|/)ray/")),
    ("asgi_websocket", re.compile(r"(^|/)(starlette|fastapi|uvicorn|websockets|h11|wsproto)/")),
    ("json", re.compile(r"(^|/)json/|orjson")),
    ("database", re.compile(r"(^|/)(sqlalchemy|sqlite3|psycopg)/")),
    ("asyncio", re.compile(r"(^|/)asyncio/|uvloop")),
    ("ours", re.compile(r"^(" + "|".join(OURS) + r")/")),
]
FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


@dataclass(frozen=True)
class Sampled:
    role: str
    pid: int
    raw: Path  # py-spy's collapsed stacks: "frame;frame;... count" per line


def cluster_processes() -> dict[str, int]:
    """The pid of each sampled process of this driver's cluster; a role with several
    processes (hub shards, replicas) is numbered: ``hub``, ``hub-2``."""
    from benchmarks.memory import session_processes

    found: dict[str, int] = {}
    seen: Counter[str] = Counter()
    for pid, group in sorted(session_processes().items()):
        if group in ROLES:
            role = ROLES[group]
            seen[role] += 1
            found[role if seen[role] == 1 else f"{role}-{seen[role]}"] = pid
    return found


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise RuntimeError("py-spy is not installed: pip install -e '.[bench]'")
    return found


async def sample(pids: dict[str, int], seconds: float, out: Path) -> list[Sampled]:
    """Record every process at once for ``seconds``; a process py-spy cannot read is left out
    (logged), never silently counted as idle."""
    runs = []
    for role, pid in pids.items():
        raw = out / f"{role}.txt"
        command = [py_spy(), "record", "--format", "raw", "--nonblocking", "-p", str(pid)]
        command += ["-r", str(SAMPLE_RATE_HZ), "-d", str(round(seconds)), "-o", str(raw)]
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
        )
        runs.append((role, pid, raw, process))
    sampled = []
    for role, pid, raw, process in runs:
        _out, err = await process.communicate()
        if process.returncode != 0 or not raw.exists():
            why = err.decode()[-300:]
            logger.warning("py-spy could not sample %s (pid %d): %s", role, pid, why)
            continue
        sampled.append(Sampled(role, pid, raw))
    return sampled


def group_of(frame: str) -> str:
    match = FRAME.match(frame)
    path = match.group("file") if match else frame
    for name, pattern in GROUPS:
        if pattern.search(path):
            return name
    return "other"


def summarize(raw: Path) -> tuple[int, Counter[str], Counter[str]]:
    """(samples, samples per group of the innermost frame, samples per innermost function)."""
    groups: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        leaf = stack.rpartition(";")[2]
        groups[group_of(leaf)] += int(count)
        functions[_short(leaf)] += int(count)
        total += int(count)
    return total, groups, functions


def _short(frame: str) -> str:
    match = FRAME.match(frame)
    if not match:
        return frame
    parts = Path(match.group("file")).parts
    return f"{match.group('function')} ({'/'.join(parts[-2:])})"


def report(sampled: list[Sampled], seconds: float, messages: int) -> dict[str, Any]:
    """Per process: share of a core, CPU ms per socket-message, groups and top functions."""
    rows: dict[str, Any] = {}
    for one in sampled:
        total, groups, functions = summarize(one.raw)
        cpu_s = total / SAMPLE_RATE_HZ
        rows[one.role] = {
            "pid": one.pid,
            "samples": total,
            "core_share": round(cpu_s / seconds, 3),
            "cpu_ms_per_message": round(1000 * cpu_s / messages, 3) if messages else None,
            "groups": {k: round(v / total, 3) for k, v in groups.most_common()} if total else {},
            "top_functions": [[f, round(n / total, 3)] for f, n in functions.most_common(12)]
            if total
            else [],
        }
    return {
        "seconds": seconds,
        "rate_hz": SAMPLE_RATE_HZ,
        "socket_messages": messages,
        "processes": rows,
    }


async def profile_while(seconds: float) -> list[Sampled]:
    """Sample the cluster's processes and this process (the clients) for ``seconds``; the
    raw samples stay in a temporary directory (logged) for a closer look."""
    pids = {**cluster_processes(), "clients": os.getpid()}
    out = Path(tempfile.mkdtemp(prefix="cpu-profile-"))
    logger.info("sampling %s for %.0f s into %s", pids, seconds, out)
    return await sample(pids, seconds, out)
