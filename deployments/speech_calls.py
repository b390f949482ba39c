"""Model calls that carry a window's VAD frames, across a rolling update.

Upload windows go to the Transcriber and the Diarizer with their ``SpeechFrames`` (keyword
``speech``). While ``serve deploy`` replaces replicas one by one, a new Processor can reach a
replica of the previous release, whose method takes no such argument: that call is made again
without the frames (the replica then finds the regions itself, as it always did), so no window
fails mid-update. Each refused call is also a failed request in that replica's log, so after a
refusal the frames stay home for ``PAUSE_S`` (the models find the regions themselves, as before
this change) and are then offered again: one refusal per pause, not one per window, while the
update lasts. This is the expand step of docs/operations.md "Upgrades and migrations"; it can
go once no release without the argument is deployed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from core.speech_tracker import SpeechFrames

logger = logging.getLogger(__name__)
PAUSE_S = 60.0  # a rolling update replaces a replica in seconds to a few minutes


class SpeechCalls:
    """One Processor's calls to model handles that may carry VAD frames."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._paused_until = float("-inf")

    async def remote(self, method: Any, speech: SpeechFrames | None, *args: Any) -> Any:
        """``await method.remote(*args, speech=speech)`` (a Serve handle's method), or without
        ``speech`` when there is none, an older replica refused it, or one did lately."""
        if speech is None or self._clock() < self._paused_until:
            return await method.remote(*args)
        try:
            return await method.remote(*args, speech=speech)
        except TypeError as e:  # Ray's task error is also an instance of the replica's error
            if "unexpected keyword argument 'speech'" not in str(e):
                raise
        self._paused_until = self._clock() + PAUSE_S
        logger.info(
            "a model replica of an older release takes no VAD frames; none sent for %.0f s",
            PAUSE_S,
        )
        return await method.remote(*args)
