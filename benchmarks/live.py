"""Live streaming benchmark: utterance-end → transcript latency and lag over a long stream.

    python -m benchmarks.live --minutes 30            # starts its own CPU-profile platform
    python -m benchmarks.live --minutes 5 --url http://127.0.0.1:8000   # against `make run`
    python -m benchmarks.live --minutes 5 --suite live-5min   # a short run, its own result file

The synthetic meeting is streamed at real-time speed in 100 ms frames through
``/ws/meeting/{id}/audio`` while a second socket listens to the room. For each live window the
latency is the time from sending the last frame of that window's audio to receiving its first
transcript segment; the processing lag reported by the server is sampled over the whole stream
to show whether it grows.

Per reference word (``benchmarks/live_words.py``): time from the word's end in the audio to its
first appearance (a stable word of a ``transcript_partial``, or the final line) and to its final
line, with p50/p95/p99, the same split into the first and last third of the stream, and the
share of shown partial words that the final line revised.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from contextlib import ExitStack
from typing import Any

import websockets
import yaml

from benchmarks.client import (
    Arrival,
    BenchUser,
    MeetingRun,
    create_meeting,
    process_upload,
    register_user,
)
from benchmarks.live_client import PCM16_16K, StreamLog, WireFormat, stream_audio
from benchmarks.live_words import word_timing
from benchmarks.platform import Platform, external_platform, started_platform
from benchmarks.report import new_result, write_result
from benchmarks.runner import load_meeting
from benchmarks.scoring import (
    diarization_error_rate,
    spans_from_reference,
    spans_from_segments,
    word_error_rate,
)


async def listen(user: BenchUser, meeting_id: str, out: list[tuple[float, dict[str, Any]]]) -> None:
    url = f"{user.ws_url}/ws/meeting/{meeting_id}?last_seq=0"
    async with websockets.connect(url, subprotocols=["bearer", user.token]) as ws:  # type: ignore[list-item]
        async for raw in ws:
            message = json.loads(raw)
            out.append((time.monotonic(), message))
            if message.get("type") == "status" and message["status"] in {"completed", "failed"}:
                return


async def run_stream(
    platform: Platform,
    minutes: float | None,
    name: str,
    transcripts: str | None = None,
    wire: WireFormat = PCM16_16K,
) -> dict[str, Any]:
    script, at, noise = name.partition("@")  # "standup3@pink10": with background noise
    meeting = load_meeting(script + (f":{minutes:g}" if minutes else "") + at + noise)
    audio = meeting.load_audio()
    user = register_user(platform.base_url, platform.ws_url)
    meeting_id = create_meeting(user, f"live benchmark {name}")
    received: list[tuple[float, dict[str, Any]]] = []
    listener = asyncio.create_task(listen(user, meeting_id, received))
    await asyncio.sleep(0.5)
    log = StreamLog()
    began = time.monotonic()
    await stream_audio(platform.ws_url, meeting_id, user.token, audio, log, wire=wire)
    await asyncio.wait_for(listener, 600)
    live = MeetingRun(meeting_id, began, arrivals=[Arrival(at, m) for at, m in received])
    stats = summarize(meeting, received, log, began, live.attributed_segments)
    # The same audio through the upload path, after the stream (not concurrently): the live
    # WER should be close to what the upload path reaches on it.
    uploaded = await process_upload(user, meeting.audio_path, f"upload benchmark {name}")
    turns = meeting.reference["turns"]
    stats["speakers"] = {  # as a client shows them once the last ``speakers`` event is in
        "reference": len({t["speaker"] for t in turns}),
        "live": len({s["speaker"] for s in live.attributed_segments}),
        "upload": len({s["speaker"] for s in uploaded.attributed_segments}),
    }
    stats["upload_wer"] = round(
        word_error_rate(
            " ".join(t["text"] for t in turns), " ".join(s["text"] for s in uploaded.segments)
        ),
        4,
    )
    if transcripts:
        write_transcripts(
            transcripts, turns, live.attributed_segments, uploaded.attributed_segments
        )
    return stats


def write_transcripts(
    path: str, turns: list[dict[str, Any]], live: list[dict[str, Any]], upload: list[dict[str, Any]]
) -> None:
    """Reference, live and upload segments side by side, to read where the two paths differ;
    with the speaker labels a client shows once the job's last ``speakers`` event is in."""

    def lines(segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
        keys = ("start", "end", "speaker", "text")
        return [{k: s[k] for k in keys if k in s} for s in segments]

    with open(path, "w", encoding="utf-8") as f:
        json.dump({"reference": lines(turns), "live": lines(live), "upload": lines(upload)}, f)


def summarize(
    meeting: Any,
    received: list[tuple[float, dict[str, Any]]],
    log: StreamLog,
    began: float,
    segments: list[dict[str, Any]],
) -> dict[str, Any]:
    """Latency, lag, WER and DER of one stream; ``segments`` as a client shows them at the end
    (the last ``speakers`` event applied), so DER counts the end-of-stream fold."""
    first_seen: dict[int, float] = {}
    lags: list[tuple[float, float]] = []
    ends: dict[int, float] = {}
    for at, m in received:
        if m["type"] == "transcript":
            first_seen.setdefault(m["segment"]["window"], at)
        elif m["type"] == "status" and "audio_end_s" in m["details"]:
            ends[m["details"]["window"]] = m["details"]["audio_end_s"]
            lags.append((at - began, m["details"]["lag_s"]))
    latencies = sorted(first_seen[w] - log.time_sent(ends[w]) for w in first_seen if w in ends)
    turns = meeting.reference["turns"]
    third = max(1, len(lags) // 3)
    return {
        "audio_s": round(meeting.duration, 1),
        "windows": len(latencies),
        "latency_s": {
            "median": round(statistics.median(latencies), 3),
            "p95": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 3),
            "max": round(latencies[-1], 3),
        },
        "lag_s": {
            "first_third_median": round(statistics.median(v for _, v in lags[:third]), 3),
            "last_third_median": round(statistics.median(v for _, v in lags[-third:]), 3),
            "max": round(max(v for _, v in lags), 3),
            "series": [[round(t, 1), v] for t, v in lags],
        },
        "wer": round(
            word_error_rate(
                " ".join(t["text"] for t in turns), " ".join(s["text"] for s in segments)
            ),
            4,
        ),
        "der": round(
            diarization_error_rate(spans_from_reference(turns), spans_from_segments(segments)), 4
        ),
        "status": received[-1][1].get("status"),
        "words": word_timing(turns, received, log.time_sent),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--minutes", type=float, default=None, help="meeting length (default: script)"
    )
    parser.add_argument(
        "--meeting", default="standup3", help="synthetic meeting script (standup3@pink10: noisy)"
    )
    parser.add_argument("--url", help="a running platform (default: start one)")
    parser.add_argument("--profile", default="cpu")
    parser.add_argument(
        "--suite", default="live", help="result name (<suite>.json): keep short runs apart"
    )
    parser.add_argument(
        "--no-partials",
        action="store_true",
        help="finals only (processor.max_partials_in_flight=0)",
    )
    parser.add_argument(
        "--processor",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a Processor arg, e.g. live_min_pause_s=0.3, live_short_finals=false",
    )
    parser.add_argument(
        "--transcripts", metavar="PATH", help="also write reference, live and upload lines here"
    )
    parser.add_argument(
        "--wire",
        default="16000:pcm_s16le",
        metavar="RATE:ENCODING",
        help="how the client sends audio: 48000:pcm_f32le (a browser), 8000:pcm_mulaw (a phone)",
    )
    opts = parser.parse_args(argv)
    rate, _, encoding = opts.wire.partition(":")
    wire = WireFormat(int(rate), encoding or "pcm_s16le")
    processor: dict[str, Any] = {  # YAML scalars: 0.3, false
        k: yaml.safe_load(v) for k, v in (o.split("=", 1) for o in opts.processor)
    }
    if opts.no_partials:
        processor["max_partials_in_flight"] = 0
    with ExitStack() as stack:
        platform = (
            external_platform(opts.url, opts.profile)
            if opts.url
            else stack.enter_context(started_platform(opts.profile, processor=processor or None))
        )
        stats = asyncio.run(
            run_stream(platform, opts.minutes, opts.meeting, opts.transcripts, wire)
        )
    result = new_result(
        opts.suite,
        opts.profile,
        {
            "meeting": opts.meeting,
            "minutes": opts.minutes,
            "frame_s": 0.1,
            "wire": {"sample_rate": wire.sample_rate, "encoding": wire.encoding},
            "partials": not opts.no_partials,
            "processor": processor,
        },
    )
    result["results"] = stats
    path = write_result(result)
    print(
        json.dumps(
            {k: v for k, v in stats.items() if k not in {"lag_s", "words"}}
            | {"lag_s": {k: v for k, v in stats["lag_s"].items() if k != "series"}}
            | {"words": stats["words"]},
            indent=2,
        )
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
