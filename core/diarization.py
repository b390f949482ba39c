"""Model-free parts of the embedded diarizer: slicing speech, turning slice labels into turns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.types import DiarizationResult, SpeakerTurn


@dataclass(frozen=True, slots=True)
class Slice:
    start: float
    end: float

    @property
    def center(self) -> float:
        return (self.start + self.end) / 2


def slice_regions(
    regions: list[tuple[float, float]], slice_s: float, hop_s: float
) -> list[tuple[int, Slice]]:
    """Fixed-length slices over each speech region (short regions give one slice).

    Returns ``(region_index, slice)`` pairs so turns never bridge a silence.
    """
    out: list[tuple[int, Slice]] = []
    for index, (start, end) in enumerate(regions):
        if end - start <= slice_s:
            out.append((index, Slice(start, end)))
            continue
        t = start
        while t + slice_s < end:
            out.append((index, Slice(t, t + slice_s)))
            t += hop_s
        out.append((index, Slice(end - slice_s, end)))
    return out


def labels_to_turns(
    regions: list[tuple[float, float]],
    slices: list[tuple[int, Slice]],
    labels: list[int],
) -> list[SpeakerTurn]:
    """Split each region at midpoints between consecutive slice centres; merge equal neighbours."""
    turns: list[SpeakerTurn] = []
    for index, (start, end) in enumerate(regions):
        members = [(s, lab) for (r, s), lab in zip(slices, labels, strict=True) if r == index]
        if not members:
            continue
        cursor = start
        for k, (current, label) in enumerate(members):
            stop = end if k == len(members) - 1 else (current.center + members[k + 1][0].center) / 2
            _append_turn(turns, SpeakerTurn(round(cursor, 3), round(stop, 3), f"S{label}"))
            cursor = stop
    return turns


def _append_turn(turns: list[SpeakerTurn], turn: SpeakerTurn) -> None:
    if turns and turns[-1].speaker == turn.speaker and turn.start - turns[-1].end < 1e-6:
        turns[-1] = SpeakerTurn(turns[-1].start, turn.end, turn.speaker)
    elif turn.end > turn.start:
        turns.append(turn)


def absorb_small_clusters(
    embeddings: np.ndarray, labels: np.ndarray, min_share: float, min_similarity: float = -1.0
) -> np.ndarray:
    """Reassign slices of clusters holding fewer than ``min_share`` of the slices to the
    nearest big one, when they are at least ``min_similarity`` (cosine) like it.

    Single stray slices (a cough, a laugh, crosstalk) otherwise become phantom speakers. A
    slice unlike every big cluster stays apart: it is more often a one-word answer ("No.") of
    someone who has not spoken at length in this window, and the meeting's speaker linking
    (``core.speakers``: short voices) has more to judge it by than one window.
    """
    labels = labels.copy()
    counts = np.bincount(labels)
    big = [c for c in range(len(counts)) if counts[c] >= max(1, min_share * len(labels))]
    if not big or len(big) == len(counts):
        return _renumber(labels)
    centroids = np.stack([embeddings[labels == c].mean(axis=0) for c in big])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    for i in np.flatnonzero(~np.isin(labels, big)):
        scores = centroids @ embeddings[i]
        if scores.max() >= min_similarity:
            labels[i] = big[int(np.argmax(scores))]
    return _renumber(labels)


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Labels 0..k-1 in order of first appearance (stable, readable output)."""
    order = {lab: n for n, lab in enumerate(dict.fromkeys(labels.tolist()))}
    return np.array([order[lab] for lab in labels.tolist()], dtype=int)


def speaker_centroids(embeddings: np.ndarray, labels: np.ndarray) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for label in sorted(set(labels.tolist())):
        centroid = embeddings[labels == label].mean(axis=0)
        out[f"S{label}"] = (centroid / np.linalg.norm(centroid)).astype(float).tolist()
    return out


def without_lead(result: DiarizationResult, lead_s: float, duration_s: float) -> DiarizationResult:
    """The turns of a diarization run over ``lead_s`` of earlier audio plus a window of
    ``duration_s``, in window time; speakers heard only in the lead are dropped. Embeddings
    stay those of the whole run: the lead is there to give each voice more speech."""
    turns = [
        SpeakerTurn(
            round(max(t.start - lead_s, 0.0), 3),
            round(min(t.end - lead_s, duration_s), 3),
            t.speaker,
        )
        for t in result.turns
        if t.end - lead_s > 0 and t.start - lead_s < duration_s
    ]
    heard = {t.speaker for t in turns}
    embeddings = {k: v for k, v in result.embeddings.items() if k in heard}
    return DiarizationResult(turns, embeddings, result.backend)
