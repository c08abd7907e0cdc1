"""Motions (wave, jump): conditions over a short window of one track's recent bodies.

A wave or a jump is not visible in one frame. Two kinds cover them, both in body units so they
work at any distance:

    kind = "swing"  a point swings to and fro along an axis relative to its anchor (wrist vs
                    shoulder: walking does not count) at least `min_swings` times, each by
                    `min_amplitude`, within `window` seconds, staying `min_above` its anchor.
                    Several point/anchor pairs: any one of them swinging is enough.
    kind = "rise"   every point rises by `min_rise` within `window` seconds (hips and ankles
                    together: standing up from a crouch lifts the hips but not the feet).

Too few samples with the needed keypoints seen in the window gives unknown (None).
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass

import numpy as np

from appliance.poses.body import Body
from appliance.poses.checks import Say, bounded, points, seconds

Verdict = bool | None
MIN_SAMPLES = 4
KEEP_SECONDS = 5.0


class MotionHistory:
    """One track's recent (t, Body) samples, oldest first, pruned to the last few seconds."""

    def __init__(self) -> None:
        self.samples: deque[tuple[float, Body]] = deque()

    def add(self, t: float, body: Body) -> None:
        self.samples.append((t, body))
        while self.samples and self.samples[0][0] < t - KEEP_SECONDS:
            self.samples.popleft()

    def window(self, seconds: float) -> list[tuple[float, Body]]:
        if not self.samples:
            return []
        now = self.samples[-1][0]
        return [(t, b) for t, b in self.samples if t >= now - seconds - 1e-9]


def _combine_any(verdicts: list[Verdict]) -> Verdict:
    return True if True in verdicts else (None if None in verdicts else False)


def count_swings(values: list[float], amplitude: float) -> int:
    """Legs of a to-and-fro movement, each at least `amplitude` from the last turning point."""
    legs, direction = 0, 0
    low = high = values[0]
    for v in values[1:]:
        low, high = min(low, v), max(high, v)
        if direction >= 0 and high - v >= amplitude:  # turned (or started) downwards
            legs, direction, low, high = legs + 1, -1, v, v
        elif direction <= 0 and v - low >= amplitude:  # turned (or started) upwards
            legs, direction, low, high = legs + 1, 1, v, v
    return legs


@dataclass(frozen=True)
class Swing:
    name: str
    pairs: tuple[tuple[int, int], ...]
    axis: int
    min_swings: int
    min_amplitude: float
    window: float
    min_above: float | None = None
    hold: float | None = None
    release: float | None = None

    def judge(self, history: MotionHistory) -> Verdict:
        return _combine_any([self._pair(history, p, a) for p, a in self.pairs])

    def _pair(self, history: MotionHistory, point: int, anchor: int) -> Verdict:
        seen = [b for _, b in history.window(self.window) if b.known(point, anchor)]
        if self.min_above is not None:  # only the latest run with the hand up counts
            up = [(b.xy[anchor, 1] - b.xy[point, 1]) / b.unit >= self.min_above for b in seen]
            if seen and not up[-1]:
                return False
            start = len(up) - up[::-1].index(False) if False in up else 0
            seen = seen[start:]
        if len(seen) < MIN_SAMPLES:
            return None
        values = [(b.xy[point, self.axis] - b.xy[anchor, self.axis]) / b.unit for b in seen]
        return count_swings(values, self.min_amplitude) >= self.min_swings


@dataclass(frozen=True)
class Rise:
    name: str
    points: tuple[int, ...]
    min_rise: float
    window: float
    hold: float | None = None
    release: float | None = None

    def judge(self, history: MotionHistory) -> Verdict:
        samples = [b for _, b in history.window(self.window)]
        verdicts = [self._point(samples, p) for p in self.points]
        return False if False in verdicts else (None if None in verdicts else True)

    def _point(self, samples: list[Body], point: int) -> Verdict:
        seen = [b for b in samples if b.known(point)]
        if len(seen) < 2:
            return None
        y = np.array([b.xy[point, 1] for b in seen])
        unit = statistics.median(b.unit for b in seen)
        rise = float((np.maximum.accumulate(y) - y).max()) / unit  # y grows downwards
        return rise >= self.min_rise


Motion = Swing | Rise


KEYS = {"swing": {"points", "anchors", "axis", "min_swings", "min_amplitude", "min_above"},
        "rise": {"points", "min_rise"}}
COMMON_KEYS = {"kind", "window", "hold", "release", "description"}


def parse_motion(name: str, table: dict, path: str, say: Say) -> Motion:
    """A [motions.NAME] table -> Swing or Rise; problems go to `say`."""
    kind = table.get("kind")
    if kind not in KEYS:
        say(f"{path}.kind", f"{kind!r} is not a motion kind (expected swing or rise)")
        return Rise(name, (), 1.0, 1.0)
    expected = ", ".join(sorted(KEYS[kind] | COMMON_KEYS))
    for key in sorted(set(table) - KEYS[kind] - COMMON_KEYS):
        say(f"{path}.{key}", f"unknown key for kind {kind} (expected {expected})")
    window = bounded(table, "window", path, say, 0.1, 5.0, 1.0)
    hold, release = (seconds(table, key, path, say) for key in ("hold", "release"))
    moving = points(table, "points", path, say)
    if kind == "rise":
        return Rise(name, moving, bounded(table, "min_rise", path, say, 0.01, 5.0), window, hold, release)
    return _swing(name, table, path, say, moving, window, hold, release)


def _swing(name: str, table: dict, path: str, say: Say, moving: tuple[int, ...], window: float,
           hold: float | None, release: float | None) -> Swing:
    anchors = points(table, "anchors", path, say)
    if len(anchors) != len(moving):
        say(f"{path}.anchors", f"has {len(anchors)} names for {len(moving)} points "
            "(expected one anchor per point)")
    axis = table.get("axis", "x")
    if axis not in ("x", "y"):
        say(f"{path}.axis", f"{axis!r} is not an axis (expected x or y)")
    above = None if "min_above" not in table else bounded(table, "min_above", path, say, -5.0, 5.0)
    return Swing(name, tuple(zip(moving, anchors)), 1 if axis == "y" else 0,
                 int(bounded(table, "min_swings", path, say, 1, 20)),
                 bounded(table, "min_amplitude", path, say, 0.01, 5.0), window, above, hold, release)
