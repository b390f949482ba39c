"""What people did to a meeting's speakers after diarization: names, merges, reassigned lines.

Diarization output is never rewritten. The stored segments keep the label the pipeline gave
them; the edits live beside them and are applied when a transcript, an export or a summary is
read. So every edit can be changed again or undone (rename back, reassign a line back).

Resolution of one segment: its reassignment (if any) else its stored label, then followed
through merges (``SPEAKER_03`` merged into ``SPEAKER_01`` reads as ``SPEAKER_01``), then the
label's name (a user's rename wins over a voice-profile match), else the label itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from core.types import Segment

NameSource = Literal["user", "profile"]
MAX_MERGE_CHAIN = 64  # merges form a forest; the bound only guards against a corrupted cycle


@dataclass(frozen=True, slots=True)
class SpeakerName:
    """A display name for a meeting speaker label and where it came from."""

    name: str
    source: NameSource = "user"
    confidence: float | None = None  # cosine similarity for a voice-profile match
    profile_id: str | None = None


@dataclass(slots=True)
class SpeakerEdits:
    names: dict[str, SpeakerName] = field(default_factory=dict)
    merges: dict[str, str] = field(default_factory=dict)  # from label -> into label
    segment_speakers: dict[str, str] = field(default_factory=dict)  # segment id -> label

    def resolve_label(self, label: str) -> str:
        """The label after following merges (``label`` itself when never merged)."""
        seen = 0
        while label in self.merges and seen < MAX_MERGE_CHAIN:
            label = self.merges[label]
            seen += 1
        return label

    def display_name(self, label: str) -> str:
        final = self.resolve_label(label)
        named = self.names.get(final)
        return named.name if named else final

    def segment_label(self, segment_id: str, stored_label: str) -> str:
        return self.resolve_label(self.segment_speakers.get(segment_id, stored_label))

    def is_empty(self) -> bool:
        return not (self.names or self.merges or self.segment_speakers)

    def to_wire(self) -> dict[str, Any]:
        """The ``speakers`` message's fields: the complete state, so a client replaces its own."""
        return {
            "speakers": {
                label: {
                    "name": n.name,
                    "source": n.source,
                    "confidence": n.confidence,
                    "profile_id": n.profile_id,
                }
                for label, n in sorted(self.names.items())
            },
            "merges": dict(sorted(self.merges.items())),
            "segment_speakers": dict(sorted(self.segment_speakers.items())),
        }


def apply_to_segments(segments: Sequence[Segment], edits: SpeakerEdits) -> list[Segment]:
    """Segments whose ``speaker`` is the display name (label when unnamed)."""
    out = []
    for segment in segments:
        label = edits.segment_label(segment.id, segment.speaker)
        out.append(replace(segment, speaker=edits.display_name(label)))
    return out


def apply_to_wire_segments(
    segments: Sequence[Segment], edits: SpeakerEdits
) -> list[dict[str, Any]]:
    """Wire dicts with ``speaker`` = display name and ``speaker_label`` = the resolved label."""
    out = []
    for segment in segments:
        label = edits.segment_label(segment.id, segment.speaker)
        wire = segment.to_wire()
        wire["speaker"] = edits.display_name(label)
        wire["speaker_label"] = label
        out.append(wire)
    return out


_LABEL = re.compile(r"\b[A-Z]+_\d{2,}\b")


def apply_to_text(text: str, edits: SpeakerEdits) -> str:
    """Replace meeting labels (``SPEAKER_01``) in free text with display names."""
    if edits.is_empty():
        return text
    return _LABEL.sub(lambda m: edits.display_name(m.group(0)), text)


def apply_to_summary(payload: Mapping[str, Any], edits: SpeakerEdits) -> dict[str, Any]:
    """A stored ``summary`` payload with speaker labels replaced by names, everywhere they show:
    the summary text, the seed's flat action items and the structured owners."""
    out: dict[str, Any] = dict(payload)
    if edits.is_empty():
        return out
    out["summary"] = apply_to_text(str(payload.get("summary", "")), edits)
    out["action_items"] = [apply_to_text(str(a), edits) for a in payload.get("action_items", [])]
    details = dict(payload.get("details") or {})
    details["action_items"] = [
        {**item, "owner": apply_to_text(item["owner"], edits) if item.get("owner") else None}
        for item in details.get("action_items", [])
    ]
    out["details"] = details
    return out
