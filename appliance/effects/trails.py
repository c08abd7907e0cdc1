"""Painting in motion: visitors' hands and feet leave strokes of colour that slowly fade.

Strokes live on a persistent canvas (premultiplied colour plus coverage, float32, allocated
once per frame size) that fades with a half-life of `fade_s` seconds of frame time, and is
laid over the picture each frame. Where the strokes go, segment by segment and only when a
new pose result arrives, is `appliance.paint.strokes` (shared with the evening's painting).

Width follows the body (a near visitor paints broad strokes) and speed (a slow hand lays a
thick line, a fast flick a thin one, as with a loaded brush).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from appliance.config.schema import setting
from appliance.core.frame import FrameMeta
from appliance.core.lazy import cv2
from appliance.core.registry import register_effect
from appliance.core.results import PoseResult
from appliance.core.stages import POSE, AnalysisContext, StageRequest
from appliance.paint.bodies import FrameBuffer, pose_result
from appliance.paint.palette import track_colour
from appliance.paint.strokes import (
    StrokeFollower,
    max_jump_setting,
    min_score_setting,
    points_setting,
    stroke_width,
)

INVISIBLE = 0.5 / 255  # coverage below this cannot change a pixel: the canvas is empty


class Canvas:
    """The painting: each pixel's newest paint colour (uint8) and its coverage (float32), which
    fades. A stroke replaces what was under it (newest on top), so colour and coverage fading
    together, as premultiplied paint would, is the same as the colour staying and only the
    coverage fading: one small array fades, and the canvas is laid over the picture in one
    OpenCV blend instead of five float passes over the frame."""

    def __init__(self, h: int, w: int):
        self.paint = np.zeros((h, w, 3), np.uint8)
        self.cover = np.zeros((h, w), np.float32)
        self.keep = np.empty((h, w), np.float32)
        self.peak = 0.0  # an upper bound of coverage: lets an empty canvas cost nothing

    def fade(self, factor: float) -> None:
        if self.peak < INVISIBLE:
            return
        self.cover *= factor
        self.peak *= factor
        if self.peak < INVISIBLE:
            self.cover.fill(0)

    def stroke(self, a: tuple[int, int], b: tuple[int, int], colour: tuple[float, ...],
               opacity: float, width: int) -> None:
        """Paint a segment with round ends; it covers what was there (newest on top)."""
        cv2.line(self.paint, a, b, tuple(int(round(c)) for c in colour), width, cv2.LINE_8)
        cv2.line(self.cover, a, b, opacity, width, cv2.LINE_8)
        self.peak = max(self.peak, opacity)

    def over(self, image: np.ndarray, out: np.ndarray) -> np.ndarray:
        """out = image * (1 - coverage) + paint * coverage."""
        np.subtract(1.0, self.cover, out=self.keep)
        return cv2.blendLinear(self.paint, image, self.cover, self.keep, dst=out)


@register_effect
class Trails:
    name = "trails"

    @dataclass
    class Params:
        points: list[str] = points_setting()
        fade_s: float = setting(4.0, min=0.1, max=600.0, help="half-life of the paint, seconds")
        opacity: float = setting(0.9, min=0.0, max=1.0, help="how much fresh paint hides the picture")
        width: float = setting(1.0, min=0.1, max=5.0, help="stroke width, times 2.5-7.5 % of body size")
        min_score: float = min_score_setting()
        max_jump: float = max_jump_setting()

    def __init__(self, params: "Trails.Params"):
        self.p = params
        self.follower = StrokeFollower(params.points, params.min_score, params.max_jump)
        self.out = FrameBuffer()
        self.canvas: Canvas | None = None
        self._t: float | None = None

    def stages(self, context: AnalysisContext) -> list[StageRequest]:
        return [POSE]

    def process(self, image: np.ndarray, meta: FrameMeta) -> np.ndarray:
        if image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
            return image
        self._prepare(image.shape[0], image.shape[1])
        self._advance(float(meta.t))
        result = pose_result(meta)
        if result is not None and self.follower.is_new(meta):
            self.paint(result, float(meta.t))
        if self.canvas.peak < INVISIBLE:
            return image
        return self.canvas.over(image, self.out.like(image))

    def _prepare(self, h: int, w: int) -> None:
        """A new canvas for a new frame size; the old strokes belong to other pixels."""
        if self.canvas is None or self.canvas.cover.shape != (h, w):
            self.canvas = Canvas(h, w)
            self.follower.reset()

    def _advance(self, t: float) -> None:
        """Fade by the frame time passed (none if time went backwards: a restarted source)."""
        if self._t is not None and t > self._t:
            self.canvas.fade(0.5 ** ((t - self._t) / self.p.fade_s))
        self._t = t

    def paint(self, result: PoseResult, t: float) -> None:
        """Lay the segments the new result adds, each in its track's colour."""
        for s in self.follower.follow(result, t):
            self.canvas.stroke(s.a, s.b, track_colour(s.track), self.p.opacity,
                               stroke_width(s.size, s.speed, self.p.width))

    def close(self) -> None:
        self.canvas = None
        self.follower.reset()
        self.out = FrameBuffer()
