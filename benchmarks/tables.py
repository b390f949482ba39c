"""Markdown tables of one result file (what ``<suite>.md`` and docs/benchmarks.md show)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

TARGET_STATUS = {True: "met", False: "not met", None: "not measured"}


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown_report(result: dict[str, Any], json_name: str) -> str:
    hw, commit = result["hardware"], result["commit"]
    parts = [
        f"# Benchmark `{result['suite']}` ({result['profile']} profile)",
        "",
        f"Source: `{json_name}`. Commit `{(commit.get('sha') or 'unknown')[:10]}`"
        f"{' (uncommitted changes)' if commit.get('dirty') else ''}, {result['created']}.",
        f"Hardware `{hw['id']}`: {hw['cpu']}, {hw['cores']} cores, {hw['memory_gb']} GB"
        f"{', GPUs: ' + ', '.join(hw['gpus']) if hw.get('gpus') else ''}.",
        f"Wall time of the whole run: {fmt(result.get('wall_s'), 1)} s. {result.get('note', '')}",
    ]
    for title, render in SECTIONS:
        body = render(result)
        if body:
            parts += ["", f"## {title}", "", body]
    return "\n".join(parts) + "\n"


def latency_section(result: dict[str, Any]) -> str:
    rows = [
        [
            r["meeting"],
            r["duration_s"] / 60,
            r["windows"],
            r["runs"],
            r["ttfs_s"],
            r["e2e_s"],
            r["rtf"],
            r["stages"].get("decode_windowing"),
            r["stages"].get("per_window"),
            r["stages"].get("summarization"),
        ]
        for r in result.get("latency", [])
    ]
    headers = ["meeting", "minutes", "windows", "runs", "first segment s", "end-to-end s",
               "RTF", "decode+windowing s", "per window s", "summary s"]  # fmt: skip
    return table(headers, rows) if rows else ""


def throughput_section(result: dict[str, Any]) -> str:
    throughput = result.get("throughput") or {}
    points = throughput.get("points", [])
    if not points:
        return ""
    rows = [
        [p["concurrency"], p["batching"], p["max_batch_size"], p["wall_s"], p["windows"],
         p["windows_per_s"], p["audio_hours_per_hour"], p["median_ttfs_s"]]
        for p in points
    ]  # fmt: skip
    headers = ["concurrent uploads", "batching", "max batch", "wall s", "windows",
               "windows/s", "audio-h per h", "median first segment s"]  # fmt: skip
    ratios = throughput.get("batching_ratio") or {}
    ratio_line = ", ".join(f"{c} uploads: x{r:.2f}" for c, r in ratios.items())
    note = throughput.get("note", "")
    meeting = f"Meeting `{throughput.get('meeting')}` uploaded N times at once. "
    return (
        f"{meeting}{note}\n\n{table(headers, rows)}\n\n"
        f"Batched / unbatched throughput (same run): {ratio_line or 'not measured'}."
    )


def accuracy_section(result: dict[str, Any]) -> str:
    rows = [
        [r["meeting"], r["source"], r["backend"], r["duration_s"] / 60, r["wer"], r["der"],
         r["jer"], r["cpwer"], f"{r['speakers_hyp']}/{r['speakers_ref']}",
         r["action_precision"], r["action_recall"]]
        for r in result.get("accuracy", [])
    ]  # fmt: skip
    headers = ["meeting", "source", "diarization", "minutes", "WER", "DER (collar 0.25)",
               "JER", "cpWER", "speakers found/true", "action P", "action R"]  # fmt: skip
    return table(headers, rows) if rows else ""


def baseline_section(result: dict[str, Any]) -> str:
    ratios = {r["meeting"]: r for r in result.get("baseline_ratios", [])}
    rows = [
        [b["meeting"], b["duration_s"] / 60, b["asr_s"], b["diarization_s"], b["wall_s"],
         b["rtf"], ratios.get(b["meeting"], {}).get("rtf_ratio"),
         ratios.get(b["meeting"], {}).get("ttfs_ratio")]
        for b in result.get("baseline", [])
    ]  # fmt: skip
    headers = ["meeting", "minutes", "ASR s", "diarization s", "whole-file s (= first segment)",
               "RTF", "platform/baseline RTF", "platform/baseline first segment"]  # fmt: skip
    return table(headers, rows) if rows else ""


def memory_section(result: dict[str, Any]) -> str:
    memory = result.get("memory") or {}
    deployments = memory.get("deployments") or {}
    if not deployments:
        return memory.get("note", "")
    rows = [[n, p["peak_rss_mb"], p["peak_pss_mb"]] for n, p in deployments.items()]
    rows.append(["whole cluster", memory.get("cluster_peak_rss_mb"), memory["cluster_peak_pss_mb"]])
    return table(["process group", "peak RSS MB", "peak PSS MB"], rows)


def targets_section(result: dict[str, Any]) -> str:
    rows = [
        [t["target"], t["measured"], TARGET_STATUS[t["met"]], t["source"]]
        for t in result.get("targets", [])
    ]
    return table(["target (issue 5)", "measured", "status", "from"], rows) if rows else ""


LOAD_COLUMNS = (
    "name", "meetings", "watchers", "live", "batch", "sockets", "p50_ms", "p95_ms", "p99_ms",
    "lost", "duplicated", "socket_errors", "frames", "messages_per_s", "jobs_per_s",
)  # fmt: skip


def load_section(result: dict[str, Any]) -> str:
    """The control-plane load benchmark: headline scenarios, the sweep, 1 vs 2 Ingress."""
    load = result.get("load")
    if not load:
        return ""
    rows = [[r[c] for c in LOAD_COLUMNS] for r in load["headline"] + load["sweep"]]
    parts = [table(LOAD_COLUMNS, rows)]
    parts.append(f"\nLargest meetings x 5 watchers (batched) held at p99 <= 100 ms, no loss: "
                 f"{fmt(load.get('largest_meetings_at_target'))}")  # fmt: skip
    if load.get("replicas"):
        columns = ("ingress_replicas", *LOAD_COLUMNS[5:])
        parts += ["", table(columns, [[r[c] for c in columns] for r in load["replicas"]])]
    return "\n".join(parts)


CPU_GROUPS = ("ours", "ray_serve", "ray_core", "asgi_websocket", "json", "asyncio", "other")


def cpu_profile_section(result: dict[str, Any]) -> str:
    """Per process of a profiled load scenario: share of a core, CPU ms per socket-message,
    and what the innermost frames were (``benchmarks/cpu_profile.py``)."""
    rows = [r for r in (result.get("load") or {}).get("headline", []) if r.get("cpu_profile")]
    parts = []
    for row in rows:
        profile = row["cpu_profile"]
        head = (
            f"{row['name']}: {row['sockets']} sockets, {profile['socket_messages']} "
            f"socket-messages in {profile['seconds']} s sampled at {profile['rate_hz']} Hz"
        )
        columns = ("process", "core share", "CPU ms / message", *(f"{g} %" for g in CPU_GROUPS))
        body = [
            [
                name,
                p["core_share"],
                p["cpu_ms_per_message"],
                *(round(100 * p["groups"].get(g, 0.0), 1) for g in CPU_GROUPS),
            ]
            for name, p in profile["processes"].items()
        ]
        parts += [head, "", table(columns, body), ""]
    return "\n".join(parts)


def cpu_usage_section(result: dict[str, Any]) -> str:
    """Per load row: the CPU seconds its rounds cost the cluster, per delivered message, and
    the machine's busy and steal shares per round (``benchmarks/cpu_usage.py``)."""
    load = result.get("load") or {}
    rows = [r for r in load.get("headline", []) + load.get("sweep", []) if r.get("cpu")]
    columns = ("name", "cluster CPU s", "CPU ms / message", "busy per round",
               "steal per round", "CPU s by process")  # fmt: skip
    body = [
        [
            r["name"],
            r["cpu"]["cluster_seconds"],
            r["cpu"]["cluster_ms_per_message"],
            ", ".join(fmt(x) for x in r["cpu"]["round_busy_share"]),
            ", ".join(fmt(x) for x in r["cpu"]["round_steal_share"]),
            ", ".join(f"{g} {s:.1f}" for g, s in r["cpu"]["seconds"].items()),
        ]
        for r in rows
    ]
    return table(columns, body) if body else ""


def churn_section(result: dict[str, Any]) -> str:
    churn = result.get("churn")
    if not churn:
        return ""
    rows = [
        [group, churn["rss_before_mb"][group], churn["rss_after_mb"][group], pct]
        for group, pct in churn["growth_pct"].items()
    ]
    head = f"{churn['meetings']} meetings in {churn['wall_s']} s ({churn['meetings_per_s']}/s)\n\n"
    return head + table(["process", "RSS before MB", "RSS after MB", "growth %"], rows)


def live_section(result: dict[str, Any]) -> str:
    """``python -m benchmarks.live``: one stream's latency, accuracy and speakers."""
    r = result.get("results")
    if not (isinstance(r, dict) and "latency_s" in r):
        return ""
    settings = result.get("settings", {})
    wire = settings.get("wire") or {"sample_rate": 16000, "encoding": "pcm_s16le"}
    latency, lag = r["latency_s"], r["lag_s"]
    speakers = r.get("speakers") or {}
    words = r.get("words", {})
    shown = words.get("word_end_to_first_shown_s", {})
    rows = [
        ["meeting", f"{settings.get('meeting')} ({r['audio_s']} s)"],
        ["client sends", f"{wire['sample_rate']} Hz {wire['encoding']}"],
        ["windows (utterances)", r["windows"]],
        ["utterance end → transcript, median / p95 / max s",
         f"{fmt(latency['median'])} / {fmt(latency['p95'])} / {fmt(latency['max'])}"],
        ["lag, first / last third median s",
         f"{fmt(lag['first_third_median'])} / {fmt(lag['last_third_median'])}"],
        ["word end → first shown, p50 / p95 s",
         f"{fmt(shown.get('p50'))} / {fmt(shown.get('p95'))}"],
        ["WER live / upload", f"{fmt(r['wer'])} / {fmt(r.get('upload_wer'))}"],
        ["DER live", r["der"]],
        ["speakers reference / live / upload",
         " / ".join(fmt(speakers.get(k)) for k in ("reference", "live", "upload"))],
    ]  # fmt: skip
    return table(["measure", "value"], rows)


def decode_section(result: dict[str, Any]) -> str:
    """``benchmarks decode``: CPU ms per minute of audio per encoding (and reader)."""
    rows = result.get("rows") if result.get("suite", "").startswith("decode") else None
    if not rows:
        return ""
    readers = list(rows[0]["cpu_ms_per_audio_min"])
    ratio = [c for c in ("current_over_against",) if c in rows[0]]
    columns = ["encoding", "bytes", *(f"{r} CPU ms / audio min" for r in readers), *ratio]
    body = [
        [r["encoding"], r["bytes"], *r["cpu_ms_per_audio_min"].values(), *(r[c] for c in ratio)]
        for r in rows
    ]
    return table(columns, body)


def transcriber_batch_section(result: dict[str, Any]) -> str:
    """``benchmarks transcriber-batch``: audio seconds per wall second by batch size (older
    files lack the columns timed since: VAD apart, then the overlapped pass)."""
    batches = result.get("transcriber_batch")
    if not batches:
        return ""
    columns = ["batch", "windows", "audio s", "VAD s", "decode s", "x real time",
               "x real time decoding", "x real time, VAD in threads", "batch p50 s",
               "WER (median)", "GPU MiB used"]  # fmt: skip

    def median(values: list[float] | None) -> float | None:
        return statistics.median(values) if values else None

    body = [
        [
            r["batch_size"],
            r["windows"],
            r["audio_s"],
            median(r.get("vad_s")),
            median(r.get("decode_s")),
            r["x_real_time"],
            r.get("x_real_time_decode"),
            r.get("x_real_time_overlapped"),
            r["batch_p50_s"],
            median(r["wer"]),
            r["gpu_memory_used_mib"],
        ]
        for r in batches["rows"]
    ]
    return f"Model load {batches['model_load_s']} s.\n\n" + table(columns, body)


SECTIONS = (
    ("Targets", targets_section),
    ("Live stream", live_section),
    ("Control-plane load (path and profile: see above)", load_section),
    ("Where the CPU went (py-spy)", cpu_profile_section),
    ("What the rounds cost in CPU (process times, the machine's steal)", cpu_usage_section),
    ("Meeting churn (create, watch, delete)", churn_section),
    ("Latency (sequential uploads, medians)", latency_section),
    ("Throughput", throughput_section),
    ("Whole-file baseline (no windows, no Serve)", baseline_section),
    ("Accuracy", accuracy_section),
    ("Memory", memory_section),
    ("Decoding (direct calls of AudioReader)", decode_section),
    ("Transcriber batches (direct calls of the Transcriber class)", transcriber_batch_section),
)
