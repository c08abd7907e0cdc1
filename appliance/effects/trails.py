"""Painting in motion: visitors' hands and feet leave strokes of colour that slowly fade.

Strokes live on a persistent canvas (premultiplied colour plus coverage, float32, allocated
once per frame size) that fades with a half-life of `fade_s` seconds of frame time, and is
laid over the picture each frame. A stroke grows only when a NEW pose result arrives (the
display runs faster than the model, and repeats the newest result): it joins the point's
previous position in the same track to its new one. So lines never jump between people, a
track that vanishes (or a keypoint the model loses) ends its stroke, and the painting depends
only on the sequence of results and frame times, not on the machine's speed.

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
from appliance.core.results import PoseResult, result_key
from appliance.core.stages import POSE, AnalysisContext, StageRequest
from appliance.paint.bodies import FrameBuffer, body_size, people, pose_result, visible
from appliance.paint.palette import track_colour
from appliance.poses.keypoints import KEYPOINTS

DEFAULT_POINTS = ("left_wrist", "right_wrist", "left_ankle", "right_ankle")
INVISIBLE = 0.5 / 255  # coverage below this cannot change a pixel: the canvas is empty


def _known_keypoints(names: list[str]) -> str | None:
    unknown = [n for n in names if n not in KEYPOINTS]
    if unknown:
        return f"unknown keypoint(s): {', '.join(unknown)}"
    return None if names else "no keypoints given"


def stroke_width(size: float, speed: float, scale: float) -> int:
    """Pixels: 2.5-7.5 % of body size, thinner the faster the point moves (speed in body
    sizes per second)."""
    return max(2, int(round(size * 0.05 * scale * (0.5 + 1.0 / (1.0 + max(speed, 0.0))))))


@dataclass
class Tip:
    """Where a stroke's brush was last (frame pixels) and when (frame time)."""

    x: float
    y: float
    t: float


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
        points: list[str] = setting(default_factory=lambda: list(DEFAULT_POINTS), check=_known_keypoints,
                                    expected="COCO keypoint names, e.g. [\"left_wrist\", \"right_ankle\"]",
                                    help="keypoints that paint")
        fade_s: float = setting(4.0, min=0.1, max=600.0, help="half-life of the paint, seconds")
        opacity: float = setting(0.9, min=0.0, max=1.0, help="how much fresh paint hides the picture")
        width: float = setting(1.0, min=0.1, max=5.0, help="stroke width, times 2.5-7.5 % of body size")
        min_score: float = setting(0.3, min=0.0, max=1.0, help="keypoints scored lower lift the brush")
        max_jump: float = setting(1.0, min=0.05, max=10.0,
                                  help="a point moving further than this (body sizes) between two "
                                       "results starts a new stroke instead of a long line")

    def __init__(self, params: "Trails.Params"):
        self.p = params
        self.points = [KEYPOINTS.index(n) for n in params.points if n in KEYPOINTS]
        self.out = FrameBuffer()
        self.canvas: Canvas | None = None
        self.tips: dict[tuple[int, int], Tip] = {}
        self._t: float | None = None
        self._seen: object = None  # which result was painted last

    def stages(self, context: AnalysisContext) -> list[StageRequest]:
        return [POSE]

    def process(self, image: np.ndarray, meta: FrameMeta) -> np.ndarray:
        if image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
            return image
        self._prepare(image.shape[0], image.shape[1])
        self._advance(float(meta.t))
        result = pose_result(meta)
        if result is not None and self._is_new(result, meta):
            self.paint(result, float(meta.t))
        if self.canvas.peak < INVISIBLE:
            return image
        return self.canvas.over(image, self.out.like(image))

    def _prepare(self, h: int, w: int) -> None:
        """A new canvas for a new frame size; the old strokes belong to other pixels."""
        if self.canvas is None or self.canvas.cover.shape != (h, w):
            self.canvas = Canvas(h, w)
            self.tips = {}

    def _advance(self, t: float) -> None:
        """Fade by the frame time passed (none if time went backwards: a restarted source)."""
        if self._t is not None and t > self._t:
            self.canvas.fade(0.5 ** ((t - self._t) / self.p.fade_s))
        self._t = t

    def _is_new(self, result: PoseResult, meta: FrameMeta) -> bool:
        """A result not painted yet: a new source frame index, or a new object if none is given."""
        key = result_key(meta, POSE.key)
        if key == self._seen:
            return False
        self._seen = key
        return True

    def paint(self, result: PoseResult, t: float) -> None:
        """Extend each point's stroke within its own track; end the strokes of tracks and
        points no longer seen."""
        tips: dict[tuple[int, int], Tip] = {}
        for track_id, kp in people(result):
            seen = visible(kp, self.p.min_score)
            size = body_size(kp, seen)
            colour = track_colour(track_id)
            for i in self.points:
                if seen[i]:
                    tips[track_id, i] = self._brush(self.tips.get((track_id, i)), kp[i], t, size, colour)
        self.tips = tips

    def _brush(self, tip: Tip | None, point: np.ndarray, t: float, size: float,
               colour: tuple[int, int, int]) -> Tip:
        x, y = float(point[0]), float(point[1])
        here = (int(round(x)), int(round(y)))
        jump = np.hypot(x - tip.x, y - tip.y) / size if tip else 0.0
        if tip is None or jump > self.p.max_jump:
            self.canvas.stroke(here, here, colour, self.p.opacity, stroke_width(size, 0.0, self.p.width))
        else:
            speed = jump / max(t - tip.t, 1e-3)
            start = (int(round(tip.x)), int(round(tip.y)))
            self.canvas.stroke(start, here, colour, self.p.opacity, stroke_width(size, speed, self.p.width))
        return Tip(x, y, t)

    def close(self) -> None:
        self.canvas = None
        self.tips = {}
        self.out = FrameBuffer()
