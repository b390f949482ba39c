"""Microphone capture for ``meetingserve live --mic`` (optional ``sounddevice`` + PortAudio).

Not a dependency of the package: most users of the CLI script uploads, and PortAudio needs a
system library. Install with ``pip install sounddevice`` (Debian: ``apt install
libportaudio2``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from core.live_input import MAX_LIVE_RATE, MIN_LIVE_RATE
from meetingserve_cli.errors import CliError, ExitCode
from meetingserve_cli.live import SAMPLE_RATE, AudioBuffer


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


def input_rate(device: str | None = None) -> int:
    """The input device's own rate when the server takes it (44.1 or 48 kHz on most devices):
    many ALSA devices cannot open 16 kHz at all, and the server resamples better than a host
    layer that may not."""
    info = load_sounddevice().query_devices(device, "input")
    rate = round(float(info["default_samplerate"]))
    # Outside what the server's live socket takes, 16 kHz as before: PortAudio's host resamples.
    return rate if MIN_LIVE_RATE <= rate <= MAX_LIVE_RATE else SAMPLE_RATE


async def record_microphone(
    buffer: AudioBuffer, stop: asyncio.Event, device: str | None = None, rate: int = SAMPLE_RATE
) -> None:
    """Append mono s16le at ``rate`` from the input device until ``stop`` is set."""
    sounddevice = load_sounddevice()
    loop = asyncio.get_running_loop()

    def on_audio(data: Any, _frames: int, _time: Any, _status: Any) -> None:
        loop.call_soon_threadsafe(buffer.append, bytes(data))  # PortAudio's own thread

    stream = sounddevice.RawInputStream(
        samplerate=rate,
        channels=1,
        dtype="int16",
        blocksize=rate // 10,  # 100 ms
        device=device,
        callback=on_audio,
    )
    with stream:
        await stop.wait()
    buffer.finish()
