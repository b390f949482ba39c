"""What a client is told when a job fails: a clean message and a code.

Every error a client hears about takes ``(message, code)``, in that order, as
``public_failure`` returns them: a sentence for people, then the wire code for programs.

Raw exception text can carry a Ray traceback, file paths or model internals. It goes to the
Processor's log (which carries the meeting and job ids) and never into the room or
``jobs.error``, which only ever hold the sentences below.
"""

from __future__ import annotations

from ray.exceptions import GetTimeoutError, RayActorError

from core.audio import AudioDecodeError

MODEL_UNAVAILABLE = (
    "A model service stopped while processing this meeting; upload the audio again shortly.",
    "model_unavailable",
)
TIMED_OUT = ("Processing took too long and was stopped; try again later.", "processing_timeout")
INTERNAL = ("Processing failed because of an internal error; try again later.", "processing_failed")


class JobFailedError(Exception):
    """A job that cannot finish; ``code`` goes to the client in the ``error`` event."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def public_failure(error: BaseException) -> tuple[str, str]:
    """(message, code) safe to publish and store for an exception nobody expected."""
    if isinstance(error, AudioDecodeError):
        return error.reason, error.code  # our own sentence, written for the user
    if isinstance(error, RayActorError):
        return MODEL_UNAVAILABLE
    if isinstance(error, TimeoutError | GetTimeoutError):
        return TIMED_OUT
    return INTERNAL  # RayTaskError and the rest: the detail is in the log
