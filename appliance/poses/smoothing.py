"""One-Euro filtering of keypoints (Casiez, Roussel and Vogel, CHI 2012), per track.

Pose models jitter by a pixel or two even on a still person, which makes drawn skeletons
shimmer and pose rules flicker at their thresholds. A fixed low-pass would fix the shimmer
but lag a waving arm. The One-Euro filter adapts: its cutoff rises with the (filtered) speed,
so still keypoints are smoothed hard and fast ones pass almost unchanged. It is driven by
timestamps, not frame counts, so a dropped frame or a slower model does not change it.
All 17x2 coordinates of a track are filtered at once with numpy.
"""

from __future__ import annotations

import math

import numpy as np

# Defaults in pixels and seconds, chosen with the numbers in tests/test_poses_smoothing.py:
# a still pose with 1.5 px noise at 30 fps is steadied over 3x, a hand moving at 400 px/s
# lags by about 3 px. A lower D_CUTOFF than the paper's 1 Hz keeps noise from posing as speed.
MIN_CUTOFF = 0.3  # Hz: the cutoff when still
BETA = 0.05       # Hz per px/s: how fast the cutoff rises with speed
D_CUTOFF = 0.25   # Hz: the cutoff for the speed estimate itself


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """A One-Euro filter over an array of any shape; call it with each new sample and time."""

    def __init__(self, min_cutoff: float = MIN_CUTOFF, beta: float = BETA, d_cutoff: float = D_CUTOFF):
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.value: np.ndarray | None = None
        self.speed: np.ndarray | None = None
        self.t: float | None = None

    def __call__(self, sample: np.ndarray, t: float) -> np.ndarray:
        sample = np.asarray(sample, dtype=np.float64)
        if self.value is None or self.t is None or t <= self.t:
            if self.value is None or self.t is None:
                self.value, self.speed, self.t = sample.copy(), np.zeros_like(sample), t
            return self.value.copy()
        dt = t - self.t
        speed = (sample - self.value) / dt
        self.speed = self.speed + _alpha(self.d_cutoff, dt) * (speed - self.speed)
        cutoff = self.min_cutoff + self.beta * np.abs(self.speed)
        self.value = self.value + _alpha(cutoff, dt) * (sample - self.value)
        self.t = t
        return self.value.copy()


class KeypointSmoother:
    """One filter per track over its (17, 2) keypoint positions; scores pass through."""

    def __init__(self, min_cutoff: float = MIN_CUTOFF, beta: float = BETA, d_cutoff: float = D_CUTOFF):
        self.settings = (min_cutoff, beta, d_cutoff)
        self.filters: dict[int, OneEuroFilter] = {}

    def smooth(self, track_id: int, keypoints: np.ndarray, t: float) -> np.ndarray:
        """Return a smoothed copy of `keypoints` (17, 3) for this track at time `t`."""
        flt = self.filters.setdefault(track_id, OneEuroFilter(*self.settings))
        out = np.array(keypoints, dtype=np.float32, copy=True)
        out[:, :2] = flt(keypoints[:, :2], t)
        return out

    def forget(self, track_id: int) -> None:
        """Drop a track's filter (the tracker dropped the track; its id is never reused)."""
        self.filters.pop(track_id, None)
