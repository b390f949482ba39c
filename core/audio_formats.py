"""What counts as audio before any decoding: container signatures and the declared-format bounds.

One table for the Ingress's instant sniff (``app/uploads.py``) and the decoder's error wording
(``core/audio.py``), so the two never disagree about what a supported upload looks like.
"""

from __future__ import annotations

from dataclasses import dataclass

# Leading bytes (offset, magic) of the containers PyAV decodes for us.
AUDIO_SIGNATURES: tuple[tuple[int, bytes], ...] = (
    (0, b"RIFF"),  # wav
    (0, b"RF64"),  # wav > 4 GB
    (0, b"fLaC"),  # flac
    (0, b"OggS"),  # ogg vorbis / opus
    (0, b"ID3"),  # mp3 with a tag
    (0, b"\x1a\x45\xdf\xa3"),  # webm / matroska
    (4, b"ftyp"),  # mp4 / m4a / aac in mp4
    (0, b"FORM"),  # aiff
    (0, b"#!AMR"),  # amr
    (0, b"caff"),  # core audio
)
SIGNATURE_BYTES = 16  # enough leading bytes for every signature above
SUPPORTED_FORMATS_TEXT = "wav, flac, mp3, m4a/aac, ogg/opus, webm, aiff, amr or caf"

# A declared rate outside this range is not a recording but an attempt to make the resampler
# multiply the data (1 Hz → 16 kHz is a 16,000x expansion). 4 kHz is below any telephone codec;
# 384 kHz is the highest rate studio converters produce.
MIN_SAMPLE_RATE = 4_000
MAX_SAMPLE_RATE = 384_000
MAX_CHANNELS = 64  # third-order ambisonics is 16; beyond 64 is not a microphone


def looks_like_audio(head: bytes) -> bool:
    """True when the first bytes of a file match a supported container or an MPEG frame sync.

    The frame-sync rule (11 set bits) covers tagless mp3 and ADTS AAC (``FF F1``/``FF F9``).
    """
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return True
    return any(head[offset : offset + len(magic)] == magic for offset, magic in AUDIO_SIGNATURES)


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    """Bounds enforced while decoding: nothing past them is ever held in memory."""

    max_duration_s: float = 6 * 3600.0
    min_sample_rate: int = MIN_SAMPLE_RATE
    max_sample_rate: int = MAX_SAMPLE_RATE
    max_channels: int = MAX_CHANNELS

    def rate_problem(self, rate: int) -> str | None:
        """Why a declared sample rate is refused, or None when it is plausible."""
        if self.min_sample_rate <= rate <= self.max_sample_rate:
            return None
        return (
            f"The audio declares a sample rate of {rate} Hz; supported recordings are "
            f"{self.min_sample_rate}-{self.max_sample_rate} Hz. Re-export the file."
        )

    def channels_problem(self, channels: int) -> str | None:
        if 0 < channels <= self.max_channels:
            return None
        return f"The audio declares {channels} channels; at most {self.max_channels} are supported."

    def too_long_text(self) -> str:
        return (
            f"Audio is longer than the limit of {format_hours(self.max_duration_s)}; "
            "split the recording and upload the parts."
        )


def format_hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds:.0f} s"
