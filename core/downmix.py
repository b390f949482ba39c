"""Two channels to one without losing a voice that the plain average cancels.

FFmpeg's mono downmix averages the channels. A recording whose channels carry the same
voice in opposite polarity (a miswired balanced cable, a phase-inverting interface, a "wide"
stereo effect) then averages to near silence: every player plays it, and the transcript would
be "no speech". The difference of the channels holds that voice at full strength, so the mix
switches to it once the stream shows far more energy in the difference than in the sum.
Ordinary stereo keeps the average: one voice per channel, or one silent channel, gives sum and
difference the same energy, and a voice in both channels in the same polarity favours the sum.
"""

from __future__ import annotations

import logging

import numpy as np

logger = logging.getLogger(__name__)

# FFmpeg's own stereo-to-mono gain: ordinary stereo decodes to exactly what it did before.
GAIN = np.float32(np.sqrt(0.5))
# Difference energy over sum energy (both summed from the start of the stream) above which the
# channels are taken as opposite in polarity. Exact inversion gives ratios in the thousands;
# one channel inverted at 30 % of the other's level still gives 3.4 and keeps the average.
INVERTED_RATIO = 4.0


class StereoDownmix:
    """Mix each chunk of a two-channel stream to mono, deciding from the stream so far."""

    def __init__(self) -> None:
        self.sum_energy = 0.0
        self.difference_energy = 0.0
        self._announced = False

    @property
    def inverted(self) -> bool:
        return self.difference_energy > INVERTED_RATIO * self.sum_energy

    def __call__(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        mid = (left + right) * GAIN
        side = (left - right) * GAIN
        self.sum_energy += float(mid @ mid)
        self.difference_energy += float(side @ side)
        if not self.inverted:
            return mid
        if not self._announced:
            self._announced = True
            logger.info("Stereo channels are in opposite polarity; mixing their difference")
        return side
