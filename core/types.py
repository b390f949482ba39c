"""Result types shared by the model deployments, the Processor and the exports.

Plain dataclasses of builtins so they pickle cheaply through Ray's object store and
serialise to the wire format with ``asdict``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SAMPLE_RATE = 16_000


@dataclass(frozen=True, slots=True)
class Word:
    word: str
    start: float
    end: float
    probability: float = 1.0

    def shifted(self, offset: float) -> Word:
        """The same word ``offset`` seconds later (times kept to the millisecond)."""
        return Word(
            self.word, round(self.start + offset, 3), round(self.end + offset, 3), self.probability
        )


@dataclass(frozen=True, slots=True)
class SpeakerTurn:
    """A span of speech attributed to one speaker label (window-local or meeting-wide)."""

    start: float
    end: float
    speaker: str


@dataclass(slots=True)
class TranscriptionResult:
    words: list[Word]
    text: str
    language: str = "en"
    duration: float = 0.0


@dataclass(slots=True)
class DiarizationResult:
    """Speaker turns plus one embedding per (window-local) speaker for meeting-wide linking."""

    turns: list[SpeakerTurn]
    embeddings: dict[str, list[float]] = field(default_factory=dict)
    # Which embedding model made ``embeddings`` (e.g. "embedded:ge2e"); embeddings of
    # different backends are not comparable, so voice profiles record it.
    backend: str = ""


@dataclass(slots=True)
class Segment:
    """One speaker-attributed transcript line; ``timestamp`` is the seed's name for ``start``."""

    id: str
    speaker: str
    text: str
    start: float
    end: float
    window: int
    words: list[Word] = field(default_factory=list)
    translation: str | None = None  # English caption of the same speech, when asked for
    segment_id: str | None = None  # live utterance id shared with its partials (None: upload)

    @property
    def timestamp(self) -> float:
        return self.start

    def to_wire(self) -> dict[str, Any]:
        data = asdict(self)
        data["timestamp"] = self.start
        return data


@dataclass(slots=True)
class ActionItem:
    text: str
    owner: str | None = None
    due: str | None = None


@dataclass(slots=True)
class SummaryResult:
    summary: str
    action_items: list[ActionItem] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    engine: str = "extractive"
    language: str | None = None  # the meeting's language, when known
    language_note: str | None = None  # what the engine could not do in that language

    def action_item_strings(self) -> list[str]:
        """The seed's flat ``action_items`` list: "Owner: text (due)"."""
        out = []
        for item in self.action_items:
            line = f"{item.owner}: {item.text}" if item.owner else item.text
            out.append(f"{line} ({item.due})" if item.due else line)
        return out
