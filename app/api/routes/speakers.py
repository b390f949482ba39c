"""Who said what, as people correct it: rename a speaker, merge two, reassign one line.

Editors and owners edit; viewers read. Each edit is stored beside the untouched transcript
(``persistence.speakers``) and announced to the room as one durable ``speakers`` event carrying the
meeting's complete speaker state.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Path, Request, status
from pydantic import BaseModel, Field, StringConstraints

from app.api.deps import CallerRole, DatabaseDep, VisibleMeeting
from core.speaker_edits import SpeakerEdits
from persistence import Database
from persistence.speakers import (
    SpeakerEditError,
    load_speaker_edits,
    meeting_labels,
    merge_speakers,
    reassign_segment,
    rename_speaker,
    unmerge_speaker,
)
from rooms.publish import publish_speakers

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/meetings", tags=["speakers"])

LABEL_PATTERN = r"^[A-Za-z0-9_.\-]{1,64}$"
SpeakerLabel = Annotated[str, StringConstraints(pattern=LABEL_PATTERN)]
DisplayName = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")
]


class SpeakerRename(BaseModel):
    name: DisplayName | None = Field(
        description="The speaker's display name; null or empty clears it"
    )


class SpeakerMerge(BaseModel):
    from_: SpeakerLabel = Field(alias="from")
    into: SpeakerLabel


class SpeakerUnmerge(BaseModel):
    label: SpeakerLabel


class SegmentSpeakerUpdate(BaseModel):
    speaker: SpeakerLabel


class SpeakersState(BaseModel):
    labels: list[str]
    speakers: dict[str, dict[str, Any]]
    merges: dict[str, str]
    segment_speakers: dict[str, str]


def _require_editor(role: str) -> None:
    if role == "viewer":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Viewers cannot edit speakers")


async def _apply(
    request: Request, db: Database, meeting_id: str, edit: Any, change: dict[str, Any]
) -> SpeakersState:
    """Run one edit in a transaction, then announce the new state to the room."""

    def write() -> tuple[SpeakerEdits, list[str]]:
        with db.session() as session:
            edit(session)
            return load_speaker_edits(session, meeting_id), sorted(
                meeting_labels(session, meeting_id)
            )

    try:
        edits, labels = await anyio.to_thread.run_sync(write)
    except SpeakerEditError as e:
        code = status.HTTP_404_NOT_FOUND if e.code.startswith("unknown") else 409
        raise HTTPException(code, e.message) from e
    await publish_speakers(request.app.state.hub, meeting_id, edits, change)
    logger.info("meeting %s: speakers %s", meeting_id, change["action"])
    return SpeakersState(labels=labels, **edits.to_wire())


@router.get("/{meeting_id}/speakers")
def read_speakers(meeting: VisibleMeeting, db: DatabaseDep) -> SpeakersState:
    with db.session() as session:
        edits = load_speaker_edits(session, meeting.id)
        labels = sorted(meeting_labels(session, meeting.id))
    return SpeakersState(labels=labels, **edits.to_wire())


@router.patch("/{meeting_id}/speakers/{label}")
async def rename_speaker_route(
    request: Request,
    body: SpeakerRename,
    label: Annotated[str, Path(pattern=LABEL_PATTERN)],
    meeting: VisibleMeeting,
    role: CallerRole,
    db: DatabaseDep,
) -> SpeakersState:
    _require_editor(role)
    name = body.name or None
    return await _apply(
        request,
        db,
        meeting.id,
        lambda s: rename_speaker(s, meeting.id, label, name),
        {"action": "rename", "label": label, "name": name},
    )


@router.post("/{meeting_id}/speakers/merge")
async def merge_speakers_route(
    request: Request, body: SpeakerMerge, meeting: VisibleMeeting, role: CallerRole, db: DatabaseDep
) -> SpeakersState:
    _require_editor(role)
    return await _apply(
        request,
        db,
        meeting.id,
        lambda s: merge_speakers(s, meeting.id, body.from_, body.into),
        {"action": "merge", "from": body.from_, "into": body.into},
    )


@router.post("/{meeting_id}/speakers/unmerge")
async def unmerge_speaker_route(
    request: Request,
    body: SpeakerUnmerge,
    meeting: VisibleMeeting,
    role: CallerRole,
    db: DatabaseDep,
) -> SpeakersState:
    """Undo a merge (a user's or the server's re-attribution)."""
    _require_editor(role)
    return await _apply(
        request,
        db,
        meeting.id,
        lambda s: unmerge_speaker(s, meeting.id, body.label),
        {"action": "unmerge", "label": body.label},
    )


@router.patch("/{meeting_id}/segments/{segment_id}")
async def reassign_segment_route(
    request: Request,
    body: SegmentSpeakerUpdate,
    segment_id: Annotated[str, Path(pattern=LABEL_PATTERN)],
    meeting: VisibleMeeting,
    role: CallerRole,
    db: DatabaseDep,
) -> SpeakersState:
    _require_editor(role)
    return await _apply(
        request,
        db,
        meeting.id,
        lambda s: reassign_segment(s, meeting.id, segment_id, body.speaker),
        {"action": "reassign", "segment_id": segment_id, "speaker": body.speaker},
    )
