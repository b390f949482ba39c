"""Resuming a job another Processor replica started (its lease expired: the replica died).

What a window leaves behind, in the transaction that stores its segments (``commit_window``),
is enough to continue after it: ``windows_done`` and a small ``resume_state`` (the speaker
registry's centroids and the language decision after that window). A new owner restores both,
so windows after the takeover link to the same meeting speakers and use the same language as
before, and continues at the first window not yet stored.

Segments are stored before they are published, so the old owner may have died between the two:
every segment event carries a deterministic ``event_id`` (job + segment id), and a resumed job
publishes the stored segments whose event is missing from the room, in order, before its first
new window. Nothing is lost, nothing published twice.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from core.meeting_language import MeetingLanguage
from core.speakers import SpeakerRegistry
from core.types import Segment
from deployments.job_state import JobState
from persistence import Database, list_segments
from persistence.leases import published_event_ids
from rooms.hub import HubClient
from rooms.publish import publish_segments

logger = logging.getLogger(__name__)


def segment_event_id(job_id: str, segment: Segment) -> str:
    """The same for every publication of one stored segment of one job."""
    return f"{job_id}-{segment.id}"


def resume_state(state: JobState) -> dict[str, Any]:
    """What a new owner needs after the window being stored (JSON)."""
    return {"registry": state.registry.to_state(), "language": asdict(state.language)}


def restore_state(state: JobState, saved: dict[str, Any] | None, windows_done: int) -> None:
    """Continue a job after ``windows_done`` stored windows, from their ``resume_state``."""
    state.published = windows_done
    state.resumed = True
    if saved and "registry" in saved:
        state.registry = SpeakerRegistry.from_state(saved["registry"])
    if saved and "language" in saved:
        state.language = MeetingLanguage(**saved["language"])


def stored_segments(db: Database, state: JobState) -> list[Segment]:
    """The job's segments already stored (windows before ``state.published``), in order."""
    with db.session() as session:
        segments = list_segments(session, state.meeting_id)
    # list_segments is in media-time order; a stable sort by window keeps it within a window.
    return sorted((s for s in segments if s.window < state.published), key=lambda s: s.window)


def missing_from_room(db: Database, state: JobState, segments: list[Segment]) -> list[Segment]:
    """The stored segments whose ``transcript`` event the room has not stored. Only the last
    stored window can have any: a window is stored after the previous one is fully published."""
    last = [s for s in segments if s.window == state.published - 1]
    with db.session() as session:
        published = published_event_ids(session, state.meeting_id)
    return [s for s in last if segment_event_id(state.job_id, s) not in published]


async def publish_job_segments(hub: HubClient, state: JobState, segments: list[Segment]) -> None:
    """A job's stored segments in one hub call, each under its ``segment_event_id``, so a
    replica that republishes them later never stores one twice."""
    identified = [(s, segment_event_id(state.job_id, s)) for s in segments]
    await publish_segments(hub, state.meeting_id, identified)


async def republish_missing(hub: HubClient, state: JobState, missing: list[Segment]) -> None:
    await publish_job_segments(hub, state, missing)
    if missing:
        logger.info(
            "meeting %s job %s: published %d stored segment(s) the old owner had not",
            state.meeting_id,
            state.job_id,
            len(missing),
        )
