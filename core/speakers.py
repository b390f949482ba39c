"""Link window-local speaker labels to stable meeting-wide labels (SPEAKER_00, SPEAKER_01, ...).

Each window is diarized on its own, so its labels mean nothing outside it. The registry keeps
one centroid embedding per meeting speaker; a window's speakers are matched to centroids by
cosine similarity, greedily and one-to-one (two voices heard in the same window are never the
same person), and unmatched voices become new meeting speakers. Centroids are running means
weighted by speech duration, so a long, clean turn counts more than a cough. Memory is one
centroid per speaker whatever the meeting's length, so linking works for meetings of hours.

Short turns ("Yes.", "Perfect.") give noisy embeddings that often miss every centroid's
threshold; opening a new speaker for each would invent phantom people. A voice with less than
``short_turn_s`` of speech in the window therefore joins the closest known speaker (including
one a longer voice of the same window just opened), and opens a new speaker only when it
clearly matches no one (similarity below ``novel_below``). Below the linking threshold it does
not move that centroid.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.types import DiarizationResult, Segment, SpeakerTurn

logger = logging.getLogger(__name__)

# Cosine similarity above which a window's voice is an already known meeting speaker. Measured
# with resemblyzer on the Festival test voices: same speaker >= 0.93 per turn, different
# speakers <= 0.78 (kal vs ked), so 0.85 separates them with margin on both sides.
DEFAULT_THRESHOLD = 0.85
# Speech (seconds) under which a window-local voice is too short to trust as a new person.
DEFAULT_SHORT_TURN_S = 1.5
# A short voice below this similarity to every known speaker is clearly someone new. Short
# GE2E embeddings of a known Festival voice stay above ~0.6 of its centroid (tests/unit/core).
DEFAULT_NOVEL_BELOW = 0.5
# Minor speakers, judged once the meeting is over (``MinorSpeakers``). Measured on the corpus
# with pink and white noise at 5-20 dB SNR, uploaded and live (docs/benchmarks.md "Background
# noise"): the extra speakers noise split off had 1.1-2.1 s of speech in their lines, or 3.3 s
# and 0.91 similarity to the voice they came from; the one real guest who speaks once
# (guest4) had 2.8-4.6 s and at most 0.845 to anyone. Thin margins, from Festival voices.
DEFAULT_MIN_SPEECH_S = 2.5
DEFAULT_MINOR_S = 8.0
DEFAULT_FOLD_ABOVE = 0.88


@dataclass(frozen=True, slots=True)
class MinorSpeakers:
    """Which small meeting speakers are fragments of a bigger one, judged at the end.

    In noise a window's diarization can split one voice in two, and the fragment opens a
    speaker of its own. With the whole meeting heard, a speaker with less than ``min_speech_s``
    of speech in all its lines joins the closest speaker with more (unless it matches no one,
    ``novel_below``), and one with less than ``minor_s`` joins a speaker with more speech whose
    voice is at least ``fold_above`` similar: the same voice, by a stricter bar than linking's.
    """

    min_speech_s: float = DEFAULT_MIN_SPEECH_S
    minor_s: float = DEFAULT_MINOR_S
    fold_above: float = DEFAULT_FOLD_ABOVE


class EmbeddingDimensionError(ValueError):
    """An embedding whose size differs from the ones the registry already holds."""

    def __init__(self, label: str, expected: int, got: int) -> None:
        super().__init__(
            f"Speaker embedding for {label!r} has {got} dimensions, the registry holds {expected}; "
            "use the same speaker-embedding model for the whole meeting."
        )
        self.label = label
        self.expected = expected
        self.got = got


@dataclass(frozen=True, slots=True)
class ShortJoin:
    """A short voice that joined a known speaker in the last ``link`` call."""

    vector: np.ndarray  # unit embedding
    similarity: float  # cosine similarity to that speaker's centroid when it joined


@dataclass(slots=True)
class _Speaker:
    label: str
    centroid: np.ndarray  # duration-weighted mean of unit-length embeddings
    weight: float
    confirmed: bool = True  # False while only short turns back it (see ``reattribute``)


class SpeakerRegistry:
    """Meeting-wide speaker identities; JSON-able state via ``to_state``/``from_state``."""

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        prefix: str = "SPEAKER_",
        short_turn_s: float = DEFAULT_SHORT_TURN_S,
        novel_below: float = DEFAULT_NOVEL_BELOW,
    ) -> None:
        self.threshold = threshold
        self.prefix = prefix
        self.short_turn_s = short_turn_s
        self.novel_below = novel_below
        self._speakers: list[_Speaker] = []
        self._next_index = 0
        # The last ``link`` call's short voices that joined a known speaker, by local label
        # (``core.short_turns`` looks at them again when the meeting is over).
        self.last_short_joins: dict[str, ShortJoin] = {}

    @property
    def labels(self) -> list[str]:
        return [s.label for s in self._speakers]

    def link(
        self,
        embeddings: Mapping[str, Sequence[float]],
        durations: Mapping[str, float] | None = None,
        longest_turns: Mapping[str, float] | None = None,
    ) -> dict[str, str]:
        """Map each local label with an embedding to a meeting label and update centroids.

        ``durations`` (speech seconds) weight the centroids; a voice is short when its longest
        turn (``longest_turns``, else its total speech) is under ``short_turn_s``: three "Yes."
        clustered together are still three noisy embeddings.

        Voices with enough speech are linked first (one to one, or new speakers); short ones
        then join the closest speaker, including one a longer voice of this window opened.
        """
        vectors = self._unit_vectors(embeddings)
        evidence = longest_turns if longest_turns is not None else durations
        short = {
            local
            for local in vectors
            if evidence is not None and _weight(evidence, local) < self.short_turn_s
        }
        long_vectors = {k: v for k, v in vectors.items() if k not in short}
        self.last_short_joins = {}
        matches = self._match(long_vectors)
        mapping: dict[str, str] = {}
        for local in sorted(long_vectors):
            mapping[local] = self._link_one(
                long_vectors[local], matches.get(local), durations, local
            )
            # A long turn confirms a speaker that short turns opened (a live meeting's first
            # "Good morning." alone in its window): ``reattribute`` must not fold it away.
            self._by_label(mapping[local]).confirmed = True
        for local in sorted(short):
            closest = self._closest(vectors[local])
            if closest is not None and closest[1] < self.threshold:
                # A short turn of a known voice: no phantom, and too noisy to move the centroid.
                mapping[local] = self._speakers[closest[0]].label
                self.last_short_joins[local] = ShortJoin(vectors[local], closest[1])
                continue
            index = closest[0] if closest is not None else None
            mapping[local] = self._link_one(vectors[local], index, durations, local)
            if index is None:  # opened by a short turn: provisional until confirmed
                self._by_label(mapping[local]).confirmed = False
        return mapping

    def reattribute(
        self,
        speech: Mapping[str, float] | None = None,
        minor: MinorSpeakers | None = None,
        keep: Collection[str] = (),
    ) -> dict[str, str]:
        """Once the meeting is over and everyone is known, fold away speakers that are not
        people of their own; ``{folded label: label it joins}``. Provisional speakers (opened by
        short turns only, e.g. a meeting's first "Hi.") join the closest confirmed speaker; with
        ``speech`` (seconds in each label's lines) and ``minor``, so do minor speakers (see
        ``MinorSpeakers``). A speaker that clearly matches no one stays, and so does one in
        ``keep`` (named by a person or a voice profile)."""
        merges = self._fold_provisional(keep)
        if speech is not None and minor is not None:
            merges.update(self._fold_minor(speech, minor, keep))
        return merges

    def _fold_provisional(self, keep: Collection[str]) -> dict[str, str]:
        confirmed = [s for s in self._speakers if s.confirmed]
        merges: dict[str, str] = {}
        for speaker in [s for s in self._speakers if not s.confirmed and s.label not in keep]:
            best = _most_similar(speaker, confirmed)
            if best is not None and best[1] >= self.novel_below:
                merges[speaker.label] = best[0].label
        self._speakers = [s for s in self._speakers if s.label not in merges]
        return merges

    def _fold_minor(
        self, speech: Mapping[str, float], minor: MinorSpeakers, keep: Collection[str]
    ) -> dict[str, str]:
        # Largest first, so a speaker that is itself folded is never a fragment's target.
        def spoken(s: _Speaker) -> float:
            return float(speech.get(s.label, 0.0))

        merges: dict[str, str] = {}
        for speaker in sorted(self._speakers, key=spoken, reverse=True):
            if speaker.label in keep or spoken(speaker) >= minor.minor_s:
                continue
            bigger = [
                s
                for s in self._speakers
                if s.label not in merges
                and spoken(s) > spoken(speaker)
                and spoken(s) >= minor.min_speech_s
            ]
            best = _most_similar(speaker, bigger)
            tiny = spoken(speaker) < minor.min_speech_s
            bar = self.novel_below if tiny else minor.fold_above
            if best is not None and best[1] >= bar:
                merges[speaker.label] = best[0].label
        self._speakers = [s for s in self._speakers if s.label not in merges]
        return merges

    def _by_label(self, label: str) -> _Speaker:
        return next(s for s in self._speakers if s.label == label)

    def _link_one(
        self,
        vector: np.ndarray,
        index: int | None,
        durations: Mapping[str, float] | None,
        local: str,
    ) -> str:
        weight = _weight(durations, local)
        if index is None:
            speaker = self._add(vector, weight)
            logger.debug("New meeting speaker %s for local %s", speaker.label, local)
        else:
            speaker = self._speakers[index]
            _update(speaker, vector, weight)
        return speaker.label

    def link_diarization(self, result: DiarizationResult) -> dict[str, str]:
        """Link a window's diarization; local speakers without an embedding get new labels."""
        durations: dict[str, float] = {}
        longest: dict[str, float] = {}
        for turn in result.turns:
            length = turn.end - turn.start
            durations[turn.speaker] = durations.get(turn.speaker, 0.0) + length
            longest[turn.speaker] = max(longest.get(turn.speaker, 0.0), length)
        mapping = self.link(result.embeddings, durations, longest)
        for local in sorted(set(durations) - set(mapping)):
            neighbour = _neighbour_label(result.turns, local, mapping)
            short = longest[local] < self.short_turn_s
            # No embedding to judge by: a short voice joins the speaker next to it in time.
            mapping[local] = neighbour if short and neighbour else self._new_label()
        return mapping

    @property
    def speaker_count(self) -> int:
        return len(self._speakers)

    def centroids(self) -> dict[str, tuple[list[float], float]]:
        """Each meeting speaker's unit centroid and speech seconds (for enrolment, matching)."""
        return {s.label: (_unit(s.centroid).tolist(), s.weight) for s in self._speakers}

    def _closest(self, vector: np.ndarray) -> tuple[int, float] | None:
        """The most similar speaker and the similarity; None when there is nobody yet or the
        voice clearly matches no one (below ``novel_below``)."""
        if not self._speakers:
            return None
        scores = [float(vector @ _unit(s.centroid)) for s in self._speakers]
        best = int(np.argmax(scores))
        return (best, scores[best]) if scores[best] >= self.novel_below else None

    def to_state(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "prefix": self.prefix,
            "short_turn_s": self.short_turn_s,
            "novel_below": self.novel_below,
            "next_index": self._next_index,
            "speakers": [
                {
                    "label": s.label,
                    "centroid": s.centroid.tolist(),
                    "weight": s.weight,
                    "confirmed": s.confirmed,
                }
                for s in self._speakers
            ],
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> SpeakerRegistry:
        registry = cls(
            threshold=float(state["threshold"]),
            prefix=str(state["prefix"]),
            short_turn_s=float(state.get("short_turn_s", DEFAULT_SHORT_TURN_S)),
            novel_below=float(state.get("novel_below", DEFAULT_NOVEL_BELOW)),
        )
        registry._next_index = int(state["next_index"])
        registry._speakers = [
            _Speaker(
                label=str(s["label"]),
                centroid=np.asarray(s["centroid"], dtype=np.float64),
                weight=float(s["weight"]),
                confirmed=bool(s.get("confirmed", True)),
            )
            for s in state["speakers"]
        ]
        return registry

    def _unit_vectors(self, embeddings: Mapping[str, Sequence[float]]) -> dict[str, np.ndarray]:
        vectors: dict[str, np.ndarray] = {}
        dim = self._speakers[0].centroid.size if self._speakers else None
        for label, values in embeddings.items():
            vector = np.asarray(values, dtype=np.float64).reshape(-1)
            dim = vector.size if dim is None else dim
            if vector.size != dim:
                raise EmbeddingDimensionError(label, dim, vector.size)
            norm = float(np.linalg.norm(vector))
            if norm > 0 and np.isfinite(norm):
                vectors[label] = vector / norm
        return vectors

    def _match(self, vectors: Mapping[str, np.ndarray]) -> dict[str, int]:
        """Greedy one-to-one matching, most similar pair first, above the threshold."""
        pairs = []
        for local, vector in vectors.items():
            for index, speaker in enumerate(self._speakers):
                similarity = float(vector @ _unit(speaker.centroid))
                if similarity >= self.threshold:
                    pairs.append((-similarity, local, index))
        matches: dict[str, int] = {}
        taken: set[int] = set()
        for _, local, index in sorted(pairs):
            if local not in matches and index not in taken:
                matches[local] = index
                taken.add(index)
        return matches

    def _add(self, vector: np.ndarray, weight: float) -> _Speaker:
        speaker = _Speaker(label=self._new_label(), centroid=vector.copy(), weight=weight)
        self._speakers.append(speaker)
        return speaker

    def _new_label(self) -> str:
        label = f"{self.prefix}{self._next_index:02d}"
        self._next_index += 1
        return label


def speech_by_label(spans: Iterable[Segment | SpeakerTurn]) -> dict[str, float]:
    """Seconds of speech in each label's lines or turns (what ``MinorSpeakers`` weighs)."""
    speech: dict[str, float] = {}
    for span in spans:
        speech[span.speaker] = speech.get(span.speaker, 0.0) + span.end - span.start
    return speech


def relabel(turns: Sequence[SpeakerTurn], mapping: Mapping[str, str]) -> list[SpeakerTurn]:
    """Turns with local labels replaced by meeting labels; unmapped labels are kept."""
    return [SpeakerTurn(t.start, t.end, mapping.get(t.speaker, t.speaker)) for t in turns]


def _neighbour_label(
    turns: Sequence[SpeakerTurn], local: str, mapping: Mapping[str, str]
) -> str | None:
    """The meeting label of the nearest-in-time turn by another, already mapped voice."""
    own = [t for t in turns if t.speaker == local]
    others = [t for t in turns if t.speaker != local and t.speaker in mapping]
    if not own or not others:
        return None
    nearest = min(
        others, key=lambda t: min(abs(t.start - o.end) + abs(o.start - t.end) for o in own)
    )
    return mapping[nearest.speaker]


def _most_similar(speaker: _Speaker, others: Sequence[_Speaker]) -> tuple[_Speaker, float] | None:
    if not others:
        return None
    vector = _unit(speaker.centroid)
    scores = [float(vector @ _unit(o.centroid)) for o in others]
    best = int(np.argmax(scores))
    return others[best], scores[best]


def _weight(durations: Mapping[str, float] | None, label: str) -> float:
    # A speaker with no measured speech still counts a little, so its embedding is not lost.
    if durations is None:
        return 1.0
    return max(float(durations.get(label, 0.0)), 1e-3)


def _update(speaker: _Speaker, vector: np.ndarray, weight: float) -> None:
    total = speaker.weight + weight
    speaker.centroid = (speaker.centroid * speaker.weight + vector * weight) / total
    speaker.weight = total


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector
