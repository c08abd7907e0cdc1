"""The show's clock: one time for every box, so effects that follow time play in phase.

Show time is the wall clock (which the boxes keep by NTP, like any networked Pi) counted from
a fixed epoch, not from when a box started: a box switched on seven seconds after another
shows the same point of the film's decay cycle, the same frame. Nothing is exchanged for it,
so it keeps working while the broker is down. Boxes whose clocks disagree play out of phase
by as much; the link logs it once per box when another box's messages carry a time more than
SKEW_S from ours.

Each frame gets the show time of its capture (`FrameMeta.show_t`): its monotonic capture time
carried over to the wall clock, so the time a frame waited for the display does not count.
Effects that follow the show (the film's cycle, the world's motion) use it in preference to
the frame's own time `t`.
"""

from __future__ import annotations

import time
from typing import Callable

from appliance.core.frame import FrameMeta

EPOCH = 1767225600.0  # 2026-01-01T00:00:00Z: keeps show times small (a float is exact to 1 us)
SKEW_S = 0.5  # clocks further apart than this make a visible difference in phase


class ShowClock:
    """`wall` and `monotonic` are the clocks' seams (time.time, time.monotonic)."""

    def __init__(self, wall: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic):
        self.wall = wall
        self.monotonic = monotonic

    def now(self) -> float:
        """Show time now, in seconds."""
        return self.wall() - EPOCH

    def frame_time(self, meta: FrameMeta) -> float:
        """Show time when the frame was captured. Computed per frame, so a clock that NTP
        stepped is followed at once."""
        return meta.captured_at + (self.wall() - self.monotonic()) - EPOCH
