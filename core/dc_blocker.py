"""A constant offset removed from the signal before any model sees it.

Some interfaces and cheap USB microphones record speech on top of a DC offset. Whisper does not
mind, but the diarizer's embeddings and the VAD do: a file with a 0.4 offset had one word of a
speaker's line cut off and given to the wrong person. A first-order high-pass at 5 Hz (the
"DC blocker" of audio front ends) takes the offset out and leaves speech alone: its gain at
70 Hz, the lowest voice pitch, is -0.02 dB.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import lfilter

CUTOFF_HZ = 5.0


class DcBlocker:
    """y[n] = x[n] - x[n-1] + r * y[n-1], chunk by chunk over one stream.

    It starts from silence, so an offset present from the first sample fades out over the
    first 0.1 s (time constant 32 ms). Guessing the offset from the first chunk instead goes
    wrong when a decoder's first chunk is a few samples of a waveform.
    """

    def __init__(self, sample_rate: int, cutoff_hz: float = CUTOFF_HZ) -> None:
        self._pole = math.exp(-2.0 * math.pi * cutoff_hz / sample_rate)
        self._numerator = np.array([1.0, -1.0], dtype=np.float64)
        self._denominator = np.array([1.0, -self._pole], dtype=np.float64)
        self._state = np.zeros(1)

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        if not samples.size:
            return samples
        out, self._state = lfilter(self._numerator, self._denominator, samples, zi=self._state)
        return out.astype(np.float32, copy=False)
