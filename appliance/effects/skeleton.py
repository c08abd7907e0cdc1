"""Skeletons: each tracked visitor drawn as coloured bones and joints with black outlines.

The look is Kandinsky's: flat vivid colours held by black lines (`appliance.paint.bodies`).
The colour comes from the track id (`appliance.paint.palette`), so a visitor keeps their colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from appliance.config.schema import setting
from appliance.core.frame import FrameMeta
from appliance.core.registry import register_effect
from appliance.core.stages import POSE, AnalysisContext, StageRequest
from appliance.core.lazy import cv2
from appliance.core.results import result_key
from appliance.paint.bodies import FrameBuffer, draw_skeleton, fill_body, people, pose_result
from appliance.paint.palette import track_colour


@register_effect
class Skeleton:
    name = "skeleton"

    @dataclass
    class Params:
        background: str = setting("picture", choices=("picture", "black"),
                                  help="draw over the camera picture, or on black")
        min_score: float = setting(0.3, min=0.0, max=1.0,
                                   help="keypoints scored below this are not drawn")
        thickness: float = setting(1.0, min=0.2, max=5.0, help="bone thickness, times 3 % of body size")
        joints: bool = setting(True, help="draw a disc at each joint")

    def __init__(self, params: "Skeleton.Params"):
        self.p = params
        self.out = FrameBuffer()
        self.layer: np.ndarray | None = None  # the skeletons as drawn, on black
        self.drawn: np.ndarray | None = None  # where the layer has anything (bones and outlines)
        self._drawn_from: object = None  # the pose result (and frame size) they were drawn from

    def stages(self, context: AnalysisContext) -> list[StageRequest]:
        return [POSE]

    def process(self, image: np.ndarray, meta: FrameMeta) -> np.ndarray:
        out = self.out.like(image)
        if self.p.background == "black":
            out.fill(0)
        else:
            np.copyto(out, image)
        if out.ndim != 3 or out.shape[2] != 3 or out.size == 0:
            return out
        self._draw(meta, out.shape)
        cv2.copyTo(self.layer, self.drawn, out)
        return out

    def _draw(self, meta: FrameMeta, shape: tuple[int, ...]) -> None:
        """Draw the skeletons once per pose result: the display shows each result for several
        frames, and anti-aliased thick lines cost more than laying a layer over the picture."""
        drawn_from = (result_key(meta, POSE.key), shape)
        if drawn_from == self._drawn_from:
            return
        self._drawn_from = drawn_from
        if self.layer is None or self.layer.shape != shape:
            self.layer, self.drawn = np.zeros(shape, np.uint8), np.zeros(shape[:2], np.uint8)
        self.layer.fill(0)
        self.drawn.fill(0)
        for track_id, kp in people(pose_result(meta)):
            draw_skeleton(self.layer, kp, track_colour(track_id), self.p.min_score, self.p.thickness,
                          self.p.joints)
            fill_body(self.drawn, kp, self.p.min_score, self.p.thickness, outlined=True, joints=self.p.joints)

    def close(self) -> None:
        self.out = FrameBuffer()
        self.layer = self.drawn = None
        self._drawn_from = None
