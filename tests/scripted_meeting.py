"""A scripted five-line standup as transcript segments, for the summarizer's tests (the fake
engine's unit tests and the real vLLM replica's integration tests)."""

from __future__ import annotations

from core.types import Segment

LINES = [
    ("alice", "Good morning everyone, let's review the release plan for version two."),
    ("bob", "The build is green. I will tag the release candidate by Friday."),
    ("carol", "I'll update the documentation and send the changelog to the team."),
    ("alice", "We decided to ship on Monday if the smoke tests pass."),
    ("bob", "Please review the migration script before Thursday."),
]


def meeting(repeats: int = 1, offset: int = 0) -> list[Segment]:
    """The standup; ``repeats`` makes it long enough to need several chunks."""
    segments = []
    for i in range(len(LINES) * repeats):
        speaker, text = LINES[(i + offset) % len(LINES)]
        start = 6.0 * i
        segments.append(Segment(f"s{i}", speaker, text, start, start + 5.5, window=i // 5))
    return segments
