"""Languages benchmark: detection accuracy, WER of the original and chrF of the English captions
per language on the multilingual corpus, and the real-time factor of base vs tiny.en.

Model-level, like the whole-file baseline: the profile's own Transcriber class (VAD packing,
hallucination guards, batching groups) constructed directly, no Serve. It follows the
platform's rules: one language per meeting (detected on the first window of at most 30 s),
transcription in windows of at most 30 s, captions made per spoken turn with Whisper's
translate task. The reference turns stand in for the diarizer's, so the numbers measure the
models, not speaker attribution.

    python -m benchmarks.languages            # writes benchmarks/results/<hardware>/languages.*
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.report import commit_info, hardware_info
from benchmarks.scoring import word_error_rate
from core.types import SAMPLE_RATE
from deployments.options import TranscriberArgs
from deployments.transcriber import Request, Transcriber
from scripts.synth_meeting import MeetingAudio, ensure_meeting

logger = logging.getLogger(__name__)
RESULTS_DIR = Path(__file__).resolve().parent / "results"
MEETINGS = ("italian2", "finnish2", "bilingual2")
RTF_MEETING = "planning2"  # English, two voices, about 35 s
WINDOW_S = 30.0
BASE = TranscriberArgs(model="packaged:base", language=None)
TINY = TranscriberArgs(model="packaged:tiny.en", language="en")


def load(args: TranscriberArgs) -> Any:
    """The deployment's own class, constructed directly (no Serve)."""
    deployment: Any = Transcriber
    return deployment.func_or_class(args)


def chrf(hypothesis: str, reference: str) -> float:
    import sacrebleu

    return round(float(sacrebleu.corpus_chrf([hypothesis], [[reference]]).score), 1)


def windows(audio: np.ndarray, window_s: float = WINDOW_S) -> list[np.ndarray]:
    """``audio`` cut at fixed marks (the last piece shorter)."""
    step = int(window_s * SAMPLE_RATE)
    return [audio[i : i + step] for i in range(0, len(audio), step)]


def turn_audio(audio: np.ndarray, turn: dict[str, Any]) -> np.ndarray:
    return audio[int(turn["start"] * SAMPLE_RATE) : int(turn["end"] * SAMPLE_RATE)]


def transcribe(model: Any, audio: np.ndarray, language: str | None, task: str) -> str:
    requests = [Request(w, language, task) for w in windows(audio)]  # type: ignore[arg-type]
    return " ".join(r.text for r in model._run_batch(requests))


def detect(model: Any, audio: np.ndarray) -> tuple[str, float]:
    code, probability = asyncio.run(model.detect_language(audio))
    return str(code), float(probability)


def run_meeting(model: Any, meeting: MeetingAudio) -> dict[str, Any]:
    audio = meeting.load_audio()
    turns = meeting.reference["turns"]
    language, probability = detect(model, windows(audio)[0])
    started = time.perf_counter()
    original = transcribe(model, audio, language, "transcribe")
    transcribe_s = time.perf_counter() - started
    foreign = [t for t in turns if t.get("language", "en") != "en"]
    captions = [transcribe(model, turn_audio(audio, t), language, "translate") for t in foreign]
    reference_en = " ".join(t["translation"] for t in foreign)
    return {
        "meeting": meeting.name,
        "duration_s": meeting.duration,
        "reference_language": meeting.language,
        "detected_language": language,
        "detection_probability": round(probability, 4),
        "wer": round(word_error_rate(meeting.transcript(), original), 4),
        "chrf": chrf(" ".join(captions), reference_en) if foreign else None,
        "rtf_transcribe": round(transcribe_s / meeting.duration, 3),
        "hypothesis": original,
        "captions": captions,
    }


def per_turn_detection(model: Any, meetings: list[MeetingAudio]) -> dict[str, dict[str, Any]]:
    """Detection on each spoken turn alone (2-5 s of speech), grouped by its language."""
    hits: dict[str, list[bool]] = defaultdict(list)
    for meeting in meetings:
        audio = meeting.load_audio()
        for turn in meeting.reference["turns"]:
            code, _p = detect(model, turn_audio(audio, turn))
            hits[turn.get("language", "en")].append(code == turn.get("language", "en"))
    return {
        lang: {"turns": len(v), "accuracy": round(sum(v) / len(v), 3)} for lang, v in hits.items()
    }


def rtf(model: Any, meeting: MeetingAudio, language: str, repeats: int) -> float:
    """Median seconds of transcription per second of audio (lower is faster)."""
    audio = meeting.load_audio()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        transcribe(model, audio, language, "transcribe")
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) / meeting.duration, 4)


def run(repeats: int) -> dict[str, Any]:
    meetings = [ensure_meeting(name, install=True) for name in MEETINGS]
    english = ensure_meeting(RTF_MEETING, install=True)
    base = load(BASE)
    results = [run_meeting(base, m) for m in meetings]
    detection = per_turn_detection(base, [*meetings, english])
    base_rtf = rtf(base, english, "en", repeats)
    tiny = load(TINY)
    tiny_rtf = rtf(tiny, english, "en", repeats)
    return {
        "suite": "languages",
        "commit": commit_info(),
        "hardware": hardware_info("cpu"),
        "models": {"multilingual": BASE.model_dump(), "english": TINY.model_dump()},
        "meetings": results,
        "turn_detection": detection,
        "rtf": {
            "meeting": english.name,
            "duration_s": english.duration,
            "repeats": repeats,
            "base": base_rtf,
            "tiny.en": tiny_rtf,
            "base_over_tiny": round(base_rtf / tiny_rtf, 2) if tiny_rtf else None,
        },
    }


def render_markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Hardware: {result['hardware']['cpu']}, {result['hardware']['cores']} cores; "
        f"commit {str(result['commit']['sha'])[:10]}",
        "",
        "| meeting | language | detected (p) | WER of the original | chrF of the captions |",
        "|---|---|---|---|---|",
    ]
    for m in result["meetings"]:
        score = "—" if m["chrf"] is None else f"{m['chrf']:.1f}"
        lines.append(
            f"| {m['meeting']} ({m['duration_s']:.0f} s) | {m['reference_language']} | "
            f"{m['detected_language']} ({m['detection_probability']:.2f}) | {m['wer']:.3f} | "
            f"{score} |"
        )
    lines += ["", "| language | turns | per-turn detection accuracy |", "|---|---|---|"]
    for lang, d in sorted(result["turn_detection"].items()):
        lines.append(f"| {lang} | {d['turns']} | {d['accuracy']:.3f} |")
    r = result["rtf"]
    lines += [
        "",
        f"RTF on {r['meeting']} ({r['duration_s']:.0f} s, English, median of {r['repeats']}): "
        f"base {r['base']:.3f}, tiny.en {r['tiny.en']:.3f} (base/tiny = {r['base_over_tiny']}x)",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="RTF runs per model (median)")
    parser.add_argument("--out", type=Path, default=None, help="results directory")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    result = run(args.repeats)
    out = args.out or RESULTS_DIR / result["hardware"]["id"]
    out.mkdir(parents=True, exist_ok=True)
    (out / "languages.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    (out / "languages.md").write_text(render_markdown(result))
    print(render_markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
