"""The language state of one job: asked for, detected, and whether captions get translated."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.languages import AUTO, ENGLISH

# Below this detector probability a guess is tried again on the next window (when allowed).
DETECTION_CONFIDENT = 0.5


@dataclass(slots=True)
class MeetingLanguage:
    requested: str | None = None  # "auto", an ISO 639-1 code, or None (the profile default)
    code: str | None = None  # what transcription uses now; None: the model's default
    translate_to: str | None = None
    detecting: bool = False
    attempts: int = 0
    probability: float | None = None

    @classmethod
    def start(cls, requested: str | None, translate_to: str | None) -> MeetingLanguage:
        if requested == AUTO:
            return cls(requested, None, translate_to, detecting=True)
        return cls(requested, requested, translate_to)

    def observe(self, code: str, probability: float, max_attempts: int) -> None:
        """Take a detection; stop detecting once it is confident or attempts are used up."""
        self.code = code
        self.probability = probability
        self.attempts += 1
        self.detecting = probability < DETECTION_CONFIDENT and self.attempts < max_attempts

    def wants_translation(self, can_translate: Callable[[str], bool]) -> bool:
        """English captions are made for non-English speech a loaded model can translate."""
        code = self.code
        return (
            self.translate_to == ENGLISH
            and code is not None
            and code != ENGLISH
            and can_translate(code)
        )
