"""Accuracy on the synthetic corpus: WER, DER, JER, cpWER, speaker count, action items.

Scores are computed from what a client receives (the ``transcript`` events and the stored
summary), against the script the meeting was synthesised from, so they measure the whole
pipeline: windowing, diarization, speaker linking across windows, alignment and the summary.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.client import BenchUser, MeetingRun, fetch_summary, process_upload
from benchmarks.pipeline import check_completed
from benchmarks.scoring import (
    action_item_precision,
    action_item_recall,
    concatenated_min_permutation_wer,
    diarization_error_rate,
    jaccard_error_rate,
    spans_from_reference,
    spans_from_segments,
    speaker_texts,
    word_error_rate,
)
from scripts.synth_meeting import MeetingAudio

logger = logging.getLogger(__name__)
DER_COLLAR_S = 0.25


@dataclass(frozen=True)
class AccuracyScores:
    meeting: str
    source: str  # "platform" or "baseline"
    backend: str  # diarization backend
    duration_s: float
    wer: float
    der: float
    jer: float
    cpwer: float
    speakers_ref: int
    speakers_hyp: int
    action_precision: float | None
    action_recall: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def score_meeting(
    meeting: MeetingAudio,
    segments: Sequence[dict[str, Any]],
    source: str,
    backend: str,
    action_items: Sequence[dict[str, Any]] | None = None,
) -> AccuracyScores:
    """Scores of one transcript (wire segments: speaker/start/end/text) against the script."""
    turns = meeting.reference["turns"]
    ref_spans, hyp_spans = spans_from_reference(turns), spans_from_segments(segments)
    expected = meeting.reference["action_items"]
    return AccuracyScores(
        meeting=meeting.directory.name,
        source=source,
        backend=backend,
        duration_s=round(meeting.duration, 2),
        wer=round(word_error_rate(meeting.transcript(), " ".join(s["text"] for s in segments)), 4),
        der=round(diarization_error_rate(ref_spans, hyp_spans, collar=DER_COLLAR_S), 4),
        jer=round(jaccard_error_rate(ref_spans, hyp_spans), 4),
        cpwer=round(
            concatenated_min_permutation_wer(speaker_texts(turns), speaker_texts(segments)), 4
        ),
        speakers_ref=len({t["speaker"] for t in turns}),
        speakers_hyp=len({s["speaker"] for s in segments}),
        action_precision=(
            None
            if action_items is None
            else round(action_item_precision(expected, action_items), 4)
        ),
        action_recall=(
            None if action_items is None else round(action_item_recall(expected, action_items), 4)
        ),
    )


async def measure_accuracy(user: BenchUser, meeting: MeetingAudio, backend: str) -> AccuracyScores:
    """Upload the meeting through the API and score what comes back."""
    run = await process_upload(user, meeting.audio_path, f"accuracy {meeting.directory.name}")
    return score_run(user, meeting, run, backend)


def score_run(
    user: BenchUser, meeting: MeetingAudio, run: MeetingRun, backend: str
) -> AccuracyScores:
    """Scores of an upload already processed (e.g. one of the latency runs)."""
    check_completed(meeting.directory.name, run)
    summary = fetch_summary(user, run.meeting_id)
    scores = score_meeting(
        meeting, run.attributed_segments, "platform", backend, summary["details"]["action_items"]
    )
    logger.info("accuracy %s", scores)
    return scores


def segment_rows(segments: Sequence[Any]) -> list[dict[str, Any]]:
    """``core.types.Segment`` objects as the wire rows ``score_meeting`` takes."""
    return [
        {"speaker": s.speaker, "start": s.start, "end": s.end, "text": s.text} for s in segments
    ]
