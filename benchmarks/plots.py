"""PNG plots of one result file (matplotlib, headless Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_plots(result: dict[str, Any], directory: Path) -> list[Path]:
    """One PNG per section that has data; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    suite = result["suite"]
    written = []
    for name, draw in (
        ("latency", _latency),
        ("throughput", _throughput),
        ("memory", _memory),
        ("sockets", _load_sockets),
    ):
        path = directory / f"{suite}-{name}.png"
        if draw(result, path):
            written.append(path)
    return written


def _latency(result: dict[str, Any], path: Path) -> bool:
    import matplotlib.pyplot as plt

    rows = sorted(result.get("latency", []), key=lambda r: r["duration_s"])
    if not rows:
        return False
    baseline = {b["meeting"]: b for b in result.get("baseline", [])}
    minutes = [r["duration_s"] / 60 for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(minutes, [r["ttfs_s"] for r in rows], "o-", label="platform: first segment")
    right.plot(minutes, [r["rtf"] for r in rows], "o-", label="platform (end to end)")
    with_base = [r for r in rows if r["meeting"] in baseline]
    if with_base:
        base_minutes = [r["duration_s"] / 60 for r in with_base]
        left.plot(base_minutes, [baseline[r["meeting"]]["wall_s"] for r in with_base], "s--",
                  label="whole-file baseline: first output")  # fmt: skip
        right.plot(base_minutes, [baseline[r["meeting"]]["rtf"] for r in with_base], "s--",
                   label="whole-file baseline")  # fmt: skip
    left.set(xlabel="meeting length (min)", ylabel="seconds", title="Time to first segment")
    right.set(xlabel="meeting length (min)", ylabel="RTF", title="Real-time factor")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    _save(fig, path, result)
    return True


def _throughput(result: dict[str, Any], path: Path) -> bool:
    import matplotlib.pyplot as plt

    points = (result.get("throughput") or {}).get("points", [])
    if not points:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    for batching, style in ((True, "o-"), (False, "s--")):
        series = sorted((p for p in points if p["batching"] == batching),
                        key=lambda p: p["concurrency"])  # fmt: skip
        if series:
            ax.plot([p["concurrency"] for p in series],
                    [p["audio_hours_per_hour"] for p in series], style,
                    label=f"batching {'on' if batching else 'off'}")  # fmt: skip
    ax.set(xlabel="concurrent uploads", ylabel="audio hours per hour", title="Throughput")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path, result)
    return True


def _memory(result: dict[str, Any], path: Path) -> bool:
    import matplotlib.pyplot as plt

    deployments = (result.get("memory") or {}).get("deployments") or {}
    if not deployments:
        return False
    names = sorted(deployments, key=lambda n: deployments[n]["peak_pss_mb"])
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(names) + 1.5))
    ax.barh(names, [deployments[n]["peak_pss_mb"] for n in names])
    ax.set(xlabel="peak PSS (MB)", title="Memory per process group")
    _save(fig, path, result)
    return True


def _load_sockets(result: dict[str, Any], path: Path) -> bool:
    """Push latency (p50, p99) against open sockets, from the load benchmark's sweep."""
    import matplotlib.pyplot as plt

    rows = sorted((result.get("load") or {}).get("sweep", []), key=lambda r: r["sockets"])
    if not rows:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    sockets = [r["sockets"] for r in rows]
    ax.plot(sockets, [r["p50_ms"] for r in rows], marker="o", label="p50")
    ax.plot(sockets, [r["p99_ms"] for r in rows], marker="o", label="p99")
    ax.axhline(100, color="grey", linestyle="--", linewidth=1, label="100 ms target")
    ax.set_xlabel("open room sockets (5 per meeting, every meeting processing)")
    ax.set_ylabel("push latency, ms")
    ax.legend()
    _save(fig, path, result)
    return True


def _save(fig: Any, path: Path, result: dict[str, Any]) -> None:
    sha = (result["commit"].get("sha") or "unknown")[:10]
    fig.suptitle(f"{result['hardware']['id']} · {sha}", fontsize=8, x=0.99, ha="right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    import matplotlib.pyplot as plt

    plt.close(fig)
