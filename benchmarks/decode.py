"""Decoding's CPU per minute of audio: one corpus recording in the encodings users upload, read
by ``core/audio.py`` ``AudioReader`` as the uploads pipeline reads it.

    python -m benchmarks decode
    python -m benchmarks decode --against 88a5df5   # alternated with core/audio.py of a commit

Process time of whole decodes, the median of ``--repeats`` per encoding. With ``--against
REV`` every call of the current code is followed by one of ``core/audio.py`` as it was at
REV, in the same process, and the ratio is reported: a machine's speed changes between runs
(benchmarks load records how much), alternating call by call cancels it. A direct call, so
it explains one of the Processor's costs; it is not the platform's path (``benchmarks load``
is).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import logging
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import av
import numpy as np

from benchmarks.report import new_result, write_result

logger = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parent.parent
# (name, container, codec, rate, layout): what people upload, from the corpus's 16 kHz WAV
ENCODINGS = (
    ("wav-16k-mono", "wav", "pcm_s16le", 16_000, "mono"),
    ("wav-44k-stereo", "wav", "pcm_s16le", 44_100, "stereo"),
    ("opus-48k-mono", "ogg", "libopus", 48_000, "mono"),
    ("flac-16k-mono", "flac", "flac", 16_000, "mono"),
)


def encode(pcm16: np.ndarray, rate: int, container: str, codec: str, to_rate: int,
           layout: str) -> bytes:  # fmt: skip
    """``pcm16`` (mono int16 at ``rate``) in another container, codec, rate and layout."""
    resampler = av.AudioResampler(format="s16", layout=layout, rate=to_rate)
    frame = av.AudioFrame.from_ndarray(pcm16[None, :], format="s16", layout="mono")
    frame.sample_rate = rate
    out = io.BytesIO()
    with av.open(out, "w", format=container) as muxer:
        stream = muxer.add_stream(codec, rate=to_rate)
        assert isinstance(stream, av.audio.stream.AudioStream)
        stream.layout = layout
        for converted in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(converted):
                muxer.mux(packet)
        for packet in stream.encode(None):
            muxer.mux(packet)
    return out.getvalue()


def module_at(rev: str) -> ModuleType:
    """``core/audio.py`` as it was at ``rev``, loaded beside the current one."""
    source = subprocess.run(
        ["git", "show", f"{rev}:core/audio.py"], cwd=REPO, check=True, capture_output=True,
        text=True,
    ).stdout  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="decode-") as scratch:
        path = Path(scratch) / "audio_at_rev.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(f"audio_at_{rev}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # the module keeps no hold on its file
    return module


def decode_s(module: ModuleType, data: bytes) -> float:
    """Process time of one whole decode (every array read, as the pipeline does)."""
    started = time.process_time()
    for _ in module.AudioReader(data):
        pass
    return time.process_time() - started


def measure(data: bytes, audio_s: float, readers: dict[str, ModuleType], repeats: int,
            clock: Callable[[ModuleType, bytes], float] = decode_s) -> dict[str, Any]:  # fmt: skip
    """Median CPU ms per minute of audio for each reader, called in turn ``repeats`` times."""
    for module in readers.values():
        clock(module, data)  # warm: FFmpeg's codec tables, numpy's first calls
    times: dict[str, list[float]] = {name: [] for name in readers}
    for _ in range(repeats):
        for name, module in readers.items():
            times[name].append(clock(module, data))
    return {name: round(1000 * statistics.median(t) * 60 / audio_s, 1) for name, t in times.items()}


def main(argv: list[str] | None = None) -> int:
    from core import audio
    from scripts.synth_meeting import ensure_meeting

    p = argparse.ArgumentParser(prog="python -m benchmarks decode", description=__doc__)
    p.add_argument("--meeting", default="planning2", help="corpus meeting to encode")
    p.add_argument("--repeats", type=int, default=25, help="decodes per encoding (and reader)")
    p.add_argument("--against", metavar="REV", help="alternate with core/audio.py at REV")
    p.add_argument("--out", type=Path, help="results directory")
    opts = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with wave.open(str(ensure_meeting(opts.meeting, install=True).audio_path)) as corpus:
        assert corpus.getframerate() == audio.SAMPLE_RATE and corpus.getnchannels() == 1
        pcm = np.frombuffer(corpus.readframes(corpus.getnframes()), dtype="<i2")
    audio_s = pcm.size / audio.SAMPLE_RATE
    readers = {"current": audio}
    if opts.against:
        readers[opts.against] = module_at(opts.against)
    rows = []
    for name, container, codec, rate, layout in ENCODINGS:
        data = encode(pcm, audio.SAMPLE_RATE, container, codec, rate, layout)
        row: dict[str, Any] = {"encoding": name, "bytes": len(data)}
        row["cpu_ms_per_audio_min"] = measure(data, audio_s, readers, opts.repeats)
        if opts.against:
            ms = row["cpu_ms_per_audio_min"]
            row["current_over_against"] = round(ms["current"] / ms[opts.against], 2)
        logger.info("%s: %s", name, row)
        rows.append(row)
    settings = {"meeting": opts.meeting, "audio_s": round(audio_s, 1), "repeats": opts.repeats,
                "against": opts.against}  # fmt: skip
    suite = f"decode-against-{opts.against}" if opts.against else "decode"
    result = new_result(suite, "none", settings)
    result["rows"] = rows
    result["note"] = "Process time of AudioReader over whole files; a direct call."
    print(f"decode: wrote {write_result(result, opts.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
