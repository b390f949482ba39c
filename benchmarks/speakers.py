"""Speaker attribution where users see it: per meeting, speakers found vs true, the share of
lines given to the wrong person, WER and cpWER; and cross-meeting identification: each voice
is enrolled as a voice profile from one corpus meeting and must be named in the others
(precision, recall, names given to a voice nobody enrolled).

    python -m benchmarks.speakers              # starts a private CPU platform
    python -m benchmarks.speakers --url http://127.0.0.1:8000
    python -m benchmarks.speakers --offline    # diarizer + linking + matching in-process

``--offline`` needs no Ray cluster: the embedded Diarizer backend, the Processor's windowing,
speaker linking and profile matching run in this process, scored on diarization turns (no
ASR, so no WER/cpWER). A quick check of the speaker logic; the default is what users see.

Writes ``speakers.json`` and ``speakers.md`` to ``benchmarks/results/<hardware id>/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from benchmarks.client import BenchUser, MeetingRun, process_upload, register_user
from benchmarks.platform import Platform, external_platform, started_platform
from benchmarks.report import RESULTS_DIR, new_result
from benchmarks.scoring import concatenated_min_permutation_wer, speaker_texts, word_error_rate
from benchmarks.speaker_scoring import (
    IdentificationCounts,
    identification_counts,
    majority_label_person,
    precision_recall,
    wrong_speaker_share,
)
from scripts.synth_meeting import MeetingAudio, ensure_meeting

logger = logging.getLogger(__name__)

ENROL_MEETING = "standup3"  # alice, bob and carol are enrolled from this one
# guest4: marco never enrolled; latecomer3, firstword3: bob's first words are one-word answers;
# panel7: seven people, four of them never enrolled (accented English); crosstalk3: a "Mm-hmm."
# under a sentence, interruptions
TEST_MEETINGS = [
    "planning2", "short2", "quickfire3", "guest4", "latecomer3", "firstword3", "panel7",
    "crosstalk3",
]  # fmt: skip


async def run_meeting(user: BenchUser, meeting: MeetingAudio) -> MeetingRun:
    run = await process_upload(user, meeting.audio_path, f"speakers {meeting.directory.name}")
    if run.status != "completed":
        raise RuntimeError(f"{meeting.directory.name}: processing ended {run.status}")
    return run


def speaker_names(user: BenchUser, meeting_id: str) -> dict[str, str]:
    r = httpx.get(
        f"{user.base_url}/api/meetings/{meeting_id}/speakers", headers=user.headers, timeout=30
    )
    r.raise_for_status()
    return {label: s["name"] for label, s in r.json()["speakers"].items()}


def enrol_people(user: BenchUser, meeting: MeetingAudio, run: MeetingRun) -> dict[str, str]:
    """Enrol each scripted person from the label that carries most of their speech."""
    turns, segments = meeting.reference["turns"], run.attributed_segments
    enrolled: dict[str, str] = {}
    for label in sorted({s["speaker"] for s in segments}):
        person = majority_label_person(label, turns, segments)
        if person is None or person in enrolled:
            continue
        body = {"name": person, "meeting_id": run.meeting_id, "speaker": label}
        r = httpx.post(
            f"{user.base_url}/api/voice-profiles", json=body, headers=user.headers, timeout=30
        )
        r.raise_for_status()
        enrolled[person] = label
    return enrolled


def score(meeting: MeetingAudio, run: MeetingRun) -> dict[str, Any]:
    turns, segments = meeting.reference["turns"], run.attributed_segments
    hyp_text = " ".join(s["text"] for s in segments)
    return {
        "meeting": meeting.directory.name,
        "duration_s": round(meeting.duration, 2),
        "speakers_true": len({t["speaker"] for t in turns}),
        "speakers_found": len({s["speaker"] for s in segments}),
        "segments": len(segments),
        "wrong_speaker_share": round(wrong_speaker_share(turns, segments), 4),
        "wer": round(word_error_rate(meeting.transcript(), hyp_text), 4),
        "cpwer": round(
            concatenated_min_permutation_wer(speaker_texts(turns), speaker_texts(segments)), 4
        ),
    }


async def measure(user: BenchUser) -> dict[str, Any]:
    enrol_audio = ensure_meeting(ENROL_MEETING, install=True)
    enrol_run = await run_meeting(user, enrol_audio)
    enrolled = enrol_people(user, enrol_audio, enrol_run)
    rows = [{**score(enrol_audio, enrol_run), "role": "enrolment"}]
    counts: list[IdentificationCounts] = []
    for name in TEST_MEETINGS:
        audio = ensure_meeting(name, install=True)
        run = await run_meeting(user, audio)
        names = speaker_names(user, run.meeting_id)
        found = identification_counts(
            audio.reference["turns"], run.attributed_segments, names, enrolled
        )
        counts.append(found)
        row = {**score(audio, run), "role": "identification", "names": names}
        rows.append({**row, **found.as_dict()})
        logger.info("%s", rows[-1])
    return {"meetings": rows, "enrolled": enrolled, "identification": precision_recall(counts)}


def offline_run(meeting: MeetingAudio, backend: Any, profiles: list[Any]) -> dict[str, Any]:
    """Diarize the meeting window by window and link speakers as the Processor does."""
    from core.speakers import SpeakerRegistry, relabel, speech_by_label
    from core.types import SAMPLE_RATE, SpeakerTurn
    from core.voice_profiles import match_profiles
    from core.windowing import WindowOptions, plan_windows
    from deployments.options import ProcessorArgs
    from deployments.vad import speech_regions

    args = ProcessorArgs()
    audio = meeting.load_audio()
    options = WindowOptions(args.window_target_s, args.window_min_s, args.window_max_s)
    windows = plan_windows(speech_regions(audio), audio.size / SAMPLE_RATE, options)
    registry = SpeakerRegistry(
        args.speaker_link_threshold,
        short_turn_s=args.short_turn_s,
        novel_below=args.novel_speaker_below,
    )
    turns: list[SpeakerTurn] = []  # meeting labels, meeting time
    for window in windows:
        result = backend.diarize(audio[window.sample_slice(SAMPLE_RATE)])
        for turn in relabel(result.turns, registry.link_diarization(result)):
            start, end = turn.start + window.start, turn.end + window.start
            turns.append(replace(turn, start=start, end=end))
    merges = registry.reattribute(speech_by_label(turns), args.minor_speakers())
    segments = [{"speaker": t.speaker, "start": t.start, "end": t.end} for t in turns]
    segments = [{**s, "speaker": merges.get(s["speaker"], s["speaker"])} for s in segments]
    centroids = {label: c for label, (c, _) in registry.centroids().items()}
    names = {
        label: m.name
        for label, m in match_profiles(
            centroids, profiles, args.voice_match_threshold, args.voice_match_margin
        ).items()
    }
    return {"segments": segments, "centroids": centroids, "names": names}


def measure_offline() -> dict[str, Any]:
    from core.voice_profiles import VoiceProfileVector
    from deployments.diarizer import EmbeddedBackend
    from deployments.options import DiarizerArgs

    backend = EmbeddedBackend(DiarizerArgs())
    enrol_audio = ensure_meeting(ENROL_MEETING, install=True)
    enrol = offline_run(enrol_audio, backend, [])
    turns = enrol_audio.reference["turns"]
    profiles, enrolled = [], {}
    for label, centroid in enrol["centroids"].items():
        person = majority_label_person(label, turns, enrol["segments"])
        if person is not None and person not in enrolled:
            profiles.append(VoiceProfileVector(label, person, centroid))
            enrolled[person] = label
    rows = [{**offline_score(enrol_audio, enrol["segments"]), "role": "enrolment"}]
    counts: list[IdentificationCounts] = []
    for name in TEST_MEETINGS:
        audio = ensure_meeting(name, install=True)
        run = offline_run(audio, backend, profiles)
        found = identification_counts(
            audio.reference["turns"], run["segments"], run["names"], enrolled
        )
        counts.append(found)
        row = {
            **offline_score(audio, run["segments"]),
            "role": "identification",
            "names": run["names"],
        }
        rows.append({**row, **found.as_dict()})
        logger.info("%s", rows[-1])
    return {"meetings": rows, "enrolled": enrolled, "identification": precision_recall(counts)}


def offline_score(meeting: MeetingAudio, segments: list[dict[str, Any]]) -> dict[str, Any]:
    turns = meeting.reference["turns"]
    return {
        "meeting": meeting.directory.name,
        "duration_s": round(meeting.duration, 2),
        "speakers_true": len({t["speaker"] for t in turns}),
        "speakers_found": len({s["speaker"] for s in segments}),
        "segments": len(segments),
        "wrong_speaker_share": round(wrong_speaker_share(turns, segments), 4),
        "wer": None,
        "cpwer": None,
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Speaker attribution and identification",
        "",
        f"Commit {result['commit'].get('sha', '?')[:10]}, {result['hardware']['id']}, "
        f"{result['created']}. Command: `python -m benchmarks.speakers"
        f"{' --offline' if result['suite'].endswith('offline') else ''}`.",
        "",
        "| meeting | role | speakers found / true | wrong-speaker lines | WER | cpWER "
        "| names given (correct) |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in result["meetings"]:
        names = (
            f"{m['names_given']} ({m['names_correct']})" if m["role"] == "identification" else "-"
        )
        lines.append(
            f"| {m['meeting']} | {m['role']} | {m['speakers_found']} / {m['speakers_true']} | "
            f"{m['wrong_speaker_share']:.1%} | {_pct(m['wer'])} | {_pct(m['cpwer'])} | {names} |"
        )
    ident = result["identification"]
    lines += [
        "",
        f"Identification across meetings: precision {ident['precision']:.2f}, recall "
        f"{ident['recall']:.2f}, names given to a never-enrolled voice: "
        f"{ident['false_names_unknown']}.",
    ]
    return "\n".join(lines) + "\n"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


@contextmanager
def platform_for(url: str | None) -> Iterator[Platform]:
    if url:
        yield external_platform(url, "cpu")
    else:
        with started_platform("cpu") as platform:
            yield platform


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="benchmark a running platform instead of starting one")
    parser.add_argument("--out", type=Path, help="results directory")
    parser.add_argument("--offline", action="store_true", help="no platform: speaker logic only")
    opts = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    started = time.monotonic()
    suite = "speakers-offline" if opts.offline else "speakers"
    if opts.offline:
        measured = measure_offline()
    else:
        with platform_for(opts.url) as platform:
            user = register_user(platform.base_url, platform.ws_url)
            measured = asyncio.run(measure(user))
    result = new_result(suite, "cpu", {"enrol_meeting": ENROL_MEETING})
    result.update(measured)
    result["wall_s"] = round(time.monotonic() - started, 1)
    directory = opts.out or RESULTS_DIR / result["hardware"]["id"]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{suite}.json").write_text(json.dumps(result, indent=2) + "\n")
    (directory / f"{suite}.md").write_text(markdown(result))
    logger.info("wrote %s", directory / f"{suite}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
