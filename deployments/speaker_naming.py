"""Per job: keep the meeting's speaker centroids in the database and name enrolled voices.

After every published window the Processor stores each meeting speaker's running centroid
(what "enrol this speaker" reads later), matches the centroids against the meeting owner's
voice profiles of the same diarization backend, and, when a name appears, changes or goes,
announces the meeting's speaker state as a durable ``speakers`` event. Uploads and live
streams share it through ``JobOutput``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence

import numpy as np
from sqlalchemy.orm import Session

from core.short_turns import ShortTurn, reassignments
from core.speaker_edits import SpeakerEdits
from core.speakers import MinorSpeakers, SpeakerRegistry
from core.voice_profiles import VoiceProfileVector, match_profiles
from persistence import Database, get_meeting
from persistence.speakers import (
    SpeakerCentroid,
    SpeakerEditError,
    list_voice_profiles,
    load_speaker_edits,
    merge_speakers,
    reassign_segment,
    save_profile_names,
    save_speaker_centroids,
)
from rooms.hub import HubClient
from rooms.publish import publish_speakers

logger = logging.getLogger(__name__)


class SpeakerNaming:
    def __init__(
        self,
        meeting_id: str,
        db: Database,
        hub: HubClient,
        threshold: float,
        margin: float,
        minor: MinorSpeakers | None = None,
    ) -> None:
        self._meeting_id = meeting_id
        self._db = db
        self._hub = hub
        self._threshold = threshold
        self._margin = margin
        self._minor = minor if minor is not None else MinorSpeakers()
        self._profiles: dict[str, list[VoiceProfileVector]] = {}  # per backend, read once a job

    async def after_window(self, registry: SpeakerRegistry, backend: str) -> None:
        centroids = registry.centroids()
        if not centroids or not backend:
            return
        edits = await asyncio.to_thread(self._store_and_match, centroids, backend)
        if edits is not None:
            await publish_speakers(self._hub, self._meeting_id, edits, {"action": "identify"})

    async def reattribute(
        self,
        registry: SpeakerRegistry,
        short_lines: Sequence[ShortTurn] = (),
        speech: Mapping[str, float] | None = None,
    ) -> SpeakerEdits:
        """At the end of a job: fold speakers that only short turns opened, and minor ones
        (``speech``: seconds in each label's lines; ``core.speakers.MinorSpeakers``), into the
        speaker they belong to, and give short-turn lines now clearly closer to another speaker
        to them (stored as merges and line reassignments, announced as one ``speakers`` event).
        Speakers someone named stay. Returns the meeting's speaker edits afterwards."""
        edits = await asyncio.to_thread(self._load_edits)
        merges = registry.reattribute(speech, self._minor, keep=set(edits.names))
        centroids = {label: np.asarray(c) for label, (c, _weight) in registry.centroids().items()}
        moves = reassignments(short_lines, centroids, lambda label: merges.get(label, label))
        if not merges and not moves:
            return edits
        edits, moved = await asyncio.to_thread(self._store_reattribution, merges, moves)
        logger.info(
            "meeting %s: re-attributed speakers %s, lines %s",
            self._meeting_id,
            merges,
            moved,
        )
        change: dict[str, object] = {"action": "reattribute", "merges": merges}
        if moved:
            change["segment_speakers"] = moved
        await publish_speakers(self._hub, self._meeting_id, edits, change)
        return edits

    def _load_edits(self) -> SpeakerEdits:
        with self._db.session() as session:
            return load_speaker_edits(session, self._meeting_id)

    def _store_reattribution(
        self, merges: dict[str, str], moves: dict[str, str]
    ) -> tuple[SpeakerEdits, dict[str, str]]:
        with self._db.session() as session:
            for source, into in merges.items():
                try:
                    merge_speakers(session, self._meeting_id, source, into)
                except SpeakerEditError as e:  # e.g. a user merged them already
                    logger.info(
                        "meeting %s: merge %s -> %s skipped: %s", self._meeting_id, source, into, e
                    )
            moved = self._reassign_lines(session, moves)
            return load_speaker_edits(session, self._meeting_id), moved

    def _reassign_lines(self, session: Session, moves: dict[str, str]) -> dict[str, str]:
        """Reassign lines nobody has reassigned by hand (a person's choice wins)."""
        by_hand = load_speaker_edits(session, self._meeting_id).segment_speakers
        moved: dict[str, str] = {}
        for segment_id, label in moves.items():
            if segment_id in by_hand:
                continue
            try:
                reassign_segment(session, self._meeting_id, segment_id, label)
            except SpeakerEditError as e:
                logger.info("meeting %s: line %s kept: %s", self._meeting_id, segment_id, e)
                continue
            moved[segment_id] = label
        return moved

    def _store_and_match(
        self, centroids: dict[str, tuple[list[float], float]], backend: str
    ) -> SpeakerEdits | None:
        """Store centroids, match profiles; the new speaker state when a name changed."""
        with self._db.session() as session:
            save_speaker_centroids(
                session,
                self._meeting_id,
                backend,
                [SpeakerCentroid(lab, c, round(w, 3)) for lab, (c, w) in centroids.items()],
            )
            profiles = self._load_profiles(session, backend)
            if not profiles:
                return None
            matches = match_profiles(
                {label: c for label, (c, _) in centroids.items()},
                profiles,
                self._threshold,
                self._margin,
            )
            named = {lab: (m.profile_id, m.name, m.confidence) for lab, m in matches.items()}
            if not save_profile_names(session, self._meeting_id, named):
                return None
            logger.info(
                "meeting %s: %d speaker(s) named by voice profile", self._meeting_id, len(named)
            )
            return load_speaker_edits(session, self._meeting_id)

    def _load_profiles(self, session: Session, backend: str) -> list[VoiceProfileVector]:
        if backend not in self._profiles:
            meeting = get_meeting(session, self._meeting_id)
            rows = list_voice_profiles(session, meeting.owner_id, backend) if meeting else []
            self._profiles[backend] = [
                VoiceProfileVector(r.id, r.name, list(r.embedding)) for r in rows
            ]
        return self._profiles[backend]
