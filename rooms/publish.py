"""The publishing API used by the processing pipeline (and tests): one function per message type.

Each builds the validated wire message and hands it to the hub, which assigns ``seq`` and
stores it before returning the stored event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.speaker_edits import SpeakerEdits
from core.types import Segment, SummaryResult, Word
from core.word_pieces import join_texts
from rooms.hub import Event, HubClient
from rooms.messages import (
    ErrorMessage,
    JobStatus,
    SegmentPayload,
    SpeakersMessage,
    Stage,
    StatusDetails,
    StatusMessage,
    SummaryMessage,
    TranscriptMessage,
    TranscriptPartialMessage,
    WordPayload,
    wire,
)


async def publish_status(
    hub: HubClient,
    meeting_id: str,
    status: JobStatus,
    stage: Stage,
    message: str,
    **details: Any,
) -> Event:
    payload = StatusMessage(
        status=status, details=StatusDetails(message=message, stage=stage, **details)
    )
    return await hub.publish(meeting_id, wire(payload))


async def publish_segment(
    hub: HubClient, meeting_id: str, segment: Segment, event_id: str | None = None
) -> Event:
    """``event_id``: the same for every publication of one stored segment (a job resumed on
    another Processor replica republishes a segment only when the room lacks that id)."""
    return (await publish_segments(hub, meeting_id, [(segment, event_id)]))[0]


async def publish_segments(
    hub: HubClient, meeting_id: str, segments: Sequence[tuple[Segment, str | None]]
) -> list[Event]:
    """A window's segments (each with its ``event_id``, see ``publish_segment``) in one hub
    call: consecutive seqs, stored together, delivered together."""
    events = []
    for segment, event_id in segments:
        payload = TranscriptMessage(segment=SegmentPayload.model_validate(segment.to_wire()))
        event = wire(payload)
        if event_id is not None:
            event["event_id"] = event_id
        events.append(event)
    return await hub.publish_many(meeting_id, events) if events else []


async def publish_partial(
    hub: HubClient,
    meeting_id: str,
    segment_id: str,
    revision: int,
    span: tuple[float, float],
    stable: list[Word],
    pending: list[Word],
) -> Event:
    """A not-durable ``transcript_partial`` (word times are meeting times, as in segments)."""
    payload = TranscriptPartialMessage(
        segment_id=segment_id,
        revision=revision,
        text=join_texts([w.word for w in stable]),
        words=[
            WordPayload(word=w.word, start=w.start, end=w.end, probability=w.probability)
            for w in stable
        ],
        pending_text=join_texts([w.word for w in pending]),
        start=span[0],
        end=span[1],
    )
    return await hub.publish_ephemeral(meeting_id, wire(payload))


def summary_fields(result: SummaryResult) -> dict[str, Any]:
    """The ``summary`` message's own fields (seed-compatible strings plus details); also what
    the database stores, so ``GET /summary`` answers exactly what the room sent."""
    return {
        "summary": result.summary,
        "action_items": result.action_item_strings(),
        "details": {
            "action_items": [
                {"text": a.text, "owner": a.owner, "due": a.due} for a in result.action_items
            ],
            "decisions": result.decisions,
            "topics": result.topics,
            "engine": result.engine,
            **_language_fields(result),
        },
    }


def _language_fields(result: SummaryResult) -> dict[str, str]:
    fields = {"language": result.language, "language_note": result.language_note}
    return {key: value for key, value in fields.items() if value is not None}


async def publish_summary(hub: HubClient, meeting_id: str, result: SummaryResult) -> Event:
    payload = SummaryMessage.model_validate(summary_fields(result))
    return await hub.publish(meeting_id, wire(payload))


async def publish_error(hub: HubClient, meeting_id: str, error: str, code: str) -> Event:
    return await hub.publish(meeting_id, wire(ErrorMessage(error=error, code=code)))


async def publish_speakers(
    hub: HubClient, meeting_id: str, edits: SpeakerEdits, change: dict[str, Any] | None = None
) -> Event:
    payload = SpeakersMessage.model_validate({**edits.to_wire(), "change": change})
    return await hub.publish(meeting_id, wire(payload))
