"""The speaker-enrolment call across the web <-> Processor <-> Diarizer seam, typed once
(``processor_api.backend.Backend.embed_voice``, ``deployments.processor.Processor``,
``deployments.diarizer.Diarizer``): a sample in, its dominant voice or a refusal out. Plain
frozen dataclasses, so they cross Ray by pickling unchanged; a refusal is a value, not an
exception, so no traceback text can reach a client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

VoiceRefusalCode = Literal[
    "no_speech",  # the sample holds no usable speech
    "unavailable",  # no Diarizer deployment (web-only development)
]


@dataclass(frozen=True, slots=True)
class VoiceSample:
    """An enrolment sample: float32 16 kHz mono audio of one person."""

    audio: np.ndarray


@dataclass(frozen=True, slots=True)
class VoiceEmbedding:
    """The sample's dominant voice: a unit embedding of the active diarization backend."""

    backend: str
    embedding: list[float]
    speech_s: float  # seconds of that voice's speech in the sample


@dataclass(frozen=True, slots=True)
class VoiceRefusal:
    code: VoiceRefusalCode
    message: str


VoiceReply = VoiceEmbedding | VoiceRefusal
NO_DIARIZER = VoiceRefusal("unavailable", "Voice samples need the Diarizer deployment")
