"""What a job carries from window to window, and the model calls it makes: shared by upload
jobs (``pipeline.py``), live sessions (``live.py``) and their output (``job_output.py``)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np

from core.meeting_language import MeetingLanguage
from core.short_turns import ShortTurn
from core.speakers import SpeakerRegistry
from core.speech_tracker import SpeechFrames
from core.translation import TranslatedSpan
from core.types import DiarizationResult, Segment, SummaryResult, TranscriptionResult, Word
from core.windowing import Window

# (audio, language or None for the profile default, "transcribe" | "translate", the audio's
# VAD frames when the caller scored them)
Transcribe = Callable[
    [np.ndarray, str | None, str, SpeechFrames | None], Awaitable[TranscriptionResult]
]
Diarize = Callable[[np.ndarray, SpeechFrames | None], Awaitable[DiarizationResult]]
Summarize = Callable[[list[Segment], str | None], Awaitable[SummaryResult]]
Detect = Callable[[np.ndarray], Awaitable[tuple[str, float]]]
# A live final: (audio, language or None, the text said just before it)
TranscribeFinal = Callable[[np.ndarray, str | None, str], Awaitable[TranscriptionResult]]
# A live partial's quick guess at an open utterance's words (audio, language or None)
Hypothesize = Callable[[np.ndarray, str | None], Awaitable[list[Word]]]


@dataclass(frozen=True)
class Models:
    transcribe: Transcribe
    diarize: Diarize
    summarize: Summarize
    detect: Detect
    # whether speech in a language can be translated into English by a loaded model
    can_translate: Callable[[str], bool]
    # None: partials use ``transcribe`` (the whole-window decode)
    hypothesize: Hypothesize | None = None
    # None: live finals use ``transcribe`` too (processor.live_short_finals false)
    live_final: TranscribeFinal | None = None


@dataclass
class WindowResult:
    window: Window
    transcription: TranscriptionResult
    diarization: DiarizationResult
    translations: list[TranslatedSpan] = field(default_factory=list)


@dataclass
class JobState:
    job_id: str
    meeting_id: str
    windows: list[Window] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    registry: SpeakerRegistry = field(default_factory=SpeakerRegistry)
    # Lines that hold only a short voice which joined a known speaker, looked at again at the
    # end (core/short_turns.py). In memory only: a job taken over skips the earlier windows'.
    short_lines: list[ShortTurn] = field(default_factory=list)
    published: int = 0
    started: float = field(default_factory=time.monotonic)
    first_segment_s: float | None = None
    language: MeetingLanguage = field(default_factory=MeetingLanguage)
    # Ownership (persistence/leases.py): the replica that must still own the job to store a window
    # (None: unfenced), and whether it continues a job another replica started.
    owner_id: str | None = None
    resumed: bool = False
