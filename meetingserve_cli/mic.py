"""Microphone capture for ``meetingserve live --mic`` (optional ``sounddevice`` + PortAudio).

Not a dependency of the package: most users of the CLI script uploads, and PortAudio needs a
system library. Install with ``pip install sounddevice`` (Debian: ``apt install
libportaudio2``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from meetingserve_cli.errors import CliError, ExitCode
from meetingserve_cli.live import FRAME_BYTES, SAMPLE_RATE, AudioBuffer


def load_sounddevice() -> Any:
    try:
        import sounddevice
    except (ImportError, OSError) as e:  # OSError: the module is there, PortAudio is not
        raise CliError(
            "--mic needs the sounddevice package and PortAudio: `pip install sounddevice` "
            f"(Debian/Ubuntu: `apt install libportaudio2`). ({e})",
            ExitCode.USAGE,
        ) from e
    return sounddevice


async def record_microphone(
    buffer: AudioBuffer, stop: asyncio.Event, device: str | None = None
) -> None:
    """Append 16 kHz mono s16le from the input device until ``stop`` is set."""
    sounddevice = load_sounddevice()
    loop = asyncio.get_running_loop()

    def on_audio(data: Any, _frames: int, _time: Any, _status: Any) -> None:
        loop.call_soon_threadsafe(buffer.append, bytes(data))  # PortAudio's own thread

    stream = sounddevice.RawInputStream(
        samplerate=SAMPLE_RATE,
        channels=1,
        dtype="int16",
        blocksize=FRAME_BYTES // 2,
        device=device,
        callback=on_audio,
    )
    with stream:
        await stop.wait()
    buffer.finish()
