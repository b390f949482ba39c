"""Meeting speakers (names, merges, centroids), reassigned lines and voice profiles.

Plain functions over a ``Session`` like the rest of ``persistence``: the routes, the processor and
the benchmark all use them. Edits never touch the stored segments (see ``core.speaker_edits``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core.speaker_edits import NameSource, SpeakerEdits, SpeakerName
from persistence.models import MeetingSpeaker, SegmentRow, SegmentSpeaker, VoiceProfile


class SpeakerEditError(ValueError):
    """An edit that does not fit the meeting (unknown label, merge into itself, ...)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True, slots=True)
class SpeakerCentroid:
    """A meeting speaker's running centroid, as the processor stores it after each window."""

    label: str
    centroid: list[float]
    speech_s: float


# ---- reading -----------------------------------------------------------------------------


def load_speaker_edits(session: Session, meeting_id: str) -> SpeakerEdits:
    edits = SpeakerEdits()
    for row in session.scalars(
        select(MeetingSpeaker).where(MeetingSpeaker.meeting_id == meeting_id)
    ):
        if row.name:
            edits.names[row.label] = SpeakerName(
                name=row.name,
                source="profile" if row.name_source == "profile" else "user",
                confidence=row.confidence,
                profile_id=row.profile_id,
            )
        if row.merged_into:
            edits.merges[row.label] = row.merged_into
    overrides = session.execute(
        select(SegmentSpeaker.segment_id, SegmentSpeaker.speaker).where(
            SegmentSpeaker.meeting_id == meeting_id
        )
    )
    edits.segment_speakers = {segment_id: speaker for segment_id, speaker in overrides}
    return edits


def meeting_labels(session: Session, meeting_id: str) -> set[str]:
    """Every label the meeting's transcript or speaker table knows."""
    stored = session.scalars(
        select(SegmentRow.speaker).where(SegmentRow.meeting_id == meeting_id).distinct()
    )
    known = session.scalars(
        select(MeetingSpeaker.label).where(MeetingSpeaker.meeting_id == meeting_id)
    )
    return set(stored) | set(known)


def speaker_centroid(
    session: Session, meeting_id: str, label: str
) -> tuple[list[float], float, str] | None:
    """The speech-weighted centroid of ``label`` and every label merged into it, its speech
    seconds and backend; None when the meeting stored no embedding for it."""
    edits = load_speaker_edits(session, meeting_id)
    target = edits.resolve_label(label)
    rows = session.scalars(select(MeetingSpeaker).where(MeetingSpeaker.meeting_id == meeting_id))
    members = [r for r in rows if r.centroid and edits.resolve_label(r.label) == target]
    if not members:
        return None
    dim = len(members[0].centroid or [])
    total = sum(max(r.speech_s, 1e-3) for r in members)
    mean = [
        sum((r.centroid or [])[i] * max(r.speech_s, 1e-3) for r in members) / total
        for i in range(dim)
    ]
    return mean, sum(r.speech_s for r in members), str(members[0].backend or "")


# ---- edits by people ---------------------------------------------------------------------


def _speaker_row(session: Session, meeting_id: str, label: str) -> MeetingSpeaker:
    row = session.scalar(
        select(MeetingSpeaker).where(
            MeetingSpeaker.meeting_id == meeting_id, MeetingSpeaker.label == label
        )
    )
    if row is None:
        row = MeetingSpeaker(meeting_id=meeting_id, label=label, speech_s=0.0)
        session.add(row)
    return row


def _require_label(session: Session, meeting_id: str, label: str) -> None:
    if label not in meeting_labels(session, meeting_id):
        raise SpeakerEditError(f"This meeting has no speaker {label!r}", "unknown_speaker")


def rename_speaker(session: Session, meeting_id: str, label: str, name: str | None) -> None:
    """Name ``label`` (None or "" clears the name); a rename of a merged label names its target."""
    _require_label(session, meeting_id, label)
    target = load_speaker_edits(session, meeting_id).resolve_label(label)
    row = _speaker_row(session, meeting_id, target)
    row.name = name or None
    row.name_source = "user" if name else None
    row.confidence = None
    row.profile_id = None
    session.flush()


def merge_speakers(session: Session, meeting_id: str, source: str, into: str) -> None:
    """Count ``source`` (and whatever was merged into it) as ``into`` from now on."""
    _require_label(session, meeting_id, source)
    _require_label(session, meeting_id, into)
    edits = load_speaker_edits(session, meeting_id)
    if edits.resolve_label(into) == edits.resolve_label(source):
        raise SpeakerEditError("These labels are already the same speaker", "same_speaker")
    into_final = edits.resolve_label(into)
    source_row = _speaker_row(session, meeting_id, edits.resolve_label(source))
    source_row.merged_into = into_final
    into_row = _speaker_row(session, meeting_id, into_final)
    if not into_row.name and source_row.name:  # keep the only name the two had
        into_row.name, into_row.name_source = source_row.name, source_row.name_source
        into_row.confidence, into_row.profile_id = source_row.confidence, source_row.profile_id
    session.flush()


def unmerge_speaker(session: Session, meeting_id: str, label: str) -> None:
    """Undo ``label``'s own merge: it is its own speaker again (labels merged into it follow)."""
    row = session.scalar(
        select(MeetingSpeaker).where(
            MeetingSpeaker.meeting_id == meeting_id, MeetingSpeaker.label == label
        )
    )
    if row is None or row.merged_into is None:
        raise SpeakerEditError(f"Speaker {label!r} is not merged into another", "not_merged")
    row.merged_into = None
    session.flush()


def reassign_segment(session: Session, meeting_id: str, segment_id: str, label: str) -> None:
    """Attribute one line to ``label``; assigning its original label removes the override."""
    stored = session.scalar(
        select(SegmentRow.speaker).where(
            SegmentRow.meeting_id == meeting_id, SegmentRow.segment_id == segment_id
        )
    )
    if stored is None:
        raise SpeakerEditError(f"This meeting has no segment {segment_id!r}", "unknown_segment")
    _require_label(session, meeting_id, label)
    session.execute(
        delete(SegmentSpeaker).where(
            SegmentSpeaker.meeting_id == meeting_id, SegmentSpeaker.segment_id == segment_id
        )
    )
    if label != stored:
        session.add(SegmentSpeaker(meeting_id=meeting_id, segment_id=segment_id, speaker=label))
    session.flush()


# ---- what the processor writes -----------------------------------------------------------


def save_speaker_centroids(
    session: Session, meeting_id: str, backend: str, centroids: Iterable[SpeakerCentroid]
) -> None:
    for item in centroids:
        row = _speaker_row(session, meeting_id, item.label)
        row.centroid = list(item.centroid)
        row.speech_s = item.speech_s
        row.backend = backend
    session.flush()


def save_profile_names(
    session: Session, meeting_id: str, matches: Mapping[str, tuple[str, str, float]]
) -> bool:
    """Name labels from voice-profile matches ``{label: (profile_id, name, confidence)}`` and
    drop profile names that no longer match; a user's own rename is never touched. True when
    any name changed."""
    changed = False
    rows = session.scalars(select(MeetingSpeaker).where(MeetingSpeaker.meeting_id == meeting_id))
    for row in rows:
        if row.name_source == "profile" and row.label not in matches:
            row.name = row.name_source = row.profile_id = row.confidence = None
            changed = True
    for label, (profile_id, name, confidence) in matches.items():
        row = _speaker_row(session, meeting_id, label)
        if row.name_source == "user":
            continue
        changed = changed or (row.profile_id, row.name) != (profile_id, name)
        row.name, row.name_source = name, "profile"
        row.profile_id, row.confidence = profile_id, round(confidence, 4)
    session.flush()
    return changed


# ---- voice profiles ----------------------------------------------------------------------


def create_voice_profile(
    session: Session,
    owner_id: str,
    name: str,
    backend: str,
    embedding: Sequence[float],
    source: NameSource | str,
    source_meeting_id: str | None = None,
    speech_s: float = 0.0,
) -> VoiceProfile:
    profile = VoiceProfile(
        owner_id=owner_id,
        name=name,
        backend=backend,
        embedding=[float(x) for x in embedding],
        source=source,
        source_meeting_id=source_meeting_id,
        speech_s=speech_s,
    )
    session.add(profile)
    session.flush()
    return profile


def list_voice_profiles(
    session: Session, owner_id: str, backend: str | None = None
) -> list[VoiceProfile]:
    query = select(VoiceProfile).where(VoiceProfile.owner_id == owner_id)
    if backend is not None:
        query = query.where(VoiceProfile.backend == backend)
    return list(session.scalars(query.order_by(VoiceProfile.created_at)))


def get_voice_profile(session: Session, owner_id: str, profile_id: str) -> VoiceProfile | None:
    profile = session.get(VoiceProfile, profile_id)
    return profile if profile is not None and profile.owner_id == owner_id else None


def delete_voice_profile(session: Session, profile: VoiceProfile) -> None:
    """Delete the profile and its embedding; names it gave stay, no longer linked to it."""
    session.execute(
        update(MeetingSpeaker)
        .where(MeetingSpeaker.profile_id == profile.id)
        .values(profile_id=None, confidence=None)
    )
    session.delete(profile)
    session.flush()
