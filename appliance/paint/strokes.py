"""Where the brush goes: each visitor's hands and feet as strokes, one segment per new pose result.

Shared by the pose painters (`trails`, `evening`), which differ only in how a segment is laid
on their canvas. A stroke grows only when a NEW pose result arrives (the display runs faster
than the model and repeats the newest result): it joins the point's previous position in the
same track to its new one. So lines never jump between people, a track that vanishes (or a
keypoint the model loses) ends its stroke, a point that leaps further than `max_jump` body
sizes starts a new one, and the painting depends only on the sequence of results and frame
times, not on the machine's speed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from appliance.config.schema import setting
from appliance.core.frame import FrameMeta
from appliance.core.results import PoseResult, result_key
from appliance.core.stages import POSE
from appliance.paint.bodies import body_size, people, visible
from appliance.poses.keypoints import KEYPOINTS

DEFAULT_POINTS = ("left_wrist", "right_wrist", "left_ankle", "right_ankle")


def known_keypoints(names: list[str]) -> str | None:
    """A settings check: every name a COCO keypoint, and at least one."""
    unknown = [n for n in names if n not in KEYPOINTS]
    if unknown:
        return f"unknown keypoint(s): {', '.join(unknown)}"
    return None if names else "no keypoints given"


def points_setting():
    """The `points` setting of an effect that paints with keypoints."""
    return setting(default_factory=lambda: list(DEFAULT_POINTS), check=known_keypoints,
                   expected="COCO keypoint names, e.g. [\"left_wrist\", \"right_ankle\"]",
                   help="keypoints that paint")


def min_score_setting():
    return setting(0.3, min=0.0, max=1.0, help="keypoints scored lower lift the brush")


def max_jump_setting():
    return setting(1.0, min=0.05, max=10.0, help="a point moving further than this (body sizes) between "
                   "two results starts a new stroke instead of a long line")


def stroke_width(size: float, speed: float, scale: float) -> int:
    """Pixels: 2.5-7.5 % of body size, thinner the faster the point moves (speed in body
    sizes per second), as with a loaded brush."""
    return max(2, int(round(size * 0.05 * scale * (0.5 + 1.0 / (1.0 + max(speed, 0.0))))))


@dataclass
class Tip:
    """Where a stroke's brush was last (frame pixels) and when (frame time)."""

    x: float
    y: float
    t: float


@dataclass(frozen=True)
class Segment:
    """One piece of stroke to lay: from `a` to `b` (frame pixels; equal for the first touch of
    the brush, a dab) by keypoint `point` of `track`, whose body is `size` px, moving at `speed`
    body sizes per second (0 for a dab)."""

    track: int
    point: int
    a: tuple[int, int]
    b: tuple[int, int]
    size: float
    speed: float


class StrokeFollower:
    """Turns each new pose result into the segments it adds, per track and keypoint."""

    def __init__(self, points: list[str] | tuple[str, ...], min_score: float, max_jump: float):
        self.points = [KEYPOINTS.index(n) for n in points if n in KEYPOINTS]
        self.min_score = min_score
        self.max_jump = max_jump
        self.tips: dict[tuple[int, int], Tip] = {}
        self._seen: object = None  # which result was followed last

    def is_new(self, meta: FrameMeta) -> bool:
        """A result not followed yet: a new source frame index, or a new object if none is given."""
        key = result_key(meta, POSE.key)
        if key == self._seen:
            return False
        self._seen = key
        return True

    def follow(self, result: PoseResult, t: float) -> list[Segment]:
        """The segments `result` adds at frame time `t`; the strokes of tracks and points no
        longer seen end here."""
        tips: dict[tuple[int, int], Tip] = {}
        segments = []
        for track_id, kp in people(result):
            seen = visible(kp, self.min_score)
            size = body_size(kp, seen)
            for i in self.points:
                if seen[i]:
                    tip = Tip(float(kp[i, 0]), float(kp[i, 1]), t)
                    segments.append(self._segment(track_id, i, self.tips.get((track_id, i)), tip, size))
                    tips[track_id, i] = tip
        self.tips = tips
        return segments

    def _segment(self, track: int, point: int, last: Tip | None, tip: Tip, size: float) -> Segment:
        here = (int(round(tip.x)), int(round(tip.y)))
        jump = np.hypot(tip.x - last.x, tip.y - last.y) / size if last else 0.0
        if last is None or jump > self.max_jump:
            return Segment(track, point, here, here, size, 0.0)
        speed = jump / max(tip.t - last.t, 1e-3)
        return Segment(track, point, (int(round(last.x)), int(round(last.y))), here, size, speed)

    def reset(self) -> None:
        """Lift the brush everywhere (a new canvas: the old tips belong to other pixels)."""
        self.tips = {}
