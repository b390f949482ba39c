"""Recognise enrolled voices: match meeting-speaker centroids to a user's voice profiles.

A profile is one unit embedding from one diarization backend. A meeting speaker takes a
profile's name only when the cosine similarity clears ``threshold`` *and* beats the best
other person's profile by ``margin`` (two similar colleagues must not swap names), and each
person names at most one speaker per meeting (greedy, most similar pair first). Everyone else
stays anonymous. The similarity is reported as the match's confidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from core.types import DiarizationResult

# Measured with the embedded GE2E encoder on the Festival test voices (docs/benchmarks.md):
# a speaker's meeting centroid vs the same voice enrolled from another meeting >= 0.93,
# vs another enrolled voice <= 0.79, and an unknown guest voice (guest4) reached 0.82.
DEFAULT_MATCH_THRESHOLD = 0.88
DEFAULT_MATCH_MARGIN = 0.04


@dataclass(frozen=True, slots=True)
class VoiceProfileVector:
    profile_id: str
    name: str
    embedding: Sequence[float]


@dataclass(frozen=True, slots=True)
class ProfileMatch:
    profile_id: str
    name: str
    confidence: float


def match_profiles(
    centroids: Mapping[str, Sequence[float]],
    profiles: Sequence[VoiceProfileVector],
    threshold: float = DEFAULT_MATCH_THRESHOLD,
    margin: float = DEFAULT_MATCH_MARGIN,
) -> dict[str, ProfileMatch]:
    """``{meeting label: match}`` for the speakers an enrolled voice clearly explains."""
    candidates = []
    for label, centroid in centroids.items():
        best = _best_per_person(_unit(centroid), profiles)
        if not best:
            continue
        ranked = sorted(best.values(), key=lambda m: -m.confidence)
        runner_up = ranked[1].confidence if len(ranked) > 1 else -1.0
        top = ranked[0]
        if top.confidence >= threshold and top.confidence - runner_up >= margin:
            candidates.append((top.confidence, label, top))
    matches: dict[str, ProfileMatch] = {}
    named: set[str] = set()
    for _, label, match in sorted(candidates, key=lambda c: -c[0]):
        if match.name.casefold() not in named:
            matches[label] = match
            named.add(match.name.casefold())
    return matches


def _best_per_person(
    vector: np.ndarray, profiles: Sequence[VoiceProfileVector]
) -> dict[str, ProfileMatch]:
    # Two profiles with one name are one person enrolled twice: they compete as one.
    best: dict[str, ProfileMatch] = {}
    for profile in profiles:
        embedding = _unit(profile.embedding)
        if embedding.size != vector.size:
            continue
        similarity = float(vector @ embedding)
        key = profile.name.casefold()
        if key not in best or similarity > best[key].confidence:
            best[key] = ProfileMatch(profile.profile_id, profile.name, round(similarity, 4))
    return best


def dominant_voice(result: DiarizationResult) -> tuple[list[float], float] | None:
    """The embedding and speech seconds of the speaker who talks most in ``result`` (an
    enrolment sample may hold a second voice briefly; the enrolled person dominates)."""
    speech: dict[str, float] = {}
    for turn in result.turns:
        speech[turn.speaker] = speech.get(turn.speaker, 0.0) + turn.end - turn.start
    voiced = [label for label in speech if label in result.embeddings]
    if not voiced:
        return None
    label = max(voiced, key=lambda lab: speech[lab])
    return _unit(result.embeddings[label]).tolist(), round(speech[label], 3)


def _unit(values: Sequence[float]) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float64).reshape(-1)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 and np.isfinite(norm) else vector
