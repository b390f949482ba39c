"""Model calls that carry a window's VAD frames, across a rolling update.

Upload windows go to the Transcriber and the Diarizer with their ``SpeechFrames`` (keyword
``speech``). While ``serve deploy`` replaces replicas one by one, a new Processor can reach a
replica of the previous release, whose method takes no such argument: that call is made again
without the frames (the replica then finds the regions itself, as it always did), so no window
fails mid-update. This is the expand step of docs/operations.md "Upgrades and migrations";
it can go once no release without the argument is deployed.
"""

from __future__ import annotations

import logging
from typing import Any

from core.speech_tracker import SpeechFrames

logger = logging.getLogger(__name__)


async def remote_with_speech(method: Any, speech: SpeechFrames | None, *args: Any) -> Any:
    """``await method.remote(*args, speech=speech)`` (a Serve handle's method), or without
    ``speech`` when there is none or the replica is too old to take it."""
    if speech is None:
        return await method.remote(*args)
    try:
        return await method.remote(*args, speech=speech)
    except TypeError as e:  # Ray's task error is also an instance of the replica's error
        if "unexpected keyword argument 'speech'" not in str(e):
            raise
        logger.info("a model replica of an older release takes no VAD frames; sent without")
        return await method.remote(*args)
