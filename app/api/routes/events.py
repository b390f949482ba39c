"""Replay of a meeting's durable room events over REST (the WebSocket ``last_seq`` twin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import SessionDep, VisibleMeeting
from app.schemas import EventsPage
from persistence import events_after

router = APIRouter(prefix="/meetings", tags=["events"])

MAX_EVENTS_PAGE = 5000


@router.get("/{meeting_id}/events")
def list_meeting_events(
    meeting: VisibleMeeting,
    session: SessionDep,
    after_seq: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_EVENTS_PAGE)] = 1000,
) -> EventsPage:
    """Stored events with ``seq > after_seq`` in order; page with the last seq received."""
    return EventsPage(events=events_after(session, meeting.id, after_seq, limit))
